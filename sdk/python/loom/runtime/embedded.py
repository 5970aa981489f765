"""Finds and starts this project's runtime: `node dist/runtime.js`.

The reference SDK downloads a Rust binary; this one never downloads anything. The runtime is the
`dist/runtime.js` bundle of Loom for VS Code, found in this order:

1. `LOOM_RUNTIME_JS` (the path of a `runtime.js`);
2. the checkout of Loom for VS Code holding this SDK (`<checkout>/dist/runtime.js`, built by
   `npm run build`), never one the current folder names: a workspace's files are not trusted to
   say which program runs (an agent's fs:write planted a package.json and dist/runtime.js);
3. the installed VS Code extension (`~/.vscode*/extensions/loom-os.loom-vscode-*/dist/runtime.js`),
   which is where the extension itself runs it from.

It runs on `LOOM_NODE`, else `node` on the PATH (Node 20 or newer). When nothing is found,
`RuntimeNotInstalled` says how to get it.

The reference's names stay: `start_bridge`, `start_core`, `get_binary`, `binary_path`, `cache_dir`,
`platform_tag`.
"""
from __future__ import annotations

import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, BinaryIO

from ..discovery import discovery_path
from ..errors import LoomError

RUNTIME_JS_ENV = "LOOM_RUNTIME_JS"
NODE_ENV = "LOOM_NODE"
#: package.json `name` of a Loom for VS Code checkout, and the extension's id prefix.
PACKAGE_NAME = "loom-vscode"
EXTENSION_PREFIX = "loom-os.loom-vscode-"
_EDITOR_HOMES = (".vscode", ".vscode-server", ".vscode-insiders", ".vscode-server-insiders", ".vscode-oss",
                 ".cursor", ".cursor-server", ".windsurf")


class RuntimeNotInstalled(LoomError):
    """Node or the runtime bundle (dist/runtime.js) is not where the SDK looks."""


def _checkout_root(start: Path) -> Path | None:
    """The nearest folder from `start` upwards holding Loom for VS Code's package.json."""
    for folder in (start, *start.parents):
        pkg = folder / "package.json"
        if pkg.is_file():
            try:
                if json.loads(pkg.read_text(encoding="utf-8")).get("name") == PACKAGE_NAME:
                    return folder
            except (OSError, ValueError, AttributeError):
                pass
    return None


def _checkouts() -> list[Path]:
    """The checkout of Loom for VS Code holding this SDK, if it is in one."""
    root = _checkout_root(Path(__file__).resolve().parent)
    return [root] if root is not None else []


def _version_key(name: str) -> list[int]:
    return [int(x) for x in re.findall(r"\d+", name[len(EXTENSION_PREFIX):])[:3]]


def _extension_bundles(home: Path) -> list[Path]:
    found = []
    for editor in _EDITOR_HOMES:
        folder = home / editor / "extensions"
        try:
            names = [n for n in os.listdir(folder) if n.startswith(EXTENSION_PREFIX)]
        except OSError:
            continue
        for name in sorted(names, key=_version_key, reverse=True):
            bundle = folder / name / "dist" / "runtime.js"
            if bundle.is_file():
                found.append(bundle)
                break
    return found


def find_runtime_js(explicit: os.PathLike[str] | None = None, *,
                    env: Mapping[str, str] | None = None) -> Path:
    """The runtime bundle to run (see the module's docstring); RuntimeNotInstalled otherwise."""
    env = os.environ if env is None else env
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise RuntimeNotInstalled(f"the Loom runtime bundle {path} does not exist")
        return path.resolve()
    if env.get(RUNTIME_JS_ENV):
        path = Path(env[RUNTIME_JS_ENV]).expanduser()
        if not path.is_file():
            raise RuntimeNotInstalled(f"{RUNTIME_JS_ENV}={path}: no such file (it names the runtime bundle, "
                                      f"dist/runtime.js of Loom for VS Code)")
        return path.resolve()
    looked: list[str] = []
    unbuilt: Path | None = None
    for root in _checkouts():
        bundle = root / "dist" / "runtime.js"
        if bundle.is_file():
            return bundle
        looked.append(str(bundle))
        unbuilt = unbuilt or root
    home = Path(env.get("HOME") or Path.home())
    bundles = _extension_bundles(home)
    if bundles:
        return bundles[0]
    looked.append(f"{home}/{{{','.join(_EDITOR_HOMES)}}}/extensions/{EXTENSION_PREFIX}*/dist/runtime.js")
    hint = (f"build it in the checkout {unbuilt} (npm install && npm run build), "
            if unbuilt else "")
    raise RuntimeNotInstalled(
        "cannot find the Loom runtime (dist/runtime.js of Loom for VS Code): "
        f"{hint}set {RUNTIME_JS_ENV}=/path/to/dist/runtime.js, run from a built checkout of Loom for VS Code, "
        "or install the Loom VS Code extension (its runtime is used). Looked at: " + "; ".join(looked)
        + ". The SDK never downloads a runtime."
    )


def find_node(env: Mapping[str, str] | None = None) -> str:
    """The Node executable: `LOOM_NODE`, else `node` on the PATH."""
    env = os.environ if env is None else env
    if env.get(NODE_ENV):
        node = env[NODE_ENV]
        if not (Path(node).is_file() or shutil.which(node)):
            raise RuntimeNotInstalled(f"{NODE_ENV}={node}: no such program")
        return node
    found = _on_path("node", env.get("PATH") or os.defpath)
    if not found:
        raise RuntimeNotInstalled("the Loom runtime runs on Node.js 20 or newer, and `node` is not on the PATH "
                                  f"(install Node.js, or set {NODE_ENV} to its executable)")
    return found


def _on_path(name: str, path: str) -> str | None:
    """`name` in the absolute folders of `path` only. shutil.which looks in the current folder first
    on Windows, and a PATH entry that is empty or "." means it anywhere: a workspace's planted
    node.cmd or ./node would run instead of Node."""
    suffixes = os.environ.get("PATHEXT", ".EXE;.CMD;.BAT").split(os.pathsep) if sys.platform == "win32" else [""]
    for folder in path.split(os.pathsep):
        if not os.path.isabs(folder):
            continue
        for suffix in suffixes:
            candidate = os.path.join(folder, name + suffix.lower())
            if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
                return candidate
    return None


def runtime_command(workspace: os.PathLike[str] | None = None, *, port: int | None = None,
                    dashboard: bool | None = None, dashboard_port: int | None = None,
                    compat: str | None = None, log_level: str | None = None,
                    print_events: str | None = None, overrides: dict[str, Any] | None = None,
                    extra_args: Sequence[str] = (), runtime_js: os.PathLike[str] | None = None) -> list[str]:
    """The command line that runs the runtime for `workspace` (default: the current folder).

    `dashboard`: True serves it ([dashboard] port of loom.toml, else `dashboard_port`, a taken
    port only warned about), False keeps it off, None leaves loom.toml's choice."""
    args = [find_node(), str(find_runtime_js(runtime_js))]
    args += ["--workspace", str(Path(workspace or ".").resolve())]
    if port is not None:
        args += ["--port", str(port)]
    if compat:
        args += ["--compat", compat]
    if log_level:
        args += ["--log-level", log_level]
    if print_events is not None:
        args += ["--print-events"] + ([print_events] if print_events else [])
    merged: dict[str, Any] = dict(overrides or {})
    if dashboard is not None:
        dash: dict[str, Any] = {"enabled": bool(dashboard)}
        if dashboard and dashboard_port is not None:
            dash["port"] = int(dashboard_port)
        merged["dashboard"] = {**merged.get("dashboard", {}), **dash}
    if merged:
        args += ["--overrides", json.dumps(merged)]
    return args + list(extra_args)


def runtime_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The runtime's environment: ours, with `LOOM_PYTHON` (the interpreter its supervisor runs
    `command = "python"` agents with) defaulting to this one, so they import this SDK."""
    env = dict(os.environ)
    for key in ("LOOM_BRIDGE_ADDR", "LOOM_TOKEN", "LOOM_AGENT_ID"):
        env.pop(key, None)  # another runtime's, inherited: this one writes its own
    env.setdefault("LOOM_PYTHON", sys.executable)
    env.update(extra or {})
    return env


def read_discovery(workspace: os.PathLike[str]) -> dict[str, Any] | None:
    """The discovery file of `workspace` ({"address", "token", "pid", ...}), or None."""
    path = discovery_path(Path(workspace))
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("address"), str) else None


def pid_alive(pid: Any) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    if not sys.platform.startswith("linux"):
        return True
    try:  # a zombie (ended, not yet reaped) is not running
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def running_runtime(workspace: os.PathLike[str]) -> dict[str, Any] | None:
    """The discovery info of the runtime serving `workspace` when its process is alive."""
    info = read_discovery(workspace)
    return info if info and pid_alive(info.get("pid")) else None


def wait_ready(workspace: os.PathLike[str], proc: subprocess.Popen[bytes], timeout: float = 60.0,
               log: Path | None = None) -> dict[str, Any]:
    """Waits for `proc` (a runtime) to write its discovery file; its contents. Raises
    RuntimeError when it exits first or does not answer in time (with the end of `log`)."""
    deadline = time.monotonic() + timeout
    while True:
        info = read_discovery(workspace)
        if info and info.get("pid") == proc.pid:
            return info
        code = proc.poll()
        if code is not None or time.monotonic() > deadline:
            tail = ""
            if log is not None:
                try:
                    tail = "\n" + "\n".join(log.read_text(errors="replace").splitlines()[-20:])
                except OSError:
                    pass
            why = f"exited with code {code}" if code is not None else f"wrote no discovery file within {timeout:g}s"
            if code is None:
                proc.terminate()
            raise RuntimeError(f"the Loom runtime for {workspace} {why}{tail}")
        time.sleep(0.05)


# -- the reference's names ---------------------------------------------------------------------

def platform_tag() -> str:
    """`<os>-<arch>` of this machine (linux-x86_64, macos-aarch64, windows-x86_64)."""
    arch = platform.machine().lower()
    arch = {"amd64": "x86_64", "arm64": "aarch64"}.get(arch, arch)
    os_tag = ("linux" if sys.platform.startswith("linux") else "macos" if sys.platform == "darwin"
              else "windows" if sys.platform.startswith("win") else sys.platform)
    return f"{os_tag}-{arch}"


def cache_dir() -> Path:
    """Where the reference caches downloaded binaries. Nothing is downloaded here; kept for code
    that prints or cleans it."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "loom" / "bin"


def binary_path(binary_name: str = "runtime.js", version: str = "latest") -> Path:
    """Where the reference caches `binary_name` of `version` for this platform (its layout:
    `cache_dir()/<version>/<platform_tag()>/<name>`). Nothing is cached there by this SDK."""
    name = binary_name + (".exe" if sys.platform.startswith("win") and binary_name != "runtime.js" else "")
    return cache_dir() / version / platform_tag() / name


def verify_checksum(file_path: Path, expected_sha256: str | None) -> bool:
    """Whether the file's SHA-256 is `expected_sha256` (hex; None: nothing to check)."""
    if not expected_sha256:
        return True
    digest = hashlib.sha256()
    with open(file_path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest().lower() == expected_sha256.strip().lower()


def find_local_build(binary_name: str = "runtime.js", prefer_release: bool = True) -> Path | None:
    """A local build of `binary_name`, or None. `runtime.js`: the runtime of a Loom for VS Code
    checkout (see find_runtime_js). Any other name, as the reference looks for its Rust binaries:
    `target/release/<name>` or `target/debug/<name>` (in `prefer_release` order) of the nearest
    Cargo workspace from the current folder upwards; this SDK does not run those."""
    if binary_name == "runtime.js":
        built = [root / "dist" / "runtime.js" for root in _checkouts()]
        return next((b for b in built if b.is_file()), None)
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        cargo = folder / "Cargo.toml"
        try:
            is_workspace = cargo.is_file() and "[workspace]" in cargo.read_text(encoding="utf-8")
        except OSError:
            is_workspace = False
        if is_workspace:
            kinds = ("release", "debug") if prefer_release else ("debug", "release")
            for kind in kinds:
                candidate = folder / "target" / kind / binary_name
                if candidate.is_file():
                    return candidate
            return None
    return None


def get_binary(name: str = "runtime.js", version: str = "latest", allow_local: bool = True,
               prefer_release: bool = True, force_download: bool = False) -> Path:
    """The runtime bundle (see the module's docstring). `version`, `prefer_release` and
    `force_download` are the reference's download choices and change nothing: there is no download."""
    return find_runtime_js()


# Where the reference downloads its binaries from. Kept as names only: nothing here downloads.
VENDOR = "loom-os"
APP_NAME = "loom"
GITHUB_REPO = "loom-os/loom"
RELEASE_BASE_URL = f"https://github.com/{GITHUB_REPO}/releases/download"


def ensure_executable(p: Path) -> None:
    """Adds the execute bits where reading is allowed (the runtime bundle runs under node, so
    this matters only for scripts handed to start_binary)."""
    mode = p.stat().st_mode
    p.chmod(mode | ((mode & 0o444) >> 2))


def get_binary_version(binary_path: Path) -> str | None:
    """The version a runtime prints for --version (runtime.js runs under node), or None."""
    path = Path(binary_path)
    cmd = [find_node(), str(path)] if path.suffix in (".js", ".mjs", ".cjs") else [str(path)]
    try:
        done = subprocess.run([*cmd, "--version"], capture_output=True, text=True, timeout=15)
    except (OSError, subprocess.TimeoutExpired, LoomError):
        return None
    found = re.search(r"\d+\.\d+\.\d+\S*", done.stdout) if done.returncode == 0 else None
    return found.group(0) if found else None


def validate_cached_binary(cached: Path, binary_name: str, expected_version: str) -> bool:
    """Whether `cached` exists and, unless `expected_version` is "latest", prints that version."""
    if not Path(cached).is_file():
        return False
    return expected_version == "latest" or get_binary_version(Path(cached)) == expected_version.lstrip("v")


def download_from_github(binary_name: str, version: str) -> Path:
    """The reference downloads its Rust binaries here; this SDK never downloads anything."""
    raise RuntimeNotInstalled(
        f"{binary_name} {version} is not downloaded: this SDK runs the Loom runtime of the VS Code "
        f"extension or of a built checkout (node dist/runtime.js); set {RUNTIME_JS_ENV} to its path"
    )


def start_binary(binary_name: str = "runtime.js", env_vars: Mapping[str, str] | None = None,
                 version: str = "latest", allow_local: bool = True, prefer_release: bool = True,
                 force_download: bool = False) -> subprocess.Popen[bytes]:
    """Starts the runtime in the current folder with `env_vars` added to the environment, its
    output discarded, as the reference's start_binary does (the other arguments choose nothing)."""
    return start_runtime(Path.cwd(), env=env_vars)


def open_private_log(path: Path, *, append: bool = False) -> BinaryIO:
    """A log file only this user can read, in a folder only this user can list: what a runtime or
    an agent prints may hold a secret (a dashboard URL with its token, a key an agent echoes)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if append else os.O_TRUNC) | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags, 0o600)
    os.fchmod(fd, 0o600)  # one made before, by another umask
    return os.fdopen(fd, "ab" if append else "wb")


def start_runtime(workspace: os.PathLike[str] | None = None, *, log: os.PathLike[str] | None = None,
                  env: Mapping[str, str] | None = None, new_session: bool = False,
                  **options: Any) -> subprocess.Popen[bytes]:
    """Starts the runtime for `workspace` (options: see runtime_command); its output goes to
    `log` (appended) or nowhere. Returns at once: `wait_ready` waits for its bridge."""
    ws = Path(workspace or ".").resolve()
    args = runtime_command(ws, **options)
    kwargs: dict[str, Any] = {}
    if new_session and hasattr(os, "setsid"):
        kwargs["start_new_session"] = True
    if log is not None:
        with open_private_log(Path(log), append=True) as out:
            return subprocess.Popen(args, cwd=ws, env=runtime_env(env), stdin=subprocess.DEVNULL,
                                    stdout=out, stderr=subprocess.STDOUT, **kwargs)
    return subprocess.Popen(args, cwd=ws, env=runtime_env(env), stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kwargs)


def _port_of(address: str) -> int:
    host, _, port = address.rpartition(":")
    if host.strip("[]") not in ("127.0.0.1", "::1", "localhost"):
        raise ValueError(f"the bridge listens on loopback only; {address!r} is not a loopback address")
    return int(port)


def start_bridge(address: str, version: str = "latest", prefer_release: bool = True,
                 force_download: bool = False, *, workspace: os.PathLike[str] | None = None) -> subprocess.Popen[bytes]:
    """The runtime for `workspace` (default: the current folder) with its bridge on `address`,
    dashboard off."""
    return start_runtime(workspace, port=_port_of(address), dashboard=False)


def start_core(bridge_addr: str, dashboard_port: int = 3030, version: str = "latest",
               prefer_release: bool = True, force_download: bool = False,
               mcp_servers: dict[str, Any] | None = None, *,
               workspace: os.PathLike[str] | None = None) -> subprocess.Popen[bytes]:
    """The runtime with its bridge on `bridge_addr` and the dashboard on `dashboard_port` (another
    when taken); `mcp_servers` ({name: {"command", "args", "env"}}) join loom.toml's through
    LOOM_MCP_SERVERS, as the reference passes them."""
    env = {"LOOM_MCP_SERVERS": json.dumps(mcp_servers)} if mcp_servers else None
    return start_runtime(workspace, port=_port_of(bridge_addr), dashboard=True,
                         dashboard_port=dashboard_port, env=env)


__all__ = [
    "NODE_ENV",
    "RUNTIME_JS_ENV",
    "RuntimeNotInstalled",
    "binary_path",
    "cache_dir",
    "find_local_build",
    "find_node",
    "find_runtime_js",
    "get_binary",
    "verify_checksum",
    "pid_alive",
    "platform_tag",
    "read_discovery",
    "running_runtime",
    "runtime_command",
    "runtime_env",
    "start_bridge",
    "start_core",
    "start_runtime",
    "wait_ready",
]
