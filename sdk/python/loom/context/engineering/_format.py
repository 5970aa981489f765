"""Small formatting helpers shared by the reducers and the offloader."""

from __future__ import annotations


def format_size(n: int) -> str:
    """Bytes as "512B", "1.5KB" or "2.0MB" (binary units, one decimal above bytes)."""
    if n < 1024:
        return f"{n}B"
    kib = n / 1024
    if kib < 1024:
        return f"{kib:.1f}KB"
    return f"{kib / 1024:.1f}MB"


def count_lines(text: str) -> int:
    """Lines in `text`: 0 when empty, else newlines + 1."""
    return text.count("\n") + 1 if text else 0
