"""A Python agent calls tools of an MCP server that the runtime hosts ([mcp.fixture] in loom.toml:
the SDK-built fixture server, a real child process over stdio) through ctx.tool."""
import asyncio
import json

import grpc
import pytest
from conftest import make_workspace, unique
from runtime_process import REPO, RuntimeProcess

from loom import Agent, ToolError
from loom._proto import runtime_pb2, runtime_pb2_grpc

FIXTURE = REPO / "test" / "fixtures" / "mcp" / "fixture-server.ts"


@pytest.fixture(scope="module")
def mcp_runtime(tmp_path_factory):
    toml = f"""
        [watcher]
        enabled = false

        [mcp.fixture]
        command = "node"
        args = ["--import", "tsx", {json.dumps(str(FIXTURE))}, "stdio"]
        cwd = {json.dumps(str(REPO))}
    """
    rt = RuntimeProcess(make_workspace(tmp_path_factory.mktemp("mcp-ws"), toml)).start()
    yield rt
    assert rt.stop() == 0, rt.stderr_tail()


@pytest.fixture
async def agent(mcp_runtime):
    a = Agent(unique("py-mcp-"), address=mcp_runtime.address, token=mcp_runtime.token)
    await a.start()
    yield a
    await a.stop()


async def wait_until_ready(rt: RuntimeProcess) -> None:
    """The runtime starts MCP servers in the background: wait for the server's state to say ready."""
    async with grpc.aio.insecure_channel(rt.address) as channel:
        stub = runtime_pb2_grpc.RuntimeStub(channel)
        while True:
            res = await stub.ListMcpServers(runtime_pb2.ListMcpServersRequest(), metadata=rt.metadata(), timeout=10)
            state = {s.name: s for s in res.servers}.get("fixture")
            assert state is None or state.state in ("starting", "ready"), state
            if state is not None and state.state == "ready":
                return
            await asyncio.sleep(0.1)


async def test_agent_calls_an_mcp_tool_and_gets_structured_content(mcp_runtime, agent):
    await wait_until_ready(mcp_runtime)
    result = await agent.ctx.tool("fixture:add", {"a": 2, "b": 40})
    assert result["structuredContent"] == {"sum": 42}
    assert result["content"] == [{"type": "text", "text": "42"}]


async def test_an_mcp_error_result_raises_tool_error_failed(mcp_runtime, agent):
    await wait_until_ready(mcp_runtime)
    with pytest.raises(ToolError) as info:
        await agent.ctx.tool("fixture:fail", {"reason": "from python"})
    assert info.value.code == "failed"
    assert "fixture:fail: failed on purpose: from python" in info.value.message
