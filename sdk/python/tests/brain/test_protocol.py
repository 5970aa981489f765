"""Pure parsing and prompt building of the text protocol (no ctx, no network)."""

from __future__ import annotations

import pytest

from loom.cognitive import CognitiveConfig, ThinkingStrategy
from loom.cognitive.protocol import (
    ACTION,
    FINAL,
    MALFORMED,
    describe_tools,
    extract_json_object,
    parse_react_reply,
    react_system_prompt,
    split_final_answer,
)


@pytest.mark.parametrize("reply, tool, args", [
    ('Thought: write it\nAction: fs:write\nAction Input: {"path": "a.txt", "content": "hi"}', "fs:write",
     {"path": "a.txt", "content": "hi"}),
    # A hallucinated observation (and whatever follows) is ignored.
    ('Thought: t\nAction: fs:read\nAction Input: {"path": "a"}\nObservation: made up\nFinal Answer: wrong', "fs:read",
     {"path": "a"}),
    ('Action: fs:read({"path": "a"})', "fs:read", {"path": "a"}),
    ('**Action:** `fs:read`\n**Action Input:** ```json\n{"path": "a",}\n```', "fs:read", {"path": "a"}),
    ("Action: fs:read\nAction Input: {'path': 'a', 'follow': True}", "fs:read", {"path": "a", "follow": True}),
    ('I will call {"tool": "weather:get", "args": {"city": "Oslo"}}', "weather:get", {"city": "Oslo"}),
    ("Thought: list\nAction: fs:list", "fs:list", {}),
])
def test_actions_are_recovered_from_common_shapes(reply, tool, args):
    parsed = parse_react_reply(reply)
    assert (parsed.kind, parsed.tool, parsed.args) == (ACTION, tool, args)


def test_final_answer_and_its_thought():
    parsed = parse_react_reply("Thought: I know it.\nFinal Answer: 42\nsecond line")
    assert (parsed.kind, parsed.thought, parsed.answer) == (FINAL, "I know it.", "42\nsecond line")


@pytest.mark.parametrize("reply, problem", [
    ("", "empty"),
    ("just chatting", "neither an 'Action:' line nor a 'Final Answer:'"),
    ('Action: fs:read\nAction Input: {"path": ', "not closed"),
    ("Action: fs:read\nAction Input: {path: a}", "not a usable JSON object"),
    ("Final Answer:   ", "without an answer"),
    ('Action: fs:read\nAction Input: ["a"]', "no JSON object"),
])
def test_malformed_replies_say_why(reply, problem):
    parsed = parse_react_reply(reply)
    assert parsed.kind == MALFORMED and problem in parsed.problem


def test_extract_json_object_ignores_braces_inside_strings():
    obj, err = extract_json_object('x {"code": "if (a) { b(); }", "n": 1} y')
    assert err is None and obj == {"code": "if (a) { b(); }", "n": 1}


def test_react_prompt_carries_tool_schemas():
    block = describe_tools([("fs:write", "Write a file", {"type": "object", "required": ["path"]})])
    prompt = react_system_prompt("You are careful.", block)
    assert prompt.startswith("You are careful.")
    assert '- fs:write: Write a file' in prompt and '"required":["path"]' in prompt
    assert "Action Input:" in prompt and "Final Answer:" in prompt


def test_chain_of_thought_split():
    assert split_final_answer("Step 1: a\nStep 2: b\nFinal Answer: c") == ("Step 1: a\nStep 2: b", "c")
    assert split_final_answer("no marker") == ("", "no marker")


def test_config_accepts_strategy_names_and_rejects_nonsense():
    assert CognitiveConfig(thinking_strategy="chain-of-thought").thinking_strategy is ThinkingStrategy.CHAIN_OF_THOUGHT
    with pytest.raises(ValueError, match="Unknown thinking_strategy"):
        CognitiveConfig(thinking_strategy="vibes")
    with pytest.raises(ValueError, match="max_iterations"):
        CognitiveConfig(max_iterations=0)
