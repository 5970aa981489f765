"""``loom.agent.event``, where the reference SDK keeps ``EventContext``: the context module's names."""
from ..event import Envelope
from .base import EventHandler
from .context import Context, EventContext

__all__ = ["EventContext", "Context", "EventHandler", "Envelope"]
