"""CognitiveAgent strategies that need no tools, against the real scripted HTTP server.
(No ctx is involved: without tools or persistence the loop never touches one.)"""

from __future__ import annotations

from llm_server import Reply, completion, scripted_provider, text_stream

from loom.cognitive import CognitiveAgent, CognitiveConfig, CognitiveResult, ThinkingStrategy, ThoughtStep


async def test_single_shot_one_call_with_system_prompt(llm_server):
    llm_server.script(completion("  Bonjour!  "))
    brain = CognitiveAgent(
        None,
        scripted_provider(llm_server),
        CognitiveConfig(system_prompt="Translate to French.", thinking_strategy=ThinkingStrategy.SINGLE_SHOT),
    )
    result = await brain.run("Hello!")
    assert (result.answer, result.success, result.iterations, result.error) == ("Bonjour!", True, 1, None)
    assert result.latency_ms >= 0 and result.latency_ms == result.total_latency_ms
    (req,) = llm_server.requests
    assert req.body["messages"] == [{"role": "system", "content": "Translate to French."},
                                    {"role": "user", "content": "Hello!"}]
    assert [(i.role, i.content) for i in brain.memory.get_recent(2)] == [("user", "Hello!"), ("assistant", "Bonjour!")]


async def test_chain_of_thought_separates_reasoning_and_answer(llm_server):
    llm_server.script(completion("Step 1: 6 apples.\nStep 2: eat 2, left 4.\nFinal Answer: 4"))
    brain = CognitiveAgent(None, scripted_provider(llm_server), CognitiveConfig(thinking_strategy="cot"))
    result = await brain.run("6 apples, eat 2. How many?", context=["apples do not regrow"])
    assert result.answer == "4" and result.success
    assert result.steps[0].reasoning == "Step 1: 6 apples.\nStep 2: eat 2, left 4."
    system, user = llm_server.requests[0].body["messages"]
    assert "step by step" in system["content"] and "Final Answer:" in system["content"]
    assert user["content"].endswith("Context:\n- apples do not regrow")


async def test_earlier_turns_are_shown_to_the_model(llm_server):
    llm_server.script(completion("Nice to meet you, Ada."), completion("Your name is Ada."))
    brain = CognitiveAgent(None, scripted_provider(llm_server), CognitiveConfig(thinking_strategy="single_shot"))
    await brain.run("I am Ada.")
    await brain.run("What is my name?")
    msgs = llm_server.requests[1].body["messages"]
    assert [m["content"] for m in msgs[1:]] == ["I am Ada.", "Nice to meet you, Ada.", "What is my name?"]


async def test_malformed_reply_is_corrected_not_crashed_on(llm_server):
    llm_server.script(completion("Sure! I think the answer is probably blue."),
                      completion('Action: fs:read\nAction Input: {"path": '),
                      completion("Thought: fine.\nFinal Answer: blue"))
    brain = CognitiveAgent(None, scripted_provider(llm_server), CognitiveConfig(native_tools=False, max_iterations=5))
    result = await brain.run("Colour of the sky?")
    assert (result.answer, result.success, result.iterations) == ("blue", True, 3)
    assert [bool(s.malformed) for s in result.steps] == [True, True, False]
    second = llm_server.requests[1].body["messages"]
    assert second[-2] == {"role": "assistant", "content": "Sure! I think the answer is probably blue."}
    assert second[-1]["role"] == "user" and "could not be used" in second[-1]["content"]
    assert "not closed" in llm_server.requests[2].body["messages"][-1]["content"]


async def test_max_iterations_stops_the_loop(llm_server):
    llm_server.script(*[completion("thinking...") for _ in range(10)])
    brain = CognitiveAgent(None, scripted_provider(llm_server), CognitiveConfig(native_tools=False, max_iterations=3))
    result = await brain.run("Loop forever")
    assert not result.success and result.iterations == 3
    assert result.error == "no final answer after 3 iterations"
    assert len(llm_server.requests) == 3


async def test_llm_failure_is_reported_in_the_result(llm_server):
    llm_server.script(Reply(status=401, body={"error": {"message": "bad key"}}))
    brain = CognitiveAgent(None, scripted_provider(llm_server), CognitiveConfig(thinking_strategy="single_shot"))
    result = await brain.run("hi")
    assert not result.success and "HTTP 401" in result.error and "'scripted'" in result.error


async def test_run_stream_yields_text_then_result(llm_server):
    llm_server.script(text_stream("Thought: easy.\n", "Final ", "Answer: 7"))
    brain = CognitiveAgent(None, scripted_provider(llm_server), CognitiveConfig(native_tools=False))
    items = [i async for i in brain.run_stream("3+4?")]
    assert [i for i in items if isinstance(i, str)] == ["Thought: easy.\n", "Final ", "Answer: 7"]
    assert isinstance(items[-2], ThoughtStep) and items[-2].reasoning == "easy."
    result = items[-1]
    assert isinstance(result, CognitiveResult) and result.answer == "7" and result.success
    assert llm_server.requests[0].body["stream"] is True


async def test_run_stream_native_mode_without_tools_streams_the_answer(llm_server):
    llm_server.script(text_stream("Hel", "lo"))
    brain = CognitiveAgent(None, scripted_provider(llm_server, supports_tools=True), CognitiveConfig())
    items = [i async for i in brain.run_stream("greet")]
    assert items[:2] == ["Hel", "lo"] and items[-1].answer == "Hello"
    assert "tools" not in llm_server.requests[0].body
