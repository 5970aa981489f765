"""Which tool calls the permission callback is asked about: by the descriptor's `loom.kind`
metadata when it has one, by the static list of the runtime's write/execute tools otherwise.
Against the real runtime's tool registry; the static list is checked against the real tools."""

from __future__ import annotations

import re
from pathlib import Path

import grpc
from llm_server import completion, scripted_provider, tool_call

from loom import Agent
from loom._proto import loom_pb2, loom_pb2_grpc
from loom.cognitive import DEFAULT_GUARDED_TOOLS, CognitiveAgent, CognitiveConfig
from loom.cognitive.tools import needs_permission, tool_kind
from loom.context import ToolInfo

REPO = Path(__file__).resolve().parents[4]
EDITOR_TOOLS = REPO / "extension" / "tools" / "editorTools.ts"


def agent(rt, agent_id: str = "brain") -> Agent:
    return Agent(agent_id, address=rt.address, token=rt.token)


def _extension_tool_kinds() -> dict[str, str]:
    """name -> kind of the extension's tools, read from their source."""
    source = EDITOR_TOOLS.read_text(encoding="utf-8")
    return dict(re.findall(r"name: '([a-z]+:[a-z_]+)',(?:(?!name: ').)*?kind: '(\w+)'", source, re.DOTALL))


def test_kind_decides_and_named_tools_are_always_guarded():
    def info(name, **metadata):
        return ToolInfo(name, "", {}, "grpc", metadata)

    guarded = frozenset({"fs:write"})
    cases = {
        "x:read": info("x:read", **{"loom.kind": "read"}),
        "x:ask": info("x:ask", **{"loom.kind": "Ask"}),
        "x:write": info("x:write", **{"loom.kind": "write"}),
        "x:exec": info("x:exec", **{"loom.kind": "execute"}),
        "x:plain": info("x:plain"),
        "fs:write": info("fs:write", **{"loom.kind": "read"}),  # named: guarded whatever it says
    }
    decided = {name: needs_permission(name, tool_kind(i), guarded) for name, i in cases.items()}
    assert decided == {"x:read": False, "x:ask": False, "x:write": True, "x:exec": True,
                       "x:plain": False, "fs:write": True}
    assert tool_kind({"name": "d", "metadata": {"loom.kind": " WRITE "}}) == "write"
    assert tool_kind(None) is None


def test_static_list_names_real_extension_tools_that_write():
    kinds = _extension_tool_kinds()
    assert kinds.get("editor:insert") == "write" and kinds.get("fs:read") is None  # the parse works
    for name in DEFAULT_GUARDED_TOOLS:
        if name.split(":")[0] in ("editor", "clipboard"):
            assert kinds.get(name) == "write", f"{name} is not a write tool of the extension"


async def test_static_list_matches_the_runtime_builtins(runtime):
    async with agent(runtime) as a:
        tools = {t.name: t for t in await a.ctx.list_tools() if t.provider == "native"}
    runtime_guarded = {n for n in DEFAULT_GUARDED_TOOLS if n.split(":")[0] in ("fs", "system")}
    assert runtime_guarded <= set(tools), f"not runtime tools: {runtime_guarded - set(tools)}"
    # Every other built-in only reads; a new built-in that writes must be added to the list.
    assert sorted(set(tools) - runtime_guarded) == ["agents:logs", "fs:list", "fs:list_dir", "fs:read",
                                                      "fs:read_file", "llm:generate", "weather:get", "web:search"]
    assert all(tool_kind(t) is None for t in tools.values())  # why the static list is needed


async def test_builtins_without_metadata_are_guarded_by_the_list(runtime, llm_server):
    asked = []

    def permission(name, args, reason):
        asked.append((name, reason))
        return True

    (runtime.workspace / "r.txt").write_text("read me")
    llm_server.script(
        completion(None, [tool_call("c1", "fs_read", {"path": "r.txt"}),
                          tool_call("c2", "fs_write_file", {"path": "w.txt", "content": "ok"})]),
        completion("done"))
    async with agent(runtime) as a:
        brain = CognitiveAgent(a.ctx, scripted_provider(llm_server, supports_tools=True), CognitiveConfig(),
                               available_tools=["fs:read", "fs:write_file"], permission_callback=permission)
        result = await brain.run("Copy")
    assert result.success
    assert asked == [("fs:write_file", "fs:write_file changes files, the editor or runs a program")]
    assert (runtime.workspace / "w.txt").read_text() == "ok"


async def _register_tools_with_kinds(rt, owner: str, kinds: dict[str, str]) -> None:
    """Registers tools carrying `loom.kind` metadata over the real bridge, as the extension does."""
    async with grpc.aio.insecure_channel(rt.address) as channel:
        stub = loom_pb2_grpc.BridgeStub(channel)
        descriptors = [loom_pb2.ToolDescriptor(name=name, description=f"a {kind} probe",
                                               parameters_schema='{"type":"object","properties":{}}',
                                               provider=loom_pb2.PROVIDER_GRPC, metadata={"loom.kind": kind})
                       for name, kind in kinds.items()]
        resp = await stub.RegisterAgent(
            loom_pb2.AgentRegisterRequest(agent_id=owner, tools=descriptors),
            metadata=(("authorization", f"Bearer {rt.token}"),), timeout=10)
        assert resp.success, resp.error_message


async def test_metadata_kind_guards_tools_the_list_does_not_name(runtime, llm_server):
    await _register_tools_with_kinds(runtime, "probes", {"probe:peek": "read", "probe:poke": "write",
                                                         "probe:ask": "ask", "probe:run": "execute"})
    asked = []

    def permission(name, args, reason):
        asked.append((name, reason))
        return False

    llm_server.script(
        completion(None, [tool_call(f"c{i}", f"probe_{n}", {}) for i, n in enumerate(["peek", "poke", "ask"])]),
        completion(None, [tool_call("c3", "probe_run", {})]),
        completion("done"))
    async with agent(runtime) as a:
        listed = {t.name: t for t in await a.ctx.list_tools("probe:")}
        assert tool_kind(listed["probe:poke"]) == "write"  # metadata survives the registry
        brain = CognitiveAgent(a.ctx, scripted_provider(llm_server, supports_tools=True),
                               CognitiveConfig(tool_timeout_ms=2000),
                               available_tools=["probe:peek", "probe:poke", "probe:ask", "probe:run"],
                               permission_callback=permission)
        result = await brain.run("Probe")
    assert asked == [("probe:poke", "probe:poke is a 'write' tool"), ("probe:run", "probe:run is a 'execute' tool")]
    by_tool = {s.tool_call.name: s.observation for s in result.steps}
    assert "refused by the user" in by_tool["probe:poke"].error
    assert "refused by the user" in by_tool["probe:run"].error
    # peek and ask were not refused: they went to the runtime (whose provider is not connected).
    assert "refused" not in by_tool["probe:peek"].error and "refused" not in by_tool["probe:ask"].error
