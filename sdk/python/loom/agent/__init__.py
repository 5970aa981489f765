"""The agent and what its handlers act through: ``Agent``, ``EventContext`` (also ``Context``) and ``Envelope``.

Laid out as the reference SDK's ``loom.agent`` (``from loom.agent import Agent, EventContext,
Context, Envelope`` works as there).
"""
from ..event import Envelope
from .base import Agent, EventHandler
from .context import Context, ContextItem, EventContext, Store, ToolInfo

__all__ = ["Agent", "Context", "ContextItem", "Envelope", "EventContext", "EventHandler", "Store", "ToolInfo"]
