"""The real runtime as a child process: build it if needed, start it on a workspace, stop it.

Shared by the end-to-end tests and the bridge benchmark (test/bench/bridge.bench.py).
"""
from __future__ import annotations

import fcntl
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[4]
_SOURCES = ("runtime", "proto")


def _newest_source_mtime(repo: Path) -> float:
    newest = 0.0
    for top in _SOURCES:
        for path in (repo / top).rglob("*"):
            if path.suffix in (".ts", ".proto", ".json") and "gen" not in path.parts and path.is_file():
                newest = max(newest, path.stat().st_mtime)
    return newest


def ensure_built(repo: Path = REPO) -> Path:
    """Builds dist/runtime.js with `node esbuild.mjs` when it is missing or older than its sources.

    A failed build raises: running the bundle left from an older tree would test other code.
    """
    with open("/tmp/loom-esbuild.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # other engineers' tests build the same bundle
        bundle = repo / "dist" / "runtime.js"
        if bundle.exists() and bundle.stat().st_mtime >= _newest_source_mtime(repo):
            return bundle
        proc = subprocess.run(
            ["node", "esbuild.mjs", "--only=runtime"], cwd=repo, capture_output=True, text=True, timeout=300
        )
        if proc.returncode != 0 or not bundle.exists():
            raise RuntimeError(
                f"`node esbuild.mjs --only=runtime` failed in {repo} (exit {proc.returncode}); "
                f"not running an older dist/runtime.js:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}"
            )
    return bundle


class RuntimeProcess:
    """`node dist/runtime.js --workspace DIR` with its address and token from the discovery file."""

    def __init__(self, workspace: Path, *, port: int | None = None, extra_args: list[str] | None = None,
                 env: dict | None = None) -> None:
        self.workspace = Path(workspace)
        self.port = port
        self.extra_args = list(extra_args or [])
        self.env = {**os.environ, "LOOM_PYTHON": sys.executable, **(env or {})}
        # The runtime's own address must not leak from the environment of whoever runs the tests.
        for key in ("LOOM_BRIDGE_ADDR", "LOOM_TOKEN", "LOOM_AGENT_ID"):
            self.env.pop(key, None)
        self.proc: subprocess.Popen | None = None
        self.address = ""
        self.token = ""
        self.stdout_path = self.workspace / "runtime.stdout.log"
        self.stderr_path = self.workspace / "runtime.stderr.log"

    @property
    def discovery_file(self) -> Path:
        return self.workspace / ".loom" / "runtime.json"

    def start(self, timeout: float = 60.0) -> RuntimeProcess:
        args = ["node", str(ensure_built()), "--workspace", str(self.workspace)]
        if self.port is not None:
            args += ["--port", str(self.port)]
        args += self.extra_args
        # Append: a restarted runtime keeps the earlier lines for debugging.
        with open(self.stdout_path, "ab") as out, open(self.stderr_path, "ab") as err:
            self.proc = subprocess.Popen(args, cwd=self.workspace, env=self.env, stdout=out, stderr=err)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"runtime exited with {self.proc.returncode}:\n{self.stderr_tail()}")
            try:
                info = json.loads(self.discovery_file.read_text())
                if info.get("pid") == self.proc.pid:
                    self.address, self.token = info["address"], info["token"]
                    self.port = int(self.address.rsplit(":", 1)[1])
                    return self
            except (OSError, ValueError, KeyError):
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"runtime wrote no discovery file within {timeout}s:\n{self.stderr_tail()}")

    def stop(self, grace: float = 15.0) -> int | None:
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(grace)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait(10)

    def stdout_text(self) -> str:
        return self.stdout_path.read_text(errors="replace") if self.stdout_path.exists() else ""

    def stderr_tail(self, chars: int = 4000) -> str:
        return self.stderr_path.read_text(errors="replace")[-chars:] if self.stderr_path.exists() else ""

    def metadata(self) -> tuple:
        return (("authorization", f"Bearer {self.token}"), ("loom-dialect", "loom"))
