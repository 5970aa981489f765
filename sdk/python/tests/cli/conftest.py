"""Fixtures for the `loom` command's tests: the real runtime, driven through the CLI."""
from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
from cli_helpers import loom, processes_with
from runtime_process import ensure_built


@pytest.fixture(scope="session", autouse=True)
def built_runtime() -> Path:
    return ensure_built()


@pytest.fixture
def workspace(tmp_path):
    """A fresh `loom init` workspace; whatever runtime the test left in it is brought down."""
    ws = tmp_path / "ws"
    done = loom("init", str(ws))
    assert done.returncode == 0, done.stderr
    yield ws
    loom("down", "--workspace", str(ws), "--grace", "5")
    for pid in processes_with(str(ws)):
        os.kill(pid, signal.SIGKILL)
