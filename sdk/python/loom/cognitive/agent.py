"""CognitiveAgent: the reasoning loop of a Python agent.

    llm = LLMProvider.from_config(ctx, "deepseek")
    brain = CognitiveAgent(ctx, llm, CognitiveConfig(system_prompt="..."),
                           available_tools=["fs:read", "fs:write"])
    result = await brain.run("Summarise notes.txt into summary.txt")

Tools run in the runtime through ctx.tool (its sandbox applies). The model gets each tool's
JSON Schema; native function calling is used when the provider supports it, the text protocol
of loom.cognitive.protocol otherwise (and as a fallback if the provider rejects `tools`).

Context engineering (loom.context) keeps long runs small: every tool call is reduced to a Step
(Observation.reduced_step, ThoughtStep.reduced_step), long outputs are offloaded to
<workspace>/.loom/cache with a preview shown instead, and past `compact_after_steps` tool steps
the older exchanges are replaced by one compacted summary. The prompt is assembled by a
ContextBuilder from the system prompt, earlier turns, the short/long-term memory items a
ContextRanker finds relevant (TieredMemory, persisted through the runtime store) and the goal.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import tracing as _tracing
from ..context import (
    CompactionConfig,
    ContextBuilder,
    DataOffloader,
    MemoryTier,
    OffloadConfig,
    StepCompactor,
    StepReducer,
    TieredMemory,
    ToolDescriptor,
    ToolParameter,
    ToolRegistry,
    create_default_registry,
    get_default_library,
)
from ..llm.errors import LLMBadRequestError
from ..llm.types import LLMResponse
from ..memory import Memory, fit_messages
from . import protocol
from .config import CognitiveConfig, ThinkingStrategy
from .executor import ToolExecutor
from .tools import PermissionCallback, ToolBox
from .types import CognitiveResult, Observation, ThoughtStep, ToolCall

#: Spans of this module (the reference exposes one per module; a no-op without OpenTelemetry).
tracer = _tracing.get_tracer(__name__)

log = logging.getLogger("loom.cognitive")

StreamItem = str | ThoughtStep | CognitiveResult


@dataclass
class _Segment:
    """One model turn of a run: its messages (the reply, the tool results or the correction)
    and the steps it produced. Compaction replaces whole segments, so a reply carrying
    tool_calls never loses its tool replies."""

    messages: list[dict[str, Any]] = field(default_factory=list)
    steps: list[ThoughtStep] = field(default_factory=list)


class _Run:
    """State of one run: the transcript sent to the model and the result being built."""

    def __init__(self, prefix: list[dict[str, Any]]):
        self.prefix = prefix
        self.segments: list[_Segment] = []
        self.result = CognitiveResult(answer="", success=False)
        self.started = time.monotonic()

    @property
    def scratch(self) -> _Segment:
        """The segment of the current turn (started by new_turn())."""
        if not self.segments:
            self.segments.append(_Segment())
        return self.segments[-1]

    def new_turn(self) -> None:
        self.segments.append(_Segment())

    def append(self, message: dict[str, Any]) -> None:
        self.scratch.messages.append(message)

    def step(self, item: ThoughtStep) -> ThoughtStep:
        self.result.steps.append(item)
        self.scratch.steps.append(item)
        return item


class CognitiveAgent:
    def __init__(self, ctx: Any, llm: Any, config: CognitiveConfig | None = None,
                 available_tools: None | str | Iterable[str] = None,
                 permission_callback: PermissionCallback | None = None,
                 workspace_path: None | str | Path = None,
                 tool_registry: ToolRegistry | None = None,
                 memory: Memory | None = None, *,
                 context_memory: TieredMemory | None = None):
        """`available_tools`: tool names the model may call ("*" for every tool the runtime
        lists; none by default). `permission_callback(name, args, reason) -> bool` (sync or
        async) is asked before each call of a tool that writes or executes: one whose
        descriptor's `loom.kind` metadata is not read/ask, or one named in
        config.guarded_tools (the built-ins, which carry no kind); False refuses the call
        (the runtime's sandbox applies either way). `workspace_path`: where long tool outputs
        are offloaded (<workspace>/.loom/cache; default $LOOM_WORKSPACE, else the working
        directory). `tool_registry`: descriptors (loom.context.ToolRegistry) for tools the
        runtime does not list (default: create_default_registry()). `memory`: earlier turns
        shown to the model and where this run's goal and answer are recorded (a fresh Memory
        by default). `context_memory`: short/long-term items recalled into the prompt (a
        TieredMemory of the same session, persisted when `memory` is)."""
        self.ctx = ctx
        self.llm = llm
        self.config = config or CognitiveConfig()
        self.permission_callback = permission_callback
        self.memory = memory if memory is not None else Memory(
            ctx, max_tokens=max(256, self.config.context_budget_tokens // 2))
        # Context engineering components (reference names).
        self.workspace_path = Path(workspace_path or os.environ.get("LOOM_WORKSPACE") or Path.cwd())
        self.step_reducer = StepReducer()
        self.step_compactor = StepCompactor(CompactionConfig(recent_window=self.config.recent_steps,
                                                             max_compact_steps=self.config.max_compact_steps))
        self.data_offloader = DataOffloader(self.workspace_path, OffloadConfig(
            enabled=self.config.offload_outputs, size_threshold=2048, line_threshold=50))
        self.tool_registry = tool_registry if tool_registry is not None else create_default_registry()
        self.tool_executor = ToolExecutor(ctx, self.step_reducer, self.data_offloader, permission_callback,
                                          guarded=self.config.guarded_tools, timeout_ms=self.config.tool_timeout_ms)
        self.context_memory = context_memory if context_memory is not None else TieredMemory(
            ctx, session_id=self.memory.session_id,
            persist=bool(self.memory.persist and getattr(ctx, "store", None) is not None))
        self._tools = self._toolbox(available_tools)
        self._native_refused = False
        self._strategy_executor: Any = None

    def _toolbox(self, names: None | str | Iterable[str]) -> ToolBox:
        return ToolBox(self.ctx, names, guarded=self.config.guarded_tools,
                       permission_callback=self.permission_callback,
                       timeout_ms=self.config.tool_timeout_ms, max_chars=self.config.max_observation_chars,
                       registry=self.tool_registry)

    @property
    def available_tools(self) -> str | list[str]:
        return self._tools.wanted

    def set_available_tools(self, tools: str | Iterable[str]) -> None:
        self._tools = self._toolbox(tools)
        self._strategy_executor = None

    def register_tool(self, name: str, description: str, parameters: list[Any] | None = None,
                      examples: list[str] | None = None, category: str | None = None) -> None:
        """Describe a tool (ToolParameter objects or their dicts) and make it available.
        The runtime's own listing, when it has one, still wins for schema and description."""
        params = [p if isinstance(p, ToolParameter) else ToolParameter(**p) for p in (parameters or [])]
        self.tool_registry.register(ToolDescriptor(name=name, description=description, parameters=params,
                                                   examples=list(examples or []), category=category))
        wanted = self._tools.wanted
        if wanted != "*" and name not in wanted:
            self._tools = self._toolbox([*wanted, name])
        else:
            self._tools._loaded = False  # pick up the new description on the next run
        self._strategy_executor = None

    async def remember(self, content: str, tier: MemoryTier | str = MemoryTier.LONG_TERM,
                       metadata: dict[str, Any] | None = None) -> Any:
        """Keep an item in context memory (long-term by default; persisted when it is); later
        runs whose goal it is relevant to see it in their prompt."""
        return await self.context_memory.add("system", content, tier, metadata)

    @property
    def strategy_executor(self) -> Any:
        """The reference's prompt-form strategy runner over this agent's parts (for code that
        calls it directly; run() uses the chat loop)."""
        if self._strategy_executor is None:
            from .strategies import StrategyExecutor

            wanted = self._tools.wanted
            self._strategy_executor = StrategyExecutor(self.llm, self.config, self.memory, self.tool_executor,
                                                       self.step_compactor,
                                                       [] if isinstance(wanted, str) else list(wanted),
                                                       self.tool_registry)
        return self._strategy_executor

    # -- public -----------------------------------------------------------------------------

    async def run(self, goal: str, context: list[str] | None = None) -> CognitiveResult:
        """Work on `goal` until a final answer, an error or max_iterations. Never raises for
        model or tool failures: they end up in result.success / result.error."""
        result = None
        async for item in self._loop(goal, context, streaming=False):
            if isinstance(item, CognitiveResult):
                result = item
        assert result is not None
        return result

    async def run_stream(self, goal: str, *, context: list[str] | None = None) -> AsyncIterator[StreamItem]:
        """Like run(), yielding model text fragments (str) and ThoughtSteps as they happen,
        then the CognitiveResult. Strategies other than REACT yield only the result (as in the
        reference: there is nothing to interleave)."""
        streaming = self.config.thinking_strategy == ThinkingStrategy.REACT
        async for item in self._loop(goal, context, streaming=streaming):
            if streaming or isinstance(item, CognitiveResult):
                yield item

    # -- the loop ---------------------------------------------------------------------------

    def _native(self) -> bool:
        if self._native_refused:
            return False
        if self.config.native_tools is not None:
            return self.config.native_tools
        return bool(getattr(self.llm, "supports_tools", False))

    def _goal_message(self, goal: str, context: list[str] | None) -> dict[str, str]:
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

    def _few_shot(self, goal: str) -> str:
        if self.config.few_shot_examples <= 0 or self.config.thinking_strategy != ThinkingStrategy.REACT:
            return ""
        library = get_default_library()
        return library.format_examples(library.get_relevant(goal, self.config.few_shot_examples))

    async def _recalled(self, goal: str) -> list[str]:
        """Short/long-term memory items relevant to `goal` (ranked by the ContextRanker)."""
        if self.config.recall_memories <= 0:
            return []
        try:
            await self.context_memory.ensure_loaded()
        except Exception as e:  # the store being unreachable must not stop the run
            log.warning("loading context memory failed: %s", e)
        found = self.context_memory.recall(goal, tiers=[MemoryTier.SHORT_TERM, MemoryTier.LONG_TERM],
                                           limit=self.config.recall_memories,
                                           max_tokens=self.config.context_budget_tokens // 6)
        return [i.content for i in found]

    async def _prefix(self, goal: str, context: list[str] | None, native: bool) -> list[dict[str, Any]]:
        """System prompt, earlier turns, recalled memory, then the goal (ContextBuilder)."""
        system = await self._system_prompt(native)
        examples = self._few_shot(goal)
        if examples:
            system = f"{system}\n\n{examples}"
        builder = ContextBuilder(max_tokens=self.config.context_budget_tokens).set_system(system)
        builder.add_memory_items(self._history())
        builder.add_retrieved_docs(await self._recalled(goal), prefix="Relevant memory")
        goal_message = self._goal_message(goal, context)
        builder.add_message(goal_message["role"], goal_message["content"])
        return builder.to_messages()

    async def _loop(self, goal: str, context: list[str] | None, *, streaming: bool) -> AsyncIterator[StreamItem]:
        native = self._native()
        self.context_memory.clear(MemoryTier.WORKING)
        try:
            prefix = await self._prefix(goal, context, native)
        except Exception as e:
            run = _Run([])
            run.result.error = f"{type(e).__name__}: {e}"
            yield await self._finish(run, goal, context)
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
        yield await self._finish(run, goal, context)

    async def _think(
        self, run: _Run, streaming: bool, tools: list[dict[str, Any]] | None
    ) -> AsyncIterator[str | LLMResponse]:
        """Call the model on the fitted transcript; stream text when asked; end with the response."""
        messages = fit_messages(run.prefix + self._transcript(run), self.config.context_budget_tokens,
                                keep_head=len(run.prefix))
        kwargs: dict[str, Any] = {"temperature": self.config.temperature}
        if tools:
            kwargs["tools"] = tools
        if not hasattr(self.llm, "chat"):
            # A provider with only the reference's prompt API (generate / generate_stream).
            async for piece in self._think_by_prompt(messages, streaming):
                yield piece
            return
        if not streaming:
            yield await self.llm.chat(messages, **kwargs)
            return
        async for delta in self.llm.stream(messages, **kwargs):
            if delta.response is not None:
                yield delta.response
            elif delta.text:
                yield delta.text

    async def _think_by_prompt(
        self, messages: list[dict[str, Any]], streaming: bool
    ) -> AsyncIterator[str | LLMResponse]:
        system = messages[0]["content"] if messages and messages[0].get("role") == "system" else None
        body = messages[1:] if system is not None else messages
        prompt = "\n\n".join(str(m.get("content") or "") for m in body)
        kwargs: dict[str, Any] = {"system": system, "temperature": self.config.temperature}
        if not streaming or not hasattr(self.llm, "generate_stream"):
            yield LLMResponse(str(await self.llm.generate(prompt, **kwargs)))
            return
        pieces = []
        async for chunk in self.llm.generate_stream(prompt, **kwargs):
            pieces.append(str(chunk))
            yield str(chunk)
        yield LLMResponse("".join(pieces))

    def _transcript(self, run: _Run) -> list[dict[str, Any]]:
        """This run's messages, older tool exchanges compacted (see CognitiveConfig.compaction):
        once more than compact_after_steps tool steps were taken, the segments before the last
        recent_steps tool steps give way to one summary of their reduced Steps."""
        segments = run.segments
        everything = [m for seg in segments for m in seg.messages]
        if not self.config.compaction:
            return everything
        reduced = [st.reduced_step for seg in segments for st in seg.steps if st.reduced_step is not None]
        if len(reduced) <= self.config.compact_after_steps:
            return everything
        kept, cut = 0, len(segments)
        while cut > 0 and kept < self.config.recent_steps:
            cut -= 1
            kept += sum(1 for st in segments[cut].steps if st.reduced_step is not None)
        if cut == 0:
            return everything
        self.step_compactor.config = CompactionConfig(recent_window=kept,
                                                      max_compact_steps=self.config.max_compact_steps,
                                                      group_similar=True)
        history = self.step_compactor.compact(reduced)
        refs = {r.id: r.outcome_ref for r in reduced if r.outcome_ref}
        lines = ["Earlier steps of this task (summarized; their full results are no longer shown):"]
        if history.dropped_count:
            lines.append(f"  ... ({history.dropped_count} earlier steps omitted)")
        for c in history.compact_steps:
            line = f"  {c}"
            if c.id in refs:
                line += f" [full output saved in {refs[c.id]}]"
            lines.append(line)
        summary = {"role": "user", "content": "\n".join(lines)}
        return [summary] + [m for seg in segments[cut:] for m in seg.messages]

    def _observed(self, call: ToolCall, obs: Observation) -> Observation:
        """Reduce (and offload) a tool result, then bound what the model is shown."""
        obs = self.tool_executor.process(call, obs)
        if obs.success:
            obs.output = self._tools.cut(obs.output)
        return obs

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
            run.new_turn()
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

    async def _native_step(self, run: _Run, iteration: int, reply: LLMResponse) -> AsyncIterator[ThoughtStep | None]:
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
            run.append({"role": "user", "content": f"Your last reply was empty ({problem}). "
                                "Call a tool or give your answer."})
            yield run.step(ThoughtStep(iteration, "", malformed=problem))
            return
        run.append(reply.assistant_message())
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
            obs = self._observed(ToolCall(name, args, call.id), obs)
            # Every tool_call id must get a reply, or the next request is invalid.
            run.append({"role": "tool", "tool_call_id": call.id, "content": obs.for_model()})
            yield run.step(ThoughtStep(iteration, reply.content, ToolCall(name, args, call.id), obs,
                                       reduced_step=obs.reduced_step, malformed=call.error))

    async def _text_step(self, run: _Run, iteration: int, reply: LLMResponse) -> AsyncIterator[ThoughtStep | None]:
        parsed = protocol.parse_react_reply(str(reply), final_wins=self.config.stop_on_final_answer)
        run.append({"role": "assistant", "content": str(reply)})
        if parsed.kind == protocol.FINAL:
            run.result.answer, run.result.success = parsed.answer, True
            if parsed.thought:
                yield run.step(ThoughtStep(iteration, parsed.thought))
            yield None
            return
        if parsed.kind == protocol.MALFORMED:
            log.info("malformed model reply (%s); asking again", parsed.problem)
            run.append({"role": "user", "content": protocol.corrective_message(parsed.problem)})
            yield run.step(ThoughtStep(iteration, str(reply), malformed=parsed.problem))
            return
        obs = await self._tools.run(parsed.tool, parsed.args)
        obs = self._observed(ToolCall(obs.tool_name, parsed.args), obs)
        run.append({"role": "user", "content": protocol.observation_message(obs.for_model())})
        yield run.step(ThoughtStep(iteration, parsed.thought, ToolCall(obs.tool_name, parsed.args), obs,
                                   reduced_step=obs.reduced_step))

    async def _record_steps(self, goal: str, result: CognitiveResult) -> None:
        """Reduced steps go to the WORKING tier; a successful ReAct run with tool steps leaves
        a SHORT_TERM episode (goal, outcome, what was done) for later runs to recall."""
        reduced = [s.reduced_step for s in result.steps if s.reduced_step is not None]
        for step in reduced:
            await self.context_memory.add("tool", step.observation, MemoryTier.WORKING,
                                          {"step_id": step.id, "tool": step.tool_name})
        if not (reduced and result.success and result.answer):
            return
        done = "; ".join(r.observation for r in reduced[-10:])
        answer = result.answer if len(result.answer) <= 500 else result.answer[:500] + "..."
        await self.context_memory.add("system", f"Earlier task: {goal}\nOutcome: {answer}\nSteps: {done}",
                                      MemoryTier.SHORT_TERM, {"kind": "episode", "steps": str(len(reduced))})

    @staticmethod
    def _partial_answer(steps: list[ThoughtStep]) -> str:
        """What was learnt when no final answer came (the reference's synthesis)."""
        seen = [f"- {s.observation.output[:500]}" for s in steps if s.observation and s.observation.success]
        if seen:
            return "Based on the gathered information:\n" + "\n".join(seen)
        return steps[-1].reasoning if steps else ""

    async def _finish(self, run: _Run, goal: str, context: list[str] | None = None) -> CognitiveResult:
        result = run.result
        result.total_latency_ms = int((time.monotonic() - run.started) * 1000)
        try:
            await self._record_steps(goal, result)
        except Exception as e:  # the store being unreachable must not hide the answer
            log.warning("recording the run in context memory failed: %s", e)
        try:
            self.memory.add("user", goal)
            for item in context or []:
                self.memory.add("system", f"Context: {item}")
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
