"""A workspace's `loom.toml`, as the reference SDK's `loom.runtime.config` presents it.

`ProjectConfig.load(path)` and `load_project_config(start_dir)` give the reference's view
(`name`, `bridge`, `dashboard`, `llm_providers`, `mcp_servers`, `agents`) of either file
format the runtime reads:

- the reference's own (`[bridge] address`, command-less `[agents.<id>]` tables holding an
  agent's settings, `[llm.<name>] api_base`, ...);
- Loom's (`[bridge] host`/`port`, `[agents.<id>] command = ...` tables the runtime's
  supervisor starts, `[dashboard] enabled` defaulting to off, ...): those keys are kept too,
  in `raw`, `bridge.port`, `supervised_agents()`.

Beyond the reference: `${NAME:-fallback}` and `$$` in strings (the runtime's spelling) besides
`${NAME}` and `$NAME`; `path` and `workspace` say which file was read.
"""
from __future__ import annotations

import ast
import os
import re
import stat
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: the same parser, packaged as tomli
    import tomli as tomllib  # type: ignore[no-redef]

CONFIG_FILE = "loom.toml"
DEFAULT_BRIDGE_ADDRESS = "127.0.0.1:50051"

# ${NAME:-fallback}, ${NAME}, $NAME, and $$ for a literal dollar.
_VAR = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)")


def expand_vars(value: Any, env: Mapping[str, str] | None = None) -> Any:
    """`value` with environment references in every string replaced (recursively through lists
    and tables). An unset name without a fallback is left as written, as the reference does."""
    env = os.environ if env is None else env
    if isinstance(value, str):
        def one(m: re.Match[str]) -> str:
            if m.group(0) == "$$":
                return "$"
            name = m.group(1) or m.group(3)
            fallback = m.group(2)
            found = env.get(name)
            if fallback is not None:
                return found if found else fallback
            return found if found is not None else m.group(0)
        return _VAR.sub(one, value)
    if isinstance(value, dict):
        return {k: expand_vars(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [expand_vars(v, env) for v in value]
    return value


#: Variables a `.env` never sets: they decide which programs and libraries run, with which
#: options, and where connections go (the runtime and agents this process starts inherit them).
#: A `.env` holds API keys and settings; one that an agent or another user wrote set
#: NODE_OPTIONS, PYTHONPATH and grpc_proxy, and so ran code in the runtime and read a token.
_PROCESS_PREFIXES = ("LD_", "DYLD_", "NODE_", "PYTHON", "LOOM_", "GIT_", "GRPC_", "NPM_CONFIG_", "SSL_CERT_",
                     "OPENSSL_", "XDG_", "PERL5", "PERLLIB", "RUBY", "JAVA_", "_JAVA_", "JDK_JAVA_", "ELECTRON_",
                     "VSCODE_", "PIP_", "UV_", "CONDA", "CARGO_", "RUSTC", "BASH_", "SSH_ASKPASS", "DOCKER_",
                     "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE")
_PROCESS_NAMES = {"PATH", "HOME", "SHELL", "BASH_ENV", "ENV", "PROMPT_COMMAND", "IFS", "CDPATH", "TMPDIR",
                  "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "FTP_PROXY",
                  "GRPC_PROXY", "NO_PROXY", "NO_GRPC_PROXY", "GOFLAGS", "GOPROXY", "GCONV_PATH", "CLASSPATH",
                  "VIRTUAL_ENV", "EDITOR", "VISUAL", "PAGER", "BROWSER", "LESSOPEN", "MANPAGER", "SHELLOPTS",
                  "BASHOPTS", "PS4", "ZDOTDIR", "KUBECONFIG", "WGETRC", "CURL_HOME"}


def _changes_how_programs_run(name: str) -> bool:
    upper = name.upper()
    # A name no shell would write (bash's exported functions are BASH_FUNC_<name>%%) is never taken.
    plain = re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) is not None
    return not plain or upper in _PROCESS_NAMES or upper.startswith(_PROCESS_PREFIXES)


def _env_file_refusal(st: os.stat_result) -> str | None:
    """Why a `.env` with this status is not taken, or None."""
    if not stat.S_ISREG(st.st_mode):
        return "it is not a regular file"
    uid = os.getuid() if hasattr(os, "getuid") else None
    if uid is not None and st.st_uid != uid:
        return f"it is owned by uid {st.st_uid}, not by the current user (uid {uid})"
    mode = stat.S_IMODE(st.st_mode)
    # Group-writable is the norm where each user has a group of their own (umask 002).
    if uid is not None and (mode & 0o002 or (mode & 0o020 and st.st_gid != os.getgid())):
        return f"its mode is {mode:04o}: others may change it"
    return None


def read_env_file(path: Path, env: dict[str, str] | None = None) -> dict[str, str]:
    """KEY=VALUE lines of a `.env` file (comments, blank lines and `export ` skipped, one pair of
    matching quotes removed) put into `env` (default os.environ) where not already set; returns
    what was added. Only a regular file of the current user that others cannot write is read (a
    symbolic link is not followed), and variables that change how programs run (PATH, NODE_OPTIONS,
    LD_*, PYTHON*, LOOM_*, proxies, ...) are never set: each refusal is said on stderr."""
    target = os.environ if env is None else env
    added: dict[str, str] = {}
    try:
        # O_NOFOLLOW: a link is refused, and the checks and the read see the same file;
        # O_NONBLOCK: a FIFO in its place cannot hang the open.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError as e:
        if os.path.lexists(path):
            _warn(f"not reading {path}: {'it is a symbolic link' if os.path.islink(path) else e}")
        return added
    with os.fdopen(fd, "rb") as f:
        refusal = _env_file_refusal(os.fstat(f.fileno()))
        if refusal:
            _warn(f"not reading {path}: {refusal}")
            return added
        try:
            text = f.read().decode("utf-8")
        except (OSError, ValueError) as e:
            _warn(f"not reading {path}: {e}")
            return added
    skipped: list[str] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        if line.startswith("export "):
            line = line[len("export "):].lstrip()
        key, _, value = line.partition("=")
        key, value = key.strip(), value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        if key and _changes_how_programs_run(key):
            skipped.append(key)
        elif key and key not in target:
            target[key] = value
            added[key] = value
    if skipped:
        _warn(f"{path}: not setting {', '.join(sorted(set(skipped)))}: a .env sets API keys and settings, "
              f"not how programs run or where they connect (set these in the environment instead)")
    return added


def _warn(message: str) -> None:
    print(f"[loom] {message}", file=sys.stderr)


@dataclass
class BridgeConfig:
    """`[bridge]`: where agents reach the runtime."""

    address: str = DEFAULT_BRIDGE_ADDRESS
    #: The reference CLI's choice of runtime binary ("full" or "bridge-only"); for `loom up` and
    #: `loom run`, "bridge-only" means no dashboard.
    mode: str = "full"
    version: str = "latest"
    timeout_sec: int = 30
    #: Loom's `[bridge] port` (0: any free one) when the file gives it, else the address's port
    #: when the file gives an address, else None (the runtime's default).
    port: int | None = None
    #: Loom's `[bridge] compat` ("none" or "reference").
    compat: str | None = None


@dataclass
class LLMProviderConfig:
    """`[llm.<name>]`: an OpenAI-compatible model endpoint (see loom.llm for every key)."""

    name: str
    type: str
    api_key: str | None = None
    api_base: str | None = None
    model: str | None = None
    max_tokens: int = 2048
    temperature: float = 0.7
    timeout_sec: int = 30
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class MCPServerConfig:
    """`[mcp.<name>]` of a stdio server (`url` for Loom's HTTP servers, else empty)."""

    name: str
    command: str
    args: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    url: str | None = None


@dataclass
class DashboardConfig:
    """`[dashboard]`. The defaults are the reference's (on, port 3030); the runtime's own
    default, when the file has no such table, is off."""

    enabled: bool = True
    port: int = 3030
    host: str = "127.0.0.1"


def _int(value: Any, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _port_of(address: str) -> int | None:
    host, sep, port = address.rpartition(":")
    return int(port) if sep and host and port.isdigit() else None


@dataclass
class ProjectConfig:
    """A project's `loom.toml` (see the module's docstring for the two formats read)."""

    name: str | None = None
    version: str = "0.1.0"
    description: str | None = None
    bridge: BridgeConfig = field(default_factory=BridgeConfig)
    dashboard: DashboardConfig = field(default_factory=DashboardConfig)
    llm_providers: dict[str, LLMProviderConfig] = field(default_factory=dict)
    mcp_servers: dict[str, MCPServerConfig] = field(default_factory=dict)
    #: Every `[agents.<id>]` table as written (env references expanded).
    agents: dict[str, Any] = field(default_factory=dict)
    #: The file read (None: defaults, no file).
    path: Path | None = None
    #: The whole parsed file, env references expanded.
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def workspace(self) -> Path | None:
        """The folder holding the file."""
        return self.path.parent if self.path else None

    @classmethod
    def load(cls, path: Path = Path(CONFIG_FILE), *, load_env: bool = True) -> ProjectConfig:
        """Reads `path`; defaults when it does not exist. With `load_env`, the `.env` beside it
        sets the variables it names that the environment lacks (see `read_env_file`), before
        `${...}` are expanded. The reference also reads one from the current folder or any folder
        above: another user's /tmp/.env, say, which set NODE_OPTIONS for the runtime this process
        starts. A file that does not parse raises RuntimeError naming it."""
        path = Path(path)
        if not path.is_file():
            return cls()
        if load_env:
            read_env_file(path.parent / ".env")
        try:
            data = expand_vars(tomllib.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError) as e:
            raise RuntimeError(f"Failed to parse {path}: {e}") from e
        return cls.from_dict(data, path=path)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, path: Path | None = None) -> ProjectConfig:
        """The configuration a parsed (and expanded) loom.toml describes."""
        cfg = cls(path=Path(path) if path else None, raw=dict(data))
        cfg.name = data.get("name") if isinstance(data.get("name"), str) else None
        cfg.version = str(data.get("version", cfg.version))
        cfg.description = data.get("description") if isinstance(data.get("description"), str) else None

        bridge = data.get("bridge")
        if isinstance(bridge, dict):
            b = BridgeConfig(
                mode=str(bridge.get("mode", "full")),
                version=str(bridge.get("version", "latest")),
                timeout_sec=_int(bridge.get("timeout_sec"), 30),
                compat=bridge.get("compat") if isinstance(bridge.get("compat"), str) else None,
            )
            if isinstance(bridge.get("address"), str):
                b.address = bridge["address"]
                b.port = _port_of(b.address)
            elif "host" in bridge or "port" in bridge:
                raw_host = bridge.get("host")
                host = raw_host if isinstance(raw_host, str) else "127.0.0.1"
                host = "127.0.0.1" if host == "localhost" else host
                b.port = _int(bridge.get("port"), 0)
                if b.port:
                    b.address = f"[{host}]:{b.port}" if ":" in host else f"{host}:{b.port}"
            cfg.bridge = b

        dash = data.get("dashboard")
        if isinstance(dash, dict):
            cfg.dashboard = DashboardConfig(
                enabled=bool(dash.get("enabled", True)),
                port=_int(dash.get("port"), 3030),
                host=str(dash.get("host", "127.0.0.1")),
            )

        for name, section in (data.get("llm") or {}).items():
            if not isinstance(section, dict):
                continue
            timeout = section.get("timeout_sec", section.get("timeout"))
            cfg.llm_providers[name] = LLMProviderConfig(
                name=name,
                type=str(section.get("type", section.get("provider", "http"))),
                api_key=section.get("api_key"),
                api_base=section.get("api_base", section.get("base_url")),
                model=section.get("model"),
                max_tokens=_int(section.get("max_tokens"), 2048),
                temperature=section.get("temperature", 0.7),
                timeout_sec=_int(timeout, 30),
                extra=dict(section.get("extra") or {}),
            )

        for name, section in (data.get("mcp") or {}).items():
            # [mcp.serve] and [mcp.settings] are Loom's own settings, not servers.
            if not isinstance(section, dict) or (
                name in ("serve", "settings") and "command" not in section and "url" not in section
            ):
                continue
            cfg.mcp_servers[name] = MCPServerConfig(
                name=name,
                command=str(section.get("command", "")),
                args=[str(a) for a in section.get("args", [])],
                env={str(k): str(v) for k, v in (section.get("env") or {}).items()},
                url=section.get("url") if isinstance(section.get("url"), str) else None,
            )

        for agent_id, table in (data.get("agents") or {}).items():
            cfg.agents[agent_id] = _agent_table(table)
        return cfg

    def supervised_agents(self) -> dict[str, dict[str, Any]]:
        """The `[agents.<id>]` tables with a `command`: the ones the runtime starts itself."""
        return {k: v for k, v in self.agents.items() if isinstance(v, dict) and "command" in v}

    def agent_settings(self, agent_id: str) -> dict[str, Any]:
        """`[agents.<agent_id>]` as a dict (empty when absent)."""
        table = self.agents.get(agent_id)
        return table if isinstance(table, dict) else {}

    def to_env_vars(self) -> dict[str, str]:
        """The reference runtime's environment for this configuration: `LOOM_BRIDGE_ADDR`,
        `LOOM_DASHBOARD*`, and `LOOM_LLM_*` from the first `[llm.*]` table."""
        env = {"LOOM_BRIDGE_ADDR": self.bridge.address}
        if self.dashboard.enabled:
            env["LOOM_DASHBOARD"] = "true"
            env["LOOM_DASHBOARD_HOST"] = self.dashboard.host
            env["LOOM_DASHBOARD_PORT"] = str(self.dashboard.port)
        first = next(iter(self.llm_providers.values()), None)
        if first is not None:
            for key, value in (("LOOM_LLM_API_KEY", first.api_key), ("LOOM_LLM_API_BASE", first.api_base),
                               ("LOOM_LLM_MODEL", first.model)):
                if value:
                    env[key] = str(value)
        return env


def _agent_table(table: Any) -> Any:
    """An agent's table; the reference's old files wrote it as a Python dict in a string."""
    if not isinstance(table, str):
        return table
    try:
        parsed = ast.literal_eval(table)
    except (ValueError, SyntaxError):
        return {"_raw": table}
    return parsed if isinstance(parsed, dict) else {"value": parsed}


def find_project_file(start_dir: Path = Path(".")) -> Path | None:
    """The nearest loom.toml from `start_dir` upwards, or None."""
    here = Path(start_dir).resolve()
    for folder in (here, *here.parents):
        if (folder / CONFIG_FILE).is_file():
            return folder / CONFIG_FILE
    return None


def load_project_config(start_dir: Path = Path(".")) -> ProjectConfig:
    """The configuration of the nearest loom.toml from `start_dir` upwards (defaults if none)."""
    found = find_project_file(start_dir)
    return ProjectConfig.load(found) if found else ProjectConfig()


__all__ = [
    "BridgeConfig",
    "DashboardConfig",
    "LLMProviderConfig",
    "MCPServerConfig",
    "ProjectConfig",
    "expand_vars",
    "find_project_file",
    "load_project_config",
    "read_env_file",
]
