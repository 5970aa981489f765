"""CognitiveAgent: the reasoning loop of a Python agent.

    llm = LLMProvider.from_config(ctx, "deepseek")
    brain = CognitiveAgent(ctx, llm, CognitiveConfig(system_prompt="..."),
                           available_tools=["fs:read", "fs:write"])
    result = await brain.run("Summarise notes.txt into summary.txt")

Tools run in the runtime through ctx.tool (its sandbox applies). The model gets each tool's
JSON Schema; native function calling is used when the provider supports it, the text protocol
of loom.cognitive.protocol otherwise (and as a fallback if the provider rejects `tools`).
"""

from __future__ import annotations

import logging
import time
from typing import Any, AsyncIterator, Iterable, Optional, Union

from ..llm.errors import LLMBadRequestError
from ..llm.types import LLMResponse
from ..memory import Memory, fit_messages
from . import protocol
from .config import CognitiveConfig, ThinkingStrategy
from .tools import PermissionCallback, ToolBox
from .types import CognitiveResult, Observation, ThoughtStep, ToolCall

log = logging.getLogger("loom.cognitive")

StreamItem = Union[str, ThoughtStep, CognitiveResult]


class _Run:
    """State of one run: the transcript sent to the model and the result being built."""

    def __init__(self, prefix: list[dict[str, Any]]):
        self.prefix = prefix
        self.scratch: list[dict[str, Any]] = []
        self.result = CognitiveResult(answer="", success=False)
        self.started = time.monotonic()

    def messages(self) -> list[dict[str, Any]]:
        return self.prefix + self.scratch

    def step(self, item: ThoughtStep) -> ThoughtStep:
        self.result.steps.append(item)
        return item


class CognitiveAgent:
    def __init__(self, ctx: Any, llm: Any, config: Optional[CognitiveConfig] = None,
                 available_tools: Union[None, str, Iterable[str]] = None,
                 permission_callback: Optional[PermissionCallback] = None,
                 memory: Optional[Memory] = None):
        """`available_tools`: tool names the model may call ("*" for every tool the runtime
        lists; none by default). `permission_callback(name, args, reason) -> bool` (sync or
        async) is asked before each call of a tool that writes or executes: one whose
        descriptor's `loom.kind` metadata is not read/ask, or one named in
        config.guarded_tools (the built-ins, which carry no kind); False refuses the call
        (the runtime's sandbox applies either way). `memory`: earlier turns shown to the model
        and where this run's goal and answer are recorded (a fresh Memory by default)."""
        self.ctx = ctx
        self.llm = llm
        self.config = config or CognitiveConfig()
        self.permission_callback = permission_callback
        self.memory = memory if memory is not None else Memory(
            ctx, max_tokens=max(256, self.config.context_budget_tokens // 2))
        self._tools = self._toolbox(available_tools)
        self._native_refused = False

    def _toolbox(self, names: Union[None, str, Iterable[str]]) -> ToolBox:
        return ToolBox(self.ctx, names, guarded=self.config.guarded_tools,
                       permission_callback=self.permission_callback,
                       timeout_ms=self.config.tool_timeout_ms, max_chars=self.config.max_observation_chars)

    @property
    def available_tools(self) -> Union[str, list[str]]:
        return self._tools.wanted

    def set_available_tools(self, tools: Union[str, Iterable[str]]) -> None:
        self._tools = self._toolbox(tools)

    # -- public -----------------------------------------------------------------------------

    async def run(self, goal: str, context: Optional[list[str]] = None) -> CognitiveResult:
        """Work on `goal` until a final answer, an error or max_iterations. Never raises for
        model or tool failures: they end up in result.success / result.error."""
        result = None
        async for item in self._loop(goal, context, streaming=False):
            if isinstance(item, CognitiveResult):
                result = item
        assert result is not None
        return result

    async def run_stream(self, goal: str, *, context: Optional[list[str]] = None) -> AsyncIterator[StreamItem]:
        """Like run(), yielding model text fragments (str) and ThoughtSteps as they happen,
        then the CognitiveResult."""
        async for item in self._loop(goal, context, streaming=True):
            yield item

    # -- the loop ---------------------------------------------------------------------------

    def _native(self) -> bool:
        if self._native_refused:
            return False
        if self.config.native_tools is not None:
            return self.config.native_tools
        return bool(getattr(self.llm, "supports_tools", False))

    def _goal_message(self, goal: str, context: Optional[list[str]]) -> dict[str, str]:
        if context:
            goal = goal + "\n\nContext:\n" + "\n".join(f"- {c}" for c in context)
        return {"role": "user", "content": goal}

    def _history(self) -> list[dict[str, str]]:
        if self.config.history_turns <= 0:
            return []
        recent = self.memory.to_messages(self.config.context_budget_tokens // 3)
        return recent[-self.config.history_turns:]

    async def _system_prompt(self, native: bool) -> str:
        strategy = self.config.thinking_strategy
        if strategy == ThinkingStrategy.SINGLE_SHOT:
            return self.config.system_prompt or "You are a helpful AI assistant."
        if strategy == ThinkingStrategy.CHAIN_OF_THOUGHT:
            return protocol.cot_system_prompt(self.config.system_prompt)
        await self._tools.load()
        if native:
            return self.config.system_prompt or "You are a helpful AI assistant. Use the tools when they help."
        return protocol.react_system_prompt(self.config.system_prompt,
                                            protocol.describe_tools(self._tools.described()))

    async def _loop(self, goal: str, context: Optional[list[str]], *, streaming: bool) -> AsyncIterator[StreamItem]:
        native = self._native()
        try:
            prefix = [{"role": "system", "content": await self._system_prompt(native)},
                      *self._history(), self._goal_message(goal, context)]
        except Exception as e:
            run = _Run([])
            run.result.error = f"{type(e).__name__}: {e}"
            yield await self._finish(run, goal)
            return
        run = _Run(prefix)
        try:
            if self.config.thinking_strategy == ThinkingStrategy.REACT:
                async for item in self._react(run, native, streaming):
                    yield item
            else:
                async for item in self._one_call(run, streaming):
                    yield item
        except Exception as e:  # LLM failures (already retried) and anything unexpected
            log.warning("cognitive run failed: %s", e)
            run.result.success = False
            run.result.error = str(e)
        yield await self._finish(run, goal)

    async def _think(self, run: _Run, streaming: bool, tools: Optional[list[dict[str, Any]]]) -> AsyncIterator[Union[str, LLMResponse]]:
        """Call the model on the fitted transcript; stream text when asked; end with the response."""
        messages = fit_messages(run.messages(), self.config.context_budget_tokens, keep_head=len(run.prefix))
        kwargs: dict[str, Any] = {"temperature": self.config.temperature}
        if tools:
            kwargs["tools"] = tools
        if not streaming:
            yield await self.llm.chat(messages, **kwargs)
            return
        async for delta in self.llm.stream(messages, **kwargs):
            if delta.response is not None:
                yield delta.response
            elif delta.text:
                yield delta.text

    async def _one_call(self, run: _Run, streaming: bool) -> AsyncIterator[StreamItem]:
        run.result.iterations = 1
        reply = None
        async for piece in self._think(run, streaming, None):
            if isinstance(piece, LLMResponse):
                reply = piece
            else:
                yield piece
        text = str(reply or "")
        if self.config.thinking_strategy == ThinkingStrategy.CHAIN_OF_THOUGHT:
            reasoning, answer = protocol.split_final_answer(text)
            if reasoning:
                yield run.step(ThoughtStep(1, reasoning))
        else:
            answer = text.strip()
        run.result.answer = answer
        run.result.success = bool(answer)
        if not answer:
            run.result.error = "the model returned an empty reply"

    async def _react(self, run: _Run, native: bool, streaming: bool) -> AsyncIterator[StreamItem]:
        iteration = 0
        while iteration < self.config.max_iterations:
            iteration += 1
            run.result.iterations = iteration
            tools = self._tools.specs() if native and self._tools.entries else None
            reply = None
            try:
                async for piece in self._think(run, streaming, tools):
                    if isinstance(piece, LLMResponse):
                        reply = piece
                    else:
                        yield piece
            except LLMBadRequestError as e:
                if not tools:
                    raise
                # The endpoint refuses function calling: carry on with the text protocol.
                log.warning("provider '%s' rejected native tools (%s); using the text protocol",
                            getattr(self.llm, "name", "?"), e.reason)
                self._native_refused, native = True, False
                run.prefix[0] = {"role": "system", "content": await self._system_prompt(False)}
                iteration -= 1
                continue
            assert reply is not None
            step_items = self._native_step if native else self._text_step
            done = False
            async for item in step_items(run, iteration, reply):
                if item is None:
                    done = True
                else:
                    yield item
            if done:
                return
        run.result.success = False
        run.result.error = f"no final answer after {self.config.max_iterations} iterations"
        run.result.answer = self._partial_answer(run.result.steps)

    async def _native_step(self, run: _Run, iteration: int, reply: LLMResponse) -> AsyncIterator[Optional[ThoughtStep]]:
        """Yields steps; yields None when the run has its final answer."""
        if reply.tool_calls and self.config.stop_on_final_answer:
            parsed = protocol.parse_react_reply(reply.content)
            if parsed.kind == protocol.FINAL:
                # The model answered and asked for tools at once: the answer ends the run.
                run.result.answer, run.result.success = parsed.answer, True
                yield None
                return
        if not reply.tool_calls:
            parsed = protocol.parse_react_reply(reply.content, final_wins=self.config.stop_on_final_answer)
            if parsed.kind == protocol.ACTION and self._tools.resolve(parsed.tool):
                # Some models with function calling still write a text-protocol action.
                async for item in self._text_step(run, iteration, reply):
                    yield item
                return
            if reply.content.strip():
                answer = parsed.answer if parsed.kind == protocol.FINAL else reply.content.strip()
                run.result.answer, run.result.success = answer, True
                yield None
                return
            problem = "the reply had neither text nor tool calls"
            run.scratch.append({"role": "user", "content": f"Your last reply was empty ({problem}). "
                                "Call a tool or give your answer."})
            yield run.step(ThoughtStep(iteration, "", malformed=problem))
            return
        run.scratch.append(reply.assistant_message())
        for i, call in enumerate(reply.tool_calls):
            entry = self._tools.resolve(call.name)
            name = entry.name if entry else call.name
            args = call.arguments or {}
            if i >= self.config.max_tools_per_step:
                obs = Observation(name, False, "", f"not run: at most {self.config.max_tools_per_step} "
                                  "tool calls per step; call it again in the next step")
            elif call.error:
                obs = Observation(name, False, "", f"not run: {call.error}")
            else:
                obs = await self._tools.run(call.name, args)
            # Every tool_call id must get a reply, or the next request is invalid.
            run.scratch.append({"role": "tool", "tool_call_id": call.id, "content": obs.for_model()})
            yield run.step(ThoughtStep(iteration, reply.content, ToolCall(name, args, call.id), obs,
                                       malformed=call.error))

    async def _text_step(self, run: _Run, iteration: int, reply: LLMResponse) -> AsyncIterator[Optional[ThoughtStep]]:
        parsed = protocol.parse_react_reply(str(reply), final_wins=self.config.stop_on_final_answer)
        run.scratch.append({"role": "assistant", "content": str(reply)})
        if parsed.kind == protocol.FINAL:
            run.result.answer, run.result.success = parsed.answer, True
            if parsed.thought:
                yield run.step(ThoughtStep(iteration, parsed.thought))
            yield None
            return
        if parsed.kind == protocol.MALFORMED:
            log.info("malformed model reply (%s); asking again", parsed.problem)
            run.scratch.append({"role": "user", "content": protocol.corrective_message(parsed.problem)})
            yield run.step(ThoughtStep(iteration, str(reply), malformed=parsed.problem))
            return
        obs = await self._tools.run(parsed.tool, parsed.args)
        run.scratch.append({"role": "user", "content": protocol.observation_message(obs.for_model())})
        yield run.step(ThoughtStep(iteration, parsed.thought, ToolCall(obs.tool_name, parsed.args), obs))

    @staticmethod
    def _partial_answer(steps: list[ThoughtStep]) -> str:
        """What was learnt when no final answer came (the reference's synthesis)."""
        seen = [f"- {s.observation.output[:500]}" for s in steps if s.observation and s.observation.success]
        if seen:
            return "Based on the gathered information:\n" + "\n".join(seen)
        return steps[-1].reasoning if steps else ""

    async def _finish(self, run: _Run, goal: str) -> CognitiveResult:
        result = run.result
        result.total_latency_ms = int((time.monotonic() - run.started) * 1000)
        try:
            self.memory.add("user", goal)
            if result.success:
                self.memory.add("assistant", result.answer)
            if self.memory.summarizer is not None:
                await self.memory.compact()
            if self.memory.persist:
                await self.memory.flush()
        except Exception as e:  # memory trouble must not hide the answer
            log.warning("recording the run in memory failed: %s", e)
        return result


__all__ = ["CognitiveAgent"]
