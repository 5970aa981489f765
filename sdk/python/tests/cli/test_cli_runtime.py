"""`loom init / up / down / run / dev / chat` against the real runtime (node dist/runtime.js)."""
from __future__ import annotations

import json
import signal
import textwrap
import time
from pathlib import Path

from cli_helpers import Background, alive, cli_env, loom, processes_with, wait_dead

from loom import Agent
from loom.discovery import resolve_endpoint

ECHO_AGENT = '''
from loom import Agent

async def on_event(ctx, topic, event):
    await ctx.reply(event, type="echo", payload={"answer": "echo: " + event.data["text"]})

Agent("echo", topics=["echo.in"], on_event=on_event).run()
'''


async def request(ws: Path, topic: str, payload: dict, *, attempts: int = 60) -> dict:
    """A client agent found through the workspace's discovery file asks `topic` until an agent
    answers (agents take a moment to register)."""
    endpoint = resolve_endpoint(cwd=ws)
    async with Agent(f"client-{time.monotonic_ns()}", [], address=endpoint.address, token=endpoint.token) as client:
        for _ in range(attempts):
            try:
                reply = await client.ctx.request(topic, type="ask", payload=payload, timeout_ms=1000)
                return reply.data
            except TimeoutError:
                continue
    raise AssertionError(f"nobody answered on {topic}")


def discovery(ws: Path) -> dict:
    return json.loads((ws / ".loom" / "runtime.json").read_text())


def test_init_writes_a_workspace_the_runtime_runs(workspace):
    toml = (workspace / "loom.toml").read_text()
    assert "[agents.hello]" in toml and 'args = ["agents/hello.py"]' in toml
    assert (workspace / "agents" / "hello.py").is_file()
    again = loom("init", str(workspace))
    assert again.returncode == 1 and "exists already" in again.stderr
    assert loom("init", str(workspace), "--force").returncode == 0


async def test_up_serves_clients_and_down_leaves_no_process(workspace):
    up = loom("up", "--workspace", str(workspace))
    assert up.returncode == 0, up.stdout + up.stderr
    assert "runtime started in the background" in up.stdout and "dashboard: http://127.0.0.1:" in up.stdout
    info = discovery(workspace)
    assert alive(info["pid"])

    # The example agent, started by the runtime's supervisor, answers a client of the workspace.
    answer = await request(workspace, "hello.hello", {"name": "Ada"})
    assert answer == {"answer": "Hello, Ada!", "agent": "hello"}

    # A second `up` reuses the running runtime.
    again = loom("up", "--workspace", str(workspace))
    assert again.returncode == 0 and f"already running (pid {info['pid']})" in again.stdout

    before = processes_with(str(workspace))
    assert info["pid"] in before and len(before) >= 2  # the runtime and its hello agent
    down = loom("down", "--workspace", str(workspace))
    assert down.returncode == 0, down.stdout + down.stderr
    assert wait_dead(before, 10) == []
    assert processes_with(str(workspace)) == []
    assert not (workspace / ".loom" / "runtime.json").exists()

    nothing = loom("down", "--workspace", str(workspace))
    assert nothing.returncode == 0 and "no runtime is running" in nothing.stdout


def test_up_bridge_only_on_a_chosen_port_from_inside_the_workspace(workspace):
    (workspace / "agents").joinpath("sub").mkdir()
    up = loom(
        "up", "--mode", "bridge-only", "--bridge-port", "0", "--log-level", "debug", cwd=workspace / "agents" / "sub"
    )
    assert up.returncode == 0, up.stdout + up.stderr
    info = discovery(workspace)
    assert "dashboard" not in info
    assert loom("down", cwd=workspace / "agents").returncode == 0
    assert wait_dead([info["pid"]], 10) == []


def test_up_reports_a_missing_runtime_and_a_bad_loom_toml(workspace, tmp_path):
    missing = loom("up", "--workspace", str(workspace), env=cli_env(LOOM_RUNTIME_JS=str(tmp_path / "nope.js")))
    assert missing.returncode == 1 and "LOOM_RUNTIME_JS" in missing.stderr and "nope.js" in missing.stderr

    (workspace / "loom.toml").write_text("[runtime]\nlog_levle = \"info\"\n")
    bad = loom("up", "--workspace", str(workspace))
    assert bad.returncode == 2, bad.stdout + bad.stderr
    assert "log_levle" in bad.stderr
    assert processes_with(str(workspace)) == []


def test_run_starts_the_runtime_and_undeclared_agents_and_ctrl_c_ends_all(workspace):
    (workspace / "agents" / "echo.py").write_text(ECHO_AGENT)
    run = Background("run", str(workspace), "--mode", "bridge-only", cwd=workspace)
    try:
        out = run.wait_for("press Ctrl+C to stop")
        assert "agents/hello.py: started by the runtime ([agents.hello] in loom.toml)" in out
        assert "agent echo started" in out
        import asyncio

        assert asyncio.run(request(workspace, "echo.in", {"text": "hi"})) == {"answer": "echo: hi"}
        assert asyncio.run(request(workspace, "hello.hello", {"name": "Bo"}))["answer"] == "Hello, Bo!"
        pids = processes_with(str(workspace))
        assert run.interrupt() == 0, run.text()
        assert wait_dead(pids, 15) == [], run.text()
        assert (workspace / ".loom" / "logs" / "echo.log").exists()
    finally:
        run.kill()


def test_run_ends_all_when_its_terminal_closes(workspace):
    """SIGHUP, which a closing terminal sends, ended `loom run` by default and left the rest running."""
    (workspace / "agents" / "echo.py").write_text(ECHO_AGENT)
    run = Background("run", str(workspace), "--mode", "bridge-only", cwd=workspace)
    try:
        run.wait_for("press Ctrl+C to stop")
        pids = processes_with(str(workspace))
        assert len(pids) >= 3, pids  # the runtime, the agent it supervises, the undeclared one
        run.proc.send_signal(signal.SIGHUP)
        assert run.proc.wait(60) == 0, run.text()
        assert "shutdown complete" in run.text()
        assert wait_dead(pids, 15) == [], run.text()
    finally:
        run.kill()


def test_run_uses_a_running_runtime_and_leaves_it_running(workspace):
    assert loom("up", "--workspace", str(workspace), "--mode", "bridge-only").returncode == 0
    pid = discovery(workspace)["pid"]
    (workspace / "agents" / "echo.py").write_text(ECHO_AGENT)
    run = Background("run", "--logs", cwd=workspace)
    try:
        out = run.wait_for("press Ctrl+C to stop")
        assert f"using the runtime already running for {workspace} (pid {pid})" in out
        import asyncio

        assert asyncio.run(request(workspace, "echo.in", {"text": "again"})) == {"answer": "echo: again"}
        assert run.interrupt() == 0, run.text()
        assert alive(pid)
        assert (workspace / "logs" / "echo.log").exists()
    finally:
        run.kill()
    assert loom("down", "--workspace", str(workspace)).returncode == 0
    assert wait_dead([pid], 10) == []


def test_run_a_single_script(workspace):
    script = workspace / "once.py"
    script.write_text("import sys; print('ran with', sys.executable)\n")
    done = loom("run", str(script))
    assert done.returncode == 0 and "ran with" in done.stdout


def test_dev_prints_events_until_ctrl_c(workspace):
    dev = Background("dev", "--workspace", str(workspace), "--events", "hello.>", cwd=workspace)
    try:
        dev.wait_for("runtime ready: LOOM_BRIDGE_ADDR=127.0.0.1:")
        import asyncio

        assert asyncio.run(request(workspace, "hello.hello", {"name": "Cy"}))["answer"] == "Hello, Cy!"
        dev.wait_for("hello.hello")
        pids = processes_with(str(workspace))
        assert dev.interrupt() == 0, dev.text()
        assert wait_dead(pids, 15) == []
    finally:
        dev.kill()


def test_chat_remote_talks_to_a_running_agent(workspace):
    assert loom("up", "--workspace", str(workspace), "--mode", "bridge-only").returncode == 0
    import asyncio

    asyncio.run(request(workspace, "hello.hello", {"name": "warm-up"}))  # the agent is registered
    chat = loom("chat", "--remote", "--topic", "hello.hello", cwd=workspace, input="Dee\n/history\n/quit\n")
    assert chat.returncode == 0, chat.stdout + chat.stderr
    assert "Hello, Dee!" in chat.stdout and "[2] assistant: Hello, Dee!" in chat.stdout


def test_chat_without_a_runtime_says_so(tmp_path):
    (tmp_path / "loom.toml").write_text("")
    chat = loom("chat", "--remote", cwd=tmp_path, input="hi\n")
    assert chat.returncode == 1 and "loom up" in chat.stdout


def test_chat_in_process_answers_with_the_configured_model(workspace):
    from llm_server import ScriptedLLM, completion

    with ScriptedLLM() as llm:
        llm.script(completion("Thought: easy.\nFinal Answer: forty-two"))
        (workspace / "loom.toml").write_text((workspace / "loom.toml").read_text() + textwrap.dedent(f"""
            [llm.scripted]
            type = "http"
            api_base = "{llm.base_url}"
            model = "test-model"
            api_key = "k"

            [agents.chat-assistant]
            llm_provider = "scripted"
            thinking_strategy = "react"
            max_iterations = 3
            """))
        assert loom("up", "--workspace", str(workspace), "--mode", "bridge-only").returncode == 0
        chat = loom("chat", "--no-stream", cwd=workspace, input="What is six times seven?\n/quit\n")
        assert chat.returncode == 0, chat.stdout + chat.stderr
        assert "forty-two" in chat.stdout, chat.stdout
        sent = json.dumps(llm.requests[0].body)
        assert "six times seven" in sent


def test_up_foreground_stays_until_ctrl_c(workspace):
    fg = Background("up", "--foreground", "--mode", "bridge-only", cwd=workspace)
    try:
        fg.wait_for("runtime ready: LOOM_BRIDGE_ADDR=")
        pid = discovery(workspace)["pid"]
        busy = loom("dev", "--workspace", str(workspace))
        assert busy.returncode == 1 and "already running" in busy.stderr
        assert fg.interrupt() == 0, fg.text()
        assert wait_dead([pid], 10) == []
    finally:
        fg.kill()


def test_chat_in_process_streams_the_answer(workspace):
    from llm_server import ScriptedLLM, text_stream

    with ScriptedLLM() as llm:
        llm.script(text_stream("Final Answer: ", "streamed ", "fine"))
        (workspace / "loom.toml").write_text((workspace / "loom.toml").read_text() + textwrap.dedent(f"""
            [llm.only]
            type = "http"
            api_base = "{llm.base_url}"
            model = "test-model"
            """))
        assert loom("up", "--workspace", str(workspace), "--mode", "bridge-only").returncode == 0
        chat = loom("chat", "--agent-id", "cli-chat", cwd=workspace, input="Stream please\n")
        assert chat.returncode == 0, chat.stdout + chat.stderr
        assert "thinking…" in chat.stdout and "streamed fine" in chat.stdout, chat.stdout
        assert llm.requests and llm.requests[0].body.get("stream") is True
