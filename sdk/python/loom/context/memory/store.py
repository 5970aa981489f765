"""A process-local key-value store scoped by thread (or session) id."""

from __future__ import annotations

from typing import Any


class InMemoryStore:
    """put/get by (thread_id, key); each thread id has its own namespace. Nothing persists:
    for state that must outlive the process use ctx.store (the runtime's store)."""

    def __init__(self) -> None:
        self._data: dict[str, dict[str, Any]] = {}

    def _ns(self, thread_id: str) -> dict[str, Any]:
        return self._data.setdefault(thread_id, {})

    def put(self, thread_id: str, key: str, value: Any) -> None:
        self._ns(thread_id)[key] = value

    def get(self, thread_id: str, key: str, default: Any = None) -> Any:
        return self._data.get(thread_id, {}).get(key, default)

    def thread(self, thread_id: str) -> dict[str, Any]:
        """The live dict of one thread (changes to it are changes to the store)."""
        return self._ns(thread_id)

    def clear_thread(self, thread_id: str) -> None:
        self._ns(thread_id).clear()

    def clear_all(self) -> None:
        self._data.clear()


#: A shared instance for simple scripts.
_memory = InMemoryStore()

__all__ = ["InMemoryStore", "_memory"]
