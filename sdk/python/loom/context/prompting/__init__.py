"""Building prompts: the context builder, worked examples and tool descriptors."""

from .builder import ContextBuilder, ContextWindow
from .few_shot import FewShotExample, FewShotLibrary, create_default_library, get_default_library
from .tool_descriptor import ToolDescriptor, ToolParameter, ToolRegistry, create_default_registry

__all__ = ["ContextBuilder", "ContextWindow", "FewShotExample", "FewShotLibrary", "get_default_library",
           "create_default_library", "ToolDescriptor", "ToolParameter", "ToolRegistry",
           "create_default_registry"]
