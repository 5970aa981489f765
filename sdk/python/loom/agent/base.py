"""Agent: registers with the runtime, keeps the event stream alive, runs handlers and tools.

One connection lifetime is a `_Session`: RegisterAgent, then EventStream opened with
Ack{agent_id} (the reference handshake), a reader, a writer and a heartbeat. When a session
dies the agent reconnects with backoff, registers its topics and tools again and re-sends the
subscriptions it added at run time. Events emitted meanwhile wait in the outbound queue.
"""
from __future__ import annotations

import asyncio
import collections
import contextlib
import inspect
import json
import logging
import os
import random
import signal
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable, Iterator
from typing import Any

import grpc

from .. import tracing
from .. import tracing as _tracing
from .._proto import loom_pb2
from ..connection import Connection, rpc_error
from ..discovery import Endpoint, resolve_endpoint
from ..errors import LoomError, NotConnected
from ..event import Envelope, Event  # noqa: F401 (Envelope: still importable from here, as before)
from ..qos import QoS
from ..schema import ArgumentError
from ..tools import Tool, encode_output, tool_of
from .context import Context, EventContext, handling  # noqa: F401 (EventContext: importable from here, as before)

#: Spans of this module (the reference exposes one per module; a no-op without OpenTelemetry).
tracer = _tracing.get_tracer(__name__)

log = logging.getLogger("loom")

EventHandler = Callable[[Context, str, Event], Awaitable[None] | None]

# Publishes waiting in the queue travel together (PublishBatch) up to this many per message.
_MAX_PUBLISH_BATCH = 256
_STREAM_REQUEST_TIMEOUT = 10.0
_FLUSH_TIMEOUT = 3.0


class _Inbox:
    """Deliveries waiting for on_event, and the rule for when the stream reader may read on.

    The runtime sends everything on one stream, in order: deliveries, replies to this agent's
    requests, tool calls routed to it, pongs, subscribe/unsubscribe answers and errors. For
    deliveries, not reading is the backpressure: HTTP/2 flow control then stalls the runtime's
    writer, so a batched publisher waits and a realtime queue drops (and counts) in the
    runtime, as the QoS says. But a stopped reader also stops the messages behind the
    deliveries, and a handler awaiting one of them would never finish. The rule:

    * the reader dispatches every message as soon as it is read; only deliveries land here;
    * below `soft_cap` deliveries waiting, it reads on;
    * at `soft_cap` it waits for room, unless the agent is awaiting something that arrives on
      the stream (a request's reply, a tool call it made, which may be routed back to it, a
      subscribe/unsubscribe answer, a flush's pong): then it reads on, holding the extra
      deliveries here (counted in `held`), so the awaited message gets past those ahead of it;
    * at `hard_cap` it waits regardless, which bounds memory (logged).

    A tool call routed to this agent while the reader waits is read once the handler makes room
    (the agent cannot know it is coming); the same holds for anything a handler waits on
    without asking through this agent.
    """

    def __init__(
        self, agent_id: str, soft_cap: int, hard_cap: int, awaiting: Callable[[], bool], stats: dict[str, int]
    ) -> None:
        self._agent_id = agent_id
        self.soft_cap = max(1, soft_cap)
        self.hard_cap = max(self.soft_cap + 1, hard_cap)
        self._awaiting = awaiting
        self._stats = stats
        self._items: collections.deque[Event] = collections.deque()
        self._readable = asyncio.Event()
        self._changed = asyncio.Event()
        #: True while the reader waits for room: its silence then says nothing about the runtime.
        self.paused = False
        self._warned = ""  # what was logged since the queue was last empty: "", "held", "full"

    def put(self, ev: Event) -> None:
        self._items.append(ev)
        if len(self._items) > self.soft_cap:
            self._stats["held_deliveries"] += 1
            self._warn("held", "reading on because a reply or tool call is awaited")
        self._readable.set()

    async def get(self) -> Event:
        while not self._items:
            self._readable.clear()
            await self._readable.wait()
        ev = self._items.popleft()
        if not self._items:
            self._warned = ""
        self._changed.set()
        return ev

    def wake(self) -> None:
        """Something started awaiting the stream: a waiting reader re-checks the rule."""
        self._changed.set()

    async def wait_for_room(self) -> bool:
        """Returns when the reader may read another message; True if it had to wait."""
        waited = False
        try:
            while True:
                n = len(self._items)
                awaiting = self._awaiting()
                if n < self.soft_cap or (n < self.hard_cap and awaiting):
                    return waited
                if awaiting:
                    self._warn("full", "stopped reading although a reply or tool call is awaited (it may time out)")
                if not waited:
                    self._stats["read_pauses"] += 1
                waited = self.paused = True
                self._changed.clear()
                await self._changed.wait()
        finally:
            self.paused = False

    def _warn(self, level: str, what: str) -> None:
        if self._warned == level or self._warned == "full":
            return
        self._warned = level
        log.warning(
            "agent %s: %d events wait for on_event (max_pending_events=%d); %s",
            self._agent_id, len(self._items), self.soft_cap, what,
        )


class _Session:
    """One live connection: its channel, its stream call and the tasks serving it."""

    def __init__(self, conn: Connection, call: Any) -> None:
        self.conn = conn
        self.call = call
        self.tasks: list[asyncio.Task[Any]] = []
        self.ended = asyncio.Event()
        self.last_received = time.monotonic()
        #: AgentRegisterResponse.features: what the runtime offers beyond the reference protocol.
        self.features: frozenset[str] = frozenset()

    async def close(self) -> None:
        self.ended.set()
        self.call.cancel()
        current = asyncio.current_task()
        for t in self.tasks:
            if t is not current:
                t.cancel()
        await asyncio.gather(*(t for t in self.tasks if t is not current), return_exceptions=True)
        await self.conn.close()


def _default_heartbeat_interval() -> float:
    """A third of the runtime's heartbeat timeout when the supervisor says it
    (LOOM_HEARTBEAT_TIMEOUT_MS), at most 5 s: an agent pinging every 5 s under a 6 s timeout
    would be dropped between two pings."""
    raw = os.environ.get("LOOM_HEARTBEAT_TIMEOUT_MS", "")
    try:
        timeout_ms = int(raw)
    except ValueError:
        return 5.0
    return 5.0 if timeout_ms <= 0 else max(0.1, min(5.0, timeout_ms / 3000))


class Agent:
    """A Loom agent.

    agent_id   -- unique id (default: $LOOM_AGENT_ID, which the supervisor sets)
    topics     -- patterns to subscribe to at registration (`*` one segment, `>` the rest)
    tools      -- functions decorated with @tool, offered to every agent and the runtime
    address    -- "host:port" of the bridge; else $LOOM_BRIDGE_ADDR; else .loom/runtime.json
    on_event   -- `async def on_event(ctx, topic, event)`, called for each delivery, in order
    token      -- bridge token; else $LOOM_TOKEN; else the discovery file's
    qos        -- QoS of the registration subscriptions ("realtime", "batched", "background")
    max_pending_events -- deliveries waiting for on_event before the agent stops reading the
                  stream (backpressure), unless it awaits a reply or tool call (see _Inbox)
    max_held_events    -- hard limit on waiting deliveries in that case (default 8x, at least +64)
    """

    def __init__(
        self,
        agent_id: str | None = None,
        topics: Iterable[str] = (),
        tools: Iterable[Any] | None = None,
        address: str | None = None,
        on_event: EventHandler | None = None,
        token: str | None = None,
        qos: QoS | str = QoS.REALTIME,
        *,
        metadata: dict[str, str] | None = None,
        heartbeat_interval: float | None = None,
        max_pending_events: int = 1024,
        max_held_events: int | None = None,
        capabilities: Iterable[Any] | None = None,
    ) -> None:
        agent_id = agent_id or os.environ.get("LOOM_AGENT_ID")
        if not agent_id:
            raise ValueError("agent_id is required (or set LOOM_AGENT_ID)")
        self.agent_id = agent_id
        self.topics: list[str] = list(topics)
        self.qos = QoS.parse(qos)
        self._tools: dict[str, Tool] = {}
        for fn in list(tools or ()) + list(capabilities or ()):
            t = tool_of(fn)
            if t.wire_name in self._tools:
                raise ValueError(f"two tools named {t.wire_name!r}")
            self._tools[t.wire_name] = t
        self._address = address
        self._token = token
        self._on_event = on_event
        self._metadata = dict(metadata or {})
        self._heartbeat_interval = (
            heartbeat_interval if heartbeat_interval is not None else _default_heartbeat_interval()
        )
        if max_pending_events < 1:
            raise ValueError(f"max_pending_events must be at least 1, not {max_pending_events}")
        self._max_pending_events = max_pending_events
        self._max_held_events = max_held_events or max(8 * max_pending_events, max_pending_events + 64)
        self._awaiting = 0  # calls in flight whose answer comes on the stream
        self.ctx = Context(self)
        self._session: _Session | None = None
        self._connected = asyncio.Event()
        self._stopped = False
        self._started = False
        #: Why this agent gave way, when another process took its id over (the runtime's "replaced").
        self.taken_over: str | None = None
        self._given_way = asyncio.Event()
        self._outbound: asyncio.Queue[loom_pb2.ClientEvent] | None = None
        self._inbox: _Inbox | None = None
        self._unsent: list[Any] = []  # taken from the queue, not written when the stream died
        self._pending_replies: dict[str, asyncio.Future[Any]] = {}
        self._pending_stream: dict[str, asyncio.Future[Any]] = {}
        #: Tool calls made on the stream (ClientEvent.call_tool), by call id, until answered.
        self._pending_calls: dict[str, asyncio.Future[Any]] = {}
        self._pong_waiters: list[asyncio.Future[Any]] = []
        self._dynamic: dict[str, QoS] = {}
        self._background: list[asyncio.Task[Any]] = []
        self._tool_tasks: set[asyncio.Task[Any]] = set()
        # The calls of this agent's tools being served, by call id: the runtime may cancel one.
        self._serving: dict[str, asyncio.Task[Any]] = {}
        self.endpoint: Endpoint | None = None
        #: Counters for tests and benchmarks: what travelled, and how.
        self.stats: dict[str, int] = dict.fromkeys(
            (
                "deliveries", "delivery_batches", "publishes", "publish_batches", "tool_calls", "reconnects", "errors",
                # stream_tool_calls: this agent's ctx.tool calls sent on its stream (not as ForwardToolCall)
                "stream_tool_calls",
                # held_deliveries: read beyond max_pending_events while a reply was awaited;
                # read_pauses: times the reader stopped for backpressure; liveness_probes:
                # unary heartbeats sent while it was stopped.
                "held_deliveries", "read_pauses", "liveness_probes",
            ),
            0,
        )

    @property
    def tools(self) -> list[Tool]:
        return list(self._tools.values())

    @property
    def _ctx(self) -> Context:
        """The reference SDK's name for `ctx`."""
        return self.ctx

    @property
    def client(self) -> Any:
        """The BridgeClient riding on this agent's connection (the reference SDK's attribute; also `ctx.client`)."""
        return self.ctx.client

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    # ---------- lifecycle ----------

    async def start(self) -> None:
        """Connects, registers and opens the event stream; raises a clear LoomError if it cannot."""
        if self._started:
            raise LoomError(f"agent {self.agent_id} is already started")
        self._started = True
        self._stopped = False
        self.taken_over = None
        self._given_way.clear()
        self._outbound = asyncio.Queue(maxsize=4096)
        self._inbox = _Inbox(
            self.agent_id, self._max_pending_events, self._max_held_events, lambda: self._awaiting > 0, self.stats
        )
        self._session = await self._connect()
        self._background = [
            asyncio.create_task(self._keep_connected(), name=f"loom-{self.agent_id}-reconnect"),
            asyncio.create_task(self._handle_events(), name=f"loom-{self.agent_id}-handler"),
        ]

    async def stop(self) -> None:
        """Sends what is queued (briefly), closes the stream and stops handlers and tools."""
        if not self._started or self._stopped:
            return
        session = self._session
        if session is not None and self._connected.is_set():
            try:
                await self._flush(_FLUSH_TIMEOUT)
            except (LoomError, asyncio.TimeoutError):
                pass
        self._stopped = True
        self._connected.clear()
        for t in [*self._background, *self._tool_tasks]:
            t.cancel()
        await asyncio.gather(*self._background, *self._tool_tasks, return_exceptions=True)
        if session is not None:
            try:
                await session.call.done_writing()
            except Exception:
                pass
            await session.close()
        self._session = None
        self._fail_pending(NotConnected(f"agent {self.agent_id} stopped"))
        self._started = False

    def run(self) -> None:
        """Starts the agent and blocks until SIGINT, SIGTERM or SIGHUP (its terminal closed), then
        stops it cleanly."""
        if not logging.getLogger().handlers:
            logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

        async def main() -> None:
            await self.start()
            done = asyncio.Event()
            loop = asyncio.get_running_loop()
            hangup = getattr(signal, "SIGHUP", None)  # not on Windows
            for sig in (signal.SIGINT, signal.SIGTERM, *([hangup] if hangup else [])):
                loop.add_signal_handler(sig, done.set)
            log.info("agent %s running (bridge %s)", self.agent_id, self.endpoint.address if self.endpoint else "?")
            given_way = asyncio.ensure_future(self._given_way.wait())
            await asyncio.wait([asyncio.ensure_future(done.wait()), given_way], return_when=asyncio.FIRST_COMPLETED)
            await self.stop()
            if given_way.done():
                raise SystemExit(f"agent {self.agent_id} stopped: {self.taken_over}")

        asyncio.run(main())

    async def __aenter__(self) -> Agent:
        await self.start()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.stop()

    # ---------- connecting ----------

    def _register_request(self) -> Any:
        topics = list(self.topics)
        if self.ctx.reply_topic not in topics:
            topics.append(self.ctx.reply_topic)
        metadata = {
            **self._metadata,
            # Tells the runtime this client understands DeliveryBatch (several events per message),
            # and ServerEvent.cancel_tool_call (the call of one of its tools is over).
            "loom.batch": "1",
            "loom.tool_cancel": "1",
            "loom.sdk": "python",
            "loom.pid": str(os.getpid()),
        }
        descriptors = [
            loom_pb2.ToolDescriptor(
                name=t.wire_name,
                description=t.description,
                parameters_schema=t.parameters_schema,
                provider=loom_pb2.PROVIDER_GRPC,
                metadata={"loom.kind": t.kind} if t.kind else {},
            )
            for t in self._tools.values()
        ]
        return loom_pb2.AgentRegisterRequest(
            agent_id=self.agent_id, subscribed_topics=topics, tools=descriptors, metadata=metadata, qos=self.qos.wire
        )

    async def _connect(self) -> _Session:
        endpoint = resolve_endpoint(self._address, self._token)
        self.endpoint = endpoint
        conn = Connection(endpoint, self.agent_id)
        try:
            try:
                resp = await conn.bridge.RegisterAgent(self._register_request(), metadata=conn.metadata(), timeout=10)
            except grpc.aio.AioRpcError as e:
                raise rpc_error(e, f"registering agent {self.agent_id}", endpoint.address) from None
            if not resp.success:
                raise LoomError(f"the runtime refused to register agent {self.agent_id}: {resp.error_message}")
            call = conn.bridge.EventStream(metadata=conn.metadata())
            session = _Session(conn, call)
            session.features = frozenset(resp.features)
            await call.write(loom_pb2.ClientEvent(ack=loom_pb2.Ack(message_id=self.agent_id)))
        except BaseException:
            await conn.close()
            raise
        session.tasks = [
            asyncio.create_task(self._read(session)),
            asyncio.create_task(self._write(session)),
            asyncio.create_task(self._heartbeat(session)),
        ]
        # Published before the handshake finishes so calls made meanwhile use this connection.
        self._session = session
        self._connected.set()
        try:
            # The pong proves the runtime has attached the stream, so deliveries flow from here on.
            await self._flush(_STREAM_REQUEST_TIMEOUT)
            for pattern, qos in list(self._dynamic.items()):
                await self._stream_request("subscribe", loom_pb2.SubscribeRequest(pattern=pattern, qos=qos.wire))
        except asyncio.TimeoutError:
            log.warning("agent %s: the runtime did not answer the stream handshake in time", self.agent_id)
        except BaseException:
            self._connected.clear()
            self._session = None
            await session.close()
            raise
        log.info("agent %s connected to %s", self.agent_id, endpoint.address)
        return session

    async def _keep_connected(self) -> None:
        while not self._stopped:
            session = self._session
            if session is not None:
                await session.ended.wait()
                self._connected.clear()
                await session.close()
                self._fail_pending(NotConnected("connection to the runtime lost"), replies=False)
                # stop() may have set _stopped during the awaits above; mypy keeps the loop
                # condition's narrowing (False) across them and calls the return unreachable.
                if self._stopped:
                    return  # type: ignore[unreachable]
                if self.taken_over:
                    self._given_way.set()
                    return
                log.warning("agent %s lost its connection; reconnecting", self.agent_id)
            self._session = None
            delay = 0.1
            while not self._stopped:
                try:
                    self._session = await self._connect()
                    self.stats["reconnects"] += 1
                    break
                except Exception as e:
                    log.warning("agent %s: reconnect failed (%s); retrying in %.1fs", self.agent_id, e, delay)
                    await asyncio.sleep(delay * (0.8 + 0.4 * random.random()))
                    delay = min(delay * 2, 5.0)

    async def _wait_connected(self, timeout: float | None) -> Connection:
        if not self._started or self._stopped:
            raise NotConnected(f"agent {self.agent_id} is not started; await agent.start() first")
        # Connected: no wait_for, whose task and timer cost each call two turns of the event loop.
        if self._connected.is_set() and self._session is not None:
            return self._session.conn
        try:
            await asyncio.wait_for(self._connected.wait(), timeout)
        except asyncio.TimeoutError:
            raise NotConnected(f"agent {self.agent_id} is not connected to the runtime (reconnecting)") from None
        assert self._session is not None
        return self._session.conn

    def _fail_pending(self, error: Exception, replies: bool = True) -> None:
        # Calls are forgotten at once, so none of them still queued is sent on the next connection.
        calls, self._pending_calls = self._pending_calls, {}
        futures = list(self._pending_stream.values()) + list(calls.values()) + self._pong_waiters
        if replies:
            futures += list(self._pending_replies.values())
        for fut in futures:
            if not fut.done():
                fut.set_exception(error)
        self._pong_waiters = []

    # ---------- the stream ----------

    async def _read(self, session: _Session) -> None:
        try:
            while True:
                msg = await session.call.read()
                if msg is grpc.aio.EOF:
                    log.warning("agent %s: the runtime closed the event stream", self.agent_id)
                    return
                session.last_received = time.monotonic()
                self._dispatch(msg)
                if self._inbox is not None and await self._inbox.wait_for_room():
                    # Quiet while we were not reading is no sign of a dead runtime.
                    session.last_received = time.monotonic()
        except asyncio.CancelledError:
            raise
        except grpc.aio.AioRpcError as e:
            if not self._stopped:
                log.warning("agent %s: event stream failed: %s %s", self.agent_id, e.code().name, e.details())
        except Exception:
            log.exception("agent %s: event stream reader failed", self.agent_id)
        finally:
            session.ended.set()

    def _dispatch(self, msg: loom_pb2.ServerEvent) -> None:
        """Acts on one message at once; never waits (see _Inbox for why)."""
        kind = msg.WhichOneof("msg")
        if kind == "delivery":
            self.stats["deliveries"] += 1
            self._deliver(msg.delivery)
        elif kind == "delivery_batch":
            self.stats["delivery_batches"] += 1
            self.stats["deliveries"] += len(msg.delivery_batch.deliveries)
            for d in msg.delivery_batch.deliveries:
                self._deliver(d)
        elif kind == "tool_call":
            self.stats["tool_calls"] += 1
            call_id = msg.tool_call.id
            task = asyncio.create_task(self._serve_tool(msg.tool_call))
            self._tool_tasks.add(task)
            self._serving[call_id] = task

            def done(t: asyncio.Task[Any], call_id: str = call_id) -> None:
                self._tool_tasks.discard(t)
                if self._serving.get(call_id) is t:
                    del self._serving[call_id]

            task.add_done_callback(done)
        elif kind == "cancel_tool_call":
            # The call is over in the runtime (its caller gave up, or its time ran out): stop serving it.
            serving = self._serving.get(msg.cancel_tool_call.id)
            if serving is not None:
                serving.cancel()
        elif kind == "pong":
            waiters, self._pong_waiters = self._pong_waiters, []
            for fut in waiters:
                if not fut.done():
                    fut.set_result(None)
        elif kind == "call_tool_result":
            answered = self._pending_calls.pop(msg.call_tool_result.id, None)
            if answered is not None and not answered.done():
                answered.set_result(msg.call_tool_result)
        elif kind in ("subscribed", "unsubscribed"):
            resp = getattr(msg, kind)
            waiting = self._pending_stream.pop(resp.request_id, None)
            if waiting is not None and not waiting.done():
                waiting.set_result(resp)
        elif kind == "err":
            self.stats["errors"] += 1
            if msg.err.code == "replaced":
                # Another process took this id. Taking it back would start a tug of war between the
                # two (each reconnect replaces the other), so this one gives way, and says so.
                self.taken_over = msg.err.message or "another stream took over the agent id"
                log.error("agent %s: %s; this process stops connecting (run it under another agent id to keep both)",
                          self.agent_id, self.taken_over)
                return
            log.warning("agent %s: runtime reported %s: %s", self.agent_id, msg.err.code, msg.err.message)

    def _deliver(self, delivery: Any) -> None:
        ev = Event.from_proto(delivery.event, topic=delivery.topic)
        # A reply goes to the request waiting for it — never the request itself, which comes back
        # (same correlation id) when this agent subscribes to the topic it asked on.
        if self.ctx._resolve_reply(ev):
            return
        if self._on_event is not None and self._inbox is not None:
            self._inbox.put(ev)  # the reader then waits for room: backpressure to the runtime

    async def _write(self, session: _Session) -> None:
        assert self._outbound is not None
        queue = self._outbound
        try:
            while True:
                if self._unsent:
                    msg = self._unsent.pop(0)
                else:
                    msg = await queue.get()
                    queue.task_done()
                if msg.HasField("call_tool") and msg.call_tool.id not in self._pending_calls:
                    continue  # its caller has been answered meanwhile (a lost connection, a timeout)
                batch = [msg]
                if msg.HasField("publish"):
                    while len(batch) < _MAX_PUBLISH_BATCH and not queue.empty():
                        nxt = queue.get_nowait()
                        queue.task_done()
                        if not nxt.HasField("publish"):
                            self._unsent.append(nxt)
                            break
                        batch.append(nxt)
                if msg.HasField("publish"):
                    self.stats["publishes"] += len(batch)
                if len(batch) > 1:
                    self.stats["publish_batches"] += 1
                    out = loom_pb2.ClientEvent(
                        publish_batch=loom_pb2.PublishBatch(publishes=[m.publish for m in batch])
                    )
                else:
                    out = msg
                try:
                    await session.call.write(out)
                except BaseException:
                    # Keep what was not written for the next session (the runtime never saw it).
                    self._unsent[:0] = batch
                    raise
        except asyncio.CancelledError:
            raise
        except Exception as e:
            if not self._stopped:
                log.warning("agent %s: event stream write failed: %s", self.agent_id, e)
        finally:
            session.ended.set()

    async def _heartbeat(self, session: _Session) -> None:
        interval = self._heartbeat_interval
        while True:
            await asyncio.sleep(interval)
            if self._inbox is not None and self._inbox.paused:
                # The reader waits for a slow handler, so pongs sit unread: ask on a unary call instead.
                if not await self._probe(session, 3 * interval):
                    session.ended.set()
                    return
                session.last_received = time.monotonic()
            elif time.monotonic() - session.last_received > 3 * interval:
                log.warning("agent %s: no word from the runtime for %.1fs; reconnecting", self.agent_id, 3 * interval)
                session.ended.set()
                return
            await self._enqueue(self._ping())

    async def _probe(self, session: _Session, timeout: float) -> bool:
        """A unary Heartbeat on the session's channel: does the runtime answer and know this agent?"""
        self.stats["liveness_probes"] += 1
        conn = session.conn
        try:
            resp = await conn.bridge.Heartbeat(
                loom_pb2.HeartbeatRequest(timestamp_ms=int(time.time() * 1000), agent_id=self.agent_id),
                metadata=conn.metadata(),
                timeout=max(timeout, 1.0),
            )
        except grpc.aio.AioRpcError as e:
            log.warning(
                "agent %s: the runtime did not answer a heartbeat (%s); reconnecting", self.agent_id, e.code().name
            )
            return False
        if resp.status != "ok":
            log.warning("agent %s: the runtime answered a heartbeat with %r; reconnecting", self.agent_id, resp.status)
            return False
        return True

    def _ping(self) -> loom_pb2.ClientEvent:
        return loom_pb2.ClientEvent(
            ping=loom_pb2.HeartbeatRequest(timestamp_ms=int(time.time() * 1000), agent_id=self.agent_id)
        )

    async def _enqueue(self, msg: loom_pb2.ClientEvent) -> None:
        if self._outbound is None or self._stopped:
            raise NotConnected(f"agent {self.agent_id} is not started; await agent.start() first")
        await self._outbound.put(msg)

    @contextlib.contextmanager
    def _awaiting_stream(self) -> Iterator[None]:
        """Marks a call whose answer arrives on the stream, so the reader reads on past a full queue."""
        self._awaiting += 1
        if self._inbox is not None:
            self._inbox.wake()
        try:
            yield
        finally:
            self._awaiting -= 1

    async def _flush(self, timeout: float) -> None:
        """Returns once the runtime has read everything queued so far (a ping answered in order)."""
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pong_waiters.append(fut)
        with self._awaiting_stream():
            await self._enqueue(self._ping())
            await asyncio.wait_for(fut, timeout)

    def _features(self) -> frozenset[str]:
        """What the runtime of the live connection offers (none while reconnecting: calls then wait
        on the unary path)."""
        session = self._session
        return session.features if session is not None and self._connected.is_set() else frozenset()

    def _calls_on_stream(self) -> int:
        return len(self._pending_calls)

    async def _call_on_stream(self, call: loom_pb2.ToolCall, timeout: float) -> Any:
        """A tool call sent on the stream (the runtime said "stream_tool_calls"): its ToolResult.
        Raises asyncio.TimeoutError after `timeout`, NotConnected when the connection is lost."""
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[Any] = loop.create_future()
        self._pending_calls[call.id] = fut
        self.stats["stream_tool_calls"] += 1
        def expire() -> None:
            if not fut.done():
                fut.set_exception(asyncio.TimeoutError())

        # One timer, not wait_for, whose task and waiter cost each call two more turns of the loop.
        timer = loop.call_later(timeout, expire)
        sent = False
        try:
            with self._awaiting_stream():
                await self._enqueue(loom_pb2.ClientEvent(call_tool=call))
                sent = True
                return await fut
        except asyncio.CancelledError:
            if sent:
                self._cancel_on_stream(call.id)
            raise
        finally:
            timer.cancel()
            self._pending_calls.pop(call.id, None)

    def _cancel_on_stream(self, call_id: str) -> None:
        """Tells the runtime the caller gave up on a call (its task was cancelled), so that what the
        call started ends now rather than at its timeout. Best effort: with the queue full, or no
        connection (which ends every call on the stream anyway), the call's own timeout ends it."""
        if self._outbound is None or self._stopped:
            return
        with contextlib.suppress(asyncio.QueueFull):
            self._outbound.put_nowait(loom_pb2.ClientEvent(cancel_tool=loom_pb2.CancelToolCall(id=call_id)))

    async def _stream_request(self, kind: str, request: Any) -> Any:
        request.request_id = str(uuid.uuid4())
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending_stream[request.request_id] = fut
        try:
            with self._awaiting_stream():
                await self._enqueue(loom_pb2.ClientEvent(**{kind: request}))
                return await asyncio.wait_for(fut, _STREAM_REQUEST_TIMEOUT)
        except asyncio.TimeoutError:
            raise LoomError(
                f"{kind} {request.pattern!r}: no answer from the runtime within {_STREAM_REQUEST_TIMEOUT:.0f}s"
            ) from None
        finally:
            self._pending_stream.pop(request.request_id, None)

    # ---------- used by Context ----------

    async def _publish(self, topic: str, ev: Event) -> None:
        await self._enqueue(loom_pb2.ClientEvent(publish=loom_pb2.Publish(topic=topic, event=ev.to_proto())))

    async def _subscribe(self, pattern: str, qos: QoS) -> str:
        await self._wait_connected(_STREAM_REQUEST_TIMEOUT)
        resp = await self._stream_request("subscribe", loom_pb2.SubscribeRequest(pattern=pattern, qos=qos.wire))
        if not resp.success:
            raise LoomError(f"subscribe {pattern!r} refused: {resp.error_message}")
        self._dynamic[pattern] = qos
        return str(resp.subscription_id)

    async def _unsubscribe(self, pattern: str) -> int:
        await self._wait_connected(_STREAM_REQUEST_TIMEOUT)
        resp = await self._stream_request("unsubscribe", loom_pb2.UnsubscribeRequest(pattern=pattern))
        if not resp.success:
            raise LoomError(f"unsubscribe {pattern!r} refused: {resp.error_message}")
        self._dynamic.pop(pattern, None)
        if pattern in self.topics:
            self.topics.remove(pattern)
        return int(resp.removed)

    # ---------- handlers and tools ----------

    async def _handle_events(self) -> None:
        assert self._inbox is not None
        while True:
            ev = await self._inbox.get()
            assert self._on_event is not None
            token = handling.set(ev)
            try:
                with tracing.span(
                    "loom.handle", ev.metadata, kind="consumer",
                    agent_id=self.agent_id, event_id=ev.id, event_type=ev.type, topic=ev.topic,
                ) as span:
                    try:
                        result = self._on_event(self.ctx, ev.topic or "", ev)
                        if inspect.isawaitable(result):
                            await result
                    except asyncio.CancelledError:
                        raise
                    except Exception as e:
                        tracing.mark_error(span, str(e))
                        log.exception("agent %s: on_event failed for %s on %s", self.agent_id, ev.type, ev.topic)
            finally:
                handling.reset(token)

    async def _serve_tool(self, call: loom_pb2.ToolCall) -> None:
        result = await self._run_tool(call)
        result.id = call.id
        try:
            await self._enqueue(loom_pb2.ClientEvent(tool_result=result))
        except NotConnected:
            pass

    async def _run_tool(self, call: loom_pb2.ToolCall) -> loom_pb2.ToolResult:
        def failure(status: loom_pb2.ToolStatus, code: str, message: str) -> loom_pb2.ToolResult:
            return loom_pb2.ToolResult(status=status, error=loom_pb2.ToolError(code=code, message=message))

        t = self._tools.get(call.name)
        if t is None:
            return failure(loom_pb2.TOOL_NOT_FOUND, "not_found", f"agent {self.agent_id} offers no tool {call.name!r}")
        with tracing.span(
            "loom.tool.serve", dict(call.headers), kind="server", tool_name=t.name, agent_id=self.agent_id
        ) as span:
            try:
                kwargs = t.bind(json.loads(call.arguments) if call.arguments.strip() else {})
            except ValueError as e:  # ArgumentError and JSONDecodeError alike
                prefix = "" if isinstance(e, ArgumentError) else "arguments are not valid JSON: "
                tracing.mark_error(span, str(e))
                return failure(loom_pb2.TOOL_INVALID_ARGUMENTS, "invalid_arguments", f"{t.name}: {prefix}{e}")
            try:
                timeout = call.timeout_ms / 1000 if call.timeout_ms > 0 else None
                value = await asyncio.wait_for(t.invoke(kwargs, self.ctx), timeout)
                return loom_pb2.ToolResult(status=loom_pb2.TOOL_OK, output=encode_output(value))
            except asyncio.TimeoutError:
                tracing.mark_error(span, "timeout")
                return failure(loom_pb2.TOOL_TIMEOUT, "timeout", f"{t.name} did not finish within {call.timeout_ms} ms")
            except asyncio.CancelledError:
                raise
            except Exception as e:
                tracing.mark_error(span, str(e))
                log.warning("agent %s: tool %s raised %s: %s", self.agent_id, t.name, type(e).__name__, e)
                return failure(loom_pb2.TOOL_ERROR, "failed", f"{type(e).__name__}: {e}")


__all__ = ["Agent", "EventHandler"]
