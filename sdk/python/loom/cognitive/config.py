"""How a CognitiveAgent thinks: strategy and limits."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class ThinkingStrategy(Enum):
    """SINGLE_SHOT: one call, no tools. REACT: Thought → Action → Observation until a final
    answer, with tools. CHAIN_OF_THOUGHT: one call that reasons step by step, no tools."""

    SINGLE_SHOT = "single_shot"
    REACT = "react"
    CHAIN_OF_THOUGHT = "cot"


_STRATEGY_NAMES = {
    "react": ThinkingStrategy.REACT,
    "single_shot": ThinkingStrategy.SINGLE_SHOT, "single-shot": ThinkingStrategy.SINGLE_SHOT,
    "singleshot": ThinkingStrategy.SINGLE_SHOT,
    "cot": ThinkingStrategy.CHAIN_OF_THOUGHT, "chain_of_thought": ThinkingStrategy.CHAIN_OF_THOUGHT,
    "chain-of-thought": ThinkingStrategy.CHAIN_OF_THOUGHT,
}

#: The runtime's tools that write or execute and carry no `loom.kind` metadata (the built-ins),
#: plus the editor's, so guarding holds even where the metadata is missing. Tools with metadata
#: are guarded by it (see loom.cognitive.tools.needs_permission).
DEFAULT_GUARDED_TOOLS = frozenset({
    "fs:write", "fs:write_file", "fs:delete", "system:shell",
    "editor:insert", "editor:replace", "clipboard:write",
})


@dataclass
class CognitiveConfig:
    """Settings of the reasoning loop (field names and defaults follow the reference)."""

    system_prompt: str | None = None
    #: A ThinkingStrategy or one of its names ("react", "cot", ...); a ThinkingStrategy after __post_init__.
    thinking_strategy: ThinkingStrategy | str = ThinkingStrategy.REACT
    max_iterations: int = 10
    max_tools_per_step: int = 3
    temperature: float = 0.7
    #: True: a reply that gives a "Final Answer:" ends the run even if it also asks for a tool
    #: (an Action after the answer, or native tool calls beside it); the tool is not run.
    #: False: a reply that asks for a tool never ends the run; the tool runs and the model
    #: answers again after seeing the result. (An Action written before the answer always
    #: runs: the model was imagining the tool's result.)
    stop_on_final_answer: bool = True
    #: None: native tool calling when the provider supports it; False: always the text protocol.
    native_tools: bool | None = None
    tool_timeout_ms: int = 30000
    #: Tool outputs longer than this are cut before they go back to the model.
    max_observation_chars: int = 4000
    #: Token budget of the prompt (system + history + this run); oldest parts give way first.
    context_budget_tokens: int = 12000
    #: How many earlier turns from memory to show the model (0: none).
    history_turns: int = 10
    guarded_tools: frozenset[str] = field(default_factory=lambda: DEFAULT_GUARDED_TOOLS)
    # -- context engineering (loom.context) --
    #: Write tool outputs over the offload thresholds (2 KB or 50 lines) to
    #: <workspace>/.loom/cache and show the model a preview and the file's path.
    offload_outputs: bool = True
    #: Once a run has more than `compact_after_steps` tool steps, the older ones are shown to the
    #: model as one summary (their reduced Steps, grouped), the last `recent_steps` in full.
    compaction: bool = True
    compact_after_steps: int = 5
    recent_steps: int = 3
    max_compact_steps: int = 10
    #: Relevant short/long-term memory items (TieredMemory) added to the prompt (0: none).
    recall_memories: int = 3
    #: Worked examples from the few-shot library added to the ReAct system prompt (0: none).
    few_shot_examples: int = 0

    def __post_init__(self) -> None:
        if isinstance(self.thinking_strategy, str):
            key = self.thinking_strategy.lower()
            if key not in _STRATEGY_NAMES:
                raise ValueError(f"Unknown thinking_strategy: {self.thinking_strategy!r}. "
                                 f"Valid values: {sorted(_STRATEGY_NAMES)}")
            self.thinking_strategy = _STRATEGY_NAMES[key]
        if self.max_iterations < 1:
            raise ValueError(f"max_iterations must be at least 1, got {self.max_iterations}")
        if self.max_tools_per_step < 1:
            raise ValueError(f"max_tools_per_step must be at least 1, got {self.max_tools_per_step}")
        self.guarded_tools = frozenset(self.guarded_tools)
        if self.recent_steps < 1:
            raise ValueError(f"recent_steps must be at least 1, got {self.recent_steps}")
        if self.compact_after_steps < self.recent_steps:
            raise ValueError("compact_after_steps must be at least recent_steps "
                             f"({self.compact_after_steps} < {self.recent_steps})")


__all__ = ["ThinkingStrategy", "CognitiveConfig", "DEFAULT_GUARDED_TOOLS"]
