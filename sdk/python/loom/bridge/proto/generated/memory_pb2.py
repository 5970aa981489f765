"""``memory.proto`` of the reference (loom.v1.MemoryService), this SDK's ``memory_pb2``."""
from ...._proto.memory_pb2 import *  # noqa: F401,F403
from ...._proto.memory_pb2 import DESCRIPTOR  # noqa: F401
