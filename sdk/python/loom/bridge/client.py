"""BridgeClient: the reference SDK's low-level gRPC client (Bridge and MemoryService calls).

Two kinds, one API:

* ``BridgeClient(address=None, token=None)`` owns a channel, as in the reference: ``connect()``,
  then ``register_agent``, ``event_stream``, ``forward_tool_call``, ``heartbeat`` and the memory
  calls, which return the generated response messages and raise grpc's errors unchanged. The
  address and token come from the arguments, else ``LOOM_BRIDGE_ADDR``/``LOOM_TOKEN``, else the
  workspace's discovery file, else the reference's default ``127.0.0.1:50051`` (no token).
* ``agent.ctx.client`` (also ``agent.client``) rides on a started Agent's connection: no
  ``connect()`` needed, each call waits for the agent to be connected, carries its credential,
  and a refused call raises the SDK's ``LoomError`` kinds (``PermissionDenied``, ``NotConnected``...).

Every call carries ``authorization: Bearer <token>`` when there is one, and declares Loom's
dialect like the rest of this SDK.
"""
from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

import grpc

from ..connection import Metadata, base_metadata, open_channel, rpc_error
from ..discovery import ADDR_ENV, TOKEN_ENV, resolve_endpoint
from ..errors import RuntimeNotFound
from .proto import action_pb2 as pb_action
from .proto import bridge_pb2 as pb_bridge
from .proto import bridge_pb2_grpc as pb_bridge_grpc
from .proto import event_pb2 as pb_event
from .proto import memory_pb2 as pb_memory
from .proto import memory_pb2_grpc as pb_memory_grpc

if TYPE_CHECKING:
    from ..agent.base import Agent

log = logging.getLogger("loom")

#: The reference's default bridge address, used when nothing names another.
DEFAULT_ADDR = "127.0.0.1:50051"


def _resolve(address: str | None, token: str | None) -> tuple[str, str | None]:
    if address and token:
        return address, token
    try:
        endpoint = resolve_endpoint(address, token)
        return endpoint.address, endpoint.token
    except RuntimeNotFound as e:
        # The reference's default address, without a token: a token goes only where it was told to
        # go (an agent can listen on 50051, or plant a discovery file that names its own port).
        if token or os.environ.get(TOKEN_ENV):
            raise
        log.debug("BridgeClient: %s; using %s", e, address or DEFAULT_ADDR)
        return address or os.environ.get(ADDR_ENV) or DEFAULT_ADDR, None


async def _with_handshake(agent_id: str, outbound: AsyncIterator[Any]) -> AsyncIterator[Any]:
    """The stream's messages: Ack{agent_id} first (the reference's handshake), then `outbound`'s."""
    yield pb_bridge.ClientEvent(ack=pb_bridge.Ack(message_id=agent_id))
    async for item in outbound:
        yield item


class BridgeClient:
    """gRPC client of the runtime's Bridge and MemoryService (the reference SDK's class)."""

    def __init__(self, address: str | None = None, *, token: str | None = None,
                 agent_id: str | None = None, dialect: str | None = "loom") -> None:
        self.address, self.token = _resolve(address, token)
        #: The agent id the calls name (set by register_agent when not given).
        self.agent_id = agent_id
        self._dialect = dialect
        self._channel: grpc.aio.Channel | None = None
        self._stub: Any | None = None
        self._memory_stub: Any | None = None

    # ---------- the channel ----------

    async def connect(self) -> None:
        """Opens the channel (once)."""
        if self._channel is None:
            self._channel = open_channel(self.address)
            self._stub = pb_bridge_grpc.BridgeStub(self._channel)
            self._memory_stub = pb_memory_grpc.MemoryServiceStub(self._channel)

    async def close(self) -> None:
        if self._channel is not None:
            channel, self._channel = self._channel, None
            self._stub = self._memory_stub = None
            await channel.close()

    async def __aenter__(self) -> BridgeClient:
        await self.connect()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    def _metadata(self) -> Metadata:
        from .. import tracing

        md = base_metadata(self.agent_id, self.token, self._dialect)
        tp = tracing.current_traceparent()
        return md + (((tracing.TRACEPARENT, tp),) if tp else ())

    async def _unary(self, what: str, method: Callable[[Any, Any], Any], request: Any,
                     timeout: float | None = None) -> Any:
        """Runs `method(bridge_stub, memory_stub)(request)` with this client's metadata."""
        if self._stub is None:
            await self.connect()
        return await method(self._stub, self._memory_stub)(request, metadata=self._metadata(), timeout=timeout)

    # ---------- Bridge ----------

    async def register_agent(self, agent_id: str, topics: list[str], tools: list[Any],
                             metadata: dict[str, str] | None = None) -> bool:
        """RegisterAgent; True, or RuntimeError naming the runtime's reason."""
        if self.agent_id is None:
            self.agent_id = agent_id
        req = pb_bridge.AgentRegisterRequest(agent_id=agent_id, subscribed_topics=list(topics), tools=list(tools),
                                             metadata=metadata or {})
        resp = await self._unary("register_agent", lambda b, m: b.RegisterAgent, req)
        if not resp.success:
            raise RuntimeError(f"RegisterAgent failed: {resp.error_message}")
        return True

    async def event_stream(self, agent_id: str, outbound: AsyncIterator[Any]) -> Any:
        """Opens EventStream: sends Ack{agent_id} (the handshake), then what `outbound` yields;
        returns the call, an async iterator of ServerEvent."""
        if self._stub is None:
            await self.connect()
        stub: Any = self._stub
        return stub.EventStream(_with_handshake(agent_id, outbound), metadata=self._metadata())

    async def forward_tool_call(self, call: Any, timeout: float | None = None) -> Any:
        """ForwardToolCall: the ToolResult (a failed tool is a result, not an exception)."""
        return await self._unary(f"tool {call.name!r}", lambda b, m: b.ForwardToolCall, call, timeout)

    async def heartbeat(self) -> Any:
        return await self._unary("heartbeat", lambda b, m: b.Heartbeat,
                                 pb_bridge.HeartbeatRequest(agent_id=self.agent_id or ""))

    # ---------- MemoryService ----------

    async def save_plan(self, req: Any) -> Any:
        return await self._unary("save_plan", lambda b, m: m.SavePlan, req)

    async def get_recent_plans(self, req: Any) -> Any:
        return await self._unary("get_recent_plans", lambda b, m: m.GetRecentPlans, req)

    async def check_duplicate(self, req: Any) -> Any:
        return await self._unary("check_duplicate", lambda b, m: m.CheckDuplicate, req)

    async def mark_executed(self, req: Any) -> Any:
        return await self._unary("mark_executed", lambda b, m: m.MarkExecuted, req)

    async def check_executed(self, req: Any) -> Any:
        return await self._unary("check_executed", lambda b, m: m.CheckExecuted, req)

    async def get_execution_stats(self, req: Any) -> Any:
        return await self._unary("get_execution_stats", lambda b, m: m.GetExecutionStats, req)

    async def append_event(self, req: Any) -> Any:
        """MemoryService.AppendEvent (not in the reference's client; its service has it)."""
        return await self._unary("append_event", lambda b, m: m.AppendEvent, req)

    async def retrieve(self, req: Any) -> Any:
        """MemoryService.Retrieve (not in the reference's client; its service has it)."""
        return await self._unary("retrieve", lambda b, m: m.Retrieve, req)

    async def summarize_episode(self, req: Any) -> Any:
        """MemoryService.SummarizeEpisode (not in the reference's client; its service has it)."""
        return await self._unary("summarize_episode", lambda b, m: m.SummarizeEpisode, req)

    def __repr__(self) -> str:
        return f"BridgeClient(address={self.address!r}, agent_id={self.agent_id!r})"


class AgentBridgeClient(BridgeClient):
    """The BridgeClient of a started Agent: its calls travel on the agent's connection."""

    def __init__(self, agent: Agent) -> None:  # noqa: D107 - no resolution: the agent has done it
        self._agent = agent
        self._dialect = "loom"
        self._channel = self._stub = self._memory_stub = None

    @property
    def agent_id(self) -> str:  # type: ignore[override]
        return self._agent.agent_id

    @property
    def address(self) -> str:  # type: ignore[override]
        """Where the agent is connected, or (before it starts) where it would connect."""
        endpoint = self._agent.endpoint
        return endpoint.address if endpoint else _resolve(self._agent._address, self._agent._token)[0]

    @property
    def token(self) -> str | None:  # type: ignore[override]
        endpoint = self._agent.endpoint
        return endpoint.token if endpoint else _resolve(self._agent._address, self._agent._token)[1]

    async def connect(self) -> None:
        """Nothing to do: the agent connects (``await agent.start()``)."""

    async def close(self) -> None:
        """Nothing to do: the agent closes its connection when it stops."""

    async def _unary(self, what: str, method: Callable[[Any, Any], Any], request: Any,
                     timeout: float | None = 30.0) -> Any:
        conn = await self._agent._wait_connected(timeout)
        try:
            return await method(conn.bridge, conn.memory)(request, metadata=conn.metadata(), timeout=timeout)
        except grpc.aio.AioRpcError as e:
            raise rpc_error(e, what, conn.endpoint.address) from None

    async def event_stream(self, agent_id: str, outbound: AsyncIterator[Any]) -> Any:
        conn = await self._agent._wait_connected(30.0)
        return conn.bridge.EventStream(_with_handshake(agent_id, outbound), metadata=conn.metadata())

    def __repr__(self) -> str:
        return f"BridgeClient(agent={self.agent_id!r}, address={self.address!r})"


__all__ = ["BridgeClient", "AgentBridgeClient", "DEFAULT_ADDR", "pb_bridge", "pb_event", "pb_action", "pb_memory"]
