"""The token is required on every call; the store keeps context items and per-agent state."""
import asyncio
import json

import grpc
import pytest
from conftest import unique

from loom import Agent, AuthenticationError, LoomError, PermissionDenied
from loom._proto import loom_pb2, loom_pb2_grpc, runtime_pb2_grpc


async def test_agent_without_token_is_refused(runtime, tmp_path, monkeypatch):
    monkeypatch.delenv("LOOM_TOKEN", raising=False)
    monkeypatch.delenv("LOOM_BRIDGE_ADDR", raising=False)
    monkeypatch.chdir(tmp_path)  # no discovery file from here upwards
    agent = Agent(unique("notoken-"), ["x.y"], address=runtime.address)
    with pytest.raises(AuthenticationError, match="refused the token"):
        await agent.start()


async def test_agent_with_wrong_token_is_refused(runtime):
    agent = Agent(unique("badtoken-"), ["x.y"], address=runtime.address, token="0" * 64)
    with pytest.raises(AuthenticationError):
        await agent.start()


async def test_raw_calls_without_token_are_unauthenticated(raw_channel):
    bridge = loom_pb2_grpc.BridgeStub(raw_channel)
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await bridge.RegisterAgent(loom_pb2.AgentRegisterRequest(agent_id="intruder", subscribed_topics=[">"]))
    assert info.value.code() == grpc.StatusCode.UNAUTHENTICATED
    tools = runtime_pb2_grpc.ToolsStub(raw_channel)
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await tools.CallTool(loom_pb2.ToolCall(name="fs:read", arguments=json.dumps({"path": "notes.txt"})))
    assert info.value.code() == grpc.StatusCode.UNAUTHENTICATED
    stream = bridge.EventStream()
    try:
        # Nothing is written: the refusal comes with the call's headers, and a write racing it
        # would make grpcio end the call INTERNAL on its own side, hiding the server's status.
        await asyncio.wait_for(stream.read(), 10)
    except grpc.aio.AioRpcError:
        pass
    except asyncio.TimeoutError:
        stream.cancel()  # an open stream: the token was not checked, and the status below says so
    assert await stream.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_agent_finds_the_runtime_through_the_discovery_file(runtime, monkeypatch):
    monkeypatch.delenv("LOOM_TOKEN", raising=False)
    monkeypatch.delenv("LOOM_BRIDGE_ADDR", raising=False)
    sub = runtime.workspace / "deep" / "er"
    sub.mkdir(parents=True, exist_ok=True)
    monkeypatch.chdir(sub)
    agent = Agent(unique("found-"), [])
    await agent.start()
    try:
        assert agent.endpoint.address == runtime.address
        assert agent.endpoint.source == str(runtime.discovery_file)
        assert await agent.ctx.tool("fs:read", {"path": "notes.txt"})
    finally:
        await agent.stop()


async def test_context_items_round_trip(agents):
    a = await agents()
    session = unique("session-")
    first = await a.ctx.store.save_context(session, "note", "The Quick brown fox", {"lang": "en"})
    second = await a.ctx.store.save_context(session, "summary", "lazy dog")
    third = await a.ctx.store.save_context(session, "note", "jumps over")
    assert first.id and first.session_id == session and first.timestamp_ms > 0
    assert first.metadata == {"lang": "en"}

    everything = await a.ctx.store.query_context(session_id=session)
    assert [i.id for i in everything] == [first.id, second.id, third.id]
    notes = await a.ctx.store.query_context(session_id=session, type="note")
    assert [i.content for i in notes] == ["The Quick brown fox", "jumps over"]
    assert [i.id for i in await a.ctx.store.query_context(session_id=session, text="quick")] == [first.id]
    newest = await a.ctx.store.query_context(session_id=session, newest_first=True, limit=2)
    assert [i.id for i in newest] == [third.id, second.id]
    # Another agent reads the same session: context items are shared.
    b = await agents()
    assert len(await b.ctx.store.query_context(session_id=session)) == 3


async def test_query_context_reads_on_past_one_message(agents):
    """Five 1.5 MB items are more than one 4 MiB message carries: the runtime answers a page at a
    time and query_context follows the pages (it used to fail with RESOURCE_EXHAUSTED)."""
    a = await agents()
    session = unique("big-")
    saved = [await a.ctx.store.save_context(session, "blob", str(i) * 1_500_000) for i in range(5)]
    assert [i.id for i in await a.ctx.store.query_context(session_id=session)] == [s.id for s in saved]
    newest = await a.ctx.store.query_context(session_id=session, newest_first=True, limit=3)
    assert [i.content[0] for i in newest] == ["4", "3", "2"]
    assert await a.ctx.store.query_context(session_id=session, limit=0) == []
    # A limit past int32 (a page's limit on the wire) reads everything, page after page.
    assert len(await a.ctx.store.query_context(session_id=session, limit=2**40)) == 5
    with pytest.raises(ValueError, match="limit must not be negative"):
        await a.ctx.store.query_context(session_id=session, limit=-1)


async def test_list_state_reads_on_past_one_message(agents):
    a = await agents()
    for k in ("big/1", "big/2", "big/3"):
        await a.ctx.store.put_state(k, k[-1] * 1_500_000)
    listed = await a.ctx.store.list_state("big/")
    assert [(k, len(v), v[:1]) for k, v in listed] == [(f"big/{i}", 1_500_000, str(i).encode()) for i in (1, 2, 3)]
    assert [k for k, _ in await a.ctx.store.list_state("big/", limit=2)] == ["big/1", "big/2"]
    assert len(await a.ctx.store.list_state("big/", limit=2**40)) == 3
    with pytest.raises(ValueError, match="limit must be 0"):
        await a.ctx.store.list_state("big/", limit=-1)


async def test_state_round_trip_scoped_to_the_agent(agents):
    a = await agents()
    b = await agents()
    assert await a.ctx.store.get_state("k1") is None
    await a.ctx.store.put_state("k1", b"\x00bytes")
    await a.ctx.store.put_state("k2", "text")
    await a.ctx.store.put_state("other", "x")
    assert await a.ctx.store.get_state("k1") == b"\x00bytes"
    assert await a.ctx.store.get_state("k2") == b"text"
    assert await a.ctx.store.list_state("k") == [("k1", b"\x00bytes"), ("k2", b"text")]
    assert await b.ctx.store.get_state("k1") is None
    assert await b.ctx.store.list_state() == []
    assert await a.ctx.store.delete_state("k1") is True
    assert await a.ctx.store.delete_state("k1") is False
    assert await a.ctx.store.get_state("k1") is None


async def test_a_declared_agent_id_is_not_taken_by_hand(runtime):
    """The id of a supervised agent is registered only with the credential its process gets."""
    from conftest import SUPERVISED_ID

    impostor = Agent(
        SUPERVISED_ID,
        ["e2e.supervised.ping"],
        address=runtime.address,
        token=json.loads(runtime.discovery_file.read_text())["token"],
    )
    with pytest.raises(LoomError, match=rf'agent id "{SUPERVISED_ID}" is declared in loom.toml'):
        await impostor.start()


async def test_state_of_another_agent_with_an_agent_credential_is_permission_denied(runtime, tmp_path):
    """Through the SDK's Connection (as an agent does), another agent's state is PermissionDenied."""
    from loom.connection import Connection, rpc_error
    from loom.discovery import Endpoint

    # The window's credential is bound to "vscode": it acts only as that id in every call.
    window = json.loads((runtime.discovery_file.parent / "window.json").read_text())["token"]
    conn = Connection(Endpoint(address=runtime.address, token=window, source="test"), "vscode")
    try:
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await conn.runtime.Unsubscribe(
                loom_pb2.UnsubscribeRequest(agent_id="someone-else", pattern="x.y"), metadata=conn.metadata()
            )
        err = rpc_error(info.value, "unsubscribe")
        assert isinstance(err, PermissionDenied), err
        assert 'acts only as "vscode", not as "someone-else"' in str(err)
    finally:
        await conn.close()


async def test_sdk_never_sends_calls_through_a_proxy(runtime, monkeypatch):
    """gRPC takes http_proxy/https_proxy/grpc_proxy for loopback addresses too, and each call
    carries a credential in plain text (a red-team pass read the workspace token at a proxy a
    planted .env named). The SDK's channel never takes one; a plain channel here does (the control)."""
    import socket
    import threading

    seen: list[bytes] = []
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.settimeout(0.2)
    done = threading.Event()

    def serve() -> None:
        while not done.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(2)
                try:
                    seen.append(conn.recv(4096))
                except OSError:
                    seen.append(b"")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    proxy = f"http://127.0.0.1:{listener.getsockname()[1]}"
    for name in ("http_proxy", "https_proxy", "grpc_proxy"):
        monkeypatch.setenv(name, proxy)
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("no_grpc_proxy", raising=False)
    try:
        agent = Agent(unique("noproxy-"), ["x.y"], address=runtime.address, token=runtime.token)
        await agent.start()
        try:
            out = await agent.ctx.tool("fs:list", {"path": "."})
            assert out is not None
        finally:
            await agent.stop()
        assert seen == [], f"the SDK went through the proxy: {seen[:1]}"

        # Control: a channel without the SDK's options goes to the proxy, so the test can fail.
        channel = grpc.aio.insecure_channel(runtime.address)
        try:
            with pytest.raises(grpc.aio.AioRpcError):
                await loom_pb2_grpc.BridgeStub(channel).Heartbeat(loom_pb2.HeartbeatRequest(agent_id="x"), timeout=3)
        finally:
            await channel.close()
        assert seen and seen[0].startswith(b"CONNECT "), seen
    finally:
        done.set()
        thread.join(2)
        listener.close()
