"""Assembling a chat prompt from a system prompt, memory items and retrieved documents."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ...memory.tokens import CHARS_PER_TOKEN


@dataclass
class ContextWindow:
    """What ContextBuilder.build() returns; `current_tokens` is the estimate of its text."""

    system_prompt: str | None = None
    messages: list[dict[str, str]] = field(default_factory=list)
    max_tokens: int = 4096
    current_tokens: int = 0

    def to_messages(self) -> list[dict[str, str]]:
        """System prompt (if any) followed by the messages, as chat messages."""
        head = [{"role": "system", "content": self.system_prompt}] if self.system_prompt else []
        return head + [dict(m) for m in self.messages]

    @property
    def remaining_tokens(self) -> int:
        return max(0, self.max_tokens - self.current_tokens)


class ContextBuilder:
    """Chainable: ContextBuilder(4096).set_system(...).add_memory_items(...).build()."""

    def __init__(self, max_tokens: int = 4096):
        self.max_tokens = max_tokens
        self._system_prompt: str | None = None
        self._messages: list[dict[str, str]] = []
        self._metadata: dict[str, Any] = {}

    def set_system(self, prompt: str) -> ContextBuilder:
        self._system_prompt = prompt
        return self

    def add_message(self, role: str, content: str) -> ContextBuilder:
        self._messages.append({"role": role, "content": content})
        return self

    def add_memory_items(self, items: Iterable[Mapping[str, Any] | Any]) -> ContextBuilder:
        """Items with a to_message() method (MemoryItem) or mappings with role and content."""
        for item in items:
            message = item.to_message() if hasattr(item, "to_message") else item
            self._messages.append({"role": message["role"], "content": message["content"]})
        return self

    def add_retrieved_docs(self, docs: Iterable[str], prefix: str = "Context document") -> ContextBuilder:
        """Each document as a system message "<prefix> <n>:\\n<doc>"."""
        for n, doc in enumerate(docs, 1):
            self._messages.append({"role": "system", "content": f"{prefix} {n}:\n{doc}"})
        return self

    def with_metadata(self, key: str, value: Any) -> ContextBuilder:
        self._metadata[key] = value
        return self

    @property
    def metadata(self) -> dict[str, Any]:
        return dict(self._metadata)

    def build(self) -> ContextWindow:
        texts = ([self._system_prompt] if self._system_prompt else []) + [m["content"] for m in self._messages]
        tokens = sum(len(t) // CHARS_PER_TOKEN for t in texts)
        return ContextWindow(system_prompt=self._system_prompt, messages=list(self._messages),
                             max_tokens=self.max_tokens, current_tokens=tokens)

    def to_messages(self) -> list[dict[str, str]]:
        head = [{"role": "system", "content": self._system_prompt}] if self._system_prompt else []
        return head + list(self._messages)


__all__ = ["ContextBuilder", "ContextWindow"]
