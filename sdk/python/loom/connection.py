"""One gRPC channel to the runtime, its stubs, and the metadata every call carries."""
from __future__ import annotations

from typing import Optional, Sequence, Tuple

import grpc

from . import tracing
from ._proto import loom_pb2_grpc, runtime_pb2_grpc
from .discovery import Endpoint
from .errors import AuthenticationError, LoomError, NotConnected, PermissionDenied

Metadata = Tuple[Tuple[str, str], ...]

_CHANNEL_OPTIONS = [
    # The runtime enforces its own limit (default 4 MiB); the client accepts what it is sent.
    ("grpc.max_receive_message_length", 64 * 1024 * 1024),
    ("grpc.max_send_message_length", 64 * 1024 * 1024),
    # Loopback only: reconnect quickly after a runtime restart instead of grpc's long backoff.
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 2000),
    ("grpc.enable_retries", 0),
]


class Connection:
    def __init__(self, endpoint: Endpoint, agent_id: str) -> None:
        self.endpoint = endpoint
        self.agent_id = agent_id
        self.channel = grpc.aio.insecure_channel(endpoint.address, options=_CHANNEL_OPTIONS)
        self.bridge = loom_pb2_grpc.BridgeStub(self.channel)
        self.tools = runtime_pb2_grpc.ToolsStub(self.channel)
        self.store = runtime_pb2_grpc.StoreStub(self.channel)
        self.runtime = runtime_pb2_grpc.RuntimeStub(self.channel)
        # Declares Loom's dialect (NATS topic rules, concrete delivery topics, one stream per id);
        # a client that does not gets the reference's.
        base = [("x-loom-agent-id", agent_id), ("loom-dialect", "loom")]
        if endpoint.token:
            base.append(("authorization", f"Bearer {endpoint.token}"))
        self._base: Metadata = tuple(base)

    def metadata(self, extra: Sequence[Tuple[str, str]] = ()) -> Metadata:
        """Token, agent id, the current traceparent, plus `extra`."""
        md = self._base + tuple(extra)
        tp = tracing.current_traceparent()
        if tp:
            md += ((tracing.TRACEPARENT, tp),)
        return md

    async def close(self) -> None:
        await self.channel.close(grace=None)


def rpc_error(error: grpc.aio.AioRpcError, what: str, address: Optional[str] = None) -> LoomError:
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


__all__ = ["Connection", "rpc_error"]
