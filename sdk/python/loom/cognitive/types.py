"""What a cognitive run produces (names follow the reference loom-py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional


@dataclass
class ToolCall:
    name: str
    arguments: dict[str, Any]
    id: Optional[str] = None

    def to_dict(self) -> dict[str, Any]:
        return {"tool": self.name, "args": self.arguments}


@dataclass
class Observation:
    tool_name: str
    success: bool
    output: str
    error: Optional[str] = None
    latency_ms: int = 0
    #: The parsed tool output, when the tool succeeded.
    value: Any = None

    def for_model(self) -> str:
        return self.output if self.success else f"Error: {self.error}"


@dataclass
class ThoughtStep:
    step: int
    reasoning: str
    tool_call: Optional[ToolCall] = None
    observation: Optional[Observation] = None
    #: Set when the model's reply broke the protocol; the loop told it so and went on.
    malformed: Optional[str] = None


@dataclass
class CognitiveResult:
    answer: str
    steps: list[ThoughtStep] = field(default_factory=list)
    iterations: int = 0
    success: bool = True
    error: Optional[str] = None
    total_latency_ms: int = 0

    @property
    def latency_ms(self) -> int:
        return self.total_latency_ms


__all__ = ["ToolCall", "Observation", "ThoughtStep", "CognitiveResult"]
