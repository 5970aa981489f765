"""The reference SDK's agent-facing API against the real runtime: request/reply when the requester
also subscribes to the request topic, plan memory through ctx, BridgeClient (standalone and the
agent's), tool names as the reference registers and calls them, join_thread, pydantic tools."""
import asyncio
import json

import pytest
from conftest import Inbox, unique

from loom import Context, ToolInvalidArguments, tool
from loom.bridge import BridgeClient, action_pb2, memory_pb2


async def test_request_returns_the_reply_not_the_request_when_the_requester_subscribes(agents):
    topic = unique("e2e.api.rr.")

    async def responder(ctx, t, env):
        await ctx.reply(env, type="answer", payload=env.payload.upper())

    await agents(topics=[topic], on_event=responder)
    requester_inbox = Inbox()
    requester = await agents(topics=[topic], on_event=requester_inbox)
    reply = await requester.ctx.request(topic, type="question", payload=b"shout", timeout_ms=20000)
    assert (reply.type, reply.payload) == ("answer", b"SHOUT")
    # Its own request still reached its handler, as any delivery on a subscribed topic does.
    (own,) = await requester_inbox.wait_count(1)
    assert own.type == "question" and own.correlation_id == own.id and own.sender == requester.agent_id


async def test_an_agent_answers_its_own_request(agents):
    topic = unique("e2e.api.self.")

    async def answer(ctx, t, env):
        if env.type == "ping":
            await ctx.reply(env, type="pong", payload=b"me")

    me = await agents(topics=[topic], on_event=answer)
    reply = await me.ctx.request(topic, type="ping", timeout_ms=20000)
    assert (reply.type, reply.payload) == ("pong", b"me")


async def test_plan_memory_through_ctx(agents):
    agent = await agents(unique("py-planner-"))
    ctx = agent.ctx
    plan_hash = await ctx.save_plan("BTC", "BUY", 0.8, reasoning="bullish", metadata={"src": "e2e"})
    assert len(plan_hash) == 8
    plans = await ctx.get_recent_plans("BTC", limit=5)
    assert [(p["action"], p["plan_hash"], p["metadata"]) for p in plans] == [("BUY", plan_hash, {"src": "e2e"})]
    is_dup, dup = await ctx.check_duplicate_plan("BTC", "BUY", reasoning="bullish", time_window_sec=300)
    assert is_dup and dup["plan_hash"] == plan_hash and dup["time_since_ms"] >= 0
    assert await ctx.check_duplicate_plan("ETH", "SELL", reasoning="other") == (False, None)
    assert await ctx.check_plan_executed(plan_hash) == (False, None)
    await ctx.mark_plan_executed(plan_hash, "BTC", "BUY", 0.8, status="success", executed=True, order_id="o-1",
                                 order_size_usdt=10.0)
    executed, record = await ctx.check_plan_executed(plan_hash)
    assert executed and record["order_id"] == "o-1" and record["status"] == "success"
    stats = await ctx.get_execution_stats("BTC")
    assert (stats["total_executions"], stats["successful_executions"]) == (1, 1)
    assert [e["order_id"] for e in stats["recent_executions"]] == ["o-1"]


async def test_the_agents_bridge_client(agents):
    agent = await agents()
    assert agent.client is agent.ctx.client and agent.ctx.client.agent_id == agent.agent_id
    pong = await agent.ctx.client.heartbeat()
    assert pong.status == "ok"
    saved = await agent.client.save_plan(memory_pb2.SavePlanRequest(
        session_id=agent.agent_id, plan=memory_pb2.PlanRecord(symbol="X", action="HOLD", plan_hash="hx")))
    assert saved.success and saved.plan_hash == "hx"


async def test_standalone_bridge_client_and_a_context_bound_to_a_queue(agents, runtime):
    name = unique("calc") + ".add"

    @tool(name, description="add")
    def add(a: int, b: int) -> int:
        return a + b

    topic = unique("e2e.api.raw.")
    inbox = Inbox()
    await agents(tools=[add], topics=[topic], on_event=inbox)

    agent_id = unique("py-raw-")
    client = BridgeClient(runtime.address, token=runtime.token)
    await client.connect()
    try:
        assert await client.register_agent(agent_id, [f"agent.{agent_id}.replies"], [])
        queue: asyncio.Queue = asyncio.Queue()
        ctx = Context(agent_id=agent_id, client=client)
        ctx._bind(queue)

        async def outbound():
            while True:
                yield await queue.get()

        stream = await client.event_stream(agent_id, outbound())
        # The reference's tool call: the output's JSON text.
        assert await ctx.tool(name, payload={"a": 2, "b": 3}, timeout_ms=20000) == "5"
        assert await ctx.tool(name, {"a": 2, "b": 5}, 20000) == 7
        await ctx.emit(topic, type="raw.hello", payload=b"hi")
        (got,) = await inbox.wait_count(1)
        assert (got.type, got.payload, got.sender) == ("raw.hello", b"hi", agent_id)
        plan_hash = await ctx.save_plan("ETH", "SELL", 0.5, reasoning="r")
        assert [p["plan_hash"] for p in await ctx.get_recent_plans("ETH")] == [plan_hash]
        stream.cancel()
    finally:
        await client.close()


async def test_dotted_tool_is_registered_and_called_by_its_own_name(agents, runtime):
    name = unique("web") + ".search"

    @tool(name, description="search")
    def web_search(query: str) -> list:
        return [query]

    provider = await agents(tools=[web_search])
    listed = await provider.ctx.list_tools(name.split(".")[0])
    assert [t.name for t in listed] == [name]
    # A reference client (no dialect, its own name) finds it as "web....search".
    client = BridgeClient(runtime.address, token=runtime.token, agent_id=unique("ref-"), dialect=None)
    try:
        result = await client.forward_tool_call(action_pb2.ToolCall(id="1", name=name, arguments='{"query": "q"}',
                                                                    timeout_ms=20000))
        assert result.status == action_pb2.TOOL_OK and json.loads(result.output) == ["q"]
    finally:
        await client.close()
    caller = await agents()
    assert await caller.ctx.tool(name, {"query": "x"}) == ["x"]
    # The other spelling reaches it too, and a Loom namespace with "." is Loom's tool.
    assert await caller.ctx.tool(name.replace(".", ":"), {"query": "y"}) == ["y"]
    out = await caller.ctx.tool("fs.read", {"path": "notes.txt"})
    assert "hello from the workspace" in (out["content"] if isinstance(out, dict) else out)


async def test_join_thread_subscribes_to_the_threads_topic(agents):
    inbox = Inbox()
    member = await agents(on_event=inbox)
    thread = unique("t")
    await member.ctx.join_thread(thread)
    sender = await agents()
    await sender.ctx.emit(f"thread.{thread}.events", type="said", payload=b"x", thread_id=thread)
    (ev,) = await inbox.wait_count(1)
    assert (ev.type, ev.thread_id, ev.topic) == ("said", thread, f"thread.{thread}.events")


async def test_pydantic_tools_over_the_wire(agents):
    pydantic = pytest.importorskip("pydantic")

    class Person(pydantic.BaseModel):
        name: str
        age: int

    class Greeting(pydantic.BaseModel):
        text: str

    prefix = unique("people")

    @tool(f"{prefix}.greet", description="greet")
    def greet(person: Person) -> Greeting:
        assert isinstance(person, Person)
        return Greeting(text=f"hello {person.name} ({person.age})")

    class Query(pydantic.BaseModel):
        q: str
        limit: int = 3

    @tool(f"{prefix}.find", description="find", input_model=Query)
    def find(q: str, limit: int) -> dict:
        return {"q": q, "limit": limit}

    await agents(tools=[greet, find])
    caller = await agents()
    assert await caller.ctx.tool(f"{prefix}.greet", {"person": {"name": "Ada", "age": 36}}) == {
        "text": "hello Ada (36)"
    }
    assert await caller.ctx.tool(f"{prefix}.find", {"q": "x"}) == {"q": "x", "limit": 3}
    # Checked against the model's JSON Schema (the runtime checks the schema a tool declares).
    with pytest.raises(ToolInvalidArguments) as info:
        await caller.ctx.tool(f"{prefix}.find", {"limit": "many"})
    assert "q is required" in info.value.message and "limit" in info.value.message
