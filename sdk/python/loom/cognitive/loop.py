"""The reference SDK's prompt-level ReAct helpers (pure functions): prompts built from the goal
and the steps so far (compacted once they grow), and the parsing of a model reply.

CognitiveAgent itself talks to the model in chat messages; these functions serve the prompt
form (StrategyExecutor, and code written for the reference). Parsing goes through this SDK's
lenient parser (loom.cognitive.protocol).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from . import protocol

if TYPE_CHECKING:
    from ..context import StepCompactor, ToolRegistry
    from .types import ThoughtStep

#: Steps beyond which build_react_prompt summarises the older ones.
COMPACT_AFTER_STEPS = 5
#: Steps kept whole once compacting, and summary lines kept at most.
RECENT_STEPS = 3
MAX_COMPACT_STEPS = 10

_RULES = """Work in ReAct steps (reason, then act):
- Thought: say what you know and what you need next.
- Action: to use a tool, write one JSON object {"tool": "<tool name>", "args": {...}} and stop there.
- The system answers with the real Observation. Never write an Observation yourself and never
  guess what a tool would return.
- One thought and at most one action per reply.
- Once you know enough, reply with a line starting FINAL ANSWER: followed by the complete answer."""


def build_react_system_prompt(base_prompt: str | None, available_tools: list[str],
                              tool_registry: ToolRegistry | None = None) -> str:
    """The ReAct system prompt: the base prompt, the rules, and the tools (from the registry,
    grouped by category, when one is given; else their names)."""
    base = base_prompt or "You are a helpful AI assistant."
    tools = ""
    if available_tools:
        if tool_registry is not None:
            listing = tool_registry.format_for_prompt(tool_names=list(available_tools), detailed=False,
                                                      group_by_category=True)
            tools = "\n\nAvailable tools:\n" + listing
        else:
            tools = "\n\nAvailable tools: " + ", ".join(available_tools)
    return f"{base}\n\n{_RULES}\n{tools}"


def _step_lines(step: ThoughtStep, offload_refs: bool) -> list[str]:
    out = [f"\nThought {step.step}: {step.reasoning}"]
    if step.tool_call is not None:
        out.append(f"Action: {step.tool_call.name}({step.tool_call.arguments})")
    obs = step.observation
    if obs is not None:
        if not obs.success:
            out.append(f"Observation: Error - {obs.error}")
        elif offload_refs and step.reduced_step is not None and step.reduced_step.outcome_ref:
            out.append(f"Observation: (See {step.reduced_step.outcome_ref})")
        else:
            out.append(f"Observation: {obs.output}")
    return out


def build_react_prompt(goal: str, steps: list[ThoughtStep], compactor: StepCompactor | None = None,
                       use_compaction: bool = True) -> str:
    """The prompt of the next ReAct iteration. Past COMPACT_AFTER_STEPS steps, with a
    compactor, older steps appear as summary lines (from their reduced Steps) and only the
    last few in full, offloaded outputs by their file path."""
    parts = [f"Goal: {goal}"]
    if not steps:
        parts.append("\nWhat is your first thought or action?")
        return "\n".join(parts)
    reduced = [s.reduced_step for s in steps if s.reduced_step is not None]
    if use_compaction and compactor is not None and len(steps) > COMPACT_AFTER_STEPS and reduced:
        from ..context import CompactionConfig

        compactor.config = CompactionConfig(recent_window=RECENT_STEPS, max_compact_steps=MAX_COMPACT_STEPS,
                                            group_similar=True)
        history = compactor.compact(reduced)
        if history.compact_steps:
            parts.append("\nPrevious actions (summarized):")
            parts += [f"  {c}" for c in history.compact_steps]
            if history.dropped_count:
                parts.append(f"  ... ({history.dropped_count} earlier steps omitted)")
        if history.recent_steps:
            parts.append("\nRecent steps (detailed):")
            for step in steps[len(steps) - len(history.recent_steps):]:
                parts += _step_lines(step, offload_refs=True)
    else:
        parts.append("\nPrevious steps:")
        for step in steps:
            parts += _step_lines(step, offload_refs=False)
    parts.append("\nWhat is your next thought or final answer?")
    return "\n".join(parts)


def build_cot_prompt(goal: str) -> str:
    return (f"Task: {goal}\n\nLet's think through this step by step:\n"
            "1. First, I'll identify what we need to do\n"
            "2. Then, I'll work through the logic\n"
            "3. Finally, I'll provide the answer\n\nBegin:")


def parse_react_response(response: str) -> dict[str, Any]:
    """{"type": "final_answer", "content"} | {"type": "tool_call", "thought", "tool", "args"}
    | {"type": "reasoning", "content"} for one model reply. An action written before a final
    answer wins (the model went on to imagine the result); invented observations are cut."""
    parsed = protocol.parse_react_reply(response or "")
    if parsed.kind == protocol.FINAL:
        return {"type": "final_answer", "content": parsed.answer}
    if parsed.kind == protocol.ACTION:
        return {"type": "tool_call", "thought": parsed.thought, "tool": parsed.tool, "args": parsed.args}
    text = re.sub(r"^\s*Thought\s*\d*:\s*", "", (response or "").strip(), flags=re.IGNORECASE)
    return {"type": "reasoning", "content": text}


def extract_tool_call(text: str) -> dict[str, Any] | None:
    """{"tool", "args"} of the tool call in `text` (JSON {"tool"/"action"/"name": ...,
    "args"/"arguments"/"input": {...}}, `Action: name({...})` or `Action:` + `Action Input:`);
    None if there is none."""
    parsed = protocol.parse_react_reply(text or "", final_wins=False)
    if parsed.kind != protocol.ACTION:
        return None
    return {"tool": parsed.tool, "args": parsed.args}


def synthesize_answer(steps: list[ThoughtStep]) -> str:
    """An answer from what the steps learnt, when the model gave none: the successful
    observations (500 characters each), else the last reasoning."""
    seen = [f"- {s.observation.output[:500]}" for s in steps if s.observation is not None and s.observation.success]
    if seen:
        return "Based on the gathered information:\n" + "\n".join(seen)
    return steps[-1].reasoning if steps else ""


__all__ = ["build_react_system_prompt", "build_react_prompt", "build_cot_prompt", "parse_react_response",
           "extract_tool_call", "synthesize_answer"]
