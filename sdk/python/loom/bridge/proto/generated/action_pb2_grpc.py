"""``action_pb2_grpc`` of the reference. Its ``ToolService`` is not served by Loom's runtime: tools are
called through ``Bridge.ForwardToolCall`` (``BridgeClient.forward_tool_call``) and listed through
Loom's ``Tools`` service, whose stub is offered here as well."""
from ...._proto.runtime_pb2_grpc import ToolsStub

__all__ = ["ToolsStub"]
