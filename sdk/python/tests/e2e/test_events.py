"""Events across the real runtime: Python -> Python with wildcards, runtime -> Python, Python -> runtime."""
import asyncio

import pytest
from conftest import Inbox, unique

from loom import RequestTimeout
from loom._proto import loom_pb2, runtime_pb2_grpc


async def test_publish_and_deliver_with_wildcards(agents):
    base = unique("e2e.wild")
    inbox = Inbox()
    await agents(topics=[f"{base}.*.x", f"{base}.tail.>"], on_event=inbox)
    pub = await agents()

    for topic, n in [
        (f"{base}.a.x", 1),        # * matches one segment
        (f"{base}.a.y", 2),        # no: last segment differs
        (f"{base}.a.b.x", 3),      # no: * is exactly one segment
        (f"{base}.tail", 4),       # no: > needs at least one more segment
        (f"{base}.tail.one", 5),   # > matches one
        (f"{base}.tail.one.two", 6),  # > matches several
    ]:
        await pub.ctx.emit(topic, type="probe", payload={"n": n})
    # One last event per pattern: per-subscription order means anything wrongly matched came first.
    await pub.ctx.emit(f"{base}.end.x", type="end", payload={"n": 7})
    await pub.ctx.emit(f"{base}.tail.end", type="end", payload={"n": 8})

    events = await inbox.wait_for(lambda evs: sum(e.type == "end" for e in evs) == 2)
    assert sorted(e.json()["n"] for e in events) == [1, 5, 6, 7, 8]
    by_n = {e.json()["n"]: e for e in events}
    # Deliveries name the concrete topic, never the pattern.
    assert by_n[1].topic == f"{base}.a.x" and by_n[6].topic == f"{base}.tail.one.two"
    assert by_n[1].sender == pub.agent_id and by_n[1].metadata["loom.sender"] == pub.agent_id


async def test_payload_kinds_and_envelope_travel(agents):
    topic = unique("e2e.kinds.")
    inbox = Inbox()
    await agents(topics=[topic], on_event=inbox)
    pub = await agents()
    await pub.ctx.emit(topic, type="bytes", payload=b"\x00\xff")
    await pub.ctx.emit(topic, type="text", payload="héllo")
    await pub.ctx.emit(topic, type="json", payload={"k": [1, 2]}, thread_id="th-1", metadata={"custom": "v"})
    events = await inbox.wait_count(3)
    assert [e.type for e in events] == ["bytes", "text", "json"]
    assert events[0].payload == b"\x00\xff"
    assert events[1].text == "héllo"
    assert events[2].json() == {"k": [1, 2]}
    assert events[2].thread_id == "th-1" and events[2].metadata["custom"] == "v"


async def test_runtime_to_python_timer_events(agents):
    # [timers.e2e_tick] in the workspace's loom.toml publishes timer.e2e_tick from inside the runtime.
    inbox = Inbox()
    await agents(topics=["timer.*"], on_event=inbox)
    events = await inbox.wait_count(2)
    assert {e.topic for e in events} == {"timer.e2e_tick"}


async def test_runtime_publish_rpc_reaches_python(agents, raw_channel, runtime):
    topic = unique("e2e.rpc.")
    inbox = Inbox()
    await agents(topics=[topic], on_event=inbox)
    stub = runtime_pb2_grpc.RuntimeStub(raw_channel)
    ev = loom_pb2.Event(id="rpc-1", type="from-rpc", payload=b'{"ok":true}')
    await stub.Publish(loom_pb2.Publish(topic=topic, event=ev), metadata=runtime.metadata())
    (got,) = await inbox.wait_count(1)
    assert (got.id, got.type, got.json()) == ("rpc-1", "from-rpc", {"ok": True})


async def test_python_to_runtime(agents, runtime):
    # The runtime runs with --print-events "e2e.>": its own bus subscriber prints what it receives.
    topic = unique("e2e.toruntime.")
    pub = await agents()
    await pub.ctx.emit(topic, type="seen-by-runtime", payload="marker")
    await pub._flush(10)
    for _ in range(200):
        if topic in runtime.stdout_text():
            break
        await asyncio.sleep(0.05)
    line = next(ln for ln in runtime.stdout_text().splitlines() if topic in ln)
    assert "seen-by-runtime" in line and pub.agent_id in line and "marker" in line


async def test_request_reply_across_two_agents(agents):
    topic = unique("e2e.rr.")

    async def double(ctx, _topic, event):
        await ctx.reply(event, type="doubled", payload={"value": event.json()["value"] * 2})

    await agents(topics=[topic], on_event=double)
    asker = await agents()
    reply = await asker.ctx.request(topic, type="double", payload={"value": 21}, timeout_ms=20000)
    assert reply.type == "doubled" and reply.json() == {"value": 42}
    assert reply.topic == f"agent.{asker.agent_id}.replies"
    # Several requests in flight at once each get their own reply.
    replies = await asyncio.gather(*(
        asker.ctx.request(topic, type="double", payload={"value": i}, timeout_ms=20000) for i in range(10)
    ))
    assert [r.json()["value"] for r in replies] == [i * 2 for i in range(10)]


async def test_request_from_inside_a_handler(agents):
    # A handler that itself awaits a request must not block the stream that brings the reply.
    inner, outer = unique("e2e.inner."), unique("e2e.outer.")

    async def inner_handler(ctx, _t, event):
        await ctx.reply(event, type="inner", payload=event.json() + 1)

    async def outer_handler(ctx, _t, event):
        got = await ctx.request(inner, type="q", payload=event.json(), timeout_ms=20000)
        await ctx.reply(event, type="outer", payload=got.json() * 10)

    await agents(topics=[inner], on_event=inner_handler)
    await agents(topics=[outer], on_event=outer_handler)
    asker = await agents()
    reply = await asker.ctx.request(outer, type="q", payload=4, timeout_ms=20000)
    assert reply.json() == 50


async def test_request_without_responder_times_out(agents):
    asker = await agents()
    with pytest.raises(RequestTimeout, match="no reply"):
        await asker.ctx.request(unique("e2e.nobody."), type="q", timeout_ms=300)


async def test_runtime_side_subscription_changes(agents):
    base = unique("e2e.dyn.")
    inbox = Inbox()
    sub = await agents(on_event=inbox)
    pub = await agents()
    sub_id = await sub.ctx.subscribe(f"{base}.>")
    assert sub_id
    await pub.ctx.emit(f"{base}.one", type="a")
    await inbox.wait_count(1)
    assert await sub.ctx.unsubscribe(f"{base}.>") == 1
    await pub.ctx.emit(f"{base}.two", type="b")
    # A marker on a still-subscribed topic shows b would have arrived by now if still subscribed.
    await sub.ctx.subscribe(f"{base}2.marker")
    await pub.ctx.emit(f"{base}2.marker", type="marker")
    events = await inbox.wait_for(lambda evs: any(e.type == "marker" for e in evs))
    assert [e.type for e in events] == ["a", "marker"]


async def test_batched_subscription_receives_everything_in_order(agents):
    topic = unique("e2e.batch.")
    inbox = Inbox()
    sub = await agents(topics=[topic], on_event=inbox, qos="batched")
    pub = await agents()
    n = 2000
    for i in range(n):
        await pub.ctx.emit(topic, type="n", payload=str(i))
    events = await inbox.wait_count(n, timeout=120)
    assert [int(e.text) for e in events] == list(range(n))
    # Registered with loom.batch=1 and QoS batched, so the runtime packed deliveries together.
    assert sub.stats["delivery_batches"] > 0, sub.stats


async def test_invalid_topic_is_reported_and_the_stream_survives(agents, caplog):
    topic = unique("e2e.after.")
    inbox = Inbox()
    await agents(topics=[topic], on_event=inbox)
    pub = await agents()
    with caplog.at_level("WARNING", logger="loom"):
        await pub.ctx.emit("e2e.bad..topic", type="bad")
        await pub.ctx.emit(topic, type="good")
        (ev,) = await inbox.wait_count(1)
        await pub._flush(10)
    assert ev.type == "good"
    assert pub.stats["errors"] == 1
    assert any("e2e.bad..topic" in r.getMessage() for r in caplog.records), caplog.text
