"""Memory items and the tiers they live in."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from ...memory.memory import DictFields


class MemoryTier(Enum):
    """WORKING: this run only (in process). SHORT_TERM: this session, about an hour.
    LONG_TERM: kept across restarts. With TieredMemory, the last two persist in the runtime
    store."""

    WORKING = "working"
    SHORT_TERM = "short_term"
    LONG_TERM = "long_term"


@dataclass
class MemoryItem(DictFields):
    role: str
    content: str
    timestamp_ms: int = 0
    metadata: dict[str, Any] = field(default_factory=dict)
    tier: MemoryTier = MemoryTier.WORKING
    embedding: list[float] | None = None

    def to_message(self) -> dict[str, str]:
        return {"role": self.role, "content": self.content}


__all__ = ["MemoryItem", "MemoryTier"]
