"""Agent memory: a working transcript under a token budget, plus long-term items in the
runtime's store (ctx.store) so they outlive the agent process.

Store layout (one context-item session per memory, default "agent:<agent_id>"):
  type "memory.turn"     one conversation turn; metadata["role"] holds the role
  type "memory.<kind>"   long-term items written by remember() (kind "fact" by default)
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import LoomError
from .tokens import estimate_tokens, message_tokens

log = logging.getLogger("loom.memory")

TURN_TYPE = "memory.turn"
SUMMARY_ROLE = "system"
SUMMARY_PREFIX = "Summary of the earlier conversation: "
_SUMMARY_SYSTEM = ("You compress conversation history for an AI agent. Keep facts, decisions, names, "
                   "file paths, numbers and open questions; drop chit-chat. Answer with the summary only.")


class MemoryStoreError(LoomError):
    """Memory was used in a way it cannot serve (long-term storage without a ctx...). A LoomError,
    so a RuntimeError as before; named so as not to hide Python's builtin MemoryStoreError."""


class DictFields:
    """Read access by key to a dataclass's fields, for code that treats items as dicts
    (the reference's memory items were): item["role"], item.get("metadata")."""

    def __getitem__(self, key: str) -> Any:
        if key not in getattr(self, "__dataclass_fields__", {}):
            raise KeyError(key)
        return getattr(self, key)

    def get(self, key: str, default: Any = None) -> Any:
        try:
            return self[key]
        except KeyError:
            return default


@dataclass
class MemoryItem(DictFields):
    role: str
    content: str
    metadata: dict[str, str] = field(default_factory=dict)
    timestamp_ms: int = 0


    @property
    def tokens(self) -> int:
        return message_tokens({"content": self.content})

    @property
    def is_summary(self) -> bool:
        return self.metadata.get("loom.memory") == "summary"

    def to_message(self) -> dict[str, str]:
        return {"role": self.role, "content": self.content}


def _str_metadata(metadata: Mapping[str, Any] | None) -> dict[str, str]:
    # The store keeps metadata as map<string,string>.
    return {str(k): v if isinstance(v, str) else str(v) for k, v in (metadata or {}).items()}


class Memory:
    """Working memory under a token budget, with optional persistence in the runtime store.

    - `max_tokens`: budget for the transcript (see loom.memory.tokens for the estimate). When
      it is exceeded the oldest turns are dropped at once, or, with a `summarizer` (an
      LLMProvider), folded into one summary by `await compact()`.
    - `persist=True`: every add() is also written to ctx.store (await flush() to wait for the
      writes); `await load()` brings the last turns back after a restart.
    """

    def __init__(self, ctx: Any = None, *, session_id: str | None = None, max_tokens: int = 4000,
                 max_items: int | None = None, summarizer: Any = None, persist: bool = False):
        if max_tokens <= 0:
            raise ValueError(f"max_tokens must be positive, got {max_tokens}")
        self.ctx = ctx
        agent_id = getattr(ctx, "agent_id", None) if ctx is not None else None
        self.session_id = session_id or (f"agent:{agent_id}" if agent_id else "agent")
        self.max_tokens = max_tokens
        self.max_items = max_items
        self.summarizer = summarizer
        self.persist = persist
        self._items: list[MemoryItem] = []
        self._pending: set[asyncio.Task[Any]] = set()
        self._write_errors: list[BaseException] = []
        if persist and ctx is None:
            raise MemoryStoreError("persist=True needs a ctx: turns are saved through ctx.store")

    # -- working memory ---------------------------------------------------------------------

    def add(self, role: str, content: str, metadata: Mapping[str, Any] | None = None) -> MemoryItem:
        """Append a turn. With persist=True its store write starts now; flush() awaits it."""
        if self.persist:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                raise MemoryStoreError("a persisted memory's add() must run inside the agent's event loop; "
                                  "outside it use `await memory.save(...)`") from None
        item = self._append(role, content, metadata)
        if self.persist:
            task = loop.create_task(self._write_turn(item))
            self._pending.add(task)
            task.add_done_callback(self._write_done)
        return item

    async def save(self, role: str, content: str, metadata: Mapping[str, Any] | None = None) -> MemoryItem:
        """Append a turn and wait until the store holds it (needs a ctx)."""
        self._need_ctx("save")
        item = self._append(role, content, metadata)
        await self._write_turn(item)
        return item

    async def flush(self) -> None:
        """Wait for the store writes started by add(); raise the first one that failed."""
        if self._pending:
            await asyncio.gather(*list(self._pending), return_exceptions=True)
        if self._write_errors:
            err, self._write_errors = self._write_errors[0], []
            raise MemoryStoreError(f"saving memory session {self.session_id!r} failed: {err}") from err

    async def load(self, limit: int = 50) -> int:
        """Restore the newest `limit` persisted turns of this session (after a restart).
        Returns how many were loaded; they go before anything added since."""
        self._need_ctx("load")
        items = await self.ctx.store.query_context(session_id=self.session_id, type=TURN_TYPE,
                                                   limit=limit, newest_first=True)
        restored = [MemoryItem(role=i.metadata.get("role", "user"), content=i.content,
                               metadata={k: v for k, v in i.metadata.items() if k != "role"},
                               timestamp_ms=i.timestamp_ms) for i in reversed(items)]
        self._items[:0] = restored
        self._trim()
        return len(restored)

    def get_recent(self, n: int | None = None) -> list[MemoryItem]:
        """The newest n items, oldest first (all of them when n is None)."""
        if n is None:
            return list(self._items)
        return list(self._items[-n:]) if n > 0 else []

    def get_context(self, max_items: int | None = None) -> list[MemoryItem]:
        """Reference WorkingMemory name for get_recent."""
        return self.get_recent(max_items)

    def to_messages(self, max_tokens: int | None = None) -> list[dict[str, str]]:
        """Chat messages of the newest items that fit `max_tokens` (default: the budget);
        a summary, when there is one, always leads."""
        budget = self.max_tokens if max_tokens is None else max_tokens
        summary = [i for i in self._items if i.is_summary][-1:]
        used = sum(message_tokens(i.to_message()) for i in summary)
        picked: list[MemoryItem] = []
        for item in reversed([i for i in self._items if not i.is_summary]):
            cost = message_tokens(item.to_message())
            if used + cost > budget:
                break
            picked.append(item)
            used += cost
        return [i.to_message() for i in summary + picked[::-1]]

    def token_count(self) -> int:
        return sum(message_tokens(i.to_message()) for i in self._items)

    def clear(self) -> None:
        """Forget the working transcript (the store keeps what was persisted)."""
        self._items.clear()

    def __len__(self) -> int:
        return len(self._items)

    async def compact(self) -> bool:
        """Bring the transcript under budget: fold the oldest turns into a summary with the
        summarizer (one LLM call), or drop them when there is none or it fails. Returns
        whether anything changed."""
        if self.token_count() <= self.max_tokens:
            return False
        # Fold the oldest turns until what remains is about half the budget, so that
        # compaction happens now and then rather than on every turn.
        target, cut, remaining = self.max_tokens // 2, 0, self.token_count()
        while cut < len(self._items) - 1 and remaining > target:
            remaining -= message_tokens(self._items[cut].to_message())
            cut += 1
        old, keep = self._items[:cut], self._items[cut:]
        if self.summarizer is not None:
            try:
                summary = await self._summarise(old)
            except Exception as e:  # an LLM failure must not take the agent down: drop instead
                log.warning("memory %s: summarising %d turns failed (%s); dropping them",
                            self.session_id, len(old), e)
            else:
                self._items = [MemoryItem(SUMMARY_ROLE, SUMMARY_PREFIX + summary,
                                          {"loom.memory": "summary"}, _now_ms())] + keep
                self._drop_oldest()
                return True
        self._items = keep
        self._drop_oldest()
        return True

    # -- long-term memory -------------------------------------------------------------------

    async def remember(self, content: str, kind: str = "fact",
                       metadata: Mapping[str, Any] | None = None) -> Any:
        """Save a long-term item (type "memory.<kind>") in the runtime store; returns the
        stored ContextItem."""
        self._need_ctx("remember")
        return await self.ctx.store.save_context(self.session_id, f"memory.{kind}", content,
                                                 _str_metadata(metadata))

    async def recall(self, text: str | None = None, kind: str | None = "fact", limit: int = 10,
                     newest_first: bool = True) -> list[Any]:
        """Long-term items of this session: containing `text` (case-insensitive) if given, of
        `kind` (None: every kind, turns included), newest first by default."""
        self._need_ctx("recall")
        items: list[Any] = await self.ctx.store.query_context(
            session_id=self.session_id, type=f"memory.{kind}" if kind else None, text=text,
            limit=limit if kind else max(limit * 4, limit), newest_first=newest_first)
        if kind is None:
            items = [i for i in items if i.type.startswith("memory.")][:limit]
        return items

    # -- internals --------------------------------------------------------------------------

    def _append(self, role: str, content: object, metadata: Mapping[str, Any] | None) -> MemoryItem:
        # Callers outside typed code may pass anything printable.
        text = content if isinstance(content, str) else str(content)
        item = MemoryItem(role, text, _str_metadata(metadata), _now_ms())
        self._items.append(item)
        self._trim()
        return item

    def _trim(self) -> None:
        if self.max_items is not None and len(self._items) > self.max_items:
            del self._items[: len(self._items) - self.max_items]
        if self.summarizer is None:
            self._drop_oldest()

    def _drop_oldest(self) -> None:
        while len(self._items) > 1 and self.token_count() > self.max_tokens:
            del self._items[0]

    async def _summarise(self, items: list[MemoryItem]) -> str:
        transcript = "\n".join(f"{i.role}: {i.content}" for i in items)
        reply = await self.summarizer.generate(
            f"Summarise this conversation in at most {max(50, self.max_tokens // 4)} tokens:\n\n{transcript}",
            system=_SUMMARY_SYSTEM, temperature=0.0)
        text = str(reply).strip()
        if not text:
            raise MemoryStoreError("the summarizer returned nothing")
        return text

    async def _write_turn(self, item: MemoryItem) -> None:
        await self.ctx.store.save_context(self.session_id, TURN_TYPE, item.content,
                                          {**item.metadata, "role": item.role})

    def _write_done(self, task: asyncio.Task[Any]) -> None:
        self._pending.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning("memory %s: a store write failed: %s", self.session_id, task.exception())
            self._write_errors.append(task.exception())  # type: ignore[arg-type]

    def _need_ctx(self, what: str) -> None:
        if self.ctx is None:
            raise MemoryStoreError(f"memory.{what}() needs a ctx: long-term memory lives in the runtime store")


class WorkingMemory(Memory):
    """The reference loom-py's scratchpad: at most `max_items` items, no persistence."""

    def __init__(self, max_items: int = 50, *, max_tokens: int = 1_000_000):
        super().__init__(max_items=max_items, max_tokens=max_tokens)


def _now_ms() -> int:
    return int(time.time() * 1000)


__all__ = ["Memory", "MemoryItem", "MemoryStoreError", "WorkingMemory", "TURN_TYPE", "estimate_tokens"]
