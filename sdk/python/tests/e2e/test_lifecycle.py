"""Agent lifecycle against real processes: supervisor restarts, runtime restarts, clean stop."""
import asyncio
import json
import os
import signal
import sys

import grpc
import pytest
from conftest import SUPERVISED_ID, Inbox, make_workspace, unique
from runtime_process import RuntimeProcess

from loom import Agent, RequestTimeout, tool
from loom._proto import loom_pb2, runtime_pb2, runtime_pb2_grpc


async def ping_supervised(asker, not_pid=None, attempts=60):
    """Asks the supervised agent for its pid until one (other than not_pid) answers."""
    for _ in range(attempts):
        try:
            reply = await asker.ctx.request("e2e.supervised.ping", type="ping", timeout_ms=1000)
        except RequestTimeout:
            continue  # not (re)connected yet
        if reply.json()["pid"] != not_pid:
            return reply.json()
        await asyncio.sleep(0.2)
    raise AssertionError(f"the supervised agent did not answer (other than pid {not_pid})")


async def test_supervised_agent_killed_is_restarted_and_reconnects(agents, raw_channel, runtime):
    asker = await agents()
    first = await ping_supervised(asker)
    assert first["agent"] == SUPERVISED_ID
    os.kill(first["pid"], signal.SIGKILL)
    second = await ping_supervised(asker, not_pid=first["pid"])
    assert second["agent"] == SUPERVISED_ID and second["pid"] != first["pid"]

    stub = runtime_pb2_grpc.RuntimeStub(raw_channel)
    listed = await stub.ListAgents(runtime_pb2.ListAgentsRequest(), metadata=runtime.metadata())
    info = next(a for a in listed.agents if a.agent_id == SUPERVISED_ID)
    assert info.supervised and info.restarts >= 1 and info.pid == second["pid"]
    assert info.state == "connected"


async def test_runtime_restart_under_a_connected_agent(tmp_path, monkeypatch):
    ws = make_workspace(tmp_path / "ws", "[watcher]\nenabled = false\n")
    rt = RuntimeProcess(ws, extra_args=["--print-events", "e2e.>"]).start()
    rt2 = None
    monkeypatch.delenv("LOOM_TOKEN", raising=False)
    monkeypatch.delenv("LOOM_BRIDGE_ADDR", raising=False)
    monkeypatch.chdir(ws)  # found through .loom/runtime.json, re-read on reconnect (new token)
    inbox = Inbox()

    @tool("resumer:greet", description="Greets")
    def greet(name: str) -> str:
        return f"hello {name}"

    agent = Agent("resumer", ["e2e.resume.registered"], on_event=inbox, heartbeat_interval=0.5, tools=[greet])
    try:
        await agent.start()
        await agent.ctx.subscribe("e2e.resume.dynamic.>")
        assert rt.stop() == 0

        # Emitted while the runtime is down: held and sent after the reconnect.
        await agent.ctx.emit("e2e.resume.queued", type="queued-while-down")
        rt2 = RuntimeProcess(ws, port=rt.port, extra_args=["--print-events", "e2e.>"]).start()
        assert rt2.token != rt.token
        for _ in range(300):
            if agent.stats["reconnects"] >= 1 and agent.connected:
                break
            await asyncio.sleep(0.05)
        assert agent.stats["reconnects"] >= 1 and agent.connected

        channel = grpc.aio.insecure_channel(rt2.address)
        try:
            stub = runtime_pb2_grpc.RuntimeStub(channel)
            for topic in ("e2e.resume.registered", "e2e.resume.dynamic.x"):
                ev = loom_pb2.Event(id=unique("ev-"), type=topic)
                await stub.Publish(loom_pb2.Publish(topic=topic, event=ev), metadata=rt2.metadata())
            # The tool was offered again with the new registration and is routed over the new stream.
            tools = runtime_pb2_grpc.ToolsStub(channel)
            call = loom_pb2.ToolCall(
                id="after-restart", name="resumer:greet", arguments='{"name": "again"}', timeout_ms=20000
            )
            res = await tools.CallTool(call, metadata=rt2.metadata())
            assert res.status == loom_pb2.TOOL_OK, res
            assert json.loads(res.output) == "hello again"
        finally:
            await channel.close()
        events = await inbox.wait_count(2)
        assert sorted(e.topic for e in events) == ["e2e.resume.dynamic.x", "e2e.resume.registered"]

        await agent._flush(10)
        for _ in range(100):
            if "e2e.resume.queued" in rt2.stdout_text():
                break
            await asyncio.sleep(0.05)
        assert "queued-while-down" in rt2.stdout_text()
    finally:
        await agent.stop()
        rt.stop()
        if rt2 is not None:
            assert rt2.stop() == 0


async def test_stop_sends_what_was_emitted(agents, runtime):
    topic = unique("e2e.flush.")
    inbox = Inbox()
    await agents(topics=[topic], on_event=inbox)
    short = Agent(unique("short-"), [], address=runtime.address, token=runtime.token)
    await short.start()
    for i in range(50):
        await short.ctx.emit(topic, type="n", payload=str(i))
    await short.stop()
    events = await inbox.wait_count(50)
    assert [int(e.text) for e in events] == list(range(50))


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
async def test_agent_run_stops_cleanly_on_sigterm_and_sighup(runtime, tmp_path, sig):
    """SIGHUP: the terminal the agent was started in closed; its default would skip the clean stop."""
    script = tmp_path / "runner.py"
    script.write_text(
        "from loom import Agent\n"
        "async def on_event(ctx, topic, event):\n"
        "    await ctx.reply(event, type='ok', payload='ready')\n"
        "Agent('runner-" + unique("") + "', ['e2e.runner.ping'], on_event=on_event).run()\n"
    )
    env = {**os.environ, "LOOM_BRIDGE_ADDR": runtime.address, "LOOM_TOKEN": runtime.token}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(script), env=env,
        stderr=asyncio.subprocess.PIPE,
    )
    asker = Agent(unique("asker-"), [], address=runtime.address, token=runtime.token)
    await asker.start()
    try:
        for _ in range(60):
            try:
                reply = await asker.ctx.request("e2e.runner.ping", type="ping", timeout_ms=1000)
                break
            except RequestTimeout:
                continue
        assert reply.text == "ready"
        proc.send_signal(sig)
        _, stderr = await asyncio.wait_for(proc.communicate(), 30)
        assert proc.returncode == 0, stderr.decode()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        await asker.stop()


async def test_silent_runtime_is_detected_and_the_agent_reconnects(tmp_path):
    # SIGSTOP freezes the runtime with its sockets open: only the heartbeat can notice.
    ws = make_workspace(tmp_path / "ws", "[watcher]\nenabled = false\n")
    rt = RuntimeProcess(ws).start()
    topic = unique("e2e.frozen.")
    inbox = Inbox()
    agent = Agent(unique("hb-"), [topic], address=rt.address, token=rt.token, on_event=inbox, heartbeat_interval=0.3)
    try:
        await agent.start()
        rt.proc.send_signal(signal.SIGSTOP)
        try:
            for _ in range(200):
                if not agent.connected:
                    break
                await asyncio.sleep(0.05)
            assert not agent.connected, "the agent did not notice the silent runtime"
        finally:
            rt.proc.send_signal(signal.SIGCONT)
        for _ in range(300):
            if agent.connected and agent.stats["reconnects"] >= 1:
                break
            await asyncio.sleep(0.05)
        assert agent.connected and agent.stats["reconnects"] >= 1
        # The subscription came back with the new stream.
        await agent.ctx.emit(topic, type="after-thaw")
        (ev,) = await inbox.wait_count(1)
        assert ev.type == "after-thaw"
    finally:
        await agent.stop()
        assert rt.stop() == 0


async def test_an_agent_whose_id_another_process_takes_gives_way_instead_of_fighting(runtime, raw_channel, monkeypatch):
    """Two processes under one id: the newer stream wins, the older one says why and stops
    reconnecting (before this, each reconnect replaced the other, back and forth, forever)."""
    monkeypatch.setenv("LOOM_BRIDGE_ADDR", runtime.address)
    monkeypatch.setenv("LOOM_TOKEN", runtime.token)
    agent_id = unique("twin")
    older = Agent(agent_id, topics=[f"{agent_id}.in"])
    newer = Agent(agent_id, topics=[f"{agent_id}.in"])
    await older.start()
    try:
        await newer.start()
        for _ in range(100):
            if older.taken_over:
                break
            await asyncio.sleep(0.05)
        assert older.taken_over and "taken over" in older.taken_over
        await asyncio.sleep(1.5)  # room for a tug of war, were there one
        assert older.stats["reconnects"] == 0, "the older agent must not take the id back"
        assert newer.stats["reconnects"] == 0 and newer.taken_over is None
        reply = await asyncio.wait_for(newer.ctx.emit(f"{agent_id}.in", type="still-here"), 5)
        assert reply is not None
        stub = runtime_pb2_grpc.RuntimeStub(raw_channel)
        listed = await stub.ListAgents(runtime_pb2.ListAgentsRequest(), metadata=runtime.metadata())
        assert next(a for a in listed.agents if a.agent_id == agent_id).state == "connected"
    finally:
        await newer.stop()
        await older.stop()
