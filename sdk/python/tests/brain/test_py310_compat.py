"""pyproject says requires-python >= 3.10: the package must not use 3.11-only APIs.

The scan runs everywhere (CI has 3.11); the import under a real 3.10 interpreter runs when
LOOM_PY310 names one that has the package's dependencies installed.
"""

from __future__ import annotations

import ast
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "loom"

#: (module, name) pairs that appeared in Python 3.11 or later.
NEWER_API = {
    ("asyncio", "timeout"), ("asyncio", "timeout_at"), ("asyncio", "TaskGroup"), ("asyncio", "Runner"),
    ("asyncio", "Timeout"), ("typing", "Self"), ("typing", "LiteralString"), ("typing", "Never"),
    ("typing", "assert_never"), ("typing", "reveal_type"), ("typing", "Required"), ("typing", "NotRequired"),
    ("enum", "StrEnum"), ("datetime", "UTC"), ("contextlib", "chdir"),
}
NEWER_BUILTINS = {"ExceptionGroup", "BaseExceptionGroup"}
NEWER_MODULES = {"tomllib"}


def _guarded_imports(tree: ast.AST) -> set[int]:
    """ids of import nodes inside a `try` that falls back on ImportError/ModuleNotFoundError."""
    ok: set[int] = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Try):
            continue
        caught = {n.id for h in node.handlers for n in ast.walk(h.type) if isinstance(n, ast.Name)} if all(
            h.type is not None for h in node.handlers) else {"ImportError"}
        if caught & {"ImportError", "ModuleNotFoundError"}:
            ok.update(id(n) for stmt in node.body for n in ast.walk(stmt))
    return ok


def newer_api_uses(source: str, filename: str = "<source>") -> Iterator[str]:
    """Each 3.11+ construct in `source`, as 'file:line: what'."""
    try:
        tree = ast.parse(source, filename, feature_version=(3, 10))
    except SyntaxError as e:
        yield f"{filename}:{e.lineno}: syntax newer than 3.10 ({e.msg})"
        return
    guarded = _guarded_imports(tree)
    aliases: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                aliases[a.asname or a.name] = a.name
                if a.name in NEWER_MODULES and id(node) not in guarded:
                    yield f"{filename}:{node.lineno}: import {a.name} without a fallback"
        elif isinstance(node, ast.ImportFrom):
            if node.module in NEWER_MODULES and id(node) not in guarded:
                yield f"{filename}:{node.lineno}: from {node.module} import without a fallback"
            for a in node.names:
                if (node.module, a.name) in NEWER_API and id(node) not in guarded:
                    yield f"{filename}:{node.lineno}: from {node.module} import {a.name}"
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            module = aliases.get(node.value.id, node.value.id)
            if (module, node.attr) in NEWER_API:
                yield f"{filename}:{node.lineno}: {module}.{node.attr}"
        elif isinstance(node, ast.Name) and node.id in NEWER_BUILTINS:
            yield f"{filename}:{node.lineno}: {node.id}"


def test_the_package_uses_no_api_newer_than_python_310():
    found = [hit for path in sorted(PACKAGE.rglob("*.py"))
             for hit in newer_api_uses(path.read_text(encoding="utf-8"), str(path.relative_to(PACKAGE.parent)))]
    assert found == []


def test_the_scan_finds_each_kind_of_newer_api():
    sample = (
        "import asyncio\nimport tomllib\nfrom typing import Self\nimport asyncio as aio\n"
        "try:\n    import tomllib as t2\nexcept ModuleNotFoundError:\n    import tomli as t2\n"
        "async def f():\n    async with aio.timeout(1):\n        pass\n"
        "    async with asyncio.TaskGroup() as tg:\n        pass\n"
        "    raise ExceptionGroup('x', [])\n"
    )
    hits = list(newer_api_uses(sample))
    assert sorted(h.split(": ", 1)[1] for h in hits) == [
        "ExceptionGroup", "asyncio.TaskGroup", "asyncio.timeout", "from typing import Self",
        "import tomllib without a fallback"]
    assert "syntax newer than 3.10" in next(newer_api_uses("try:\n  pass\nexcept* E:\n  pass\n"))


@pytest.mark.skipif(not os.environ.get("LOOM_PY310"), reason="LOOM_PY310 names no Python 3.10 interpreter")
def test_import_under_python_310():
    py = os.environ["LOOM_PY310"]
    out = subprocess.run([py, "-c", "import sys, loom, loom.llm, loom.cognitive, loom.memory; "
                          "print(sys.version_info[:2])"],
                         cwd=PACKAGE.parent, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "(3, 10)"
