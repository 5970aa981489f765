"""Tools: the @tool decorator and what it declares (laid out as the reference SDK's ``loom.tools``,
whose ``loom.tools.decorator`` module holds them)."""
from .decorator import (
    KINDS,
    LOOM_NAMESPACES,
    Capability,
    Tool,
    call_names,
    capability,
    encode_output,
    tool,
    tool_of,
    wire_tool_name,
)

__all__ = ["KINDS", "LOOM_NAMESPACES", "tool", "Tool", "tool_of", "encode_output", "wire_tool_name", "call_names",
           "capability", "Capability"]
