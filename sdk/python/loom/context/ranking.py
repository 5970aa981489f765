"""Ranking context items by relevance to a query, and picking what fits a token budget."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any


@dataclass
class ScoredItem:
    content: str
    score: float                           # 0.0 (unrelated) .. 1.0
    metadata: dict[str, Any] | None = None


Scorer = Callable[[str, str], float]

_WORD = re.compile(r"\w+")
#: Words too common to say anything about relevance (English).
STOPWORDS = frozenset("""a an and are as at be by do does for from has have how i in is it its me my of on or
our so than that the their them then there these this to was we were what when where which who why will
with you your""".split())


def keywords(text: str) -> set[str]:
    """The words of `text` that carry meaning: lower-cased, punctuation dropped, stopwords out."""
    return {w for w in _WORD.findall(text.lower()) if w not in STOPWORDS}


def keyword_overlap(item: str, query: str) -> float:
    """A scorer: the share of the query's keywords (see keywords()) found in the item; 0.5 for
    a query without keywords. Unlike the default scorer, "budgets?" matches "budgets"."""
    wanted = keywords(query)
    if not wanted:
        return 0.5
    return len(wanted & keywords(item)) / len(wanted)


class ContextRanker:
    """rank(items, query) → ScoredItems best first; select_top(ranked, max_tokens) → contents.

    The default scorer is the share of the query's words found among the item's words
    (case-insensitive, whitespace-split), 0.5 for an empty query. Pass `scorer(item, query)`
    for another measure (embeddings...)."""

    def __init__(self, scorer: Scorer | None = None):
        self._scorer: Scorer = scorer or self._default_scorer

    @staticmethod
    def _default_scorer(item: str, query: str) -> float:
        wanted = set(query.lower().split())
        if not wanted:
            return 0.5
        present = set(item.lower().split())
        return min(1.0, len(wanted & present) / len(wanted))

    def score(self, item: str, query: str) -> float:
        return self._scorer(item, query)

    def rank(self, items: Iterable[str], query: str) -> list[ScoredItem]:
        """Stable: items with equal scores keep their order."""
        scored = [ScoredItem(content=i, score=self._scorer(i, query)) for i in items]
        scored.sort(key=lambda s: s.score, reverse=True)
        return scored

    def select_top(self, scored_items: list[ScoredItem], max_tokens: int, chars_per_token: int = 4) -> list[str]:
        """The leading items whose estimated tokens (chars // chars_per_token) fit together;
        stops at the first one that does not fit."""
        picked: list[str] = []
        used = 0
        for item in scored_items:
            cost = len(item.content) // chars_per_token
            if used + cost > max_tokens:
                break
            picked.append(item.content)
            used += cost
        return picked


__all__ = ["ContextRanker", "ScoredItem", "keyword_overlap", "keywords", "STOPWORDS"]
