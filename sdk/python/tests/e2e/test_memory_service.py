"""loom.v1.MemoryService through this SDK's generated stubs (the reference's wire): plans, the
duplicate check, executions and their statistics, an episode; refused without the token."""
import grpc
import pytest
from conftest import unique

from loom._proto import loom_pb2, memory_pb2, memory_pb2_grpc


async def test_plans_executions_and_episode_over_the_stubs(runtime, raw_channel):
    memory = memory_pb2_grpc.MemoryServiceStub(raw_channel)
    md = runtime.metadata()
    session = unique("py-memory-")
    plan = memory_pb2.PlanRecord(timestamp_ms=1000, symbol="BTC", action="BUY", confidence=0.85,
                                 reasoning="bullish", plan_hash="h1", method="llm", metadata={"k": "v"})
    saved = await memory.SavePlan(memory_pb2.SavePlanRequest(session_id=session, plan=plan), metadata=md)
    assert (saved.success, saved.plan_hash) == (True, "h1")
    recent = await memory.GetRecentPlans(
        memory_pb2.GetRecentPlansRequest(session_id=session, symbol="BTC", limit=5), metadata=md
    )
    assert [p.plan_hash for p in recent.plans] == ["h1"] and dict(recent.plans[0].metadata) == {"k": "v"}

    later = memory_pb2.PlanRecord(timestamp_ms=4000, symbol="BTC", action="BUY")
    dup = await memory.CheckDuplicate(
        memory_pb2.CheckDuplicateRequest(session_id=session, plan=later, time_window_sec=300), metadata=md
    )
    assert dup.is_duplicate and dup.duplicate_plan.plan_hash == "h1" and dup.time_since_duplicate_ms == 3000

    execution = memory_pb2.ExecutionRecord(
        plan_hash="h1", symbol="BTC", action="BUY", status="success", executed=True, order_id="o-1"
    )
    await memory.MarkExecuted(
        memory_pb2.MarkExecutedRequest(session_id=session, plan_hash="h1", execution=execution), metadata=md
    )
    done = await memory.CheckExecuted(memory_pb2.CheckExecutedRequest(session_id=session, plan_hash="h1"), metadata=md)
    assert done.is_executed and done.execution.order_id == "o-1"
    stats = await memory.GetExecutionStats(
        memory_pb2.GetExecutionStatsRequest(session_id=session, symbol="BTC"), metadata=md
    )
    assert (stats.total_executions, stats.successful_executions, stats.win_rate, stats.duplicate_prevented) == (
        1,
        1,
        1.0,
        2,
    )

    event = loom_pb2.Event(type="tick", source="feed", timestamp_ms=7)
    await memory.AppendEvent(memory_pb2.MemoryWriteRequest(session_id=session, event=event), metadata=md)
    summary = await memory.SummarizeEpisode(memory_pb2.MemorySummarizeRequest(session_id=session), metadata=md)
    assert (summary.summary, summary.event_count) == ("[7] tick from feed", 1)
    found = await memory.Retrieve(memory_pb2.MemoryRetrieveRequest(session_id=session, query="TICK", k=3), metadata=md)
    assert list(found.results) == ["[7] tick from feed"]


async def test_bad_input_and_no_token_are_refused(runtime, raw_channel):
    memory = memory_pb2_grpc.MemoryServiceStub(raw_channel)
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await memory.SavePlan(memory_pb2.SavePlanRequest(session_id="s"), metadata=runtime.metadata())
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "plan is required" in info.value.details()
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await memory.GetRecentPlans(memory_pb2.GetRecentPlansRequest(session_id="s", symbol="BTC"))
    assert info.value.code() == grpc.StatusCode.UNAUTHENTICATED
