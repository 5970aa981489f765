"""Token budgets: how a context window is shared, and cutting text or messages to fit."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class TokenBudget:
    total: int = 4096
    system: int = 500
    history: int = 1500
    context: int = 1500
    response: int = 596

    @property
    def allocated(self) -> int:
        return self.system + self.history + self.context + self.response


class TokenWindowManager:
    """Estimates tokens as len(text) // chars_per_token and fits content to budgets."""

    def __init__(self, max_tokens: int = 4096, chars_per_token: int = 4):
        self.max_tokens = max_tokens
        self.chars_per_token = chars_per_token
        self._budget = TokenBudget(total=max_tokens)

    @property
    def budget(self) -> TokenBudget:
        return self._budget

    def estimate_tokens(self, text: str) -> int:
        return len(text) // self.chars_per_token

    def fit_content(self, text: str, budget: int, truncate_end: bool = True) -> str:
        """`text` if it fits, else its first (or, truncate_end=False, last) budget × chars
        characters with "..." marking the cut."""
        if self.estimate_tokens(text) <= budget:
            return text
        keep = budget * self.chars_per_token
        return text[:keep] + "..." if truncate_end else "..." + text[-keep:]

    def fit_messages(self, messages: list[dict[str, str]], budget: int) -> list[dict[str, str]]:
        """The newest messages whose contents fit `budget` together (stops at the first that
        does not), in their original order."""
        kept: list[dict[str, str]] = []
        used = 0
        for message in reversed(messages):
            cost = self.estimate_tokens(message.get("content", "") or "")
            if used + cost > budget:
                break
            kept.append(message)
            used += cost
        kept.reverse()
        return kept

    def allocate(self, system: int | None = None, history: int | None = None,
                 context: int | None = None, response: int | None = None) -> TokenBudget:
        """Change the shares given (the others stay); returns the budget."""
        for name, value in (("system", system), ("history", history), ("context", context),
                            ("response", response)):
            if value is not None:
                setattr(self._budget, name, value)
        return self._budget


__all__ = ["TokenWindowManager", "TokenBudget"]
from .prompting.builder import ContextWindow  # noqa: E402  (also reachable here)

__all__ += ["ContextWindow"]
