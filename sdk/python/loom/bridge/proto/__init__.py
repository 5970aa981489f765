"""The reference SDK's proto module names (``from loom.bridge.proto import bridge_pb2``), aliases of
``loom.bridge.proto.generated.*``, which expose this SDK's generated ``loom.v1`` classes."""
from importlib import import_module  # noqa: F401 - the reference's package exposes it

from .generated import (
    action_pb2,
    action_pb2_grpc,
    agent_pb2,
    agent_pb2_grpc,
    bridge_pb2,
    bridge_pb2_grpc,
    event_pb2,
    event_pb2_grpc,
    memory_pb2,
    memory_pb2_grpc,
    plugin_pb2,
    plugin_pb2_grpc,
)

__all__ = [
    "action_pb2", "action_pb2_grpc", "agent_pb2", "agent_pb2_grpc", "bridge_pb2", "bridge_pb2_grpc",
    "event_pb2", "event_pb2_grpc", "memory_pb2", "memory_pb2_grpc", "plugin_pb2", "plugin_pb2_grpc",
]
