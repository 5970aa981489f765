"""What a cognitive run produces (names follow the reference loom-py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..context.engineering.step import Step


@dataclass
class ToolCall:
    name: str
    arguments: dict[str, Any]
    id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"tool": self.name, "args": self.arguments}


@dataclass
class Observation:
    tool_name: str
    success: bool
    output: str
    error: str | None = None
    latency_ms: int = 0
    #: The call reduced for later prompts (loom.context Step): a one-line observation and,
    #: when the output was offloaded, the file holding it (reduced_step.outcome_ref).
    reduced_step: Step | None = None
    #: The parsed tool output, when the tool succeeded.
    value: Any = None

    def for_model(self) -> str:
        if not self.success:
            return f"Error: {self.error}"
        ref = self.reduced_step.outcome_ref if self.reduced_step is not None else None
        if ref:
            return f"{self.output}\n[The full output is saved in {ref}; this is a preview.]"
        return self.output


@dataclass
class ThoughtStep:
    step: int
    reasoning: str
    tool_call: ToolCall | None = None
    observation: Observation | None = None
    #: The reduced form of this step's tool call (same as observation.reduced_step).
    reduced_step: Step | None = None
    #: Set when the model's reply broke the protocol; the loop told it so and went on.
    malformed: str | None = None


@dataclass
class CognitiveResult:
    answer: str
    steps: list[ThoughtStep] = field(default_factory=list)
    iterations: int = 0
    success: bool = True
    error: str | None = None
    total_latency_ms: int = 0

    @property
    def latency_ms(self) -> int:
        return self.total_latency_ms


__all__ = ["ToolCall", "Observation", "ThoughtStep", "CognitiveResult"]
