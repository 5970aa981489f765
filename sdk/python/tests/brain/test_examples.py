"""The example workspaces (examples/*) run end to end: the real runtime spawns their Python
agents from loom.toml, the watcher and timers drive them, the runtime runs their tools, and
the scripted HTTP server stands in for the model (via LOOM_LLM_BASE)."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
from pathlib import Path

import grpc
import pytest
from llm_server import Received, Reply, completion, tool_call

from loom import Agent, tool
from loom._proto import runtime_pb2, runtime_pb2_grpc

EXAMPLES = Path(__file__).resolve().parents[4] / "examples"
KEY = "sk-example-key-0123456789"


@pytest.fixture
def start_example(tmp_path, llm_server):
    started = []

    def start(name: str, patch=None):
        from runtime_process import RuntimeProcess

        ws = tmp_path / name
        shutil.copytree(EXAMPLES / name, ws)
        if patch:
            toml = ws / "loom.toml"
            toml.write_text(patch(toml.read_text()))
        rt = RuntimeProcess(ws, env={"LOOM_LLM_BASE": llm_server.base_url, "DEEPSEEK_API_KEY": KEY,
                                     "LOOM_LLM_MODEL": "scripted-model"})
        started.append(rt.start())
        return rt

    yield start
    for rt in started:
        rt.stop()


async def wait_connected(rt, *agent_ids: str, timeout: float = 60.0) -> None:
    """Until the runtime lists each agent as connected (spawned agents take a moment)."""
    async with grpc.aio.insecure_channel(rt.address) as channel:
        stub = runtime_pb2_grpc.RuntimeStub(channel)
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            resp = await stub.ListAgents(runtime_pb2.ListAgentsRequest(), metadata=rt.metadata())
            states = {a.agent_id: a.state for a in resp.agents}
            if all(states.get(i) == "connected" for i in agent_ids):
                return
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"agents not connected: {states}\n{rt.stderr_tail()}")
            await asyncio.sleep(0.1)


def observer(rt, topics, tools=(), as_window=False):
    """A test agent; `as_window`: it stands in for the VS Code window (agent id "vscode", with the
    window's credential), the only one that may provide the editor:/ui: tools."""
    events: asyncio.Queue = asyncio.Queue()

    async def on_event(ctx, topic, event):
        await events.put((topic, event.json()))

    if as_window:
        window = json.loads((rt.discovery_file.parent / "window.json").read_text())["token"]
        return Agent(
            "vscode", topics=topics, tools=list(tools), address=rt.address, token=window, on_event=on_event
        ), events
    return Agent("observer", topics=topics, tools=list(tools), address=rt.address, token=rt.token,
                 on_event=on_event), events


async def next_event(events: asyncio.Queue, timeout: float = 60.0):
    return await asyncio.wait_for(events.get(), timeout)


async def test_chat_assistant_answers_a_hotkey_headless(start_example, llm_server):
    llm_server.script(completion("It averages the list; it fails on an empty list."))
    rt = start_example("chat-assistant")
    await wait_connected(rt, "assistant")
    obs, events = observer(rt, ["assistant.answer"])
    async with obs:
        await obs.ctx.emit("hotkey.default", type="hotkey", payload={
            "name": "default", "file": "src/stats.py", "language": "python",
            "selection": {"text": "def avg(xs): return sum(xs) / len(xs)"}})
        topic, answer = await next_event(events)
    assert answer == {"trigger": "hotkey.default", "answer": "It averages the list; it fails on an empty list.",
                      "success": True, "shown_by": None}  # headless: no editor tools to show it
    (req,) = llm_server.requests
    assert req.headers["authorization"] == f"Bearer {KEY}" and req.body["model"] == "scripted-model"
    user = req.body["messages"][-1]["content"]
    assert "Selected in src/stats.py (python)" in user and "return sum(xs) / len(xs)" in user


async def test_chat_assistant_uses_the_editor_tools(start_example, llm_server):
    # The observer provides ui:notify and editor:insert over the bridge as the VS Code window
    # does (with the window's credential: no other client may); here they record what they got.
    shown: list = []

    @tool("ui:notify", description="Shows a notification.")
    def notify(message: str, level: str = "info") -> dict:
        shown.append(("notify", message))
        return {"shown": True}

    @tool("editor:insert", description="Inserts text at the cursor.")
    def insert(text: str) -> dict:
        shown.append(("insert", text))
        return {"inserted": 1}

    llm_server.script(completion("x = 1  # fixed"), completion("Because it was undefined."))
    rt = start_example("chat-assistant")
    await wait_connected(rt, "assistant")
    obs, events = observer(rt, ["assistant.answer"], tools=[notify, insert], as_window=True)
    async with obs:
        await obs.ctx.emit(
            "hotkey.insert", type="hotkey", payload={"selection": {"text": "x = "}, "question": "Fix it"}
        )
        first = (await next_event(events))[1]
        await obs.ctx.emit(
            "hotkey.default", type="hotkey", payload={"selection": {"text": "x = 1"}, "question": "Why?"}
        )
        second = (await next_event(events))[1]
    assert (first["shown_by"], second["shown_by"]) == ("editor:insert", "ui:notify")
    assert shown == [("insert", "x = 1  # fixed"), ("notify", "Because it was undefined.")]
    # The second question was asked with the first exchange as context.
    contents = [m["content"] for m in llm_server.requests[1].body["messages"]]
    assert "x = 1  # fixed" in contents and contents[-1].endswith("Why?")


def _reviewer_model(received: Received) -> Reply:
    """Plays the reviewing model: read the file named in the goal, write a review, finish."""
    messages = received.body["messages"]
    goal = next(m["content"] for m in messages if m["role"] == "user")
    path, target = re.search(r"Review (\S+) and write the review to (\S+)", goal).groups()
    last = messages[-1]
    n = len(messages)
    if last["content"] == goal:
        return completion(None, [tool_call(f"r{n}", "fs_read", {"path": path})])
    if last["role"] == "tool" and "bytes_written" not in last["content"]:
        source = json.loads(last["content"])["content"]
        bug = "- divides by zero on an empty list" if "/ len(" in source else "- looks fine"
        review = f"# Review of {path}\n{bug}\n- starts with: {source.splitlines()[0]}\n"
        args = {"path": target, "content": review, "create_dirs": True}
        return completion(None, [tool_call(f"w{n}", "fs_write", args)])
    return completion("one bug found")


async def test_file_reviewer_reacts_to_a_saved_file(start_example, llm_server):
    llm_server.fallback = _reviewer_model
    rt = start_example("file-reviewer")
    await wait_connected(rt, "reviewer")
    obs, events = observer(rt, ["review.done"])
    async with obs:
        (rt.workspace / "src" / "mean.py").write_text("def mean(v):\n    return sum(v) / len(v)\n")
        while True:
            _, done = await next_event(events)
            if done["path"] == "src/mean.py":
                break
    assert done["success"] and done["review"] == "reviews/src/mean.py.md" and done["summary"] == "one bug found"
    review = (rt.workspace / "reviews" / "src" / "mean.py.md").read_text()
    assert review == "# Review of src/mean.py\n- divides by zero on an empty list\n- starts with: def mean(v):\n"
    assert {t["function"]["name"] for t in llm_server.requests[0].body["tools"]} == {"fs_read", "fs_write"}


async def test_file_reviewer_reviews_an_edited_file_again(start_example, llm_server):
    # src/example.py ships with the example, so the watcher (which ignores files present at
    # start) reports the edit as fs.changed, and the new content is what gets reviewed.
    llm_server.fallback = _reviewer_model
    rt = start_example("file-reviewer")
    await wait_connected(rt, "reviewer")
    source = rt.workspace / "src" / "example.py"
    assert "/ len(values)" in source.read_text()
    obs, events = observer(rt, ["review.done", "fs.changed", "fs.created"])
    async with obs:
        source.write_text("def average(values):  # edited\n    return sum(values) / max(1, len(values))\n")
        seen = []
        while True:
            topic, event = await next_event(events)
            seen.append((topic, event.get("path")))
            if topic == "review.done" and event["path"] == "src/example.py":
                break
    assert ("fs.changed", "src/example.py") in seen and ("fs.created", "src/example.py") not in seen
    assert event["success"] and event["review"] == "reviews/src/example.py.md"
    review = (rt.workspace / "reviews" / "src" / "example.py.md").read_text()
    assert review == "# Review of src/example.py\n- looks fine\n- starts with: def average(values):  # edited\n"


def _pipeline_model(received: Received) -> Reply:
    messages = received.body["messages"]
    system, user = messages[0]["content"], messages[-1]["content"]
    if "You plan research" in system:
        return completion('{"questions": ["How did solar stocks trade?", "What do rates imply?"]}')
    if "financial analyst" in system:
        return completion(f"Step 1: look at it.\nFinal Answer: analysis of <{user}>")
    return completion("# Report\n\n" + user)  # the report writer: echo what it was given


async def test_analyst_pipeline_runs_on_its_timer(start_example, llm_server):
    llm_server.fallback = _pipeline_model
    rt = start_example("analyst-pipeline", patch=lambda t: t.replace("interval_ms = 300000", "interval_ms = 1000"))
    await wait_connected(rt, "planner", "analyst")
    obs, events = observer(rt, ["pipeline.report"])
    async with obs:
        _, report = await next_event(events, timeout=90)
    assert report["questions"] == ["How did solar stocks trade?", "What do rates imply?"]
    assert report["answered"] == 2
    text = (rt.workspace / report["path"]).read_text()
    assert "Goal: Assess the outlook for renewable-energy stocks this quarter" in text
    assert "A: analysis of <How did solar stocks trade?>" in text and "A: analysis of <What do rates imply?>" in text
