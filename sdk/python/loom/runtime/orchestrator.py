"""Runs a project: the runtime (or the one already serving it) plus the project's agent scripts.

What `loom run` does. The runtime's own supervisor starts the agents `loom.toml` declares with a
`command`; the orchestrator starts the other scripts it is given (the reference's way: each
`python <script>` with the bridge's address and token in its environment), watches them, and on
Ctrl+C (or SIGTERM, or SIGHUP as its terminal closes) ends the agents, then the runtime if it
started it.
"""
from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..discovery import data_dir_of
from . import embedded
from .config import load_project_config


@dataclass
class ProcessInfo:
    """A process the orchestrator started."""

    name: str
    proc: subprocess.Popen[bytes]
    pid: int
    is_critical: bool = True
    #: Where its output goes.
    log: Path | None = None


@dataclass
class OrchestratorConfig:
    """What to run and how (the reference's fields first, then Loom's)."""

    project_dir: Path = field(default_factory=Path.cwd)
    #: Agents' (and the runtime's) output; default `<project>/<data_dir>/logs`.
    logs_dir: Path | None = None
    #: "full" (with the dashboard) or "bridge-only" (without).
    runtime_mode: str = "full"
    #: The reference's runtime version; this SDK runs the runtime it finds (see loom.runtime.embedded).
    runtime_version: str = "latest"
    #: None: loom.toml's [bridge] port/address, else any free port.
    bridge_port: int | None = None
    #: None: loom.toml's [dashboard] port, else any free one. A taken port is warned about, not fatal.
    dashboard_port: int | None = 3030
    #: The reference sleeps this long for the runtime; here readiness is the runtime's discovery
    #: file (waited for up to `ready_timeout_sec`), so this is only the least time to wait.
    startup_wait_sec: float = 2.0
    agent_scripts: list[Path] = field(default_factory=list)
    prefer_release: bool = True
    force_download: bool = False
    #: "reference": serve agents written for the reference SDK (see the runtime's --compat).
    compat: str | None = None
    log_level: str | None = None
    ready_timeout_sec: float = 60.0
    #: The interpreter agent scripts run with.
    python: str = field(default_factory=lambda: sys.executable)
    #: Use the runtime already serving the project (started by `loom up` or VS Code) if any.
    attach: bool = True
    #: Seconds agents and the runtime get to end after SIGTERM before SIGKILL.
    stop_grace_sec: float = 10.0


class Orchestrator:
    """Starts the runtime and the agents, watches them, ends them (see the module's docstring)."""

    def __init__(self, config: OrchestratorConfig):
        self.config = config
        self.runtime_proc: ProcessInfo | None = None
        self.agent_procs: list[ProcessInfo] = []
        self._shutdown_requested = False
        self.project_config = load_project_config(self.config.project_dir)
        #: The runtime's discovery info (address, token, pid, dashboard) once it is ready.
        self.runtime_info: dict[str, Any] | None = None
        #: True when the runtime was already running (then it is left running at the end).
        self.attached = False
        self._stop = asyncio.Event()
        self._exited_reported: set[int] = set()
        if self.config.logs_dir:
            self.config.logs_dir.mkdir(parents=True, exist_ok=True, mode=0o700)

    @property
    def processes(self) -> list[ProcessInfo]:
        return ([self.runtime_proc] if self.runtime_proc else []) + list(self.agent_procs)

    @property
    def project_dir(self) -> Path:
        return Path(self.config.project_dir).resolve()

    def _logs_dir(self) -> Path:
        folder = self.config.logs_dir or (self.project_dir / data_dir_of(self.project_dir) / "logs")
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        return folder

    def _get_log_file(self, name: str, stderr: bool = False) -> Path:
        return self._logs_dir() / f"{name}{'.err' if stderr else '.log'}"

    def request_shutdown(self) -> None:
        self._shutdown_requested = True
        self._stop.set()

    async def start_runtime(self) -> ProcessInfo | None:
        """Starts the runtime and waits until its bridge listens; None when one was already
        serving the project (then it is used as it is)."""
        running = embedded.running_runtime(self.project_dir) if self.config.attach else None
        if running:
            self.runtime_info, self.attached = running, True
            print(f"[loom] using the runtime already running for {self.project_dir} (pid {running['pid']})")
            self._print_endpoints()
            return None
        print(f"[loom] starting the Loom runtime for {self.project_dir}")
        log = self._get_log_file("runtime")
        proc = embedded.start_runtime(
            self.project_dir, log=log, port=self.config.bridge_port,
            dashboard=self.config.runtime_mode != "bridge-only",
            dashboard_port=self.config.dashboard_port, compat=self.config.compat,
            log_level=self.config.log_level,
        )
        self.runtime_proc = ProcessInfo("loom-runtime", proc, proc.pid, True, log)
        waited = asyncio.ensure_future(asyncio.sleep(max(0.0, min(self.config.startup_wait_sec, 2.0))))
        self.runtime_info = await asyncio.to_thread(
            embedded.wait_ready, self.project_dir, proc, self.config.ready_timeout_sec, log)
        await waited
        print(f"[loom] ✓ runtime started (pid {proc.pid}); its log: {log}")
        self._print_endpoints()
        return self.runtime_proc

    def _print_endpoints(self) -> None:
        info = self.runtime_info or {}
        print(f"[loom]   bridge: {info.get('address')}")
        if info.get("dashboard"):
            print(f"[loom]   dashboard: {info['dashboard']}")

    def _supervised(self, script: Path) -> str | None:
        """The id of the loom.toml table whose command runs `script`, if any."""
        target = (self.project_dir / script).resolve()
        for agent_id, table in self.project_config.supervised_agents().items():
            cwd = (self.project_dir / str(table.get("cwd", "."))).resolve()
            for arg in [table.get("command", "")] + list(table.get("args", [])):
                if isinstance(arg, str) and arg.endswith(".py") and (cwd / arg).resolve() == target:
                    return agent_id
        return None

    def agent_env(self, name: str) -> dict[str, str]:
        env = dict(os.environ)
        env.pop("LOOM_AGENT_ID", None)
        info = self.runtime_info or {}
        env["LOOM_BRIDGE_ADDR"] = str(info.get("address", ""))
        if info.get("token"):
            env["LOOM_TOKEN"] = str(info["token"])
        env["LOOM_WORKSPACE"] = str(self.project_dir)
        env["OTEL_SERVICE_NAME"] = f"agent-{name}"
        return env

    async def start_agents(self) -> list[ProcessInfo]:
        """Starts each agent script not already declared in loom.toml (the runtime starts those)."""
        started: list[ProcessInfo] = []
        for script in self.config.agent_scripts:
            script = Path(script)
            declared = self._supervised(script)
            if declared:
                print(f"[loom] {script}: started by the runtime ([agents.{declared}] in loom.toml)")
                continue
            name = script.stem
            out_log, err_log = self._get_log_file(name), self._get_log_file(name, stderr=True)
            with embedded.open_private_log(out_log) as out, embedded.open_private_log(err_log) as err:
                proc = subprocess.Popen([self.config.python, str(script)], cwd=self.project_dir,
                                        env=self.agent_env(name), stdin=subprocess.DEVNULL,
                                        stdout=out, stderr=err)
            print(f"[loom] ✓ agent {name} started (pid {proc.pid}); output: {out_log}, {err_log}")
            started.append(ProcessInfo(name, proc, proc.pid, False, out_log))
        if not self.config.agent_scripts:
            print("[loom] no agent scripts to start")
        self.agent_procs.extend(started)
        return started

    def _runtime_alive(self) -> bool:
        if self.runtime_proc is not None:
            return self.runtime_proc.proc.poll() is None
        return embedded.pid_alive((self.runtime_info or {}).get("pid"))

    async def monitor(self) -> None:
        """Until a shutdown is asked or the runtime ends: reports agents that end."""
        while not self._shutdown_requested:
            if not self._runtime_alive():
                code = self.runtime_proc.proc.returncode if self.runtime_proc else None
                print(f"[loom] ERROR: the runtime ended (exit code {code})" if code is not None
                      else "[loom] ERROR: the runtime ended")
                self._shutdown_requested = True
                break
            for agent in self.agent_procs:
                code = agent.proc.poll()
                if code is not None and agent.pid not in self._exited_reported:
                    self._exited_reported.add(agent.pid)
                    print(f"[loom] agent {agent.name} ended (pid {agent.pid}, exit code {code}); "
                          f"its output: {agent.log}")
            try:
                await asyncio.wait_for(self._stop.wait(), 0.5)
            except asyncio.TimeoutError:
                pass

    async def _end(self, procs: list[ProcessInfo], what: str) -> None:
        alive = [p for p in procs if p.proc.poll() is None]
        for p in alive:
            print(f"[loom] stopping {what} {p.name} (pid {p.pid})")
            p.proc.terminate()
        deadline = asyncio.get_running_loop().time() + self.config.stop_grace_sec
        while any(p.proc.poll() is None for p in alive) and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.1)
        for p in alive:
            if p.proc.poll() is None:
                print(f"[loom] {what} {p.name} did not end; killing it (pid {p.pid})")
                p.proc.kill()
                p.proc.wait()

    async def shutdown(self) -> None:
        """Ends the agents, then the runtime when this orchestrator started it."""
        print("[loom] shutting down")
        await self._end(self.agent_procs, "agent")
        if self.runtime_proc is not None:
            await self._end([self.runtime_proc], "runtime")
        print("[loom] shutdown complete")

    async def start(self) -> None:
        """The runtime (ready), then the agents; `shutdown()` ends them."""
        await self.start_runtime()
        await self.start_agents()

    async def run(self) -> int:
        """Starts everything, runs until Ctrl+C/SIGTERM/SIGHUP or the runtime's end, ends everything.
        0, or 1 when the runtime ended by itself."""
        loop = asyncio.get_running_loop()
        installed = []
        # SIGHUP: the terminal closed; its default would end this process without ending the rest.
        hangup = getattr(signal, "SIGHUP", None)
        for sig in (signal.SIGINT, signal.SIGTERM, *([hangup] if hangup else [])):
            try:
                loop.add_signal_handler(sig, self.request_shutdown)
                installed.append(sig)
            except (NotImplementedError, RuntimeError, ValueError):
                pass
        try:
            await self.start()
            print(f"[loom] running {len(self.agent_procs)} agent(s); press Ctrl+C to stop")
            await self.monitor()
            return 0 if self._stop.is_set() else 1
        finally:
            await self.shutdown()
            for sig in installed:
                loop.remove_signal_handler(sig)


async def run_orchestrator(config: OrchestratorConfig) -> int:
    """Runs a project until Ctrl+C (see Orchestrator.run)."""
    return await Orchestrator(config).run()


__all__ = ["Orchestrator", "OrchestratorConfig", "ProcessInfo", "run_orchestrator"]
