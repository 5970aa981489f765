"""The text protocol for models without native tool calling (pure functions).

The model is asked to answer in one of two shapes:

    Thought: <reasoning>
    Action: <tool name>
    Action Input: <JSON object>

    Thought: <reasoning>
    Final Answer: <answer>

Parsing is lenient where models commonly stray (code fences, single quotes, trailing commas,
Python literals, `Action: tool({...})`, the reference's `{"tool": ..., "args": ...}` JSON,
a hallucinated `Observation:` after the action) and reports anything else as malformed with
a reason the loop sends back to the model.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

ACTION = "action"
FINAL = "final"
MALFORMED = "malformed"


@dataclass
class Parsed:
    kind: str
    thought: str = ""
    answer: str = ""
    tool: str = ""
    args: dict[str, Any] = field(default_factory=dict)
    problem: str = ""


def describe_tools(tools: Iterable[tuple[str, str, dict[str, Any]]]) -> str:
    """One block per tool: name, description, JSON Schema of its arguments."""
    lines = []
    for name, description, schema in tools:
        lines.append(f"- {name}: {description or '(no description)'}\n"
                     f"  Arguments (JSON Schema): {json.dumps(schema, separators=(',', ':'), sort_keys=True)}")
    return "\n".join(lines)


def react_system_prompt(base: str | None, tool_block: str) -> str:
    base = base or "You are a helpful AI assistant."
    tools = (f"You can use these tools:\n{tool_block}" if tool_block
             else "No tools are available; answer from what you know.")
    return f"""{base}

{tools}

Work in steps. To use a tool, reply with exactly these three lines and then stop:
Thought: <your reasoning>
Action: <tool name>
Action Input: <a JSON object with the arguments>

The system then replies with "Observation: <the tool's result>". Never write an Observation yourself.
When you can answer, reply:
Thought: <your reasoning>
Final Answer: <your complete answer>"""


def cot_system_prompt(base: str | None) -> str:
    base = base or "You are a helpful AI assistant."
    return (f"{base}\n\nThink through the problem step by step, showing your reasoning. "
            "End with a line that starts with 'Final Answer:' followed by the answer.")


def corrective_message(problem: str) -> str:
    return (f"Your last reply could not be used: {problem}. Reply again in the required format: either\n"
            "Thought: ...\nAction: <tool name>\nAction Input: {\"arg\": \"value\"}\n"
            "or\nThought: ...\nFinal Answer: <answer>")


def observation_message(text: str) -> str:
    return f"Observation: {text}"


_FENCE = re.compile(r"```(?:json|JSON)?\s*(.*?)```", re.DOTALL)
_TRAILING_COMMA = re.compile(r",\s*([}\]])")
_PY_LITERALS = {"True": "true", "False": "false", "None": "null"}


def _balanced_object(text: str, start: int) -> str | None:
    """The {...} starting at `start`, braces matched outside JSON strings; None if unclosed."""
    depth, in_str, quote, escaped = 0, False, "", False
    for i in range(start, len(text)):
        ch = text[i]
        if in_str:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == quote:
                in_str = False
        elif ch in "\"'":
            in_str, quote = True, ch
        elif ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return text[start:i + 1]
    return None


def _repairs(candidate: str) -> Iterable[str]:
    yield candidate
    fixed = _TRAILING_COMMA.sub(r"\1", candidate)
    fixed = re.sub(r"\b(True|False|None)\b", lambda m: _PY_LITERALS[m.group(1)], fixed)
    yield fixed
    if '"' not in fixed:
        yield fixed.replace("'", '"')


def extract_json_object(text: str) -> tuple[dict[str, Any] | None, str | None]:
    """The first JSON object in text (fences stripped, common slips repaired) or (None, why)."""
    fence = _FENCE.search(text)
    if fence:
        text = fence.group(1)
    start = text.find("{")
    if start < 0:
        return None, "no JSON object found"
    candidate = _balanced_object(text, start)
    if candidate is None:
        return None, "the JSON object is not closed (unbalanced braces)"
    error = ""
    for attempt in _repairs(candidate):
        try:
            value = json.loads(attempt)
        except json.JSONDecodeError as e:
            error = error or f"{e.msg} at position {e.pos}"
            continue
        if isinstance(value, dict):
            return value, None
        return None, "expected a JSON object"
    return None, f"invalid JSON ({error})"


_OBSERVATION = re.compile(r"\n\s*[*_]*Observation\s*[*_]*\s*:", re.IGNORECASE)
_FINAL = re.compile(r"[*_#]*\s*final[\s_]+answer\s*[*_]*\s*:\s*", re.IGNORECASE)
_ACTION = re.compile(r"^[ \t*_#]*action(?![ \t]*input)[ \t]*[*_]*[ \t]*:[ \t]*(.*)$", re.IGNORECASE | re.MULTILINE)
_ACTION_INPUT = re.compile(r"^[ \t*_#]*action[ \t]*input[ \t]*[*_]*[ \t]*:", re.IGNORECASE | re.MULTILINE)
_THOUGHT_PREFIX = re.compile(r"^\s*[*_#]*\s*thought\s*\d*\s*[*_]*\s*:\s*", re.IGNORECASE)
_NAME_JUNK = "`'\"*[]<> \t"


def _thought(text: str) -> str:
    return _THOUGHT_PREFIX.sub("", re.sub(r"```\w*", "", text).strip()).strip()


def _json_tool_call(text: str) -> Parsed | None:
    obj, _ = extract_json_object(text)
    if not obj:
        return None
    name = obj.get("tool") or obj.get("action") or obj.get("name")
    if not isinstance(name, str) or not name.strip():
        return None
    args = obj.get("args") or obj.get("arguments") or obj.get("input") or obj.get("action_input") or {}
    if isinstance(args, str):
        args, _ = extract_json_object(args)
    if not isinstance(args, dict):
        return Parsed(MALFORMED, problem=f"the arguments of {name!r} must be a JSON object")
    return Parsed(ACTION, thought=_thought(text[:text.find("{")]), tool=name.strip(), args=args)


def parse_react_reply(reply: str, *, final_wins: bool = True) -> Parsed:
    """Classify one model reply as an action, a final answer, or malformed (with why).

    A reply holding both: an Action written before the Final Answer always wins (the model
    went on to imagine the tool's result). A Final Answer written first wins when
    `final_wins`; otherwise any Action in the reply does, so the answer waits for the tool."""
    text = (reply or "").strip()
    if not text:
        return Parsed(MALFORMED, problem="the reply was empty")
    obs = _OBSERVATION.search(text)
    if obs:
        text = text[:obs.start()].rstrip()  # the model invented a result: ignore it and what follows
    final = _FINAL.search(text)
    action = _ACTION.search(text)
    if final and (action is None or (final_wins and final.start() < action.start())):
        # An Action the model wrote after its answer is not part of the answer.
        answer = text[final.end():action.start() if action else len(text)].strip()
        if not answer:
            return Parsed(MALFORMED, problem="'Final Answer:' was given without an answer")
        return Parsed(FINAL, thought=_thought(text[:final.start()]), answer=answer)
    if action:
        return _parse_action(text, action)
    as_json = _json_tool_call(text)
    if as_json:
        return as_json
    return Parsed(MALFORMED, problem="it has neither an 'Action:' line nor a 'Final Answer:'")


def _parse_action(text: str, action: re.Match[str]) -> Parsed:
    thought = _thought(text[:action.start()])
    line = action.group(1).strip()
    rest = text[action.end():]
    call_style = re.match(r"([\w.:/-]+)\s*\((.*)\)\s*$", line, re.DOTALL)
    if call_style:  # Action: fs:read({"path": "a"})
        name, inside = call_style.group(1), call_style.group(2)
        args, why = extract_json_object(inside) if inside.strip() else ({}, None)
    else:
        name = line.strip(_NAME_JUNK)
        if name.startswith("{"):  # Action: {"tool": ..., "args": ...}
            parsed = _json_tool_call(line + rest)
            return parsed or Parsed(MALFORMED, problem="the Action line holds JSON without a tool name")
        marker = _ACTION_INPUT.search(rest)
        if marker:
            args, why = extract_json_object(rest[marker.end():])
            if args is None and not rest[marker.end():].strip():
                args, why = {}, None
        else:
            args, why = ({}, None) if "{" not in rest else extract_json_object(rest)
    if not name:
        return Parsed(MALFORMED, problem="'Action:' names no tool")
    if args is None:
        return Parsed(MALFORMED, problem=f"the Action Input for {name!r} is not a usable JSON object: {why}")
    return Parsed(ACTION, thought=thought, tool=name, args=args)


def split_final_answer(text: str) -> tuple[str, str]:
    """(reasoning, answer) of a chain-of-thought reply; the whole text when no marker."""
    matches = list(_FINAL.finditer(text or ""))
    if not matches:
        return "", (text or "").strip()
    last = matches[-1]
    answer = text[last.end():].strip()
    return _thought(text[:last.start()]), answer or text.strip()


__all__ = ["Parsed", "ACTION", "FINAL", "MALFORMED", "describe_tools", "react_system_prompt",
           "cot_system_prompt", "corrective_message", "observation_message", "extract_json_object",
           "parse_react_reply", "split_final_answer"]
