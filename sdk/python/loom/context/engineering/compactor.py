"""Compaction: fit a long step history into a prompt.

The newest `recent_window` steps stay whole. Older ones shrink to one line each, runs of
consecutive steps of the same kind (file, shell, search, web, else the tool itself) shrink to
one line per run, and past `max_compact_steps` lines the oldest are dropped and counted.
"""

from __future__ import annotations

from dataclasses import dataclass

from .step import CompactStep, Step


@dataclass
class CompactionConfig:
    """recent_window: steps kept whole; max_compact_steps: summary lines kept;
    group_similar: fold consecutive steps of one kind into a line; preserve_failures:
    failures stay visible (counted in their group's line)."""

    recent_window: int = 5
    max_compact_steps: int = 20
    group_similar: bool = True
    preserve_failures: bool = True


@dataclass
class CompactedHistory:
    recent_steps: list[Step]
    compact_steps: list[CompactStep]
    dropped_count: int = 0
    total_original: int = 0

    def format_for_prompt(self) -> str:
        """The history as prompt text: the summary lines, then the recent steps with ✓/✗."""
        out: list[str] = []
        if self.compact_steps:
            out.append("Previous actions (summarized):")
            out.extend(str(c) for c in self.compact_steps)
            if self.dropped_count > 0:
                out.append(f"  ... ({self.dropped_count} earlier steps omitted)")
            out.append("")
        if self.recent_steps:
            out.append("Recent actions:")
            out.extend(f"[{s.id}] {_OK if s.success else _FAILED} {s.observation}"
                       for s in self.recent_steps)
            out.append("")
        return "\n".join(out)


_CATEGORY_HINTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("file", ("read", "write", "edit", "file", "fs:")),
    ("shell", ("shell", "run", "exec", "command")),
    ("search", ("search", "grep", "find")),
    ("web", ("web", "http", "fetch", "url")),
)

_OK, _FAILED = "\u2713", "\u2717"

_GROUP_NOUN = {"file": "file operations", "shell": "commands executed", "search": "searches"}


class StepCompactor:
    """compact(steps) → CompactedHistory (steps oldest first)."""

    def __init__(self, config: CompactionConfig | None = None):
        self.config = config or CompactionConfig()

    def compact(self, steps: list[Step], max_steps: int | None = None) -> CompactedHistory:
        """`max_steps`: cap on recent + summary lines (default recent_window + max_compact_steps)."""
        total = len(steps)
        window = self.config.recent_window
        if total <= window:
            return CompactedHistory(recent_steps=list(steps), compact_steps=[], total_original=total)
        cap = max_steps or (window + self.config.max_compact_steps)
        older, recent = steps[:-window], steps[-window:]
        fold = self._group_and_compact if self.config.group_similar else self._simple_compact
        lines, dropped = fold(older, cap)
        return CompactedHistory(recent_steps=list(recent), compact_steps=lines,
                                dropped_count=dropped, total_original=total)

    def _simple_compact(self, steps: list[Step], max_total: int) -> tuple[list[CompactStep], int]:
        room = max_total - self.config.recent_window
        if room <= 0:
            return [], len(steps)
        kept = steps[-room:]
        return [s.to_compact() for s in kept], len(steps) - len(kept)

    def _group_and_compact(self, steps: list[Step], max_total: int) -> tuple[list[CompactStep], int]:
        if not steps:
            return [], 0
        room = max_total - self.config.recent_window
        if room <= 0:
            return [], len(steps)
        runs: list[list[Step]] = []
        previous = None
        for step in steps:
            kind = self._get_tool_category(step.tool_name)
            if runs and kind == previous:
                runs[-1].append(step)
            else:
                runs.append([step])
            previous = kind
        lines = [run[0].to_compact() if len(run) == 1 else self._summarize_group(run) for run in runs]
        if len(lines) <= room:
            return lines, 0
        return lines[-room:], len(lines) - room

    def _get_tool_category(self, tool_name: str) -> str:
        """"file", "shell", "search", "web" by substrings of the name, else the name itself."""
        lowered = tool_name.lower()
        for category, hints in _CATEGORY_HINTS:
            if any(h in lowered for h in hints):
                return category
        return tool_name

    def _summarize_group(self, group: list[Step]) -> CompactStep:
        if not group:
            return CompactStep(id="group", summary="(empty group)")
        span = f"{group[0].id}..{group[-1].id}"
        category = self._get_tool_category(group[0].tool_name)
        noun = _GROUP_NOUN.get(category)
        summary = f"[{span}] {len(group)} {noun}" if noun else f"[{span}] {len(group)}x {category}"
        failed = sum(1 for s in group if not s.success)
        if failed:
            summary += f" ({failed} failed)"
        return CompactStep(id=span, summary=summary)


__all__ = ["StepCompactor", "CompactionConfig", "CompactedHistory"]
