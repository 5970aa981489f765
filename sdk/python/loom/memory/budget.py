"""Fitting a chat transcript into a token budget.

Order of sacrifice, oldest first: first the bodies of old tool results and observations are
elided (their turn stays, so assistant tool_calls still pair with their tool replies), then
whole old turns are dropped. The head (system prompt, the goal) and the newest message are
never touched.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .tokens import message_tokens

ELIDED = "[elided to fit the context budget]"


def _is_observation(m: Mapping[str, Any]) -> bool:
    return m.get("role") == "tool" or str(m.get("content") or "").startswith("Observation:")


def fit_messages(messages: Sequence[Mapping[str, Any]], max_tokens: int, *, keep_head: int = 1) -> list[dict[str, Any]]:
    """A copy of `messages` within `max_tokens` (estimated), or as close as the protected
    head and last message allow."""
    out = [dict(m) for m in messages]
    total = sum(message_tokens(m) for m in out)
    if total <= max_tokens:
        return out
    body = range(keep_head, len(out) - 1)
    for i in body:
        if total <= max_tokens:
            return out
        if _is_observation(out[i]) and out[i].get("content") != ELIDED:
            before = message_tokens(out[i])
            prefix = "Observation: " if out[i].get("role") != "tool" else ""
            out[i]["content"] = prefix + ELIDED
            total -= before - message_tokens(out[i])
    i = keep_head
    while total > max_tokens and i < len(out) - 1:
        # Drop a whole exchange: an assistant turn carrying tool_calls goes with its tool replies.
        j = i + 1
        if out[i].get("tool_calls"):
            while j < len(out) - 1 and out[j].get("role") == "tool":
                j += 1
        if j >= len(out):
            break
        total -= sum(message_tokens(m) for m in out[i:j])
        del out[i:j]
    # A transcript must not start its body with orphaned tool replies.
    while len(out) > keep_head + 1 and out[keep_head].get("role") == "tool":
        total -= message_tokens(out[keep_head])
        del out[keep_head]
    return out


__all__ = ["fit_messages", "ELIDED"]
