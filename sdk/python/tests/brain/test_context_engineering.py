"""Context engineering in the cognitive loop, end to end: a real runtime runs the tools in a temp
workspace, the scripted HTTP server plays the model and records what it was sent."""

from __future__ import annotations

import json

from llm_server import completion, scripted_provider

from loom import Agent
from loom.cognitive import CognitiveAgent, CognitiveConfig
from loom.context import MemoryTier, TieredMemory
from loom.memory import Memory, messages_tokens

LINES = 120


def agent(rt, agent_id: str = "brain") -> Agent:
    return Agent(agent_id, address=rt.address, token=rt.token)


def write_files(workspace, n: int) -> list[str]:
    texts = []
    (workspace / "data").mkdir()
    for i in range(n):
        text = "\n".join(f"f{i} line {j}: " + "lorem ipsum dolor sit amet " * 2 for j in range(LINES))
        (workspace / "data" / f"f{i}.txt").write_text(text)
        texts.append(text)
    return texts


def read_script(n: int) -> list:
    return [completion(f'Thought: next file.\nAction: fs:read\nAction Input: {{"path": "data/f{i}.txt"}}')
            for i in range(n)] + [completion("Thought: done.\nFinal Answer: read them all")]


def contents(request) -> list[str]:
    return [str(m.get("content") or "") for m in request.body["messages"]]


async def test_long_react_run_is_reduced_offloaded_and_compacted(runtime, llm_server):
    texts = write_files(runtime.workspace, 8)
    llm_server.script(*read_script(8))
    async with agent(runtime) as a:
        brain = CognitiveAgent(
            a.ctx,
            scripted_provider(llm_server),
            CognitiveConfig(native_tools=False, max_iterations=12),
            available_tools=["fs:read"],
            workspace_path=runtime.workspace,
        )
        result = await brain.run("Read every file in data/")
    tool_steps = [s for s in result.steps if s.tool_call is not None]
    assert (result.success, result.answer, len(tool_steps)) == (True, "read them all", 8)
    assert result.steps[-1].reduced_step is None  # the answering step called no tool

    for i, step in enumerate(tool_steps):
        reduced = step.reduced_step
        assert reduced is not None and reduced is step.observation.reduced_step
        assert reduced.id == f"step_{i + 1:03d}" and reduced.tool_name == "fs:read"
        assert reduced.observation.startswith(f"Read f{i}.txt ({LINES} lines, ")
        # The full file went to the workspace cache; the model got a preview and the path.
        assert reduced.outcome_ref.startswith(".loom/cache/file_read/")
        assert (runtime.workspace / reduced.outcome_ref).read_text() == texts[i]
        assert step.observation.value["content"] == texts[i]
        assert "lines omitted" in step.observation.output and len(step.observation.output) < len(texts[i])

    second = contents(llm_server.requests[1])
    assert (
        second[-1].startswith("Observation: ") and f"saved in {result.steps[0].reduced_step.outcome_ref}" in second[-1]
    )
    assert "f0 line 60:" not in second[-1]  # the middle of the file stayed on disk

    # Up to 5 tool steps everything is shown; from the 6th on, the older steps are one summary.
    sixth = contents(llm_server.requests[5])
    assert not any(c.startswith("Earlier steps of this task") for c in sixth)
    seventh = contents(llm_server.requests[6])
    summary = [c for c in seventh if c.startswith("Earlier steps of this task")]
    assert len(summary) == 1 and "[step_001..step_003] 3 file operations" in summary[0]
    assert len(seventh) == 2 + 1 + 3 * 2  # system + goal, the summary, the last 3 exchanges
    assert not any("f0 line 0:" in c for c in seventh) and any("f5 line 0:" in c for c in seventh)
    last = contents(llm_server.requests[8])
    assert "[step_001..step_005] 5 file operations" in next(c for c in last if c.startswith("Earlier steps"))


async def test_compaction_and_offload_send_fewer_tokens_than_the_plain_loop(runtime, llm_server):
    write_files(runtime.workspace, 10)
    llm_server.script(*read_script(10), *read_script(10))
    async with agent(runtime) as a:
        engineered = CognitiveAgent(a.ctx, scripted_provider(llm_server), CognitiveConfig(
            native_tools=False, max_iterations=12, context_budget_tokens=10**6, history_turns=0),
            available_tools=["fs:read"], workspace_path=runtime.workspace)
        assert (await engineered.run("Read every file")).success
        plain = CognitiveAgent(a.ctx, scripted_provider(llm_server), CognitiveConfig(
            native_tools=False, max_iterations=12, context_budget_tokens=10**6, history_turns=0,
            compaction=False, offload_outputs=False, max_observation_chars=10**6),
            available_tools=["fs:read"], workspace_path=runtime.workspace)
        assert (await plain.run("Read every file")).success
    sent = [messages_tokens(r.body["messages"]) for r in llm_server.requests]
    with_ce, without = sum(sent[:11]), sum(sent[11:])
    assert with_ce < without / 4


async def test_memory_tiers_persist_in_the_runtime_store_and_reach_the_prompt(runtime, llm_server):
    (runtime.workspace / "budget.txt").write_text("travel: 1200 EUR\nhardware: 800 EUR\n")
    llm_server.script(
        completion('Thought: look.\nAction: fs:read\nAction Input: {"path": "budget.txt"}'),
        completion("Thought: sum.\nFinal Answer: the travel budget is 1200 EUR"))
    async with agent(runtime) as a:
        memory = Memory(a.ctx, session_id="planner", persist=True)
        brain = CognitiveAgent(a.ctx, scripted_provider(llm_server), CognitiveConfig(native_tools=False),
                               available_tools=["fs:read"], memory=memory, workspace_path=runtime.workspace)
        assert (await brain.run("What is the travel budget?")).success
        await brain.remember("Budgets are in EUR and approved by Dana", MemoryTier.LONG_TERM, {"source": "chat"})
        working = brain.context_memory.items(MemoryTier.WORKING)
        assert [i.content for i in working] == ["Read budget.txt (3 lines, 35B)"]

    async with agent(runtime) as a:  # a new connection: only the store is shared
        stored = await a.ctx.store.query_context(session_id="planner", type="context.memory.short_term")
        assert len(stored) == 1 and stored[0].content.startswith("Earlier task: What is the travel budget?")
        assert "Read budget.txt" in stored[0].content and stored[0].metadata["kind"] == "episode"
        tiers = TieredMemory(a.ctx, session_id="planner")
        assert await tiers.load() == 2
        long_term = tiers.items(MemoryTier.LONG_TERM)
        assert [(i.content, i.metadata, i.role) for i in long_term] == [
            ("Budgets are in EUR and approved by Dana", {"source": "chat"}, "system")]
        assert [i.content for i in tiers.recall("who approved the budgets in EUR")][:1] == [long_term[0].content]

        llm_server.script(completion("Final Answer: 1200 EUR, approved by Dana"))
        brain = CognitiveAgent(a.ctx, scripted_provider(llm_server), CognitiveConfig(native_tools=False),
                               memory=Memory(a.ctx, session_id="planner", persist=True),
                               workspace_path=runtime.workspace)
        result = await brain.run("What is the travel budget and who approved budgets?")
    assert result.answer == "1200 EUR, approved by Dana"
    sent = contents(llm_server.requests[-1])
    recalled = [c for c in sent if c.startswith("Relevant memory")]
    assert any("approved by Dana" in c for c in recalled)
    assert any("Earlier task: What is the travel budget?" in c for c in recalled)
    assert sent[-1] == "What is the travel budget and who approved budgets?"
    assert json.dumps(sent).count("Relevant memory") == len(recalled) <= 3


async def test_native_tool_calls_stay_paired_with_their_replies_after_compaction(llm_server):
    from llm_server import tool_call

    # No runtime: every call fails (there is no ctx), which is still a step to reduce and compact.
    llm_server.script(*[completion(None, [tool_call(f"c{i}", "calc_add", {"a": i, "b": 1}),
                                          tool_call(f"d{i}", "calc_add", {"a": i, "b": 2})]) for i in range(4)],
                      completion("done"))
    brain = CognitiveAgent(None, scripted_provider(llm_server, supports_tools=True), CognitiveConfig(max_iterations=6),
                           available_tools=["calc:add"])
    result = await brain.run("add things")
    assert result.answer == "done" and len(result.steps) == 8
    assert all(s.reduced_step is not None and not s.reduced_step.success for s in result.steps)
    assert result.steps[0].reduced_step.observation.startswith("calc:add failed: ")
    last = llm_server.requests[4].body["messages"]
    summary = [m for m in last if str(m.get("content") or "").startswith("Earlier steps of this task")]
    assert len(summary) == 1 and "(4 failed)" in summary[0]["content"]  # 4 steps grouped, all failed
    # Whole turns were folded: the kept assistant turns still have a reply for each tool_call id.
    asked = [c["id"] for m in last if m.get("tool_calls") for c in m["tool_calls"]]
    answered = [m["tool_call_id"] for m in last if m.get("role") == "tool"]
    assert asked == answered == ["c2", "d2", "c3", "d3"]


async def test_reference_strategy_executor_prompt_form_offloads_and_compacts(runtime, llm_server):
    texts = write_files(runtime.workspace, 7)
    llm_server.script(*[completion(f'Thought: next.\n{{"tool": "fs:read", "args": {{"path": "data/f{i}.txt"}}}}')
                        for i in range(7)], completion("FINAL ANSWER: seven files"))
    async with agent(runtime) as a:
        brain = CognitiveAgent(a.ctx, scripted_provider(llm_server), CognitiveConfig(max_iterations=10),
                               available_tools=["fs:read"], workspace_path=runtime.workspace)
        result = await brain.strategy_executor.run_react("Read the files")
    assert (result.success, result.answer, len(result.steps)) == (True, "seven files", 7)
    refs = [s.reduced_step.outcome_ref for s in result.steps]
    assert all(refs) and (runtime.workspace / refs[0]).read_text() == texts[0]
    system, user = llm_server.requests[-1].body["messages"]
    assert "FINAL ANSWER:" in system["content"] and "FILESYSTEM:" in system["content"]
    prompt = user["content"]
    assert "Previous actions (summarized):" in prompt and "[step_001..step_004] 4 file operations" in prompt
    assert f"Observation: (See {refs[-1]})" in prompt and "f0 line" not in prompt
    assert brain.memory.get_context()[-1]["content"] == "seven files"


async def test_registered_tool_descriptors_reach_the_prompt_when_the_runtime_lists_nothing(llm_server):
    llm_server.script(completion("Thought: nothing to do.\nFinal Answer: ok"))
    brain = CognitiveAgent(None, scripted_provider(llm_server), CognitiveConfig(native_tools=False))
    brain.register_tool("notes:find", "Find notes by tag", [{"name": "tag", "type": "string", "description": "the tag",
                                                             "required": True}], category="notes")
    assert brain.available_tools == ["notes:find"] and brain.tool_registry.get_by_category("notes")
    assert (await brain.run("find #todo notes")).answer == "ok"
    system = llm_server.requests[0].body["messages"][0]["content"]
    assert "- notes:find: Find notes by tag" in system and '"required":["tag"]' in system
