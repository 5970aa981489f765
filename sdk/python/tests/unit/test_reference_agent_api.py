"""The reference SDK's agent-facing API without a runtime: Envelope, the proto module names,
EventContext made from an agent id and a client, tools with pydantic models, LLMProvider.from_config."""
import asyncio
import hashlib
import json
from unittest.mock import AsyncMock, MagicMock

import pytest

import loom
from loom import Context, Envelope, EventContext, Tool, tool
from loom._proto import compat_pb2, loom_pb2, runtime_pb2
from loom._proto import memory_pb2 as our_memory

# ---------- Envelope ----------

def test_envelope_constructor_takes_the_reference_fields_and_defaults():
    env = Envelope(
        "id-1",
        "t",
        5,
        "src",
        b"p",
        thread_id="th",
        correlation_id="c",
        sender="s",
        reply_to="r",
        ttl_ms=900,
        trace_id="0af7651916cd43dd8448eb211c80319c",
        span_id="b7ad6b7169203331",
        trace_flags="01",
    )
    assert (env.priority, env.confidence, env.tags, env.topic) == (50, 1.0, [], None)
    assert (env.thread_id, env.correlation_id, env.sender, env.reply_to, env.ttl_ms) == ("th", "c", "s", "r", 900)
    # Envelope fields travel in metadata (prefixed), trace fields as the reference writes them (bare).
    assert env.metadata["loom.thread_id"] == "th" and env.metadata["loom.ttl_ms"] == "900"
    assert env.metadata["trace_id"] == "0af7651916cd43dd8448eb211c80319c"
    wire = env.to_proto()
    assert (wire.priority, wire.confidence) == (50, 1.0)
    back = Envelope.from_proto(wire)
    assert back == env and back.span_id == "b7ad6b7169203331" and back.trace_flags == "01"
    # Positional order is the reference's: ... priority, thread_id, correlation_id, ...
    assert Envelope("i", "t", 0, "s", b"", {}, [], 7, "thread").thread_id == "thread"


def test_trace_fields_fall_back_to_the_traceparent_and_inject_writes_both():
    env = Envelope.new(type="x", metadata={"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"})
    assert (env.trace_id, env.span_id, env.trace_flags) == (
        "0af7651916cd43dd8448eb211c80319c",
        "b7ad6b7169203331",
        "01",
    )
    plain = Envelope.new(type="x")
    assert plain.trace_id is None and plain.extract_trace_context() is None
    plain.inject_trace_context()  # no active trace: nothing written
    assert "trace_id" not in plain.metadata
    from loom import tracing

    with tracing.span("t", {"traceparent": "00-11111111111111111111111111111111-2222222222222222-01"}):
        fresh = Envelope.new(type="y")
        fresh.inject_trace_context()
    assert fresh.trace_id is not None and fresh.metadata["traceparent"].split("-")[1] == fresh.trace_id
    if tracing.HAVE_OTEL:
        sc = env.extract_trace_context()
        assert sc.is_remote and format(sc.trace_id, "032x") == env.trace_id


def test_reference_module_paths_of_agent():
    from loom.agent.envelope import META_PREFIX
    from loom.agent.envelope import Envelope as E2
    from loom.agent.event import EventContext as EC2

    assert (E2, EC2, META_PREFIX) == (Envelope, EventContext, "loom")
    assert loom.Context is Context is EventContext


# ---------- proto module names ----------

def test_proto_modules_are_this_sdks_classes():
    from loom.bridge import proto
    from loom.bridge.proto.generated import action_pb2, agent_pb2, bridge_pb2, event_pb2, memory_pb2, plugin_pb2

    assert event_pb2.Event is loom_pb2.Event and bridge_pb2.ClientEvent is loom_pb2.ClientEvent
    assert action_pb2.ToolCall is loom_pb2.ToolCall and action_pb2.ToolStatus.TOOL_OK == action_pb2.TOOL_OK == 0
    assert action_pb2.ListToolsRequest is runtime_pb2.ListToolsRequest
    assert memory_pb2.SavePlanRequest is our_memory.SavePlanRequest
    assert proto.bridge_pb2 is bridge_pb2 and proto.memory_pb2_grpc.MemoryServiceStub
    assert agent_pb2.AgentState is compat_pb2.AgentState and plugin_pb2.PLUGIN_TOOL == 2
    assert action_pb2.ActionStatus.Name(3) == "ACTION_RETRYABLE"


def test_compat_messages_keep_the_reference_field_numbers():
    # Field numbers and types as in the reference's action/agent/plugin/event protos.
    def fields(msg):
        return [(f.number, f.name) for f in msg.DESCRIPTOR.fields]

    assert fields(compat_pb2.ActionCall) == [(1, "id"), (2, "capability"), (3, "version"), (4, "payload"),
                                             (5, "headers"), (6, "timeout_ms"), (7, "correlation_id"), (8, "qos")]
    assert fields(compat_pb2.AgentResponse) == [
        (1, "agent_id"),
        (2, "actions"),
        (3, "updated_state"),
        (4, "generated_events"),
    ]
    assert fields(compat_pb2.PluginMeta) == [(1, "plugin_id"), (2, "name"), (3, "version"), (4, "type"),
                                             (5, "capabilities"), (6, "config")]
    assert fields(compat_pb2.PublishResponse) == [(1, "success"), (2, "error_message"), (3, "sequence_number")]
    # A reference peer's bytes parse into ours: same wire.
    call = compat_pb2.ActionCall(id="a", capability="c", payload=b"x", timeout_ms=5, qos=loom_pb2.QOS_BATCHED)
    assert compat_pb2.ActionCall.FromString(call.SerializeToString()) == call


def test_compat_proto_drift_is_detected(tmp_path):
    pytest.importorskip("grpc_tools", reason="grpcio-tools is a dev dependency")
    import importlib.util
    import shutil
    from pathlib import Path

    script = Path(__file__).resolve().parents[2] / "scripts" / "gen_protos.py"
    spec = importlib.util.spec_from_file_location("gen_protos_compat", script)
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    shutil.copytree(gen.SDK_PROTO_ROOT, tmp_path / "sdk-proto")
    compat = tmp_path / "sdk-proto" / "loom" / "v1" / "compat.proto"
    compat.write_text(
        compat.read_text().replace("  int32 priority = 4;\n}", "  int32 priority = 4;\n  string probe = 9;\n}")
    )
    stale = gen.drift(gen.generate(sdk_proto_root=tmp_path / "sdk-proto"))
    assert "compat_pb2.py" in stale and "loom_pb2.py" not in stale


# ---------- EventContext from an agent id and a client ----------

def _client():
    from loom.bridge.client import BridgeClient

    client = MagicMock(spec=BridgeClient)
    for name in ("forward_tool_call", "save_plan", "get_recent_plans", "check_duplicate", "mark_executed",
                 "check_executed", "get_execution_stats"):
        setattr(client, name, AsyncMock())
    return client


async def test_standalone_context_emits_into_its_queue_and_resolves_requests():
    ctx = EventContext("me", _client())
    with pytest.raises(RuntimeError, match="not bound"):
        await ctx.emit("t", type="x")
    queue: asyncio.Queue = asyncio.Queue()
    ctx._bind(queue)
    ev = await ctx.emit("t", type="x", payload={"a": 1})
    msg = queue.get_nowait()
    assert (
        msg.publish.topic == "t" and msg.publish.event.id == ev.id and msg.publish.event.metadata["loom.sender"] == "me"
    )

    task = asyncio.create_task(ctx.request("svc", type="q", payload=b"?", timeout_ms=5000))
    await asyncio.sleep(0)
    request = queue.get_nowait().publish.event
    # Its own request comes back (it subscribes to "svc"): not the answer.
    assert ctx._on_delivery(loom_pb2.Delivery(topic="svc", event=request)) is False
    answer = Envelope.new(type="a", payload=b"!", correlation_id=request.id)
    assert ctx._on_delivery(loom_pb2.Delivery(topic="agent.me.replies", event=answer.to_proto())) is True
    reply = await task
    assert (reply.type, reply.payload, reply.topic) == ("a", b"!", "agent.me.replies")
    await ctx.join_thread("t1")  # nothing to do without an Agent


async def test_tool_positional_order_and_forms():
    client = _client()
    client.forward_tool_call.return_value = loom_pb2.ToolResult(status=loom_pb2.TOOL_OK, output='{"r": 1}')
    ctx = Context(agent_id="me", client=client)
    assert await ctx.tool("x.y", {"a": 1}, 1234, {"h": "v"}) == {"r": 1}
    call = client.forward_tool_call.call_args[0][0]
    assert (call.name, json.loads(call.arguments), call.timeout_ms, call.headers["h"]) == ("x.y", {"a": 1}, 1234, "v")
    assert await ctx.tool("x.y", payload={"a": 2}) == '{"r": 1}'
    # Not found under "x.y": tried as "x:y" too; then the error names the name asked for.
    client.forward_tool_call.side_effect = [
        loom_pb2.ToolResult(status=loom_pb2.TOOL_NOT_FOUND, error=loom_pb2.ToolError(code="not_found", message="no")),
        loom_pb2.ToolResult(status=loom_pb2.TOOL_NOT_FOUND, error=loom_pb2.ToolError(code="not_found", message="no")),
    ]
    with pytest.raises(loom.ToolNotFound) as info:
        await ctx.tool("x.y", {})
    assert info.value.tool == "x.y"
    assert [c[0][0].name for c in client.forward_tool_call.call_args_list[-2:]] == ["x.y", "x:y"]


async def test_plan_memory_requests_and_errors():
    client = _client()
    ctx = Context("agent-7", client)
    client.save_plan.return_value = our_memory.SavePlanResponse(success=True, plan_hash="h")
    assert await ctx.save_plan("BTC", "BUY", 0.5, "why") == "h"
    req = client.save_plan.call_args[0][0]
    assert req.session_id == "agent-7" and req.plan.plan_hash == hashlib.md5(b"BTC|BUY|why").hexdigest()[:8]
    client.save_plan.return_value = our_memory.SavePlanResponse(success=False, error_message="full")
    with pytest.raises(loom.LoomError, match="Failed to save plan: full"):
        await ctx.save_plan("BTC", "BUY", 0.5)
    client.check_executed.return_value = our_memory.CheckExecutedResponse(is_executed=False)
    assert await ctx.check_plan_executed("h") == (False, None)


async def test_store_and_subscriptions_need_an_agent():
    ctx = Context("solo", _client())
    with pytest.raises(loom.NotConnected):
        await ctx.store.get_state("k")
    with pytest.raises(loom.NotConnected, match="subscribe"):
        await ctx.subscribe("a.b")
    with pytest.raises(loom.NotConnected):
        await ctx.list_tools()


# ---------- tools ----------

def test_tool_constructor_order_and_kind():
    def f(a: int) -> int:
        return a

    t = Tool("n.m", "d", f, None, None, kind="read")
    assert (t.name, t.wire_name, t.kind, t.output_model) == ("n.m", "n.m", "read", None)
    assert json.loads(tool("x")(f).__loom_tool__.parameters_schema) == {
        "type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"], "additionalProperties": False}
    import loom.tools.decorator as dec

    assert dec.Tool is loom.tools.Tool is loom.Tool and loom.capability is loom.tool


def test_pydantic_models_as_parameters_and_as_input_output_models():
    pydantic = pytest.importorskip("pydantic")

    class Inner(pydantic.BaseModel):
        x: int

    class Person(pydantic.BaseModel):
        name: str
        inner: Inner

    @tool("p.one")
    def one(person: Person, n: int = 1) -> dict:
        return {"name": person.name, "x": person.inner.x, "n": n}

    t = one.__loom_tool__
    schema = json.loads(t.parameters_schema)
    assert schema["properties"]["person"]["title"] == "Person" and "Inner" in schema["$defs"]
    kwargs = t.bind({"person": {"name": "a", "inner": {"x": 2}}})
    assert isinstance(kwargs["person"], Person) and one(**kwargs) == {"name": "a", "x": 2, "n": 1}
    from loom.schema import ArgumentError

    with pytest.raises(ArgumentError, match="person does not fit Person"):
        t.bind({"person": {"name": "a"}})
    assert t.input_model.model_json_schema()["required"] == ["person"]  # made from the signature

    class Q(pydantic.BaseModel):
        q: str

    class Out(pydantic.BaseModel):
        ok: bool

    @tool("p.two", input_model=Q, output_model=Out)
    async def two(q: str) -> dict:
        return {"ok": q == "yes"}

    t2 = two.__loom_tool__
    assert (t2.input_model, t2.output_model) == (Q, Out) and json.loads(t2.parameters_schema)["title"] == "Q"
    result = asyncio.run(t2.invoke(t2.bind({"q": "yes"})))
    assert isinstance(result, Out) and loom.tools.encode_output(result) == '{"ok":true}'
    with pytest.raises(TypeError, match="must be a pydantic model class"):
        Tool("bad", "", lambda: None, input_model=dict)


# ---------- LLMProvider ----------

def test_from_config_reference_keywords_and_unknown_provider():
    from loom.llm import LLMConfigError, LLMProvider

    class Section:
        api_base, model, api_key, temperature, max_tokens, timeout_sec = "http://h/v1", "m", None, 0.1, 10, 3

    class ProjectConfig:
        llm_providers = {"mine": Section()}

    llm = LLMProvider.from_config(None, provider_name="mine", project_config=ProjectConfig())
    assert (llm.config.base_url, llm.config.model, llm.config.timeout_ms) == ("http://h/v1", "m", 3000)
    assert LLMProvider.from_config(None, "openai", project_config=ProjectConfig()).config.model == "gpt-4o-mini"
    with pytest.raises(ValueError, match="Unknown provider") as info:
        LLMProvider.from_config(None, provider_name="nope", project_config=ProjectConfig())
    assert isinstance(info.value, LLMConfigError) and isinstance(info.value, RuntimeError)
    with pytest.raises(TypeError, match="disagree"):
        LLMProvider.from_config(None, "a", provider_name="b")
    assert "localhost" in LLMProvider.LOCAL.base_url
    from loom.llm import LLMConfig, LLMResponse, Message  # the reference's public names

    assert LLMConfig and LLMResponse and Message
