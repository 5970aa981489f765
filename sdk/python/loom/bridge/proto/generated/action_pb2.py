"""``action.proto`` of the reference: tool descriptors, calls and results (this SDK's ``loom_pb2``),
``ListToolsRequest``/``ListToolsResponse`` (``runtime_pb2``, a wire superset: paging fields added),
and the reference's capability/action messages (``compat_pb2``, written for this SDK, same wire)."""
from ...._proto.compat_pb2 import (
    ACTION_ERROR,
    ACTION_OK,
    ACTION_RETRYABLE,
    ACTION_TIMEOUT,
    ActionCall,
    ActionError,
    ActionResult,
    ActionStatus,
    CapabilityDescriptor,
    ListCapabilitiesRequest,
    ListCapabilitiesResponse,
)
from ...._proto.loom_pb2 import (
    DESCRIPTOR,
    PROVIDER_GRPC,
    PROVIDER_MCP,
    PROVIDER_NATIVE,
    PROVIDER_WASM,
    TOOL_ERROR,
    TOOL_INVALID_ARGUMENTS,
    TOOL_NOT_FOUND,
    TOOL_OK,
    TOOL_TIMEOUT,
    ProviderKind,
    ToolCall,
    ToolDescriptor,
    ToolError,
    ToolResult,
    ToolStatus,
)
from ...._proto.runtime_pb2 import ListToolsRequest, ListToolsResponse

__all__ = [
    "DESCRIPTOR", "ToolDescriptor", "ToolCall", "ToolResult", "ToolError", "ListToolsRequest", "ListToolsResponse",
    "ProviderKind", "PROVIDER_NATIVE", "PROVIDER_WASM", "PROVIDER_GRPC", "PROVIDER_MCP",
    "ToolStatus", "TOOL_OK", "TOOL_ERROR", "TOOL_TIMEOUT", "TOOL_NOT_FOUND", "TOOL_INVALID_ARGUMENTS",
    "CapabilityDescriptor", "ActionCall", "ActionError", "ActionResult", "ListCapabilitiesRequest",
    "ListCapabilitiesResponse", "ActionStatus", "ACTION_OK", "ACTION_ERROR", "ACTION_TIMEOUT", "ACTION_RETRYABLE",
]
