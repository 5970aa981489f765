"""Memory in tiers, persisted through the runtime store.

WORKING items live in this process only. SHORT_TERM and LONG_TERM items are also written to
the runtime's context store (`ctx.store.save_context`), one context item each, in the session
`session_id` with type `context.memory.short_term` / `context.memory.long_term`; `load()` reads
them back after a restart (short-term ones only while younger than `short_term_ttl_ms`).
`recall(query)` ranks what is held with a ContextRanker (keyword overlap by default) and
returns the relevant items.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping
from typing import Any

from ..ranking import ContextRanker, keyword_overlap
from .types import MemoryItem, MemoryTier

TYPE_PREFIX = "context.memory."
PERSISTED_TIERS = (MemoryTier.SHORT_TERM, MemoryTier.LONG_TERM)


def store_type(tier: MemoryTier) -> str:
    """The context-item type under which a tier is stored."""
    return TYPE_PREFIX + tier.value


def _now_ms() -> int:
    return int(time.time() * 1000)


def _as_tier(tier: MemoryTier | str) -> MemoryTier:
    return tier if isinstance(tier, MemoryTier) else MemoryTier(str(tier))


class TieredMemory:
    """Working, short-term and long-term memory of one session.

    `ctx`: the agent's context (its `store` is used); None keeps everything in process.
    `persist`: write SHORT_TERM/LONG_TERM items to the store (default: when a ctx is given).
    """

    def __init__(self, ctx: Any = None, *, session_id: str | None = None, persist: bool | None = None,
                 working_max_items: int = 50, short_term_ttl_ms: int = 3_600_000,
                 ranker: ContextRanker | None = None):
        self.ctx = ctx
        agent_id = getattr(ctx, "agent_id", None) if ctx is not None else None
        self.session_id = session_id or (f"agent:{agent_id}" if agent_id else "agent")
        store = getattr(ctx, "store", None) if ctx is not None else None
        self.persist = (store is not None) if persist is None else bool(persist)
        if self.persist and store is None:
            raise ValueError("TieredMemory(persist=True) needs a ctx with a store")
        self.working_max_items = working_max_items
        self.short_term_ttl_ms = short_term_ttl_ms
        self.ranker = ranker or ContextRanker(keyword_overlap)
        self._items: dict[MemoryTier, list[MemoryItem]] = {t: [] for t in MemoryTier}
        self._loaded = False

    # -- writing ----------------------------------------------------------------------------

    async def add(self, role: str, content: str, tier: MemoryTier | str = MemoryTier.WORKING,
                  metadata: Mapping[str, Any] | None = None) -> MemoryItem:
        """Hold an item in `tier`; a SHORT_TERM/LONG_TERM one is also saved in the store
        (awaited: when this returns, the store has it)."""
        tier = _as_tier(tier)
        item = MemoryItem(role=role, content=str(content), timestamp_ms=_now_ms(),
                          metadata=dict(metadata or {}), tier=tier)
        await self.add_item(item)
        return item

    async def add_item(self, item: MemoryItem) -> MemoryItem:
        if not item.timestamp_ms:
            item.timestamp_ms = _now_ms()
        bucket = self._items[item.tier]
        bucket.append(item)
        if item.tier is MemoryTier.WORKING and len(bucket) > self.working_max_items:
            del bucket[: len(bucket) - self.working_max_items]
        if self.persist and item.tier in PERSISTED_TIERS:
            meta = {str(k): v if isinstance(v, str) else json.dumps(v, default=str)
                    for k, v in item.metadata.items()}
            meta["role"] = item.role
            saved = await self.ctx.store.save_context(self.session_id, store_type(item.tier), item.content, meta)
            if getattr(saved, "timestamp_ms", 0):
                item.timestamp_ms = saved.timestamp_ms
        return item

    async def load(self, tiers: Iterable[MemoryTier | str] = PERSISTED_TIERS, limit: int = 100) -> int:
        """Bring persisted items of this session back (newest `limit` per tier); returns how
        many were added. Items already held are not duplicated."""
        if not self.persist:
            return 0
        added = 0
        now = _now_ms()
        for tier in map(_as_tier, tiers):
            if tier not in PERSISTED_TIERS:
                continue
            since = now - self.short_term_ttl_ms if tier is MemoryTier.SHORT_TERM else None
            found = await self.ctx.store.query_context(session_id=self.session_id, type=store_type(tier),
                                                       since_ms=since, limit=limit, newest_first=True)
            held = {(i.content, i.timestamp_ms) for i in self._items[tier]}
            restored = []
            for ci in reversed(found):
                if (ci.content, ci.timestamp_ms) in held:
                    continue
                meta = dict(ci.metadata)
                role = meta.pop("role", "system")
                restored.append(MemoryItem(role=role, content=ci.content, timestamp_ms=ci.timestamp_ms,
                                           metadata=meta, tier=tier))
            self._items[tier][:0] = restored
            added += len(restored)
        self._loaded = True
        return added

    async def ensure_loaded(self) -> None:
        """load() once per instance (a no-op without persistence)."""
        if not self._loaded:
            await self.load()

    # -- reading ----------------------------------------------------------------------------

    def items(self, tier: None | MemoryTier | str = None) -> list[MemoryItem]:
        """Items of one tier (or all, working last), oldest first; expired short-term ones
        are left out."""
        tiers = [_as_tier(tier)] if tier is not None else [MemoryTier.LONG_TERM, MemoryTier.SHORT_TERM,
                                                           MemoryTier.WORKING]
        cutoff = _now_ms() - self.short_term_ttl_ms
        out: list[MemoryItem] = []
        for t in tiers:
            out += [i for i in self._items[t] if t is not MemoryTier.SHORT_TERM or i.timestamp_ms >= cutoff]
        return out

    def recall(self, query: str, *, tiers: Iterable[MemoryTier | str] | None = None,
               limit: int = 5, min_score: float = 0.3, max_tokens: int | None = None) -> list[MemoryItem]:
        """The held items most relevant to `query` (ContextRanker score ≥ min_score), best
        first, at most `limit`, within `max_tokens` when given. Call load() (or
        ensure_loaded()) first to include what earlier processes persisted."""
        pool: list[MemoryItem] = []
        for t in (tiers if tiers is not None else list(MemoryTier)):
            pool += self.items(t)
        scored = sorted(((self.ranker.score(i.content, query), n, i) for n, i in enumerate(pool)),
                        key=lambda t: (-t[0], -t[2].timestamp_ms, t[1]))
        picked: list[MemoryItem] = []
        used = 0
        for score, _, item in scored:
            if score < min_score or len(picked) >= limit:
                break
            cost = len(item.content) // 4
            if max_tokens is not None and used + cost > max_tokens:
                continue
            picked.append(item)
            used += cost
        return picked

    def clear(self, tier: None | MemoryTier | str = None) -> None:
        """Forget held items (of one tier, or all); what the store has is kept."""
        for t in ([_as_tier(tier)] if tier is not None else list(MemoryTier)):
            self._items[t].clear()

    def __len__(self) -> int:
        return sum(len(v) for v in self._items.values())


__all__ = ["TieredMemory", "store_type", "TYPE_PREFIX", "PERSISTED_TIERS"]
