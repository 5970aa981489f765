"""Fixtures for the brain tests (loom.llm, loom.cognitive, loom.memory)."""

from __future__ import annotations

from pathlib import Path

import pytest
from llm_server import ScriptedLLM

_HERE = Path(__file__).resolve().parent


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
    from runtime_process import RuntimeProcess

    workspace = tmp_path / "ws"
    workspace.mkdir()
    rt = RuntimeProcess(workspace).start()
    try:
        yield rt
    finally:
        rt.stop()
