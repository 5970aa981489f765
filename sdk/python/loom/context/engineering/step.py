"""Steps: what is kept of one tool call once its raw output has been reduced.

A `Step` is the record the cognitive loop keeps per tool call (tool, the arguments that
identify the call, a one-line observation, where the full output was offloaded); a
`CompactStep` is the one line that stands for it once it is old enough to be summarised.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import asdict, dataclass, field
from typing import Any


def _now_ms() -> int:
    return int(time.time() * 1000)


@dataclass
class Step:
    """One reduced tool call.

    `minimal_args` keeps only what identifies the call (a path, a query, a cut-down command);
    `observation` is one line for the model; `outcome_ref` is the workspace-relative path of
    the offloaded full output, if it was offloaded.
    """

    id: str
    tool_name: str
    minimal_args: dict[str, Any]
    observation: str
    success: bool
    timestamp_ms: int = field(default_factory=_now_ms)
    outcome_ref: str | None = None
    error: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    def to_compact(self) -> CompactStep:
        return CompactStep(self.id, self.observation)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Step:
        """Inverse of to_dict(); `id` and `tool_name` are required, the rest has defaults."""
        return cls(
            id=data["id"],
            tool_name=data["tool_name"],
            minimal_args=dict(data.get("minimal_args") or {}),
            observation=data.get("observation", ""),
            success=data.get("success", True),
            timestamp_ms=data.get("timestamp_ms", 0),
            outcome_ref=data.get("outcome_ref"),
            error=data.get("error"),
            metadata=dict(data.get("metadata") or {}),
        )


@dataclass
class CompactStep:
    """The one-line form of a step (or of a group of steps) in a summarised history."""

    id: str
    summary: str

    def __str__(self) -> str:
        return "\u2022 " + self.summary


def generate_step_id(counter: int) -> str:
    """"step_001" for 1: zero-padded to three digits, longer when the counter needs it."""
    return f"step_{counter:03d}"


def compute_content_hash(content: str) -> str:
    """A 16-hex-digit fingerprint (SHA-256 prefix) of `content`, for de-duplication."""
    return hashlib.sha256(content.encode("utf-8")).hexdigest()[:16]


__all__ = ["Step", "CompactStep", "generate_step_id", "compute_content_hash"]
