"""Helpers of the `loom` command's tests: run the CLI, watch the processes it leaves."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SDK = HERE.parents[1]


def cli_env(**extra: str) -> dict:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("LOOM_BRIDGE_ADDR", "LOOM_TOKEN", "LOOM_AGENT_ID", "LOOM_WORKSPACE")
    }
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SDK), env.get("PYTHONPATH")]))
    env["LOOM_PYTHON"] = sys.executable
    env["NO_COLOR"] = "1"
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


def loom(*args: str, cwd: Path | None = None, timeout: float = 120, input: str | None = None,
         env: dict | None = None) -> subprocess.CompletedProcess:
    """Runs `loom ARGS` (as `python -m loom.cli`) to completion."""
    return subprocess.run([sys.executable, "-m", "loom.cli", *args], cwd=cwd, env=env or cli_env(),
                          capture_output=True, text=True, timeout=timeout, input=input)


_CTRL_C_THEN_CLI = (
    "import runpy, signal; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "runpy.run_module('loom.cli', run_name='__main__', alter_sys=True)"
)


class Background:
    """`loom ARGS` left running (run, dev, up --foreground), output collected in a file."""

    def __init__(self, *args: str, cwd: Path, env: dict | None = None) -> None:
        self.out = cwd / f".cli-{os.getpid()}-{time.monotonic_ns()}.out"
        with open(self.out, "wb") as f:
            # interrupt() is the terminal's Ctrl+C, which a command run from a terminal takes by
            # default; a suite started as a background job (`pytest &` in a script) has SIGINT
            # ignored, and a child inherits that. The child restores it itself: a preexec_fn would
            # run gRPC's fork handlers in a child of this process, which has used gRPC, and those
            # abort (epoll_wait: Bad file descriptor) when another thread is inside gRPC.
            self.proc = subprocess.Popen([sys.executable, "-c", _CTRL_C_THEN_CLI, *args], cwd=cwd, env=env or cli_env(),
                                         stdin=subprocess.DEVNULL, stdout=f, stderr=subprocess.STDOUT)

    def text(self) -> str:
        return self.out.read_text(errors="replace")

    def wait_for(self, needle: str, timeout: float = 90) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.text()
            if needle in text:
                return text
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        raise AssertionError(f"no {needle!r} in the output of loom (exit {self.proc.poll()}):\n{self.text()[-4000:]}")

    def interrupt(self, timeout: float = 60) -> int:
        self.proc.send_signal(signal.SIGINT)
        return self.proc.wait(timeout)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


def wait_dead(pids: list[int], timeout: float = 30) -> list[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        left = [p for p in pids if alive(p)]
        if not left:
            return []
        time.sleep(0.1)
    return [p for p in pids if alive(p)]


def processes_with(folder: str) -> list[int]:
    """Pids (not this one) whose command line names `folder` or that run inside it (Linux)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            cmd = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            cwd = os.readlink(f"/proc/{entry}/cwd")
        except OSError:
            continue
        if (folder in cmd or cwd == folder or cwd.startswith(folder + os.sep)) and alive(int(entry)):
            found.append(int(entry))
    return found
