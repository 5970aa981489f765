"""``bridge_pb2_grpc`` of the reference: the Bridge service's stub, servicer and registration."""
from ...._proto.loom_pb2_grpc import Bridge, BridgeServicer, BridgeStub, add_BridgeServicer_to_server

__all__ = ["Bridge", "BridgeServicer", "BridgeStub", "add_BridgeServicer_to_server"]
