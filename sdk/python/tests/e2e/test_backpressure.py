"""A full event queue against the real runtime: backpressure holds deliveries, never the messages
a handler is waiting for (replies, tool calls routed back to the agent, pongs)."""
import asyncio

from conftest import unique

from loom import tool

SOFT_CAP = 2


async def wait_until(predicate, what: str, attempts: int = 600) -> None:
    for _ in range(attempts):
        if predicate():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"gave up waiting until {what}")


class GatedLog:
    """An on_event that waits for `gate`, then runs `work(ctx, event)` and records the outcome."""

    def __init__(self, work) -> None:
        self.gate = asyncio.Event()
        self.work = work
        self.results = []
        self.changed = asyncio.Event()

    async def __call__(self, ctx, topic, event) -> None:
        await self.gate.wait()
        try:
            self.results.append(await self.work(ctx, event))
        except Exception as e:  # recorded so the test names what failed instead of timing out
            self.results.append(e)
        self.changed.set()

    async def wait_count(self, n: int, timeout: float = 120.0) -> list:
        async def loop():
            while len(self.results) < n:
                self.changed.clear()
                await self.changed.wait()
        await asyncio.wait_for(loop(), timeout)
        return self.results


async def fill_queue(worker, pub, topic: str, n: int) -> None:
    """Publishes n events and waits until the worker's reader has stopped for want of room."""
    for i in range(n):
        await pub.ctx.emit(topic, type="work", payload=str(i))
    # One in the handler, SOFT_CAP waiting: nothing more is read while nothing is awaited.
    await wait_until(lambda: worker.stats["deliveries"] >= SOFT_CAP + 1, "the worker's queue was full")


async def test_requests_from_handlers_get_their_replies_behind_a_full_queue(agents):
    work_topic, ask_topic = unique("e2e.bp.work."), unique("e2e.bp.ask.")

    async def answer(ctx, topic, event):
        await ctx.reply(event, type="answer", payload=f"re:{event.text}")

    await agents(topics=[ask_topic], on_event=answer)

    async def ask(ctx, event):
        reply = await ctx.request(ask_topic, type="ask", payload=event.text, timeout_ms=60000)
        return reply.text

    handler = GatedLog(ask)
    worker = await agents(topics=[work_topic], on_event=handler, max_pending_events=SOFT_CAP)
    pub = await agents()
    await fill_queue(worker, pub, work_topic, 8)
    handler.gate.set()
    results = await handler.wait_count(8)
    assert results == [f"re:{i}" for i in range(8)]
    # The replies came through deliveries that were read early and held beyond the queue.
    assert worker.stats["held_deliveries"] > 0, worker.stats


async def test_tool_call_routed_to_an_agent_with_a_full_queue_is_answered(agents):
    work_topic, prefix = unique("e2e.bp.tool."), unique("bp")

    @tool(f"{prefix}:double", description="Doubles n")
    def double(n: int) -> int:
        return 2 * n

    async def call_own_tool(ctx, event):
        # The runtime routes this call back over the worker's own stream, behind its deliveries.
        return await ctx.tool(f"{prefix}:double", {"n": int(event.text)}, timeout_ms=60000)

    handler = GatedLog(call_own_tool)
    worker = await agents(topics=[work_topic], on_event=handler, tools=[double], max_pending_events=SOFT_CAP)
    pub = await agents()
    await fill_queue(worker, pub, work_topic, 8)
    handler.gate.set()
    results = await handler.wait_count(8)
    assert results == [2 * i for i in range(8)]
    assert worker.stats["tool_calls"] == 8


async def test_slow_handler_keeps_its_session_and_holds_back_the_runtime(agents):
    work_topic = unique("e2e.bp.slow.")

    async def record(ctx, event):
        return event.text

    handler = GatedLog(record)
    worker = await agents(topics=[work_topic], on_event=handler, max_pending_events=SOFT_CAP, heartbeat_interval=0.2)
    session = worker._session
    pub = await agents()
    await fill_queue(worker, pub, work_topic, 6)
    # Ten heartbeats with the reader stopped: three intervals of silence would have ended the session.
    probes = worker.stats["liveness_probes"]
    await wait_until(
        lambda: worker.stats["liveness_probes"] >= probes + 10 or worker._session is not session,
        "ten heartbeats passed or the session ended",
    )
    assert worker._session is session and worker.connected and worker.stats["reconnects"] == 0
    # Backpressure: nothing beyond the queue was read while the handler was busy.
    assert worker.stats["deliveries"] == SOFT_CAP + 1 and worker.stats["held_deliveries"] == 0, worker.stats
    handler.gate.set()
    assert await handler.wait_count(6) == [str(i) for i in range(6)]
    assert worker._session is session and worker.stats["reconnects"] == 0
