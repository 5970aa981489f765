"""Tools across the real runtime: offered by a Python agent, called by another agent and by the runtime."""
import asyncio
import enum
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pytest
from conftest import unique

from loom import Context, NotConnected, ToolError, ToolInvalidArguments, ToolNotFound, ToolTimeout, tool
from loom._proto import loom_pb2, loom_pb2_grpc, runtime_pb2, runtime_pb2_grpc


class Unit(enum.Enum):
    CM = "cm"
    IN = "in"


@dataclass
class Box:
    w: float
    h: float


def make_tools(prefix: str):
    @tool(f"{prefix}:add", description="Add two integers", kind="read")
    def add(a: int, b: int = 0) -> int:
        return a + b

    @tool(f"{prefix}:area", description="Area of a box")
    async def area(box: Box, unit: Unit = Unit.CM, tags: list[str] | None = None) -> dict:
        return {"area": box.w * box.h, "unit": unit.value, "tags": tags or []}

    @tool(f"{prefix}:sleep", description="Sleeps")
    async def sleep(seconds: float) -> str:
        await asyncio.sleep(seconds)
        return "woke"

    @tool(f"{prefix}:blocking", description="A sync tool that blocks its thread")
    def blocking(seconds: float) -> str:
        time.sleep(seconds)
        return "done"

    @tool(f"{prefix}:boom", description="Always fails")
    def boom(reason: str) -> None:
        raise ValueError(f"boom: {reason}")

    @tool(f"{prefix}:whoami", description="Uses the context")
    async def whoami(ctx: Context, mode: Literal["id", "reply"] = "id") -> str:
        return ctx.agent_id

    return [add, area, sleep, blocking, boom, whoami]


@pytest.fixture
async def provider(agents):
    prefix = unique("py")
    agent = await agents(tools=make_tools(prefix))
    return prefix, agent


async def test_agent_tool_called_by_another_agent(agents, provider):
    prefix, owner = provider
    caller = await agents()
    assert await caller.ctx.tool(f"{prefix}:add", {"a": 2, "b": 3}) == 5
    assert await caller.ctx.tool(f"{prefix}:add", {"a": 2}) == 2
    assert await caller.ctx.tool(f"{prefix}:area", {"box": {"w": 2, "h": 1.5}, "unit": "in"}) == {
        "area": 3.0, "unit": "in", "tags": []}
    assert await caller.ctx.tool(f"{prefix}:whoami") == owner.agent_id
    # Concurrent calls are each answered with their own result.
    results = await asyncio.gather(*(caller.ctx.tool(f"{prefix}:add", {"a": i, "b": i}) for i in range(20)))
    assert results == [2 * i for i in range(20)]


async def test_tool_calls_travel_on_the_agents_own_stream(agents, provider):
    prefix, owner = provider
    caller = await agents()
    assert await caller.ctx.tool(f"{prefix}:add", {"a": 2, "b": 3}) == 5
    assert caller.stats["stream_tool_calls"] == 1
    # An agent calling its own tool: the call goes out on its stream and comes back on it.
    assert await owner.ctx.tool(f"{prefix}:whoami") == owner.agent_id
    assert owner.stats["stream_tool_calls"] == 1
    # 32 at once on the stream (as many as the runtime runs there at once); the rest as
    # ForwardToolCall, all answered.
    results = await asyncio.gather(*(caller.ctx.tool(f"{prefix}:sleep", {"seconds": 0.5}) for _ in range(200)))
    assert results == ["woke"] * 200
    assert caller.stats["stream_tool_calls"] == 1 + 32
    # A runtime that does not offer it (an older one) is called with ForwardToolCall.
    assert caller._session is not None
    caller._session.features = frozenset()
    assert await caller.ctx.tool(f"{prefix}:add", {"a": 1, "b": 1}) == 2
    assert caller.stats["stream_tool_calls"] == 1 + 32


async def test_a_call_on_the_stream_fails_at_once_when_the_connection_is_lost(agents, provider):
    prefix, _ = provider
    caller = await agents()
    pending = asyncio.create_task(caller.ctx.tool(f"{prefix}:sleep", {"seconds": 20}, timeout_ms=60000))
    await asyncio.sleep(0.3)
    assert caller._session is not None and caller._calls_on_stream() == 1
    started = time.monotonic()
    caller._session.ended.set()  # as when the stream breaks
    with pytest.raises(NotConnected):
        await pending
    assert time.monotonic() - started < 5, "not left to the SDK's 65 s backstop"
    assert caller._calls_on_stream() == 0, "forgotten, so not sent again on the next connection"
    # Reconnected, it calls on the new stream.
    assert await caller.ctx.tool(f"{prefix}:add", {"a": 1}) == 1


def sleepers(seconds: str) -> list[int]:
    """Pids of the processes running `sleep <seconds>` (inside bubblewrap or not)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if len(argv) > 1 and Path(argv[0].decode(errors="replace")).name == "sleep" and argv[1] == seconds.encode():
            found.append(int(entry.name))
    return found


async def until(what: str, check, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


async def test_a_call_on_the_stream_its_caller_cancels_ends_what_it_started(agents):
    """A task awaiting ctx.tool that is cancelled cancels the call in the runtime (cancel_tool):
    the command ends now, not at its 60 s timeout."""
    caller = await agents()
    pending = asyncio.create_task(
        caller.ctx.tool("system:shell", {"command": "sleep", "args": ["44.25"]}, timeout_ms=60000))
    await until("the command to start", lambda: sleepers("44.25"))
    assert caller._calls_on_stream() == 1, "the call travels on the stream"
    pending.cancel()
    with pytest.raises(asyncio.CancelledError):
        await pending
    await until("the command to end", lambda: not sleepers("44.25"))
    # The agent's stream goes on: another call is answered on it.
    assert (await caller.ctx.tool("system:shell", {"command": "sleep", "args": ["0"]}))["exit_code"] == 0


async def test_a_tool_call_its_caller_cancels_is_cancelled_in_the_agent_serving_it(agents):
    """The chain: the caller's task cancelled -> cancel_tool -> the runtime's call cancelled ->
    cancel_tool_call to the providing agent -> its handler cancelled, not left running."""
    started, cancelled = asyncio.Event(), asyncio.Event()
    name = f"{unique('slow')}:wait"

    @tool(name, description="waits until cancelled")
    async def wait() -> str:
        started.set()
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return "woke"

    owner = await agents(tools=[wait])
    caller = await agents()
    pending = asyncio.create_task(caller.ctx.tool(name, timeout_ms=60000))
    await asyncio.wait_for(started.wait(), 10)
    assert len(owner._serving) == 1
    pending.cancel()
    with pytest.raises(asyncio.CancelledError):
        await pending
    await asyncio.wait_for(cancelled.wait(), 10)
    await until("the owner to forget the call", lambda: not owner._serving)


async def test_a_call_on_the_stream_the_runtime_never_answers_times_out_by_the_sdks_backstop(agents, provider):
    prefix, _ = provider
    caller = await agents()
    enqueue = caller._enqueue

    async def lose_calls(msg):  # as a runtime that read the call and then hung would leave it
        if not msg.HasField("call_tool"):
            await enqueue(msg)

    caller._enqueue = lose_calls
    started = time.monotonic()
    with pytest.raises(ToolTimeout):
        await caller.ctx.tool(f"{prefix}:add", {"a": 1}, timeout_ms=100)
    assert 5 <= time.monotonic() - started < 10, "timeout_ms + 5 s"
    assert caller._calls_on_stream() == 0
    caller._enqueue = enqueue
    assert await caller.ctx.tool(f"{prefix}:add", {"a": 1}) == 1


async def test_reference_style_tool_call_returns_json_text(agents, provider):
    prefix, _ = provider
    caller = await agents()
    out = await caller.ctx.tool(f"{prefix}:add", payload={"a": 1, "b": 1})
    assert out == "2"


async def test_agent_tool_called_by_the_runtime(provider, raw_channel, runtime):
    prefix, _ = provider
    stub = runtime_pb2_grpc.ToolsStub(raw_channel)
    call = loom_pb2.ToolCall(id="rt-1", name=f"{prefix}:add", arguments=json.dumps({"a": 40, "b": 2}), timeout_ms=20000)
    res = await stub.CallTool(call, metadata=runtime.metadata())
    assert res.status == loom_pb2.TOOL_OK, res
    assert json.loads(res.output) == 42
    listed = await stub.ListTools(runtime_pb2.ListToolsRequest(prefix=f"{prefix}:"), metadata=runtime.metadata())
    names = {t.name for t in listed.tools}
    assert f"{prefix}:add" in names and f"{prefix}:boom" in names
    schema = json.loads(next(t for t in listed.tools if t.name == f"{prefix}:add").parameters_schema)
    assert schema["properties"]["a"] == {"type": "integer"} and schema["required"] == ["a"]


async def test_list_tools_from_python(agents, provider):
    prefix, _ = provider
    caller = await agents()
    tools = {t.name: t for t in await caller.ctx.list_tools(f"{prefix}:")}
    assert set(tools) == {f"{prefix}:{n}" for n in ("add", "area", "sleep", "blocking", "boom", "whoami")}
    assert tools[f"{prefix}:area"].parameters["properties"]["unit"]["enum"] == ["cm", "in"]
    assert tools[f"{prefix}:add"].description == "Add two integers"
    assert any(t.name == "fs:read" for t in await caller.ctx.list_tools("fs:"))


async def test_a_tools_declared_kind_reaches_the_registry(agents, provider):
    prefix, _ = provider
    caller = await agents()
    tools = {t.name: t for t in await caller.ctx.list_tools(f"{prefix}:")}
    assert tools[f"{prefix}:add"].metadata.get("loom.kind") == "read"
    assert "loom.kind" not in tools[f"{prefix}:boom"].metadata, "a tool that declares nothing says nothing"


def test_an_unknown_kind_is_refused_naming_it():
    with pytest.raises(
        ValueError, match=r"tool 'x:y': kind must be one of read, write, execute, ask \(got 'readonly'\)"
    ):

        @tool("x:y", kind="readonly")
        def y() -> None: ...


async def test_tool_timeout(agents, provider):
    prefix, _ = provider
    caller = await agents()
    with pytest.raises(ToolTimeout) as info:
        await caller.ctx.tool(f"{prefix}:sleep", {"seconds": 30}, timeout_ms=300)
    assert info.value.code == "timeout" and info.value.status == "timeout"
    # The provider is still fine afterwards.
    assert await caller.ctx.tool(f"{prefix}:add", {"a": 1}) == 1


async def test_sync_tool_does_not_stall_the_agent(agents, provider):
    prefix, _ = provider
    caller = await agents()
    slow = asyncio.create_task(caller.ctx.tool(f"{prefix}:blocking", {"seconds": 1.0}))
    # While the sync tool blocks a worker thread, the same agent still answers other calls.
    assert await caller.ctx.tool(f"{prefix}:add", {"a": 7}) == 7
    assert await slow == "done"


async def test_tool_not_found(agents):
    caller = await agents()
    with pytest.raises(ToolNotFound) as info:
        await caller.ctx.tool(unique("nope") + ":missing", {})
    assert info.value.code == "not_found" and "missing" in info.value.message


@pytest.mark.parametrize(
    "args, fragment",
    [
        ({"a": "two"}, "a"),
        ({}, "a"),
        ({"a": 1, "c": 3}, "c"),
    ],
)
async def test_tool_invalid_arguments(agents, provider, args, fragment):
    prefix, _ = provider
    caller = await agents()
    with pytest.raises(ToolInvalidArguments) as info:
        await caller.ctx.tool(f"{prefix}:add", args)
    assert info.value.code == "invalid_arguments"
    assert fragment in info.value.message


async def test_sdk_validation_answers_invalid_arguments(provider, agents):
    # Straight to the provider's stream (no registry schema in between): a bad enum value.
    prefix, owner = provider
    result = await owner._run_tool(
        loom_pb2.ToolCall(name=f"{prefix}:area", arguments='{"box": {"w": 1, "h": 1}, "unit": "mm"}')
    )
    assert result.status == loom_pb2.TOOL_INVALID_ARGUMENTS
    assert "unit must be one of ['cm', 'in']" in result.error.message
    result = await owner._run_tool(loom_pb2.ToolCall(name=f"{prefix}:area", arguments="{not json"))
    assert result.status == loom_pb2.TOOL_INVALID_ARGUMENTS and "not valid JSON" in result.error.message


async def test_tool_exception_becomes_error(agents, provider):
    prefix, _ = provider
    caller = await agents()
    with pytest.raises(ToolError) as info:
        await caller.ctx.tool(f"{prefix}:boom", {"reason": "on purpose"})
    assert type(info.value) is ToolError
    assert info.value.status == "error" and "boom: on purpose" in info.value.message


async def test_builtin_fs_read(agents, runtime):
    caller = await agents()
    out = await caller.ctx.tool("fs:read", {"path": "notes.txt"})
    text = out["content"] if isinstance(out, dict) else out
    assert "hello from the workspace" in text


async def test_tools_withdrawn_when_the_provider_stops(agents, runtime):
    prefix = unique("gone")
    owner = await agents(tools=make_tools(prefix))
    caller = await agents()
    assert await caller.ctx.tool(f"{prefix}:add", {"a": 1}) == 1
    await owner.stop()
    with pytest.raises(ToolError) as info:
        await caller.ctx.tool(f"{prefix}:add", {"a": 1})
    assert info.value.code in ("not_found", "unavailable")


async def test_list_tools_follows_pages(agents, raw_channel, runtime):
    """3000 tools (three agents at the per-client cap of 1000) do not fit one default page; list_tools gets them all."""
    prefix = unique("paged")
    bridge = loom_pb2_grpc.BridgeStub(raw_channel)
    owners = [f"{prefix}-owner{i}" for i in range(3)]
    expected = set()
    for n, owner in enumerate(owners):
        tools = []
        for i in range(1000):
            name = f"{prefix}:t{n}_{i:04d}"
            expected.add(name)
            tools.append(loom_pb2.ToolDescriptor(name=name, description="paged", parameters_schema='{"type":"object"}'))
        res = await bridge.RegisterAgent(
            loom_pb2.AgentRegisterRequest(agent_id=owner, tools=tools), metadata=runtime.metadata()
        )
        assert res.success, res.error_message
    try:
        stub = runtime_pb2_grpc.ToolsStub(raw_channel)
        first = await stub.ListTools(runtime_pb2.ListToolsRequest(prefix=f"{prefix}:"), metadata=runtime.metadata())
        assert len(first.tools) < 3000 and first.next_page_token, "one default page does not hold them all"
        caller = await agents()
        listed = [t.name for t in await caller.ctx.list_tools(f"{prefix}:")]
        assert len(listed) == 3000 and set(listed) == expected
    finally:
        for owner in owners:
            await bridge.RegisterAgent(loom_pb2.AgentRegisterRequest(agent_id=owner), metadata=runtime.metadata())
