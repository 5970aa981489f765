"""Agents written in the reference SDK's style (loom-py) run unchanged against this runtime.

The style: `capability`/`tool` decorators with a version, `capabilities=[...]`, bytes payloads,
`agent._ctx`, `ctx.tool(name, payload=...)` returning the output's JSON text, replies by reply_to.
"""
import json

from conftest import Inbox, unique

from loom import Agent, Envelope, capability, tool


async def test_reference_style_trio(runtime):
    planner_topic, research_topic, writer_topic = (unique(f"e2e.ref.{n}.") for n in ("plan", "research", "write"))
    search_name = unique("research") + ":search"

    @capability(search_name, version="1.0")
    def search(query: str) -> dict:
        return {"query": query, "results": ["https://example.com/doc1"]}

    async def planner_handler(ctx, topic, event: Envelope):
        if event.type == "user.question":
            await ctx.emit(research_topic, type="research.request", payload=event.payload)

    async def researcher_handler(ctx, topic, event):
        if event.type == "research.request":
            raw = await ctx.tool(search_name, payload={"query": event.payload.decode()}, timeout_ms=20000)
            results = json.loads(raw)
            await ctx.emit(writer_topic, type="writer.draft", payload=("Draft based on " + str(results)).encode())

    writer_inbox = Inbox()
    common = dict(address=runtime.address, token=runtime.token)
    planner = Agent(unique("planner-"), topics=[planner_topic], on_event=planner_handler, **common)
    researcher = Agent(unique("researcher-"), topics=[research_topic], capabilities=[search],
                       on_event=researcher_handler, **common)
    writer = Agent(unique("writer-"), topics=[writer_topic], on_event=writer_inbox, **common)
    for a in (planner, researcher, writer):
        await a.start()
    try:
        await planner._ctx.emit(planner_topic, type="user.question", payload=b"What is Loom?")
        (draft,) = await writer_inbox.wait_count(1)
        assert draft.type == "writer.draft"
        assert draft.payload.startswith(b"Draft based on {'query': 'What is Loom?'")
        # The decorated function is still a plain function.
        assert search(query="q")["query"] == "q"
    finally:
        for a in (planner, researcher, writer):
            await a.stop()


async def test_reference_request_reply_shape(agents):
    topic = unique("e2e.ref.rr.")

    async def responder(ctx, topic, env):
        # The reference's Envelope fields, read and answered the reference way.
        assert env.reply_to and env.correlation_id == env.id and env.sender
        await ctx.reply(env, type="answer", payload=env.payload.upper())

    await agents(topics=[topic], on_event=responder)
    asker = await agents()
    reply = await asker._ctx.request(topic, type="question", payload=b"shout", timeout_ms=20000)
    assert isinstance(reply, Envelope) and reply.payload == b"SHOUT"


async def test_dotted_tool_names_of_the_reference(agents):
    # The reference named tools "web.search"; the registry wants "namespace:name".
    name = unique("web") + ".search"

    @tool(name, description="search")
    def web_search(query: str) -> list:
        return [query]

    await agents(tools=[web_search])
    caller = await agents()
    assert await caller.ctx.tool(name, {"query": "x"}) == ["x"]
