"""``bridge.proto`` of the reference: the Bridge service's messages (this SDK's ``loom_pb2``, a wire
superset: Loom adds fields and oneof members with new numbers)."""
from ...._proto.loom_pb2 import (
    DESCRIPTOR,
    Ack,
    AgentRegisterRequest,
    AgentRegisterResponse,
    ClientEvent,
    Delivery,
    Error,
    HeartbeatRequest,
    HeartbeatResponse,
    Publish,
    ServerEvent,
)

__all__ = ["DESCRIPTOR", "AgentRegisterRequest", "AgentRegisterResponse", "ClientEvent", "Publish", "Ack",
           "ServerEvent", "Delivery", "Error", "HeartbeatRequest", "HeartbeatResponse"]
