"""One gRPC channel to the runtime, its stubs, and the metadata every call carries."""
from __future__ import annotations

from collections.abc import Sequence

import grpc

from . import tracing
from ._proto import loom_pb2_grpc, memory_pb2_grpc, runtime_pb2_grpc
from .discovery import Endpoint
from .errors import AuthenticationError, LoomError, NotConnected, PermissionDenied

Metadata = tuple[tuple[str, str], ...]

_CHANNEL_OPTIONS = [
    # The runtime enforces its own limit (default 4 MiB); the client accepts what it is sent.
    ("grpc.max_receive_message_length", 64 * 1024 * 1024),
    ("grpc.max_send_message_length", 64 * 1024 * 1024),
    # Loopback only: reconnect quickly after a runtime restart instead of grpc's long backoff.
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 2000),
    ("grpc.enable_retries", 0),
    # Never through a proxy: gRPC takes http_proxy, https_proxy and grpc_proxy for loopback too,
    # and every call carries a credential in plain text.
    ("grpc.enable_http_proxy", 0),
]


def open_channel(address: str) -> grpc.aio.Channel:
    """An insecure (loopback) channel with the SDK's options."""
    return grpc.aio.insecure_channel(address, options=_CHANNEL_OPTIONS)


def base_metadata(agent_id: str | None, token: str | None, dialect: str | None = "loom") -> Metadata:
    """What every call carries: the agent id, the dialect (Loom's NATS topic rules, concrete delivery
    topics, one stream per id; a client that declares none gets the reference's) and the token."""
    md = []
    if agent_id:
        md.append(("x-loom-agent-id", agent_id))
    if dialect:
        md.append(("loom-dialect", dialect))
    if token:
        md.append(("authorization", f"Bearer {token}"))
    return tuple(md)


class Connection:
    def __init__(self, endpoint: Endpoint, agent_id: str) -> None:
        self.endpoint = endpoint
        self.agent_id = agent_id
        self.channel = open_channel(endpoint.address)
        self.bridge = loom_pb2_grpc.BridgeStub(self.channel)
        self.tools = runtime_pb2_grpc.ToolsStub(self.channel)
        self.store = runtime_pb2_grpc.StoreStub(self.channel)
        self.runtime = runtime_pb2_grpc.RuntimeStub(self.channel)
        self.memory = memory_pb2_grpc.MemoryServiceStub(self.channel)
        self._base: Metadata = base_metadata(agent_id, endpoint.token)

    def metadata(self, extra: Sequence[tuple[str, str]] = ()) -> Metadata:
        """Token, agent id, the current traceparent, plus `extra`."""
        md = self._base + tuple(extra)
        tp = tracing.current_traceparent()
        if tp:
            md += ((tracing.TRACEPARENT, tp),)
        return md

    async def close(self) -> None:
        await self.channel.close(grace=None)


def rpc_error(error: grpc.aio.AioRpcError, what: str, address: str | None = None) -> LoomError:
    """A LoomError naming the operation and what the runtime said."""
    code = error.code()
    detail = error.details() or code.name
    if code == grpc.StatusCode.UNAUTHENTICATED:
        return AuthenticationError(
            f"{what}: the runtime refused the token ({detail}); pass token=..., set LOOM_TOKEN, "
            "or run inside the workspace whose .loom/runtime.json names this runtime"
        )
    if code == grpc.StatusCode.PERMISSION_DENIED:
        return PermissionDenied(f"{what}: {detail}")
    if code == grpc.StatusCode.UNAVAILABLE:
        return NotConnected(f"{what}: runtime unreachable at {address or '?'} ({detail})")
    return LoomError(f"{what} failed: {code.name}: {detail}")


__all__ = ["Connection", "rpc_error", "open_channel", "base_metadata"]
