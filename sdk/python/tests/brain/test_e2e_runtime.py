"""The brain with its hands: a real Python Agent on a real runtime (node dist/runtime.js),
tools run by the runtime in a temp workspace, the model played by the scripted HTTP server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from llm_server import Reply, completion, scripted_provider, text_stream, tool_call

from loom import Agent
from loom.cognitive import CognitiveAgent, CognitiveConfig
from loom.memory import Memory

SDK = Path(__file__).resolve().parents[2]



def agent(rt, agent_id: str = "brain") -> Agent:
    return Agent(agent_id, address=rt.address, token=rt.token)


async def test_react_text_protocol_two_real_tool_calls(runtime, llm_server):
    llm_server.script(
        completion(
            'Thought: save it first.\nAction: fs:write\nAction Input: {"path": "hello.txt", "content": "hello loom"}'
        ),
        completion('Thought: check it.\nAction: fs:read\nAction Input: {"path": "hello.txt"}'),
        completion("Thought: it is there.\nFinal Answer: hello.txt says hello loom"),
    )
    async with agent(runtime) as a:
        brain = CognitiveAgent(a.ctx, scripted_provider(llm_server), CognitiveConfig(native_tools=False),
                               available_tools=["fs:write", "fs:read"])
        result = await brain.run("Write 'hello loom' to hello.txt and read it back")
    assert (result.success, result.answer, result.iterations) == (True, "hello.txt says hello loom", 3)
    assert (runtime.workspace / "hello.txt").read_text() == "hello loom"
    write, read = result.steps[0], result.steps[1]
    assert (write.tool_call.name, write.observation.success) == ("fs:write", True)
    assert write.observation.value["bytes_written"] == 10
    assert read.observation.success and "hello loom" in read.observation.output
    system = llm_server.requests[0].body["messages"][0]["content"]
    assert "- fs:write: Write (or append to) a file" in system and '"required":["path","content"]' in system
    # The model saw the real file content in the observation before answering.
    assert llm_server.requests[2].body["messages"][-1]["content"].startswith("Observation: ")
    assert "hello loom" in llm_server.requests[2].body["messages"][-1]["content"]


async def test_native_tool_calling_two_real_tool_calls(runtime, llm_server):
    llm_server.script(
        completion(None, [tool_call("c1", "fs_write", {"path": "n.txt", "content": "native"})]),
        completion(None, [tool_call("c2", "fs_read", {"path": "n.txt"})]),
        completion("n.txt holds native"))
    async with agent(runtime) as a:
        brain = CognitiveAgent(a.ctx, scripted_provider(llm_server, supports_tools=True), CognitiveConfig(),
                               available_tools=["fs:write", "fs:read"])
        result = await brain.run("Round-trip n.txt")
    assert result.success and result.answer == "n.txt holds native"
    assert (runtime.workspace / "n.txt").read_text() == "native"
    first = llm_server.requests[0].body
    specs = {t["function"]["name"]: t["function"] for t in first["tools"]}
    assert set(specs) == {"fs_write", "fs_read"}
    assert specs["fs_write"]["parameters"]["required"] == ["path", "content"]
    third = llm_server.requests[2].body["messages"]
    assert third[-1]["role"] == "tool" and third[-1]["tool_call_id"] == "c2" and "native" in third[-1]["content"]
    assert third[-2]["tool_calls"][0]["function"]["name"] == "fs_read"
    assert [s.tool_call.name for s in result.steps] == ["fs:write", "fs:read"]


async def test_tool_errors_and_unknown_tools_become_observations(runtime, llm_server):
    llm_server.script(
        completion('Action: fs:read\nAction Input: {"path": "../../../etc/passwd"}'),
        completion('Action: system:shell\nAction Input: {"command": "ls"}'),
        completion('Action: fs:read\nAction Input: {"path": "missing.txt"}'),
        completion("Final Answer: could not"))
    async with agent(runtime) as a:
        brain = CognitiveAgent(a.ctx, scripted_provider(llm_server), CognitiveConfig(native_tools=False),
                               available_tools=["fs:read"])
        result = await brain.run("Read things")
    assert result.success and result.answer == "could not"
    outside, shell, missing = (s.observation for s in result.steps)
    assert not outside.success and "outside" in outside.error.lower()
    assert not shell.success and "unknown tool 'system:shell'; available tools: fs:read" in shell.error
    assert not missing.success and missing.error


async def test_malformed_action_with_tools_recovers(runtime, llm_server):
    llm_server.script(
        completion('Action: fs:write\nAction Input: {"path": "m.txt", "content": "x"'),
        completion('Action: fs:write\nAction Input: {"path": "m.txt", "content": "fixed",}'),
        completion("Final Answer: done"))
    async with agent(runtime) as a:
        brain = CognitiveAgent(a.ctx, scripted_provider(llm_server), CognitiveConfig(native_tools=False),
                               available_tools=["fs:write"])
        result = await brain.run("Write m.txt")
    assert result.success and (runtime.workspace / "m.txt").read_text() == "fixed"
    assert result.steps[0].malformed and result.steps[1].observation.success


async def test_permission_callback_can_refuse_a_write(runtime, llm_server):
    asked = []

    async def permission(name, args, reason):
        asked.append((name, args))
        return False

    llm_server.script(
        completion(None, [tool_call("c1", "fs_write", {"path": "no.txt", "content": "x"})]),
        completion("I was not allowed to write."))
    async with agent(runtime) as a:
        brain = CognitiveAgent(a.ctx, scripted_provider(llm_server, supports_tools=True), CognitiveConfig(),
                               available_tools=["fs:write", "fs:read"], permission_callback=permission)
        result = await brain.run("Write no.txt")
    assert asked == [("fs:write", {"path": "no.txt", "content": "x"})]
    assert not (runtime.workspace / "no.txt").exists()
    assert "refused by the user" in result.steps[0].observation.error
    assert "refused" in llm_server.requests[1].body["messages"][-1]["content"]


async def test_native_tools_rejected_falls_back_to_text_protocol(runtime, llm_server):
    llm_server.script(
        Reply(status=400, body={"error": {"message": "tools are not supported by this model"}}),
        completion('Action: fs:write\nAction Input: {"path": "f.txt", "content": "fallback"}'),
        completion("Final Answer: ok"))
    async with agent(runtime) as a:
        brain = CognitiveAgent(a.ctx, scripted_provider(llm_server, supports_tools=True), CognitiveConfig(),
                               available_tools=["fs:write"])
        result = await brain.run("Write f.txt")
    assert result.success and (runtime.workspace / "f.txt").read_text() == "fallback"
    assert "tools" in llm_server.requests[0].body and "tools" not in llm_server.requests[1].body
    assert "Action Input:" in llm_server.requests[1].body["messages"][0]["content"]
    assert result.iterations == 2


async def test_run_stream_with_tools_yields_steps_as_they_happen(runtime, llm_server):
    llm_server.script(
        text_stream("Thought: write.\n", 'Action: fs:write\nAction Input: {"path": "s.txt", "content": "streamed"}'),
        text_stream("Final Answer: ", "written"))
    async with agent(runtime) as a:
        brain = CognitiveAgent(a.ctx, scripted_provider(llm_server), CognitiveConfig(native_tools=False),
                               available_tools=["fs:write"])
        items = [i async for i in brain.run_stream("Write s.txt")]
    kinds = [type(i).__name__ for i in items]
    assert kinds == ["str", "str", "ThoughtStep", "str", "str", "CognitiveResult"]
    assert items[2].observation.success and (runtime.workspace / "s.txt").read_text() == "streamed"
    assert items[-1].answer == "written"


_FIRST_LIFE = textwrap.dedent("""
    import asyncio
    from loom import Agent
    from loom.cognitive import CognitiveAgent, CognitiveConfig
    from loom.llm import LLMProvider
    from loom.memory import Memory

    async def main():
        async with Agent("keeper", address={address!r}, token={token!r}) as a:
            memory = Memory(a.ctx, session_id="chat", persist=True)
            llm = LLMProvider.for_url(a.ctx, {base_url!r}, "m", name="scripted")
            brain = CognitiveAgent(a.ctx, llm, CognitiveConfig(thinking_strategy="single_shot"), memory=memory)
            result = await brain.run("My name is Ada.")
            assert result.success, result.error
            await memory.remember("Ada prefers tea", kind="fact", metadata={{"source": "chat"}})
            print("first life done")

    asyncio.run(main())
""")


async def test_memory_survives_an_agent_restart(runtime, llm_server):
    llm_server.script(completion("Hello Ada."), completion("You are Ada and you prefer tea."))
    script = _FIRST_LIFE.format(address=runtime.address, token=runtime.token, base_url=llm_server.base_url)
    # The child imports this SDK (sdk/python), installed or not.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(SDK), os.environ.get("PYTHONPATH")]))}
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "first life done" in proc.stdout

    async with agent(runtime, "keeper") as a:  # a new process life: nothing shared but the store
        memory = Memory(a.ctx, session_id="chat", persist=True)
        assert await memory.load() == 2
        assert [(i.role, i.content) for i in memory.get_recent()] == [("user", "My name is Ada."),
                                                                      ("assistant", "Hello Ada.")]
        facts = await memory.recall("tea")
        assert [(f.content, f.metadata) for f in facts] == [("Ada prefers tea", {"source": "chat"})]
        assert await memory.recall("coffee") == []
        brain = CognitiveAgent(a.ctx, scripted_provider(llm_server), CognitiveConfig(thinking_strategy="single_shot"),
                               memory=memory)
        result = await brain.run("Who am I?")
        assert result.answer == "You are Ada and you prefer tea."
        reloaded = Memory(a.ctx, session_id="chat")
        assert await reloaded.load() == 4
    sent = [m["content"] for m in llm_server.requests[1].body["messages"][1:]]
    assert sent == ["My name is Ada.", "Hello Ada.", "Who am I?"]
    stored = json.dumps([i.content for i in reloaded.get_recent()])
    assert "Who am I?" in stored and "You are Ada and you prefer tea." in stored


async def test_native_mode_still_understands_a_text_action(runtime, llm_server):
    llm_server.script(
        completion('Thought: write.\nAction: fs:write\nAction Input: {"path": "t.txt", "content": "text"}'),
        completion("Thought: done.\nFinal Answer: wrote t.txt"))
    async with agent(runtime) as a:
        brain = CognitiveAgent(a.ctx, scripted_provider(llm_server, supports_tools=True), CognitiveConfig(),
                               available_tools=["fs:write"])
        result = await brain.run("Write t.txt")
    assert result.success and result.answer == "wrote t.txt"
    assert (runtime.workspace / "t.txt").read_text() == "text"
    assert "tools" in llm_server.requests[1].body
    assert llm_server.requests[1].body["messages"][-1]["content"].startswith("Observation: ")


@pytest.mark.parametrize("native", [False, True], ids=["text", "native"])
@pytest.mark.parametrize("stop", [True, False], ids=["stop", "go-on"])
async def test_stop_on_final_answer_decides_a_reply_that_answers_and_asks_for_a_tool(runtime, llm_server, native, stop):
    (runtime.workspace / "n.txt").write_text("42")
    if native:
        both = completion("Final Answer: 41", [tool_call("c1", "fs_read", {"path": "n.txt"})])
    else:
        both = completion('Thought: I know it.\nFinal Answer: 41\nAction: fs:read\nAction Input: {"path": "n.txt"}')
    llm_server.script(both, completion("Final Answer: 42"))
    async with agent(runtime) as a:
        brain = CognitiveAgent(a.ctx, scripted_provider(llm_server, supports_tools=native),
                               CognitiveConfig(stop_on_final_answer=stop), available_tools=["fs:read"])
        result = await brain.run("What number is in n.txt?")
    assert result.success
    if stop:
        assert (result.answer, result.iterations, len(llm_server.requests)) == ("41", 1, 1)
        assert not [s for s in result.steps if s.tool_call]
    else:
        assert (result.answer, result.iterations, len(llm_server.requests)) == ("42", 2, 2)
        (read,) = [s for s in result.steps if s.tool_call]
        assert read.tool_call.name == "fs:read" and read.observation.value["content"] == "42"
