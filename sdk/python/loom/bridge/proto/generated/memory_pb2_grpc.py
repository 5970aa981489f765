"""``memory_pb2_grpc`` of the reference: MemoryService's stub, servicer and registration."""
from ...._proto.memory_pb2_grpc import (
    MemoryService,
    MemoryServiceServicer,
    MemoryServiceStub,
    add_MemoryServiceServicer_to_server,
)

__all__ = ["MemoryService", "MemoryServiceServicer", "MemoryServiceStub", "add_MemoryServiceServicer_to_server"]
