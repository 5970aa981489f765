"""``loom.agent.event``, where the reference SDK keeps ``EventContext``: the context module's names."""
from .. import tracing as _tracing
from ..event import Envelope
from .base import EventHandler
from .context import Context, EventContext

#: Spans of this module (the reference exposes one per module; a no-op without OpenTelemetry).
tracer = _tracing.get_tracer(__name__)

__all__ = ["EventContext", "Context", "EventHandler", "Envelope"]
