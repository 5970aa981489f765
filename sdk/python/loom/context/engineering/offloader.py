"""Offloading: large tool outputs go to a file in the workspace; the prompt gets a preview and
the file's path.

Files live under `<workspace>/<cache_dir>/<category>/<name>_<hash>.<ext>` (default cache_dir
`.loom/cache`). The same content is written once: a second offload of it finds the first file
by its hash. Output below both thresholds (size and lines) stays inline.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._format import format_size
from .step import compute_content_hash


@dataclass
class OffloadConfig:
    """size_threshold (characters) or line_threshold reached → offload; preview_lines from
    each end are kept in the preview, which is also bounded to about preview_chars characters
    (0: no bound; this matters for long lines, e.g. JSON on one line); cleanup() removes
    files older than max_age_hours."""

    cache_dir: str = ".loom/cache"
    size_threshold: int = 2048
    line_threshold: int = 50
    preview_lines: int = 10
    max_age_hours: int = 24
    enabled: bool = True
    preview_chars: int = 2000


@dataclass
class OffloadResult:
    """`content` is the original when not offloaded, else the preview; `file_path` is
    relative to the workspace."""

    offloaded: bool
    content: str
    file_path: str | None = None
    original_size: int = 0
    original_lines: int = 0
    content_hash: str | None = None

    def to_observation(self, tool_name: str) -> str:
        """What the model is shown for this output."""
        if not self.offloaded:
            return self.content
        return (f"Output ({self.original_lines} lines, {format_size(self.original_size)}) "
                f"saved to {self.file_path}\n\nPreview:\n{self.content}")


def _lines(content: str) -> int:
    # An empty output still counts as one line here (unlike the reducers' count).
    return content.count("\n") + 1


class DataOffloader:
    def __init__(self, workspace_path: str | Path, config: OffloadConfig | None = None):
        self.workspace = Path(workspace_path)
        self.config = config or OffloadConfig()
        self._cache_dir: Path | None = None

    @property
    def cache_dir(self) -> Path:
        """The cache folder (created on first use)."""
        if self._cache_dir is None:
            folder = self.workspace / self.config.cache_dir
            folder.mkdir(parents=True, exist_ok=True)
            self._cache_dir = folder
        return self._cache_dir

    def offload(self, content: str, category: str, identifier: str, force: bool = False) -> OffloadResult:
        """Write `content` to the cache when it is over a threshold (or `force`); `category`
        names the sub-folder ("file_read", "shell_output", "search"...), `identifier` the file."""
        size, lines = len(content), _lines(content)
        if not self.config.enabled and not force:
            return OffloadResult(False, content, original_size=size, original_lines=lines)
        digest = compute_content_hash(content)
        big = size >= self.config.size_threshold or lines >= self.config.line_threshold
        if not (force or big):
            return OffloadResult(False, content, original_size=size, original_lines=lines, content_hash=digest)
        target = self._find_cached(digest) or self._write_to_cache(content, category, identifier, digest)
        return OffloadResult(True, self._generate_preview(content, category),
                             file_path=str(target.relative_to(self.workspace)),
                             original_size=size, original_lines=lines, content_hash=digest)

    def offload_json(self, data: Any, category: str, identifier: str) -> OffloadResult:
        """offload() of `data` as indented JSON."""
        return self.offload(json.dumps(data, indent=2, ensure_ascii=False), category, identifier)

    def retrieve(self, file_path: str) -> str | None:
        """The full content behind an OffloadResult.file_path, or None if it is gone."""
        path = self.workspace / file_path
        return path.read_text(encoding="utf-8") if path.exists() else None

    def cleanup(self, max_age_hours: int | None = None) -> int:
        """Delete cached files older than `max_age_hours` (default the config's); returns how many."""
        hours = max_age_hours or self.config.max_age_hours
        cutoff = time.time() - hours * 3600
        folder = self.cache_dir
        if not folder.exists():
            return 0
        removed = 0
        for path in folder.rglob("*"):
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
        return removed

    # -- internals --------------------------------------------------------------------------

    def _compute_hash(self, content: str) -> str:
        return compute_content_hash(content)

    def _find_cached(self, content_hash: str) -> Path | None:
        for path in self.cache_dir.rglob(f"*_{content_hash}.*"):
            if path.is_file():
                return path
        return None

    def _write_to_cache(self, content: str, category: str, identifier: str, content_hash: str) -> Path:
        folder = self.cache_dir / category
        folder.mkdir(parents=True, exist_ok=True)
        name = f"{self._sanitize_filename(identifier)}_{content_hash}{self._get_extension(category, content)}"
        path = folder / name
        path.write_text(content, encoding="utf-8")
        return path

    def _generate_preview(self, content: str, category: str) -> str:
        """All of it when short; else the first and last preview_lines with a marker between."""
        rows = content.split("\n")
        n = self.config.preview_lines
        if len(rows) <= 2 * n:
            preview = content
        else:
            marker = f"\n... ({len(rows) - 2 * n} lines omitted) ...\n"
            preview = "\n".join(rows[:n] + [marker] + rows[-n:])
        bound = self.config.preview_chars
        if bound and len(preview) > bound:
            head, tail = preview[: bound * 2 // 3], preview[-(bound // 3):]
            preview = f"{head}\n... ({len(preview) - len(head) - len(tail)} characters omitted) ...\n{tail}"
        return preview

    def _sanitize_filename(self, name: str) -> str:
        flat = name.replace("/", "_").replace("\\", "_")
        return "".join(c for c in flat if c.isalnum() or c in "._-")[:50]

    def _get_extension(self, category: str, content: str) -> str:
        if category in ("search", "json"):
            return ".json"
        if category == "shell_output":
            return ".log"
        return ".json" if content.strip()[:1] in ("{", "[") else ".txt"


__all__ = ["DataOffloader", "OffloadConfig", "OffloadResult"]
