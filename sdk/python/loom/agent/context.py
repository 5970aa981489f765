"""Context: what an agent's handlers and tools use to act — events, requests, tools, subscriptions, store."""
from __future__ import annotations

import asyncio
import contextvars
import json
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Tuple, Union

import grpc

from .. import tracing
from .._proto import loom_pb2, runtime_pb2
from ..connection import Connection, rpc_error
from ..errors import LoomError, RequestTimeout, STATUS_NAMES, ToolError, tool_error
from ..event import Event, encode_payload
from ..qos import QoS
from ..tools import wire_tool_name

if TYPE_CHECKING:
    from .base import Agent

_UNSET: Any = object()

#: The event whose handler is running, so what it emits continues its thread, hop count and trace.
handling: contextvars.ContextVar[Optional[Event]] = contextvars.ContextVar("loom_handling", default=None)


@dataclass
class ContextItem:
    id: str
    session_id: str
    type: str
    content: str
    metadata: Dict[str, str] = field(default_factory=dict)
    timestamp_ms: int = 0

    @classmethod
    def from_proto(cls, item: Any) -> "ContextItem":
        return cls(item.id, item.session_id, item.type, item.content, dict(item.metadata), item.timestamp_ms)


@dataclass
class ToolInfo:
    name: str
    description: str
    parameters: Dict[str, Any]
    provider: str
    metadata: Dict[str, str] = field(default_factory=dict)


_PROVIDERS = {0: "native", 1: "wasm", 2: "grpc", 3: "mcp"}


class _Unary:
    """Runs a unary call on the agent's current connection with its metadata, mapping failures."""

    def __init__(self, agent: "Agent") -> None:
        self._agent = agent

    async def call(
        self,
        what: str,
        method: Callable[[Connection], Any],
        request: Any,
        timeout: Optional[float] = 30.0,
        extra_metadata: Tuple[Tuple[str, str], ...] = (),
    ) -> Any:
        conn = await self._agent._wait_connected(timeout)
        try:
            return await method(conn)(request, metadata=conn.metadata(extra_metadata), timeout=timeout)
        except grpc.aio.AioRpcError as e:
            raise rpc_error(e, what, conn.endpoint.address) from None


class Store:
    """The runtime's persistent store: context items (shared, by session) and key-value state (this agent's)."""

    def __init__(self, agent: "Agent", unary: _Unary) -> None:
        self._agent = agent
        self._unary = unary

    async def save_context(
        self, session_id: str, type: str, content: str, metadata: Optional[Dict[str, str]] = None
    ) -> ContextItem:
        item = runtime_pb2.ContextItem(session_id=session_id, type=type, content=content, metadata=metadata or {})
        resp = await self._unary.call(
            "save_context", lambda c: c.store.SaveContext, runtime_pb2.SaveContextRequest(item=item)
        )
        return ContextItem.from_proto(resp.item)

    async def query_context(
        self,
        session_id: Optional[str] = None,
        type: Optional[str] = None,
        since_ms: Optional[int] = None,
        until_ms: Optional[int] = None,
        text: Optional[str] = None,
        limit: int = 100,
        newest_first: bool = False,
    ) -> List[ContextItem]:
        req = runtime_pb2.QueryContextRequest(
            session_id=session_id or "",
            type=type or "",
            since_ms=since_ms or 0,
            until_ms=until_ms or 0,
            text=text or "",
            limit=limit,
            newest_first=newest_first,
        )
        resp = await self._unary.call("query_context", lambda c: c.store.QueryContext, req)
        return [ContextItem.from_proto(i) for i in resp.items]

    async def get_state(self, key: str) -> Optional[bytes]:
        req = runtime_pb2.GetStateRequest(agent_id=self._agent.agent_id, key=key)
        resp = await self._unary.call("get_state", lambda c: c.store.GetState, req)
        return bytes(resp.value) if resp.found else None

    async def put_state(self, key: str, value: Union[bytes, str]) -> None:
        req = runtime_pb2.PutStateRequest(agent_id=self._agent.agent_id, key=key, value=encode_payload(value))
        await self._unary.call("put_state", lambda c: c.store.PutState, req)

    async def delete_state(self, key: str) -> bool:
        req = runtime_pb2.DeleteStateRequest(agent_id=self._agent.agent_id, key=key)
        resp = await self._unary.call("delete_state", lambda c: c.store.DeleteState, req)
        return bool(resp.existed)

    async def list_state(self, prefix: str = "", limit: int = 0) -> List[Tuple[str, bytes]]:
        req = runtime_pb2.ListStateRequest(agent_id=self._agent.agent_id, prefix=prefix, limit=limit)
        resp = await self._unary.call("list_state", lambda c: c.store.ListState, req)
        return [(e.key, bytes(e.value)) for e in resp.entries]


class Context:
    """The agent's handle on the runtime. One per agent; safe to use from any task of its loop."""

    def __init__(self, agent: "Agent") -> None:
        self._agent = agent
        self._unary = _Unary(agent)
        self.store = Store(agent, self._unary)

    @property
    def agent_id(self) -> str:
        return self._agent.agent_id

    @property
    def reply_topic(self) -> str:
        return f"agent.{self.agent_id}.replies"

    # ---------- events ----------

    def _event(
        self,
        type: str,
        payload: Any,
        metadata: Optional[Dict[str, str]],
        thread_id: Optional[str],
        correlation_id: Optional[str],
        reply_to: Optional[str] = None,
        ttl_ms: Optional[int] = None,
    ) -> Event:
        parent = handling.get()
        ev = Event.new(
            type=type,
            payload=payload,
            source=self.agent_id,
            sender=self.agent_id,
            thread_id=thread_id or (parent.thread_id if parent else None),
            correlation_id=correlation_id,
            reply_to=reply_to,
            ttl_ms=ttl_ms,
            metadata=metadata,
            # The runtime counts hops per publish; carrying the handled event's count on is what
            # lets it stop an event loop that runs through Python agents.
            hop=parent.hop if parent and parent.hop else None,
        )
        return ev

    async def emit(
        self,
        topic: str,
        *,
        type: str,
        payload: Any = b"",
        metadata: Optional[Dict[str, str]] = None,
        thread_id: Optional[str] = None,
        correlation_id: Optional[str] = None,
        reply_to: Optional[str] = None,
        ttl_ms: Optional[int] = None,
        envelope: Optional[Event] = None,
    ) -> Event:
        """Publishes an event on `topic`; returns it (with its id). Queued while reconnecting."""
        ev = envelope or self._event(type, payload, metadata, thread_id, correlation_id, reply_to, ttl_ms)
        if not ev.sender:
            ev.sender = self.agent_id
        tracing.inject(ev.metadata)
        await self._agent._publish(topic, ev)
        return ev

    async def request(
        self,
        topic: str,
        *,
        type: str,
        payload: Any = b"",
        timeout_ms: int = 5000,
        metadata: Optional[Dict[str, str]] = None,
        thread_id: Optional[str] = None,
    ) -> Event:
        """Publishes a request and returns the first reply (matched by correlation id).

        Raises RequestTimeout (a TimeoutError) when none arrives within timeout_ms.
        """
        ev = self._event(type, payload, metadata, thread_id, None, reply_to=self.reply_topic)
        ev.correlation_id = ev.id
        fut: asyncio.Future[Event] = asyncio.get_running_loop().create_future()
        self._agent._pending_replies[ev.id] = fut
        try:
            with self._agent._awaiting_stream():
                await self.emit(topic, type=type, envelope=ev)
                return await asyncio.wait_for(fut, timeout=timeout_ms / 1000)
        except asyncio.TimeoutError:
            raise RequestTimeout(f"no reply to {type!r} on {topic!r} within {timeout_ms} ms") from None
        finally:
            self._agent._pending_replies.pop(ev.id, None)

    async def reply(
        self, original: Event, *, type: str, payload: Any = b"", metadata: Optional[Dict[str, str]] = None
    ) -> Event:
        """Answers `original` on its reply-to topic (else its sender's reply inbox)."""
        topic = original.reply_to or (f"agent.{original.sender}.replies" if original.sender else None)
        if not topic:
            raise LoomError(f"cannot reply to event {original.id} ({original.type}): it has neither reply_to nor sender")
        ev = self._event(type, payload, metadata, original.thread_id, original.correlation_id or original.id)
        return await self.emit(topic, type=type, envelope=ev)

    # ---------- subscriptions ----------

    async def subscribe(self, pattern: str, qos: Union[QoS, str, None] = None) -> str:
        """Adds a subscription at run time (kept across reconnects); returns its id."""
        return await self._agent._subscribe(pattern, QoS.parse(qos) if qos is not None else self._agent.qos)

    async def unsubscribe(self, pattern: str) -> int:
        """Removes this agent's subscriptions with `pattern`; returns how many went."""
        return await self._agent._unsubscribe(pattern)

    # ---------- tools ----------

    async def tool(
        self,
        name: str,
        args: Optional[Dict[str, Any]] = None,
        *,
        timeout_ms: int = 30000,
        headers: Optional[Dict[str, str]] = None,
        payload: Any = _UNSET,
    ) -> Any:
        """Calls a tool by name and returns its parsed JSON output.

        Raises ToolError (ToolNotFound, ToolInvalidArguments, ToolTimeout, ToolDenied) carrying
        .status, .code and .message. The reference SDK's form `tool(name, payload=...)` still
        works and, as there, returns the output's JSON text.
        """
        name = wire_tool_name(name)
        raw = payload is not _UNSET
        arguments = payload if raw else args
        if arguments is None:
            arguments = {}
        encoded = arguments if isinstance(arguments, str) else json.dumps(arguments, default=str)
        call_id = str(uuid.uuid4())
        call_headers = {"loom.caller": self.agent_id, **(headers or {})}
        with tracing.span("loom.tool.call", kind="client", tool_name=name, agent_id=self.agent_id) as span:
            tracing.inject(call_headers)
            call = loom_pb2.ToolCall(
                id=call_id,
                name=name,
                arguments=encoded,
                headers=call_headers,
                timeout_ms=timeout_ms,
                correlation_id=call_id,
            )
            try:
                # The tool may be this agent's own (or call back into it): its call then arrives
                # on this agent's stream, so the stream must be read while this one is out.
                with self._agent._awaiting_stream():
                    # The runtime enforces timeout_ms and answers TIMEOUT; the deadline is a backstop.
                    res = await self._unary.call(
                        f"tool {name!r}", lambda c: c.bridge.ForwardToolCall, call, timeout=timeout_ms / 1000 + 5
                    )
            except LoomError as e:
                cause = e.__cause__ or e.__context__
                if isinstance(cause, grpc.aio.AioRpcError) and cause.code() == grpc.StatusCode.DEADLINE_EXCEEDED:
                    raise tool_error("timeout", "timeout", f"no result within {timeout_ms} ms", name) from None
                raise
            if res.status == loom_pb2.TOOL_OK:
                if raw:
                    return res.output
                return json.loads(res.output) if res.output else None
            status = STATUS_NAMES.get(res.status, "error")
            err = tool_error(status, res.error.code or status, res.error.message or status, name, res.error.details)
            tracing.mark_error(span, str(err))
            raise err

    async def list_tools(self, prefix: str = "") -> List[ToolInfo]:
        """Every tool in the runtime's registry (built-in, agents', MCP, editor), optionally by prefix.

        Follows ListTools' pages (each cut to fit the message size limit) until the last one.
        """
        listed = []
        token = ""
        while True:
            resp = await self._unary.call(
                "list_tools",
                lambda c: c.tools.ListTools,
                runtime_pb2.ListToolsRequest(prefix=prefix, page_token=token),
            )
            listed.extend(resp.tools)
            if not resp.next_page_token or resp.next_page_token == token:
                break
            token = resp.next_page_token
        out = []
        for t in listed:
            try:
                params = json.loads(t.parameters_schema) if t.parameters_schema else {}
            except ValueError:
                params = {}
            out.append(ToolInfo(t.name, t.description, params, _PROVIDERS.get(t.provider, str(t.provider)), dict(t.metadata)))
        return out


#: The reference SDK's name for the same thing.
EventContext = Context

__all__ = ["Context", "EventContext", "Store", "ContextItem", "ToolInfo", "ToolError"]
