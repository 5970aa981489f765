"""`loom up` / `loom down`: the runtime of a workspace in the background.

`up` starts `node dist/runtime.js` in a session of its own (it outlives the terminal), its output
appended to `<data_dir>/runtime.log`, and records what it started in `<data_dir>/cli.json`.
`down` ends the runtime serving the workspace (SIGTERM: the runtime stops its agents and removes
its discovery file; SIGKILL after the grace period), then whatever the runtime had started that
is still alive.
"""
from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

from ..discovery import data_dir_of, discovery_path
from ..runtime import embedded

STATE_FILE = "cli.json"


def data_dir(workspace: Path) -> Path:
    return workspace / data_dir_of(workspace)


def log_file(workspace: Path) -> Path:
    return data_dir(workspace) / "runtime.log"


def _state_path(workspace: Path) -> Path:
    return data_dir(workspace) / STATE_FILE


def _write_state(workspace: Path, state: dict[str, Any]) -> None:
    path = _state_path(workspace)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(state, f)


def _read_state(workspace: Path) -> dict[str, Any]:
    try:
        data = json.loads(_state_path(workspace).read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _start_time(pid: int) -> str | None:
    """The process's start time (Linux), to tell it from a later process with the same pid."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _descendants(pid: int) -> list[tuple[int, str | None]]:
    """(pid, start time) of every process below `pid` (Linux; elsewhere none)."""
    children: dict[int, list[int]] = {}
    try:
        entries = os.listdir("/proc")
    except OSError:
        return []
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            ppid = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    found: list[tuple[int, str | None]] = []
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append((child, _start_time(child)))
            todo.append(child)
    return found


def _same(pid: int, started: str | None) -> bool:
    return embedded.pid_alive(pid) and (started is None or _start_time(pid) == started)


def _wait_gone(pids: list[tuple[int, str | None]], timeout: float) -> list[tuple[int, str | None]]:
    deadline = time.monotonic() + timeout
    while True:
        alive = [(p, s) for p, s in pids if _same(p, s)]
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.1)


def up(workspace: Path, *, port: int | None, dashboard: bool, dashboard_port: int | None,
       compat: str | None, log_level: str | None, timeout: float) -> int:
    running = embedded.running_runtime(workspace)
    if running:
        print(f"[loom] the runtime for {workspace} is already running (pid {running['pid']})")
        _print_info(running)
        return 0
    log = log_file(workspace)
    proc = embedded.start_runtime(workspace, log=log, new_session=True, port=port, dashboard=dashboard,
                                  dashboard_port=dashboard_port, compat=compat, log_level=log_level)
    _write_state(workspace, {"pid": proc.pid, "start_time": _start_time(proc.pid), "log": str(log),
                             "started_by": "loom up"})
    try:
        info = embedded.wait_ready(workspace, proc, timeout, log)
    except RuntimeError as e:
        print(f"[loom] {e}", file=sys.stderr)
        _state_path(workspace).unlink(missing_ok=True)
        return 2 if proc.poll() == 2 else 1
    print(f"[loom] runtime started in the background for {workspace} (pid {proc.pid})")
    _print_info(info)
    print(f"[loom]   log: {log}")
    print("[loom]   agents started in this workspace find it by themselves; `loom down` stops it")
    return 0


def _print_info(info: dict[str, Any]) -> None:
    print(f"[loom]   bridge: {info.get('address')} (LOOM_BRIDGE_ADDR; token in {DISCOVERY_HINT})")
    if info.get("dashboard"):
        print(f"[loom]   dashboard: {info['dashboard']}")


DISCOVERY_HINT = "the workspace's .loom/runtime.json"


def down(workspace: Path, *, grace: float) -> int:
    info = embedded.read_discovery(workspace)
    state = _read_state(workspace)
    targets: list[tuple[int, str | None]] = []
    if info and embedded.pid_alive(info.get("pid")):
        targets.append((int(info["pid"]), _start_time(int(info["pid"]))))
    pid = state.get("pid")
    if isinstance(pid, int) and _same(pid, state.get("start_time")) and all(pid != t[0] for t in targets):
        targets.append((pid, state.get("start_time")))  # started by `loom up`, not ready yet
    if not targets:
        _state_path(workspace).unlink(missing_ok=True)
        stale = discovery_path(workspace)
        if info and stale.is_file():
            stale.unlink(missing_ok=True)
            print(f"[loom] no runtime is running for {workspace} (removed the stale {stale})")
        else:
            print(f"[loom] no runtime is running for {workspace}")
        return 0
    for pid, _ in targets:
        if sys.platform.startswith("linux") and "runtime.js" not in _cmdline(pid):
            print(f"[loom] pid {pid} named by {discovery_path(workspace)} is not a Loom runtime "
                  f"({_cmdline(pid)[:120]!r}); leaving it alone", file=sys.stderr)
            return 1
    below = [d for pid, _ in targets for d in _descendants(pid)]
    for pid, _ in targets:
        print(f"[loom] stopping the runtime of {workspace} (pid {pid})")
        os.kill(pid, signal.SIGTERM)
    left = _wait_gone(targets, grace)
    for pid, _ in left:
        print(f"[loom] the runtime (pid {pid}) did not stop within {grace:g}s; killing it")
        os.kill(pid, signal.SIGKILL)
    _wait_gone(left, 5.0)
    # What the runtime had started (agents, MCP servers) ends with it; anything still alive now
    # was left behind by a runtime that could not stop cleanly.
    stragglers = _wait_gone(below, 3.0)
    for pid, started in stragglers:
        if _same(pid, started):
            print(f"[loom] ending pid {pid} the runtime had started ({_cmdline(pid)[:80]})")
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
    for pid, _started in _wait_gone(stragglers, grace):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    _state_path(workspace).unlink(missing_ok=True)
    print("[loom] stopped")
    return 0
