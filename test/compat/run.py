#!/usr/bin/env python3
"""Reference-compatibility suite: the reference's own clients, tests and apps against OUR runtime.

The reference (loom-os/loom, the Rust runtime with its Python SDK loom-py) is published as a tarball
in ../shared/reference. This harness
  1. unpacks it into a temporary folder (never into this repository),
  2. uses its loom-py from a virtual environment of its own (test/compat/setup-venv.sh, cached),
  3. puts our launcher (test/compat/loom-bridge-server) where its tests look for the Rust
     `loom-bridge-server`, so they start `node dist/runtime.js --compat reference` instead,
  4. runs against the real runtime:
       pytest    its tests/integration and tests/e2e (test_native_tools.py runs as the script it is)
       native    tests/e2e/test_native_tools.py as a script; each printed PASS/FAIL is a verdict
       readme    loom-py's README's first agent, run as written, and its tool called by name
       apps      apps/chat-assistant, deep-research, market-analyst for 20 s each, started as
                 `loom run` starts them, with their own loom.toml
       sdk       the same from the other side: OUR SDK's wheel as the only `loom` in a fresh venv,
                 the reference's tests/unit run on it, then its three apps' agents on it for 20 s
                 each against our runtime, their LLM a scripted stand-in (standins.py)
Weather and web search go to local stand-ins (standins.py), never to the internet; API keys are
removed from every process it starts, so nothing reaches a paid service.

Prints one line per test and, last, "compat: N passed, N failed, N skipped" (counted by
.ci/test.sh). Logs of every process: test/output/compat/. Exit status 1 when anything failed.
Every process it starts carries LOOM_COMPAT=<run mark> in its environment and is ended before it
returns (those that outlive their stop are killed and reported).

Usage: python3 test/compat/run.py [--only pytest,native,readme,apps,sdk] [--app-seconds 20] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.dont_write_bytecode = True  # nothing written into the repository
sys.path.insert(0, str(HERE))
from standins import StandIns  # noqa: E402

TARBALL = Path(os.environ.get("LOOM_COMPAT_TARBALL") or REPO.parent / "shared" / "reference" / "loom-os-loom-c34e1de.tar.gz")
OUTPUT = REPO / "test" / "output" / "compat"
RUN_MARK = f"{os.getpid()}-{int(time.time())}"
# Keys of paid or rate-limited services: never passed on, so the tests that need them skip and no
# agent reaches a real LLM or search API from CI.
SECRET_ENV = re.compile(r"(^|_)(API_KEY|SECRET_KEY|SECRET|PASSPHRASE|TOKEN)$|^LOOM_BRIDGE_ADDR$|^LOOM_TOKEN$")
APPS = ["chat-assistant", "deep-research", "market-analyst"]
# Keys given back to the reference's tests and their runtimes, for the stand-ins only.
NEEDS_KEY_ENV: dict[str, str] = {}


# web:search reaches the stand-in through [tools.web_search] (base_url, api_key); the reference's
# web-search test and script look for BRAVE_API_KEY before they call it, so they get the stand-in's.
STAND_IN_SEARCH_KEY = "compat-stand-in-key"
# The apps' [llm.*] tables name ${DEEPSEEK_API_KEY}; in the "sdk" part they reach the scripted stand-in.
STAND_IN_LLM_KEY = "compat-stand-in-llm-key"
NEEDS_KEY_ENV.update({"BRAVE_API_KEY": STAND_IN_SEARCH_KEY})


def web_search_toml(base: str) -> str:
    return f'\n[tools.web_search]\nbase_url = "{base}/res/v1/web/search"\napi_key = "{STAND_IN_SEARCH_KEY}"\n'


def web_search_overrides(base: str) -> dict:
    return {"webSearch": {"baseUrl": f"{base}/res/v1/web/search", "apiKey": STAND_IN_SEARCH_KEY}}


def runtime_toml(base: str) -> str:
    return (
        "# Written by test/compat/run.py for the reference's tests: built-in tools reach local stand-ins.\n"
        "[tools.weather]\n"
        f'base_url = "{base}"\n' + web_search_toml(base)
    )


def runtime_overrides(base: str) -> dict:
    tools: dict = {"weather": {"baseUrl": base}}
    tools.update(web_search_overrides(base))
    # The apps' [dashboard] asks for port 3030; any free port, so that nothing else on 3030 matters.
    return {"tools": tools, "dashboard": {"port": 0}}


# ── results ──────────────────────────────────────────────────────────────────────────────────────


@dataclass
class Case:
    group: str
    name: str
    status: str  # passed | failed | skipped
    reason: str = ""


CASES: list[Case] = []


def record(group: str, name: str, status: str, reason: str = "") -> None:
    reason = " ".join(reason.split())
    # .ci/test.sh counts "N passed/failed/skipped/error" and mocha's words wherever they appear; a
    # reason quoting such a phrase must not be counted.
    reason = re.sub(r"(\d+) (passed|failed|skipped|errors?|passing|failing|pending)\b", r"\1-\2", reason)
    if len(reason) > 400:
        reason = reason[:397] + "..."
    CASES.append(Case(group, name, status, reason))
    mark = {"passed": "✓", "failed": "✗", "skipped": "-"}[status]
    print(f"  {mark} {group}: {name}" + (f"  — {reason}" if reason else ""), flush=True)


# ── processes ────────────────────────────────────────────────────────────────────────────────────

STARTED: list[subprocess.Popen] = []


def child_env(extra: dict | None = None) -> dict:
    env = {k: v for k, v in os.environ.items() if not SECRET_ENV.search(k)}
    env.update({
        "LOOM_COMPAT": RUN_MARK,
        "PYTHONUNBUFFERED": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        # No trace collector here: the reference SDK's automatic OTLP export to localhost:4317 would
        # only log connection errors.
        "LOOM_TELEMETRY_AUTO": "0",
    })
    env.update(extra or {})
    return env


def spawn(cmd: list[str], log: Path, cwd: Path, env: dict, stdin=subprocess.DEVNULL) -> subprocess.Popen:
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdin=stdin, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    STARTED.append(proc)
    return proc


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return True
    except (ProcessLookupError, PermissionError):
        return False


def stop(proc: subprocess.Popen, grace: float = 5.0) -> int | None:
    """SIGTERM to the process group, SIGKILL to what is left of it after grace (a runtime's
    children, a test's runtime). Returns the exit status, None when it had to be killed."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except (ProcessLookupError, PermissionError):
        pass
    deadline = time.time() + grace
    while time.time() < deadline and (proc.poll() is None or group_alive(proc.pid)):
        time.sleep(0.05)
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        code = proc.wait(5)
    except subprocess.TimeoutExpired:
        return None
    return None if code == -signal.SIGKILL else code


def marked_pids() -> list[int]:
    mine = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit() or int(d.name) == os.getpid():
            continue
        try:
            if f"LOOM_COMPAT={RUN_MARK}".encode() in (d / "environ").read_bytes().split(b"\0"):
                mine.append(int(d.name))
        except OSError:
            pass
    return mine


def cmdline(pid: int) -> str:
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return "?"


def sweep() -> list[str]:
    """Ends every process still carrying this run's mark (left by a test that was killed, or
    started in a session of its own); returns their command lines."""
    deadline = time.time() + 3  # those already shutting down
    while time.time() < deadline and marked_pids():
        time.sleep(0.1)
    left = {pid: cmdline(pid) for pid in marked_pids()}
    for pid in left:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.time() + 3
    while time.time() < deadline and marked_pids():
        time.sleep(0.1)
    for pid in marked_pids():
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return [f"{pid}: {c}" for pid, c in left.items()]


def port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, proc: subprocess.Popen, timeout: float = 15.0) -> bool:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            return False
        with socket.socket() as s:
            s.settimeout(0.3)
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return True
        time.sleep(0.1)
    return False


def tail(path: Path, n: int = 8) -> str:
    try:
        lines = [ln for ln in path.read_text(errors="replace").splitlines() if ln.strip()]
    except OSError:
        return ""
    return " | ".join(lines[-n:])


def runtime_problem(log: Path, proc: subprocess.Popen) -> str:
    """Why a runtime did not come up: its exit status and error lines."""
    lines = []
    for ln in log.read_text(errors="replace").splitlines():
        try:
            entry = json.loads(ln)
        except ValueError:
            entry = None
        if isinstance(entry, dict):
            if entry.get("level") in ("error", "fatal"):
                lines.append(str(entry.get("msg", "")) + (f": {entry['error']}" if entry.get("error") else ""))
        elif ln.strip():
            lines.append(ln.strip())
    code = proc.poll()
    head = f"runtime exited {code}" if code is not None else "runtime did not listen within 15 s"
    return f"{head}: " + " | ".join(lines[:6])


# ── the suite ────────────────────────────────────────────────────────────────────────────────────


class Suite:
    def __init__(self, args):
        self.args = args
        self.tmp = Path(tempfile.mkdtemp(prefix="loom-compat-"))
        self.workspaces = self.tmp / "workspaces"
        self.workspaces.mkdir()
        self.template = self.tmp / "template"
        self.template.mkdir()
        self.standins = StandIns().start()
        self.python = ""
        self.root = Path()

    # setup ------------------------------------------------------------------------------------

    def prepare(self) -> None:
        if not TARBALL.is_file():
            raise RuntimeError(f"the reference tarball is not at {TARBALL}")
        runtime_js = REPO / "dist" / "runtime.js"
        if not runtime_js.is_file():
            raise RuntimeError("dist/runtime.js is missing; run `npm run build` (or bash .ci/setup.sh)")
        newer = [p for d in ("runtime", "proto") for p in (REPO / d).rglob("*") if p.is_file() and p.stat().st_mtime > runtime_js.stat().st_mtime]
        if newer:
            print(f"compat: note: dist/runtime.js is older than {len(newer)} source file(s) (e.g. {newer[0].relative_to(REPO)}); "
                  "run `npm run build` to test the current sources", flush=True)
        out = subprocess.run(["bash", str(HERE / "setup-venv.sh"), str(TARBALL)], stdout=subprocess.PIPE, text=True)
        if out.returncode != 0:
            raise RuntimeError(f"test/compat/setup-venv.sh failed (exit {out.returncode})")
        venv = Path(out.stdout.strip().splitlines()[-1])
        self.python = str(venv / "bin" / "python")
        self.loom_cli = str(venv / "bin" / "loom")

        with tarfile.open(TARBALL) as tar:
            if hasattr(tarfile, "data_filter"):
                tar.extractall(self.tmp / "ref", filter="data")
            else:
                tar.extractall(self.tmp / "ref")
        (self.root,) = [p for p in (self.tmp / "ref").iterdir() if p.is_dir()]
        # Where its tests look for the Rust server: <root>/target/{debug,release} (bridge_server.py)
        # and <root>/loom-py/target/release (test_mcp_env_parsing.py, test_mcp_loading.py).
        for d in (self.root / "target" / "debug", self.root / "target" / "release", self.root / "loom-py" / "target" / "release"):
            d.mkdir(parents=True, exist_ok=True)
            shutil.copy2(HERE / "loom-bridge-server", d / "loom-bridge-server")
            (d / "loom-bridge-server").chmod(0o755)

        (self.template / "loom.toml").write_text(runtime_toml(self.standins.base_url))
        # fs:read_file {"path": "README.md"} in the reference's tests expects one in the workspace.
        (self.template / "README.md").write_text("# compat workspace\n\nA workspace the compat suite made for one runtime.\n")
        if OUTPUT.exists():
            shutil.rmtree(OUTPUT)
        OUTPUT.mkdir(parents=True)
        print(f"compat: reference unpacked in {self.root}; venv {venv}; stand-ins {self.standins.base_url}; logs {OUTPUT}", flush=True)

    def launcher_env(self, port: int | None = None, extra: dict | None = None) -> dict:
        env = child_env({
            "LOOM_COMPAT_REPO": str(REPO),
            "LOOM_COMPAT_WORKSPACES": str(self.workspaces),
            "LOOM_COMPAT_TEMPLATE": str(self.template),
        })
        env.update(NEEDS_KEY_ENV)
        if port is not None:
            env["LOOM_BRIDGE_ADDR"] = f"127.0.0.1:{port}"
        env.update(extra or {})
        return env

    def start_launcher(self, name: str) -> tuple[subprocess.Popen, int, Path]:
        """Our runtime through the launcher, as the reference's tests start it."""
        port = free_port()
        log = OUTPUT / f"{name}.runtime.log"
        proc = spawn([str(self.root / "target" / "debug" / "loom-bridge-server")], log, self.root, self.launcher_env(port))
        if not wait_port(port, proc):
            problem = runtime_problem(log, proc)
            stop(proc)
            raise RuntimeError(problem)
        return proc, port, log

    # 1. pytest ----------------------------------------------------------------------------------

    def run_pytest(self) -> None:
        group = "pytest"
        print("\n── pytest: the reference's tests/integration and tests/e2e", flush=True)
        try:
            shared, port, _ = self.start_launcher("pytest-shared")
        except RuntimeError as err:
            record(group, "runtime for the tests that read LOOM_BRIDGE_ADDR", "failed", str(err))
            return
        junit = self.tmp / "junit.xml"
        log = OUTPUT / "pytest.log"
        env = self.launcher_env(port, {"PYTHONPATH": str(HERE)})
        cmd = [self.python, "-m", "pytest", "-p", "no:cacheprovider", "-p", "compat_plugin", f"--junitxml={junit}",
               "tests/integration", "tests/e2e", "--ignore=tests/e2e/test_native_tools.py"]
        proc = spawn(cmd, log, self.root / "loom-py", env)
        try:
            proc.wait(timeout=300)
        except subprocess.TimeoutExpired:
            stop(proc)
            record(group, "pytest run", "failed", "did not finish within 300 s (log: test/output/compat/pytest.log)")
        finally:
            stop(shared)
        # Its per-test lines follow; its own totals line is left out (the suite's is the one counted).
        totals = [ln.strip("= ") for ln in log.read_text(errors="replace").splitlines() if re.match(r"^=+ .*\d+ (passed|failed|skipped|errors?)\b.* in [\d.]+s", ln)]
        print(f"pytest exit {proc.returncode}; its totals: " + re.sub(r"(\d+) (\w+)", r"\2 \1", totals[-1] if totals else "none printed"), flush=True)
        record_junit(group, junit, proc.returncode, log)

    # 2. test_native_tools.py as a script ------------------------------------------------------------


    def run_native_tools(self) -> None:
        group = "native"
        print("\n── native: tests/e2e/test_native_tools.py as a script, its printed verdicts", flush=True)
        try:
            runtime, port, _ = self.start_launcher("native-tools")
        except RuntimeError as err:
            record(group, "test_native_tools.py", "failed", str(err))
            return
        log = OUTPUT / "native-tools.log"
        hits_before = len(self.standins.hits)
        proc = spawn([self.python, "tests/e2e/test_native_tools.py"], log, self.root / "loom-py", self.launcher_env(port))
        try:
            proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            stop(proc)
        finally:
            stop(runtime)
        out = log.read_text(errors="replace")
        verdicts = re.findall(r"^\s*[✓✗] (PASS|FAIL): (\S+)\s*$", out, re.M)
        if not verdicts:
            record(group, "test_native_tools.py", "failed", f"no PASS/FAIL summary printed (exit {proc.returncode}): {tail(log, 4)}")
            return
        sections = dict(zip(["weather:get", "web:search", "system:shell", "fs:read_file", "error_handling"],
                            re.split(r"^Test: .*$", out, flags=re.M)[1:]))
        served = {StandIns.kind(p) for p in self.standins.hits[hits_before:]}
        for verdict, name in verdicts:
            said = sections.get(name, "")
            if verdict == "PASS" and name == "weather:get" and "forecast" not in served:
                record(group, name, "failed", "PASS printed, but the weather stand-in was never asked (the tool did not use [tools.weather] base_url)")
            elif verdict == "PASS" and name == "web:search" and "search" not in served:
                record(group, name, "failed", "PASS printed, but the search stand-in was never asked (the tool did not use [tools.web_search] base_url)")
            elif verdict == "PASS":
                record(group, name, "passed")
            else:
                problems = [ln.strip() for ln in said.splitlines() if "[✗]" in ln or "Should have" in ln]
                if not problems and name == "error_handling":
                    problems = [ln.strip() for ln in said.splitlines() if "Got expected error" in ln]
                    problems = [f"the error does not say 'not found': {p}" for p in problems]
                record(group, name, "failed", "; ".join(problems) or "FAIL printed without a reason")

    # 3. the README's first agent ---------------------------------------------------------------------

    def run_readme(self, seconds: float = 6.0) -> None:
        """loom-py's README, "Create Your First Agent": run as `python my_agent.py` says, with the
        address it names (127.0.0.1:50051), then its tool called by name from another reference client."""
        group = "readme"
        print("\n── readme: loom-py's README, \"Create Your First Agent\"", flush=True)
        readme = (self.root / "loom-py" / "README.md").read_text()
        section = readme[readme.find("First Agent"):] if "First Agent" in readme else ""
        blocks = re.findall(r"```python\n(.*?)```", section, re.S)
        if not blocks:
            record(group, "first agent", "failed", "loom-py/README.md has no ```python block under \"First Agent\"")
            return
        source = blocks[0]
        # Its address is written into the block: our runtime takes it when it is free (as
        # --compat reference does); when something else holds 50051, the block is pointed elsewhere.
        port = 50051 if port_free(50051) else free_port()
        if port != 50051:
            print(f"compat: note: 127.0.0.1:50051 is taken here; the README's agent is pointed at {port}", flush=True)
            source = source.replace("127.0.0.1:50051", f"127.0.0.1:{port}")
        snippet = self.tmp / "my_agent.py"
        snippet.write_text(source)
        shutil.copy2(snippet, OUTPUT / "readme_first_agent.py")
        rlog = OUTPUT / "readme.runtime.log"
        runtime = spawn([str(self.root / "target" / "debug" / "loom-bridge-server")], rlog, self.root, self.launcher_env(port))
        agent = None
        try:
            if not wait_port(port, runtime):
                record(group, "first agent", "failed", runtime_problem(rlog, runtime))
                return
            log = OUTPUT / "readme.log"
            agent = spawn([self.python, str(snippet)], log, self.tmp, child_env())
            deadline = time.time() + 15
            while time.time() < deadline and agent.poll() is None and not any(
                    e.get("msg") == "agent connected" and e.get("agent") == "py-agent-1" for e in json_lines(rlog)):
                time.sleep(0.1)
            if agent.poll() is not None:
                record(group, "first agent", "failed", f"exited {agent.returncode}: {last_exception(log.read_text(errors='replace')) or tail(log, 3)}")
                return
            if not any(e.get("msg") == "agent connected" and e.get("agent") == "py-agent-1" for e in json_lines(rlog)):
                record(group, "first agent", "failed", f"never registered with the runtime: {tail(log, 3)}")
                return
            record(group, "first agent registers with its tool web.search", "passed")
            clog = OUTPUT / "readme.caller.log"
            caller = spawn([self.python, str(HERE / "call_tool.py"), f"127.0.0.1:{port}", "web.search", '{"query": "loom"}'], clog, self.tmp, child_env())
            try:
                caller.wait(timeout=20)
            except subprocess.TimeoutExpired:
                stop(caller)
            out = clog.read_text(errors="replace").strip().splitlines()
            try:
                answer = json.loads(out[-1]) if out else None
            except ValueError:
                answer = None
            if answer == {"query": "loom", "results": ["example.com"]}:
                record(group, "its tool web.search answers another reference client", "passed")
            else:
                record(group, "its tool web.search answers another reference client", "failed", f"got {out[-3:] if out else 'nothing'}")
        finally:
            if agent is not None:
                stop(agent)
            stop(runtime)

    # 4. the apps ------------------------------------------------------------------------------------

    def run_apps(self) -> None:
        print(f"\n── apps: {', '.join(APPS)}, {self.args.app_seconds:g} s each, as `loom run` starts them", flush=True)
        for app in APPS:
            try:
                self.run_app(app)
            finally:
                for p in STARTED:
                    if p.poll() is None:
                        stop(p, 2)

    def run_app(self, app: str, group: str = "apps", python: str = "", loom_cli: str = "") -> None:
        """One app as `loom run` starts it: on the reference's loom-py, or (group "sdk") on ours with
        its LLM pointed at the scripted stand-in, which it must then have asked."""
        python = python or self.python
        loom_cli = loom_cli or self.loom_cli
        ours = group == "sdk"
        src = self.root / "apps" / app
        ws = self.tmp / group / app
        shutil.copytree(src, ws)
        if ours:
            toml = ws / "loom.toml"
            toml.write_text(re.sub(r'(?m)^(\s*api_base\s*=\s*)".*"', rf'\1"{self.standins.base_url}/v1"', toml.read_text()))
        llm_hits_before = len(self.standins.hits)
        port = free_port()
        prefix = f"{'sdk-' if ours else ''}app-{app}"
        rlog = OUTPUT / f"{prefix}.runtime.log"
        runtime = spawn(["node", str(REPO / "dist" / "runtime.js"), "--compat", "reference", "--port", str(port),
                         "--workspace", str(ws), "--parent-pid", str(os.getpid()),
                         "--overrides", json.dumps(runtime_overrides(self.standins.base_url))],
                        rlog, ws, child_env())
        if not wait_port(port, runtime):
            record(group, app, "failed", runtime_problem(rlog, runtime))
            stop(runtime)
            return
        addr = f"127.0.0.1:{port}"
        # `loom run`: every agents/*.py (then main.py, run.py or app.py), cwd the project, with the
        # environment its ProjectConfig.to_env_vars() gives; the bridge address is ours.
        env = child_env(self.app_env(ws, python))
        env["LOOM_BRIDGE_ADDR"] = addr
        if ours:
            env.update({k: STAND_IN_LLM_KEY for k in ("DEEPSEEK_API_KEY", "OPENAI_API_KEY")})
        scripts = sorted((ws / "agents").glob("*.py"))
        scripts += [ws / e for e in ("main.py", "run.py", "app.py") if (ws / e).exists()][:1]
        procs: dict[str, subprocess.Popen] = {}
        started = time.time()
        for s in scripts:
            procs[s.stem] = spawn([python, str(s)], OUTPUT / f"{prefix}.{s.stem}.log", ws, env)
        # Until every agent still running has registered (at most 15 s), then what its README has
        # the user do next.
        deadline = time.time() + 15
        while time.time() < deadline and connected(rlog) < sum(p.poll() is None for p in procs.values()):
            time.sleep(0.2)
        problems: list[str] = []
        if app == "chat-assistant" and not Path(loom_cli).exists():
            problems.append(f"no `loom` command in {Path(loom_cli).parent}")
        elif app == "chat-assistant":  # `loom chat` in another terminal, then a question
            chat = spawn([loom_cli, "chat", "--address", addr], OUTPUT / f"{prefix}.loom-chat.log", ws, env, stdin=subprocess.PIPE)
            chat.stdin.write(b"What is the weather in Tokyo?\n")
            chat.stdin.flush()
            procs["loom chat"] = chat
        elif app == "deep-research":  # python query.py "..."
            procs["query.py"] = spawn([python, "query.py", "What are the latest developments in AI agents?"],
                                      OUTPUT / f"{prefix}.query.log", ws, env)
        time.sleep(max(0.0, started + self.args.app_seconds - time.time()))

        if runtime.poll() is not None:
            problems.append(runtime_problem(rlog, runtime))
        for name, p in procs.items():
            if p.poll() not in (None, 0):
                problems.append(f"{name} exited {p.returncode}")
        for p in procs.values():
            stop(p, 3)
            if p.stdin:
                p.stdin.close()
        code = stop(runtime)
        if code not in (0, None) and not problems:
            problems.append(f"runtime exited {code} on SIGTERM")
        if ours and not any(StandIns.kind(h) == "llm" for h in self.standins.hits[llm_hits_before:]):
            problems.append("the scripted LLM stand-in was never asked")
        for log in sorted(OUTPUT.glob(f"{prefix}.*.log")):
            who = log.name[len(f"{prefix}."):-len(".log")]
            for line in error_lines(log, runtime_log=(log == rlog)):
                problems.append(f"{who}: {line}")
        if problems:
            record(group, app, "failed", "; ".join(dict.fromkeys(problems)))
        else:
            record(group, app, "passed")

    # 5. our SDK under the reference's tests and apps -----------------------------------------------

    def run_sdk(self) -> None:
        group = "sdk"
        print("\n── sdk: our SDK's wheel as the only `loom` in a fresh venv: the reference's tests/unit, then its apps", flush=True)
        wheels = sorted((REPO / "dist" / "sdk").glob("*.whl"))
        if not wheels:
            record(group, "our SDK's wheel", "failed", "no wheel in dist/sdk; run `npm run build`")
            return
        venv = self.tmp / "oursdk-venv"
        log = OUTPUT / "sdk-venv.log"
        with open(log, "w") as out:
            made = subprocess.run([sys.executable, "-m", "venv", str(venv)], stdout=out, stderr=subprocess.STDOUT).returncode == 0 and subprocess.run(
                [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", f"{wheels[-1]}[telemetry]", "-r", str(HERE / "requirements-oursdk.txt")],
                stdout=out, stderr=subprocess.STDOUT).returncode == 0
        if not made:
            record(group, "fresh venv with our SDK's wheel", "failed", tail(log, 5))
            return
        python, loom_cli = str(venv / "bin" / "python"), str(venv / "bin" / "loom")
        # Its tests without its sources (some put <loom-py>/src on sys.path: there is none), with its
        # pytest settings.
        tests = self.tmp / "sdk-unit"
        shutil.copytree(self.root / "loom-py" / "tests", tests / "tests")
        shutil.copy2(self.root / "loom-py" / "pyproject.toml", tests / "pyproject.toml")
        junit = self.tmp / "sdk-junit.xml"
        ulog = OUTPUT / "sdk-unit.log"
        proc = spawn([python, "-m", "pytest", "-p", "no:cacheprovider", f"--junitxml={junit}", "tests/unit"], ulog, tests, child_env())
        try:
            proc.wait(timeout=300)
        except subprocess.TimeoutExpired:
            stop(proc)
        record_junit(group, junit, proc.returncode, ulog)
        names = subprocess.run([python, str(HERE / "public_names.py"), str(self.root / "loom-py" / "src")],
                               cwd=self.tmp, env=child_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        (OUTPUT / "sdk-public-names.log").write_text(names.stdout)
        lines = names.stdout.strip().splitlines()
        record(group, "every public name of the reference's modules exists in ours", "passed" if names.returncode == 0 else "failed",
               "" if names.returncode == 0 else "; ".join(lines[-6:]))
        for app in APPS:
            try:
                self.run_app(app, group, python, loom_cli)
            finally:
                for p in STARTED:
                    if p.poll() is None:
                        stop(p, 2)

    def app_env(self, ws: Path, python: str) -> dict:
        code = ("import json, pathlib; from loom.runtime.config import load_project_config; "
                "print(json.dumps(load_project_config(pathlib.Path('.')).to_env_vars()))")
        out = subprocess.run([python, "-c", code], cwd=ws, env=child_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            return json.loads(out.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            print(f"compat: note: the reference's ProjectConfig could not read {ws.name}/loom.toml: {out.stdout.strip()[-300:]}", flush=True)
            return {}

    def close(self) -> None:
        self.standins.stop()
        if self.args.keep:
            print(f"compat: kept {self.tmp}")
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)


# ── reading outputs ─────────────────────────────────────────────────────────────────────────────


def record_junit(group: str, junit: Path, code: int | None, log: Path) -> None:
    """One case per test of a pytest --junitxml report."""
    if not junit.exists():
        record(group, "pytest run", "failed", f"no results (exit {code}): {tail(log, 5)}")
        return
    for tc in ET.parse(junit).getroot().iter("testcase"):
        name = nodeid(tc.get("classname", ""), tc.get("name", ""))
        fail = tc.find("failure")
        err = tc.find("error")
        skip = tc.find("skipped")
        if fail is not None or err is not None:
            el = fail if fail is not None else err
            msg = el.get("message") or (el.text or "").strip().splitlines()[-1:] or ["?"]
            msg = msg if isinstance(msg, str) else msg[0]
            record(group, name, "failed", ("error in setup/teardown: " if fail is None else "") + first_line(msg))
        elif skip is not None:
            record(group, name, "skipped", skip.get("message", ""))
        else:
            record(group, name, "passed")


def nodeid(classname: str, name: str) -> str:
    parts = classname.split(".")
    for i, p in enumerate(parts):
        if p.startswith("test_"):
            return "/".join(parts[: i + 1]) + ".py" + "".join(f"::{c}" for c in parts[i + 1:]) + f"::{name}"
    return f"{classname}::{name}"


def first_line(msg: str) -> str:
    lines = [ln.strip() for ln in msg.splitlines() if ln.strip()]
    return lines[0] if lines else ""


def connected(runtime_log: Path) -> int:
    """How many agent ids the runtime has seen register."""
    return len({e.get("agent") for e in json_lines(runtime_log) if e.get("msg") == "agent connected"})


def json_lines(path: Path):
    for ln in path.read_text(errors="replace").splitlines():
        try:
            entry = json.loads(ln)
        except ValueError:
            continue
        if isinstance(entry, dict):
            yield entry


def last_exception(out: str) -> str:
    """The final 'SomeError: message' line of a Python traceback, if the output ends in one."""
    if "Traceback (most recent call last)" not in out:
        return ""
    tb = out[out.rfind("Traceback (most recent call last)"):]
    for ln in reversed(tb.splitlines()):
        if re.match(r"^[A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt)\b", ln):
            return ln.strip()
    return tb.strip().splitlines()[-1]


# An error in an app's logs, unless it is one of ALLOWED below. Runtime logs are JSON lines: their
# level decides. Agent output is plain text; a Python traceback (with its chained causes) counts as
# one message, judged by its last line.
ERROR_TEXT = re.compile(r"traceback|exception|\berror|errno|fatal|\bfailed|\bfail\b|✗|❌|critical|refused|unavailable", re.I)
# Runtime warnings that mean something did not work for a client (a refused registration, a failed
# stream message, ...); the others (the compat banner, settings notes) are not errors.
RUNTIME_WARN_PROBLEM = re.compile(r"refused|failed|threw|error|crashed|not published|skipped|went away|did not|not registered|not started", re.I)
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_NET = r"(Name or service not known|Temporary failure in name resolution|No address associated with hostname|Connection refused|All connection attempts failed|Network is unreachable|[Tt]imed? ?out|ConnectError|ConnectTimeout)"
# What a run without an LLM, API keys or the internet may print, and nothing more. Each entry names
# its cause; keep them narrow (the service, the message and the network failure all have to match).
ALLOWED: list[tuple[str, re.Pattern]] = [
    # The apps' [llm.deepseek] (api.deepseek.com) cannot be reached, or refuses the missing key; the
    # SDK's LLMProvider says "LLM generation failed: <cause>" and the apps print it with their own
    # prefix ("[planner] LLM error: ...", "[lead] Decomposition failed: ...", loom chat's "❌ Error: ...").
    ("LLM unreachable", re.compile(r"LLM generation failed: (.*" + _NET + r"|.*\b401\b|.*Unauthorized)")),
    # market-analyst's data agent reads OKX's public WebSocket (the internet); it then simulates prices.
    ("OKX market feed unreachable", re.compile(r"^\[data-okx\] Failed to connect(: Cannot connect to host ws\.okx\.com:8443 .*" + _NET + r".*|, falling back to simulation)$")),
    # [mcp.web-search] runs `npx ... brave-search` with BRAVE_API_KEY (a search API key, never passed
    # here, and the internet); without it the runtime does not start that server ...
    ("web-search MCP server without BRAVE_API_KEY", re.compile(r'"component":"mcp\.web-search","msg":"mcp server failed","error":"mcp\.web-search: could not start: mcp\.web-search\.env\.BRAVE_API_KEY: \$\{BRAVE_API_KEY\} has no value')),
    # ... so deep-research's researcher finds no "web-search" tool and uses its mock results.
    ("web-search MCP server without BRAVE_API_KEY", re.compile(r"^\[researcher\] Web search failed: Tool call failed: Tool not found: web-search, using mock data$")),
    # (the same, worded by our SDK, in the "sdk" part)
    ("web-search MCP server without BRAVE_API_KEY", re.compile(r"^\[researcher\] Web search failed: tool 'web-search' failed \(not_found\): tool \"web-search\" not found; did you mean \"web:search\"\?, using mock data$")),
]


def messages(text: str):
    """Lines, except that a traceback and its chained causes come as one message."""
    lines = [ANSI.sub("", ln).rstrip() for ln in text.splitlines()]
    i = 0
    while i < len(lines):
        if lines[i].startswith("Traceback (most recent call last)"):
            j = i + 1
            while j < len(lines):
                ln = lines[j]
                if ln.startswith(" ") or ln.startswith("Traceback (most recent call last)"):
                    j += 1
                    continue
                if ln == "" or ln.startswith(("The above exception", "During handling of the above")):
                    j += 1
                    continue
                # an exception line: the end, unless a chained traceback follows
                k = j + 1
                while k < len(lines) and (lines[k] == "" or lines[k].startswith(("The above exception", "During handling of the above"))):
                    k += 1
                if k < len(lines) and lines[k].startswith("Traceback (most recent call last)") and k > j + 1:
                    j = k
                    continue
                break
            last = lines[min(j, len(lines) - 1)]
            yield f"traceback ending in {last.strip()}"
            i = j + 1
            continue
        if lines[i].strip():
            yield lines[i].strip()
        i += 1


def error_lines(log: Path, runtime_log: bool) -> list[str]:
    found = []
    for text in messages(log.read_text(errors="replace")):
        if runtime_log:
            try:
                entry = json.loads(text)
            except ValueError:
                entry = None
            if isinstance(entry, dict):
                level, msg = entry.get("level"), str(entry.get("msg", ""))
                bad = level in ("error", "fatal") or (level == "warn" and RUNTIME_WARN_PROBLEM.search(msg))
                if bad and not any(p.search(text) for _, p in ALLOWED):
                    found.append(f"{entry.get('component', 'runtime')}: {entry.get('msg')}" + (f": {entry['error']}" if entry.get("error") else ""))
                continue
        if ERROR_TEXT.search(text) and not any(p.search(text) for _, p in ALLOWED):
            found.append(text[:300])
    return found


# ── main ─────────────────────────────────────────────────────────────────────────────────────────


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default="pytest,native,readme,apps,sdk", help="comma-separated parts to run")
    parser.add_argument("--app-seconds", type=float, default=20.0, help="how long each app runs")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    parts = set(args.only.split(","))

    def on_signal(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")
    signal.signal(signal.SIGTERM, on_signal)

    started = time.time()
    suite = Suite(args)
    try:
        suite.prepare()
        if "pytest" in parts:
            suite.run_pytest()
        if "native" in parts:
            suite.run_native_tools()
        if "readme" in parts:
            suite.run_readme()
        if "apps" in parts:
            suite.run_apps()
        if "sdk" in parts:
            suite.run_sdk()
    except KeyboardInterrupt:
        record("harness", "run", "failed", "interrupted")
    except Exception as err:  # noqa: BLE001 - reported as a failed case, with the summary line
        import traceback
        traceback.print_exc()
        record("harness", "run", "failed", f"{type(err).__name__}: {err}")
    finally:
        for p in STARTED:
            if p.poll() is None:
                stop(p, 2)
        left = sweep()
        if left:
            record("harness", "no process left behind", "failed", "still running after their stop, killed: " + "; ".join(left))
        suite.close()

    passed = sum(c.status == "passed" for c in CASES)
    failed = sum(c.status == "failed" for c in CASES)
    skipped = sum(c.status == "skipped" for c in CASES)
    if failed:
        print("\nFailures:")
        for c in CASES:
            if c.status == "failed":
                print(f"  {c.group}: {c.name} — {c.reason}")
    print(f"\n(compat took {time.time() - started:.0f} s; logs in {OUTPUT.relative_to(REPO)})")
    # The line .ci/test.sh counts; it must be the last "N passed/failed/skipped" in the output.
    print(f"compat: {passed} passed, {failed} failed, {skipped} skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
