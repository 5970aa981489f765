"""Fixtures for the brain tests (loom.llm, loom.cognitive, loom.memory)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# sdk/python on the path so `import loom` works without installing the package.
_SDK = Path(__file__).resolve().parents[2]
if str(_SDK) not in sys.path:
    sys.path.insert(0, str(_SDK))
_HERE = Path(__file__).resolve().parent
if str(_HERE) not in sys.path:
    sys.path.insert(0, str(_HERE))

from llm_server import ScriptedLLM  # noqa: E402


@pytest.fixture
def llm_server():
    with ScriptedLLM() as server:
        yield server


def pytest_collection_modifyitems(items):
    """Every `async def` test in this folder runs under pytest-asyncio."""
    import inspect

    for item in items:
        fn = getattr(item, "function", None)
        if fn is not None and inspect.iscoroutinefunction(fn) and _HERE in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.asyncio)


@pytest.fixture
def runtime(tmp_path):
    """A real runtime (`node dist/runtime.js --workspace <tmp>`), stopped afterwards."""
    tests_dir = str(_HERE.parent)
    if tests_dir not in sys.path:
        sys.path.insert(0, tests_dir)
    from e2e.runtime_process import RuntimeProcess

    workspace = tmp_path / "ws"
    workspace.mkdir()
    rt = RuntimeProcess(workspace).start()
    try:
        yield rt
    finally:
        rt.stop()
