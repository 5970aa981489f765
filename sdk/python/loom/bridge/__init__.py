"""The gRPC bridge as the reference SDK lays it out: ``BridgeClient`` and the ``loom.v1`` message modules.

``loom.bridge.proto.<module>`` (and ``loom.bridge.proto.generated.<module>``) carry the reference's
module names — ``event_pb2``, ``action_pb2``, ``bridge_pb2``, ``memory_pb2``, ... — over this SDK's
own generated classes (one definition of each ``loom.v1`` message per process; same wire).
"""
from .client import BridgeClient
from .proto import action_pb2, bridge_pb2, bridge_pb2_grpc, event_pb2, memory_pb2, memory_pb2_grpc

__all__ = ["BridgeClient", "action_pb2", "bridge_pb2", "bridge_pb2_grpc", "event_pb2", "memory_pb2", "memory_pb2_grpc"]
