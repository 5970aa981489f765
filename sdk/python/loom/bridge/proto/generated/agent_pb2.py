"""``agent.proto`` of the reference (agent state, config and responses), written for this SDK with the
same wire (``compat_pb2``). The runtime does not serve the reference's ``AgentRuntime`` service."""
from ...._proto.compat_pb2 import (
    DESCRIPTOR,
    Action,
    AgentConfig,
    AgentResponse,
    AgentState,
    CreateAgentResponse,
    DeleteAgentRequest,
    DeleteAgentResponse,
    GetAgentStateRequest,
    SendEventRequest,
    UpdateAgentStateResponse,
)
from ...._proto.loom_pb2 import Event

__all__ = ["DESCRIPTOR", "AgentState", "AgentConfig", "AgentResponse", "Action", "CreateAgentResponse",
           "DeleteAgentRequest", "DeleteAgentResponse", "GetAgentStateRequest", "UpdateAgentStateResponse",
           "SendEventRequest", "Event"]
