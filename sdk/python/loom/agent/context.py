"""Context: what an agent's handlers and tools use to act — events, requests, tools, subscriptions, store."""
from __future__ import annotations

import asyncio
import contextlib
import contextvars
import hashlib
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import grpc

from .. import tracing
from .._proto import loom_pb2, memory_pb2, runtime_pb2
from ..bridge.client import AgentBridgeClient, BridgeClient
from ..connection import Connection, rpc_error
from ..errors import STATUS_NAMES, LoomError, NotConnected, RequestTimeout, ToolError, tool_error
from ..event import Event, encode_payload
from ..qos import QoS
from ..tools import call_names

if TYPE_CHECKING:
    from .base import Agent

_UNSET: Any = object()
_nothing = contextlib.nullcontext
# Tool arguments as JSON; anything else JSON lacks (a Path, a datetime) as its str(). One encoder
# for every call: json.dumps builds a new one each time it is given `default`.
_encode_arguments = json.JSONEncoder(default=str).encode
#: AgentRegisterResponse.features: the runtime answers tool calls made on the agent's stream.
STREAM_TOOL_CALLS = "stream_tool_calls"
#: Calls on the stream at once (the runtime's MAX_STREAM_CALLS_IN_FLIGHT); more go as ForwardToolCall.
_MAX_STREAM_CALLS = 32

#: The event whose handler is running, so what it emits continues its thread, hop count and trace.
handling: contextvars.ContextVar[Event | None] = contextvars.ContextVar("loom_handling", default=None)


@dataclass
class ContextItem:
    id: str
    session_id: str
    type: str
    content: str
    metadata: dict[str, str] = field(default_factory=dict)
    timestamp_ms: int = 0

    @classmethod
    def from_proto(cls, item: runtime_pb2.ContextItem) -> ContextItem:
        return cls(item.id, item.session_id, item.type, item.content, dict(item.metadata), item.timestamp_ms)


@dataclass
class ToolInfo:
    name: str
    description: str
    parameters: dict[str, Any]
    provider: str
    metadata: dict[str, str] = field(default_factory=dict)


_PROVIDERS = {0: "native", 1: "wasm", 2: "grpc", 3: "mcp"}
#: A page's limit travels as an int32; a larger total limit is followed page after page.
_MAX_PAGE_LIMIT = 2**31 - 1


#: Unary calls open at once; more wait here. The runtime refuses an agent's credential past 64
#: (runtime/bridge/callsInFlight.ts), and registration and heartbeats take places too.
_MAX_UNARY_CALLS = 48


class _Unary:
    """Runs a unary call on the agent's current connection with its metadata, mapping failures."""

    def __init__(self, agent: Agent | None) -> None:
        self._agent = agent
        self._places = asyncio.Semaphore(_MAX_UNARY_CALLS)

    async def call(
        self,
        what: str,
        method: Callable[[Connection], Any],
        request: Any,
        timeout: float | None = 30.0,
        extra_metadata: tuple[tuple[str, str], ...] = (),
    ) -> Any:
        if self._agent is None:
            raise NotConnected(f"{what}: this context belongs to no Agent (it was made from an agent id and a client)")
        conn = await self._agent._wait_connected(timeout)
        async with self._places:
            try:
                return await method(conn)(request, metadata=conn.metadata(extra_metadata), timeout=timeout)
            except grpc.aio.AioRpcError as e:
                raise rpc_error(e, what, conn.endpoint.address) from None


class Store:
    """The runtime's persistent store: context items (shared, by session) and key-value state (this agent's)."""

    def __init__(self, agent: Agent | None, unary: _Unary) -> None:
        self._agent = agent
        self._unary = unary

    @property
    def _agent_id(self) -> str:
        if self._agent is None:
            raise NotConnected("the store needs a context that belongs to an Agent")
        return self._agent.agent_id

    async def save_context(
        self, session_id: str, type: str, content: str, metadata: dict[str, str] | None = None
    ) -> ContextItem:
        item = runtime_pb2.ContextItem(session_id=session_id, type=type, content=content, metadata=metadata or {})
        resp = await self._unary.call(
            "save_context", lambda c: c.store.SaveContext, runtime_pb2.SaveContextRequest(item=item)
        )
        return ContextItem.from_proto(resp.item)

    async def query_context(
        self,
        session_id: str | None = None,
        type: str | None = None,
        since_ms: int | None = None,
        until_ms: int | None = None,
        text: str | None = None,
        limit: int = 100,
        newest_first: bool = False,
    ) -> list[ContextItem]:
        """Up to `limit` items, oldest first (newest first if asked). The runtime answers a page
        at a time, each cut to fit one message; the pages are followed until `limit` or the end.
        Each page reads the store as it is then: an item saved again under its id meanwhile may
        come twice, or not at all."""
        if limit < 0:
            raise ValueError(f"limit must not be negative (got {limit})")
        found: list[ContextItem] = []
        if limit == 0:
            return found
        token = ""
        while True:
            req = runtime_pb2.QueryContextRequest(
                session_id=session_id or "",
                type=type or "",
                since_ms=since_ms or 0,
                until_ms=until_ms or 0,
                text=text or "",
                limit=min(limit - len(found), _MAX_PAGE_LIMIT),
                newest_first=newest_first,
                page_token=token,
            )
            resp = await self._unary.call("query_context", lambda c: c.store.QueryContext, req)
            found.extend(ContextItem.from_proto(i) for i in resp.items)
            token = resp.next_page_token
            if not token or len(found) >= limit:
                return found

    async def get_state(self, key: str) -> bytes | None:
        req = runtime_pb2.GetStateRequest(agent_id=self._agent_id, key=key)
        resp = await self._unary.call("get_state", lambda c: c.store.GetState, req)
        return bytes(resp.value) if resp.found else None

    async def put_state(self, key: str, value: bytes | str) -> None:
        req = runtime_pb2.PutStateRequest(agent_id=self._agent_id, key=key, value=encode_payload(value))
        await self._unary.call("put_state", lambda c: c.store.PutState, req)

    async def delete_state(self, key: str) -> bool:
        req = runtime_pb2.DeleteStateRequest(agent_id=self._agent_id, key=key)
        resp = await self._unary.call("delete_state", lambda c: c.store.DeleteState, req)
        return bool(resp.existed)

    async def list_state(self, prefix: str = "", limit: int = 0) -> list[tuple[str, bytes]]:
        """This agent's (key, value) pairs whose key starts with `prefix`, in key order; at most
        `limit` (0 = all). The runtime answers a page at a time, each cut to fit one message; the
        pages are followed until `limit` or the end."""
        if limit < 0:
            raise ValueError(f"limit must be 0 (all) or a positive integer (got {limit})")
        found: list[tuple[str, bytes]] = []
        token = ""
        while True:
            req = runtime_pb2.ListStateRequest(
                agent_id=self._agent_id,
                prefix=prefix,
                limit=min(limit - len(found), _MAX_PAGE_LIMIT) if limit else 0,
                page_token=token,
            )
            resp = await self._unary.call("list_state", lambda c: c.store.ListState, req)
            found.extend((e.key, bytes(e.value)) for e in resp.entries)
            token = resp.next_page_token
            if not token or (limit and len(found) >= limit):
                return found


class Context:
    """The agent's handle on the runtime. One per agent; safe to use from any task of its loop.

    ``agent.ctx`` is one. As in the reference SDK it can also be made from an agent id and a
    ``BridgeClient`` — ``EventContext(agent_id, client)`` — and bound to a queue of outbound
    ``ClientEvent`` messages with ``_bind(queue)``; such a context publishes into the queue and
    calls tools and memory through the client (the store, subscriptions and tool listing need an
    Agent).
    """

    def __init__(self, agent: Agent | str | None = None, client: BridgeClient | None = None, *,
                 agent_id: str | None = None) -> None:
        if isinstance(agent, str):
            agent_id, agent = agent, None
        if agent is None and not agent_id:
            raise TypeError("Context needs an Agent, or an agent_id (and a BridgeClient)")
        self._agent = agent
        self._own_agent_id = agent_id
        self._unary = _Unary(agent)
        self.store = Store(agent, self._unary)
        #: The BridgeClient its tool and memory calls use (the reference SDK's attribute).
        self.client: BridgeClient = client if client is not None else (
            AgentBridgeClient(agent) if agent is not None else BridgeClient(agent_id=agent_id))
        self._own_pending: dict[str, asyncio.Future[Any]] = {}
        # Ids of this context's requests in flight: their own deliveries are not their replies.
        self._request_ids: set[str] = set()

    @property
    def agent_id(self) -> str:
        return self._agent.agent_id if self._agent is not None else str(self._own_agent_id)

    @property
    def reply_topic(self) -> str:
        return f"agent.{self.agent_id}.replies"

    @property
    def _pending(self) -> dict[str, asyncio.Future[Any]]:
        """Requests waiting for a reply, by correlation id (the reference SDK's attribute)."""
        return self._agent._pending_replies if self._agent is not None else self._own_pending

    def _need_agent(self, what: str) -> Agent:
        if self._agent is None:
            raise NotConnected(f"{what}: this context belongs to no Agent (it was made from an agent id and a client)")
        return self._agent

    # ---------- wiring of a context without an Agent (reference SDK) ----------

    def _bind(self, outbound_queue: asyncio.Queue[Any]) -> None:
        """Publishes of this context go into `outbound_queue` as ClientEvent messages."""
        self._outbound_queue = outbound_queue

    async def _send(self, client_event: Any) -> None:
        queue = getattr(self, "_outbound_queue", None)
        if queue is None:
            raise RuntimeError("Context not bound to Agent stream")
        await queue.put(client_event)

    def _on_delivery(self, delivery: Any) -> bool:
        """Hands a delivery to the request waiting for it (matched by correlation id, never the
        request itself); True when it was a reply."""
        event = getattr(delivery, "event", None)
        if event is None:
            return False
        ev = Event.from_proto(event, topic=delivery.topic or None)
        return self._resolve_reply(ev)

    def _resolve_reply(self, ev: Event) -> bool:
        cid = ev.correlation_id
        if not cid or ev.id in self._request_ids:
            return False
        fut = self._pending.get(cid)
        if fut is None or fut.done():
            return False
        fut.set_result(ev)
        return True

    # ---------- events ----------

    def _event(
        self,
        type: str,
        payload: Any,
        metadata: dict[str, str] | None,
        thread_id: str | None,
        correlation_id: str | None,
        reply_to: str | None = None,
        ttl_ms: int | None = None,
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
        metadata: dict[str, str] | None = None,
        thread_id: str | None = None,
        correlation_id: str | None = None,
        reply_to: str | None = None,
        ttl_ms: int | None = None,
        envelope: Event | None = None,
    ) -> Event:
        """Publishes an event on `topic`; returns it (with its id). Queued while reconnecting."""
        ev = envelope or self._event(type, payload, metadata, thread_id, correlation_id, reply_to, ttl_ms)
        if not ev.sender:
            ev.sender = self.agent_id
        tracing.inject(ev.metadata)
        if self._agent is not None:
            await self._agent._publish(topic, ev)
        else:
            await self._send(loom_pb2.ClientEvent(publish=loom_pb2.Publish(topic=topic, event=ev.to_proto())))
        return ev

    async def request(
        self,
        topic: str,
        *,
        type: str,
        payload: Any = b"",
        timeout_ms: int = 5000,
        metadata: dict[str, str] | None = None,
        thread_id: str | None = None,
    ) -> Event:
        """Publishes a request and returns the first reply (matched by correlation id).

        Raises RequestTimeout (a TimeoutError) when none arrives within timeout_ms.
        """
        ev = self._event(type, payload, metadata, thread_id, None, reply_to=self.reply_topic)
        ev.correlation_id = ev.id
        fut: asyncio.Future[Event] = asyncio.get_running_loop().create_future()
        self._pending[ev.id] = fut
        # The request itself carries its correlation id too: when this agent also subscribes to
        # `topic` it comes back, and must go to on_event, not answer the call.
        self._request_ids.add(ev.id)
        try:
            with self._agent._awaiting_stream() if self._agent is not None else _nothing():
                await self.emit(topic, type=type, envelope=ev)
                return await asyncio.wait_for(fut, timeout=timeout_ms / 1000)
        except asyncio.TimeoutError:
            raise RequestTimeout(f"no reply to {type!r} on {topic!r} within {timeout_ms} ms") from None
        finally:
            self._pending.pop(ev.id, None)
            self._request_ids.discard(ev.id)

    async def reply(
        self, original: Event, *, type: str, payload: Any = b"", metadata: dict[str, str] | None = None
    ) -> Event:
        """Answers `original` on its reply-to topic (else its sender's reply inbox)."""
        topic = original.reply_to or (f"agent.{original.sender}.replies" if original.sender else None)
        if not topic:
            raise LoomError(
                f"cannot reply to event {original.id} ({original.type}): it has neither reply_to nor sender"
            )
        ev = self._event(type, payload, metadata, original.thread_id, original.correlation_id or original.id)
        return await self.emit(topic, type=type, envelope=ev)

    async def join_thread(self, thread_id: str) -> None:
        """Receives the events of thread `thread_id`: subscribes to ``thread.<thread_id>.events``
        (the reference's topic convention, where this was a placeholder). Without an Agent it
        does nothing, as there."""
        if self._agent is not None:
            await self.subscribe(f"thread.{thread_id}.events")

    # ---------- subscriptions ----------

    async def subscribe(self, pattern: str, qos: QoS | str | None = None) -> str:
        """Adds a subscription at run time (kept across reconnects); returns its id."""
        agent = self._need_agent("subscribe")
        return await agent._subscribe(pattern, QoS.parse(qos) if qos is not None else agent.qos)

    async def unsubscribe(self, pattern: str) -> int:
        """Removes this agent's subscriptions with `pattern`; returns how many went."""
        return await self._need_agent("unsubscribe")._unsubscribe(pattern)

    # ---------- tools ----------

    async def tool(
        self,
        name: str,
        args: Any = None,
        timeout_ms: int = 30000,
        headers: dict[str, str] | None = None,
        *,
        payload: Any = _UNSET,
    ) -> Any:
        """Calls a tool by name and returns its parsed JSON output.

        `name` as registered: "fs:read", "web.search", "add". A dotted name that is not registered
        is tried with ":" too ("fs.read" reaches fs:read), and a "ns:name" with "." (a tool a
        reference agent registered as "ns.name").

        Raises ToolError (ToolNotFound, ToolInvalidArguments, ToolTimeout, ToolDenied) carrying
        .status, .code and .message. The reference SDK's form `tool(name, payload=...)` still
        works and, as there, returns the output's JSON text.
        """
        raw = payload is not _UNSET
        arguments = payload if raw else args
        if arguments is None:
            arguments = {} if not raw else ""
        encoded = arguments if isinstance(arguments, str) else _encode_arguments(arguments)
        names = call_names(name)
        for i, wire_name in enumerate(names):
            res = await self._call_tool(wire_name, encoded, timeout_ms, headers)
            if res.status == loom_pb2.TOOL_NOT_FOUND and i + 1 < len(names):
                continue
            break
        if res.status == loom_pb2.TOOL_OK:
            if raw:
                return res.output
            return json.loads(res.output) if res.output else None
        status = STATUS_NAMES.get(res.status, "error")
        raise tool_error(status, res.error.code or status, res.error.message or status, names[0], res.error.details)

    async def _call_tool(self, name: str, encoded: str, timeout_ms: int, headers: dict[str, str] | None) -> Any:
        call_id = os.urandom(16).hex()
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
            if self._agent is None:
                res = await self.client.forward_tool_call(call)
            else:
                # The runtime enforces timeout_ms and answers TIMEOUT; the SDK's own limit is a backstop.
                backstop = timeout_ms / 1000 + 5
                try:
                    agent = self._agent
                    if STREAM_TOOL_CALLS in agent._features() and agent._calls_on_stream() < _MAX_STREAM_CALLS:
                        # On the agent's stream: no HTTP/2 stream, headers or credential check of its own.
                        res = await agent._call_on_stream(call, backstop)
                    else:
                        # The tool may be this agent's own (or call back into it): its call then arrives
                        # on this agent's stream, so the stream must be read while this one is out.
                        with agent._awaiting_stream():
                            res = await self._unary.call(
                                f"tool {name!r}", lambda c: c.bridge.ForwardToolCall, call, timeout=backstop
                            )
                except asyncio.TimeoutError:
                    raise tool_error("timeout", "timeout", f"no result within {timeout_ms} ms", name) from None
                except LoomError as e:
                    cause = e.__cause__ or e.__context__
                    if isinstance(cause, grpc.aio.AioRpcError) and cause.code() == grpc.StatusCode.DEADLINE_EXCEEDED:
                        raise tool_error("timeout", "timeout", f"no result within {timeout_ms} ms", name) from None
                    raise
            if res.status != loom_pb2.TOOL_OK:
                tracing.mark_error(span, res.error.message or str(res.status))
            return res

    async def list_tools(self, prefix: str = "") -> list[ToolInfo]:
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
            out.append(
                ToolInfo(t.name, t.description, params, _PROVIDERS.get(t.provider, str(t.provider)), dict(t.metadata))
            )
        return out

    # ---------- plan memory (loom.v1.MemoryService, the reference SDK's calls) ----------
    # Session: this agent's id. Plans are deduplicated by a hash of symbol, action and reasoning.

    @staticmethod
    def _plan_hash(symbol: str, action: str, reasoning: str) -> str:
        """The reference's plan hash: first 8 hex digits of MD5("symbol|action|reasoning")."""
        return hashlib.md5(f"{symbol}|{action}|{reasoning}".encode(), usedforsecurity=False).hexdigest()[:8]

    @staticmethod
    def _plan_dict(plan: Any) -> dict[str, Any]:
        return {
            "timestamp_ms": plan.timestamp_ms, "symbol": plan.symbol, "action": plan.action,
            "confidence": plan.confidence, "reasoning": plan.reasoning, "plan_hash": plan.plan_hash,
            "method": plan.method, "metadata": dict(plan.metadata),
        }

    async def save_plan(self, symbol: str, action: str, confidence: float, reasoning: str = "",
                        method: str = "llm", metadata: dict[str, str] | None = None) -> str:
        """Stores a plan; returns its hash. RuntimeError ("Failed to save plan: ...") if refused."""
        plan = memory_pb2.PlanRecord(
            timestamp_ms=int(time.time() * 1000), symbol=symbol, action=action, confidence=confidence,
            reasoning=reasoning, plan_hash=self._plan_hash(symbol, action, reasoning), method=method,
            metadata=metadata or {},
        )
        resp = await self.client.save_plan(memory_pb2.SavePlanRequest(session_id=self.agent_id, plan=plan))
        if not resp.success:
            raise LoomError(f"Failed to save plan: {resp.error_message}")
        return str(resp.plan_hash)

    async def get_recent_plans(self, symbol: str, limit: int = 5) -> list[dict[str, Any]]:
        """The newest plans for `symbol` (at most `limit`), as dicts."""
        req = memory_pb2.GetRecentPlansRequest(session_id=self.agent_id, symbol=symbol, limit=limit)
        resp = await self.client.get_recent_plans(req)
        if not resp.success:
            raise LoomError(f"Failed to get recent plans: {resp.error_message}")
        return [self._plan_dict(p) for p in resp.plans]

    async def check_duplicate_plan(self, symbol: str, action: str, reasoning: str = "",
                                   time_window_sec: int = 300) -> tuple[bool, dict[str, Any] | None]:
        """(True, the earlier plan with "time_since_ms") when the same plan was saved within the
        window, else (False, None)."""
        plan = memory_pb2.PlanRecord(
            timestamp_ms=int(time.time() * 1000), symbol=symbol, action=action, reasoning=reasoning,
            plan_hash=self._plan_hash(symbol, action, reasoning),
        )
        req = memory_pb2.CheckDuplicateRequest(session_id=self.agent_id, plan=plan, time_window_sec=time_window_sec)
        resp = await self.client.check_duplicate(req)
        if not (resp.is_duplicate and resp.HasField("duplicate_plan")):
            return False, None
        found = self._plan_dict(resp.duplicate_plan)
        del found["method"], found["metadata"]
        found["time_since_ms"] = resp.time_since_duplicate_ms
        return True, found

    async def mark_plan_executed(self, plan_hash: str, symbol: str, action: str, confidence: float, status: str,
                                 executed: bool, order_id: str = "", order_size_usdt: float = 0.0,
                                 error_message: str = "") -> None:
        """Records the execution of a plan (so it is not executed twice)."""
        execution = memory_pb2.ExecutionRecord(
            timestamp_ms=int(time.time() * 1000), plan_hash=plan_hash, symbol=symbol, action=action,
            confidence=confidence, status=status, executed=executed, order_id=order_id,
            order_size_usdt=order_size_usdt, error_message=error_message,
        )
        req = memory_pb2.MarkExecutedRequest(session_id=self.agent_id, plan_hash=plan_hash, execution=execution)
        resp = await self.client.mark_executed(req)
        if not resp.success:
            raise LoomError(f"Failed to mark executed: {resp.error_message}")

    async def check_plan_executed(self, plan_hash: str) -> tuple[bool, dict[str, Any] | None]:
        """(True, the execution record as a dict) if the plan was executed, else (False, None)."""
        resp = await self.client.check_executed(
            memory_pb2.CheckExecutedRequest(session_id=self.agent_id, plan_hash=plan_hash)
        )
        if not (resp.is_executed and resp.HasField("execution")):
            return False, None
        e = resp.execution
        return True, {
            "timestamp_ms": e.timestamp_ms, "plan_hash": e.plan_hash, "symbol": e.symbol, "action": e.action,
            "confidence": e.confidence, "status": e.status, "executed": e.executed, "order_id": e.order_id,
            "order_size_usdt": e.order_size_usdt, "error_message": e.error_message,
        }

    async def get_execution_stats(self, symbol: str) -> dict[str, Any]:
        """Totals, successes, failures, win rate, duplicates prevented and the recent executions."""
        resp = await self.client.get_execution_stats(
            memory_pb2.GetExecutionStatsRequest(session_id=self.agent_id, symbol=symbol))
        return {
            "total_executions": resp.total_executions,
            "successful_executions": resp.successful_executions,
            "failed_executions": resp.failed_executions,
            "win_rate": resp.win_rate,
            "duplicate_prevented": resp.duplicate_prevented,
            "recent_executions": [
                {"timestamp_ms": e.timestamp_ms, "plan_hash": e.plan_hash, "symbol": e.symbol, "action": e.action,
                 "status": e.status, "executed": e.executed, "order_id": e.order_id}
                for e in resp.recent_executions
            ],
        }


#: The reference SDK's name for the same thing.
EventContext = Context

__all__ = ["Context", "EventContext", "Store", "ContextItem", "ToolInfo", "ToolError"]
