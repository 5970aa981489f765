"""End-to-end fixtures: one real runtime for the session, real Python agents per test."""
from __future__ import annotations

import asyncio
import shutil
import textwrap
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import grpc
import pytest
from runtime_process import RuntimeProcess

from loom import Agent, Event

HERE = Path(__file__).parent
SUPERVISED_ID = "e2e-supervised"

WORKSPACE_TOML = f"""
[runtime]
log_level = "info"

[watcher]
enabled = false

[tools.shell]
allow = ["sleep"]  # test_tools.py: a long command whose call is cancelled
timeout_ms = 60000

[timers.e2e_tick]
interval_ms = 500

[agents.{SUPERVISED_ID}]
command = "python"
args = ["supervised_agent.py"]
restart = "always"
backoff_initial_ms = 100
backoff_max_ms = 1000
max_restarts = 20
stop_grace_ms = 3000
"""


def make_workspace(root: Path, toml: str = "") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "loom.toml").write_text(textwrap.dedent(toml))
    return root


@pytest.fixture(scope="session")
def runtime(tmp_path_factory) -> RuntimeProcess:
    ws = make_workspace(tmp_path_factory.mktemp("ws"), WORKSPACE_TOML)
    shutil.copy(HERE / "supervised_agent.py", ws / "supervised_agent.py")
    (ws / "notes.txt").write_text("hello from the workspace\n")
    rt = RuntimeProcess(ws, extra_args=["--print-events", "e2e.>"]).start()
    yield rt
    code = rt.stop()
    assert code == 0, f"runtime did not shut down cleanly ({code}):\n{rt.stderr_tail()}"


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}"


class Inbox:
    """Collects what an agent's on_event receives; tests wait on it."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self._changed = asyncio.Condition()

    async def __call__(self, ctx: Any, topic: str, event: Event) -> None:
        async with self._changed:
            self.events.append(event)
            self._changed.notify_all()

    async def wait_for(self, predicate: Callable[[list[Event]], bool], timeout: float = 30.0) -> list[Event]:
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: predicate(self.events)), timeout)
        return self.events

    async def wait_count(self, n: int, timeout: float = 30.0) -> list[Event]:
        return await self.wait_for(lambda evs: len(evs) >= n, timeout)

    def topics(self) -> list[str]:
        return [e.topic for e in self.events]


@pytest.fixture
async def agents(runtime):
    """`await agents(id, topics, ...)` -> a started Agent on the session runtime; all stopped afterwards."""
    started: list[Agent] = []

    async def make(agent_id: str | None = None, topics=(), **kwargs: Any) -> Agent:
        kwargs.setdefault("address", runtime.address)
        kwargs.setdefault("token", runtime.token)
        agent = Agent(agent_id or unique("py-"), list(topics), **kwargs)
        await agent.start()
        started.append(agent)
        return agent

    yield make
    for agent in reversed(started):
        await agent.stop()


@pytest.fixture
async def raw_channel(runtime):
    """A plain grpc.aio channel to the runtime (the way a non-SDK client talks to it)."""
    channel = grpc.aio.insecure_channel(runtime.address)
    yield channel
    await channel.close()
