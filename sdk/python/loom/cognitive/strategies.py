"""The reference SDK's strategy runner in prompt form: StrategyExecutor.

It drives a model through `llm.generate(prompt, system=...)` / `llm.generate_stream(...)` with
the prompts of loom.cognitive.loop (history compacted by a StepCompactor once it grows) and runs
tools through a ToolExecutor (offload + reduction). CognitiveAgent has its own chat-message
loop with native tool calling; this class serves code written against the reference's.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from .. import tracing as _tracing
from .loop import (
    build_cot_prompt,
    build_react_prompt,
    build_react_system_prompt,
    parse_react_response,
    synthesize_answer,
)
from .types import CognitiveResult, ThoughtStep, ToolCall

#: Spans of this module (the reference exposes one per module; a no-op without OpenTelemetry).
tracer = _tracing.get_tracer(__name__)

if TYPE_CHECKING:
    from ..context import StepCompactor, ToolRegistry
    from .config import CognitiveConfig
    from .executor import ToolExecutor

StreamItem = str | ThoughtStep | CognitiveResult


class StrategyExecutor:
    def __init__(self, llm: Any, config: CognitiveConfig, memory: Any, tool_executor: ToolExecutor,
                 step_compactor: StepCompactor, available_tools: list[str],
                 tool_registry: ToolRegistry | None = None):
        """`memory`: anything with add(role, content) (WorkingMemory, loom.memory.Memory)."""
        self.llm = llm
        self.config = config
        self.memory = memory
        self.tool_executor = tool_executor
        self.step_compactor = step_compactor
        self.available_tools = available_tools
        self.tool_registry = tool_registry

    async def _ask(self, prompt: str, system: str) -> str:
        return str(await self.llm.generate(prompt=prompt, system=system, temperature=self.config.temperature))

    async def run_single_shot(self, goal: str) -> CognitiveResult:
        answer = await self._ask(goal, self.config.system_prompt or "You are a helpful AI assistant.")
        self.memory.add("assistant", answer)
        return CognitiveResult(answer=answer, iterations=1, success=True)

    async def run_cot(self, goal: str) -> CognitiveResult:
        system = self.config.system_prompt or ("You are a helpful AI assistant. Reason through the task "
                                               "step by step and show your reasoning.")
        answer = await self._ask(build_cot_prompt(goal), system)
        self.memory.add("assistant", answer)
        return CognitiveResult(answer=answer, iterations=1, success=True)

    async def run_react(self, goal: str) -> CognitiveResult:
        result = None
        async for item in self._react(goal, streaming=False):
            if isinstance(item, CognitiveResult):
                result = item
        assert result is not None
        return result

    async def run_react_stream(self, goal: str) -> AsyncIterator[StreamItem]:
        async for item in self._react(goal, streaming=True):
            yield item

    async def _react(self, goal: str, *, streaming: bool) -> AsyncIterator[StreamItem]:
        result = CognitiveResult(answer="", iterations=0)
        system = build_react_system_prompt(self.config.system_prompt, self.available_tools, self.tool_registry)
        for n in range(1, self.config.max_iterations + 1):
            result.iterations = n
            prompt = build_react_prompt(goal, result.steps, compactor=self.step_compactor, use_compaction=True)
            if streaming:
                pieces = []
                async for chunk in self.llm.generate_stream(prompt=prompt, system=system,
                                                            temperature=self.config.temperature):
                    pieces.append(chunk)
                    yield chunk
                reply = "".join(pieces)
            else:
                reply = await self._ask(prompt, system)
            parsed = parse_react_response(reply)
            if parsed["type"] == "final_answer":
                result.answer, result.success = parsed["content"], True
                self.memory.add("assistant", result.answer)
                break
            if parsed["type"] == "tool_call":
                call = ToolCall(parsed["tool"], parsed.get("args") or {})
                obs = await self.tool_executor.execute_tool(call)
                step = ThoughtStep(n, parsed.get("thought", ""), call, obs, reduced_step=obs.reduced_step)
                self.memory.add("assistant", f"Thought: {step.reasoning}\nAction: {call.name}")
                ref = obs.reduced_step.outcome_ref if obs.reduced_step is not None else None
                shown = f"(Data saved to {ref})" if ref else (obs.output if obs.success else obs.error)
                self.memory.add("system", f"Observation: {shown}")
            else:
                step = ThoughtStep(n, parsed.get("content", reply))
                self.memory.add("assistant", f"Thought: {step.reasoning}")
            result.steps.append(step)
            if streaming:
                yield step
        if not result.answer:
            result.answer = synthesize_answer(result.steps)
            result.success = bool(result.answer)
        yield result


__all__ = ["StrategyExecutor"]
