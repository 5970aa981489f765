"""Context engineering (as the reference SDK's ``loom.context``), and, for code written against this
SDK before it had that package, the names ``loom.context`` held then (now in ``loom.agent``)."""
from ..agent.context import Context, ContextItem, EventContext, Store, ToolInfo, handling

__all__ = ["Context", "ContextItem", "EventContext", "Store", "ToolInfo", "handling"]
