"""Finds the runtime: explicit arguments, then the environment, then the workspace's discovery file.

The runtime writes `<workspace>/<data_dir>/runtime.json` = {"address", "token", "pid", "version"}
(`data_dir` is `[runtime] data_dir` of the workspace's loom.toml, default `.loom`), mode 0600 in a
0700 folder; the supervisor gives the agents it spawns LOOM_BRIDGE_ADDR and LOOM_TOKEN.

Whoever writes the discovery file decides where an agent connects, and so who receives its events
and tool results. So the file is used only when it is the runtime's own:

- it belongs to the workspace asked about: the folder given (default: the current directory) or,
  from a folder inside a workspace, the nearest folder upwards that holds a loom.toml or a
  discovery file. The search stops there, so the file of an enclosing folder is never used, and it
  never enters a folder another user owns (that user could place anything there, a symbolic link
  to some other workspace's file included);
- it is a regular file (not a symbolic link) owned by the current user, with mode exactly 0600.

A file that fails a check is refused with RuntimeNotFound naming the file and the reason.
"""
from __future__ import annotations

import json
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: the same parser, packaged as tomli
    import tomli as tomllib  # type: ignore[no-redef]

from .errors import RuntimeNotFound

ADDR_ENV = "LOOM_BRIDGE_ADDR"
TOKEN_ENV = "LOOM_TOKEN"
CONFIG_FILE = "loom.toml"
DEFAULT_DATA_DIR = ".loom"
DISCOVERY_NAME = "runtime.json"
#: The discovery file of a workspace that keeps the default data folder.
DISCOVERY_FILE = Path(DEFAULT_DATA_DIR) / DISCOVERY_NAME


@dataclass(frozen=True)
class Endpoint:
    address: str
    token: str | None
    #: Where the address came from: "argument", "environment" or the discovery file's path.
    source: str

    @property
    def from_file(self) -> bool:
        return self.source not in ("argument", "environment")


def data_dir_of(workspace: Path) -> str:
    """`[runtime] data_dir` of the workspace's loom.toml when it names a folder inside the
    workspace (the rule the runtime enforces), else `.loom`."""
    try:
        with (Path(workspace) / CONFIG_FILE).open("rb") as f:
            doc = tomllib.load(f)
    except (OSError, ValueError):  # missing, unreadable or not TOML: the runtime reports that
        return DEFAULT_DATA_DIR
    runtime = doc.get("runtime")
    value = runtime.get("data_dir") if isinstance(runtime, dict) else None
    return value if isinstance(value, str) and _inside(value) else DEFAULT_DATA_DIR


def _inside(data_dir: str) -> bool:
    """Not empty, not absolute, not the workspace itself, not leading out with ".."."""
    if not data_dir.strip() or os.path.isabs(data_dir):
        return False
    norm = os.path.normpath(data_dir)
    return norm not in (".", "..") and not norm.startswith(".." + os.sep)


def discovery_path(workspace: Path) -> Path:
    """Where the runtime of `workspace` writes its discovery file (whether it exists or not)."""
    return Path(workspace) / data_dir_of(workspace) / DISCOVERY_NAME


def _current_uid() -> int | None:
    """None where files have no POSIX owner (Windows): owner and mode are not checked there."""
    return os.getuid() if hasattr(os, "getuid") else None


def find_workspace(start: Path | None = None) -> Path | None:
    """The workspace `start` (default: the cwd) lies in: the nearest folder from `start` upwards
    holding a loom.toml or a discovery file, never beyond a folder another user owns."""
    uid = _current_uid()
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        try:
            if uid is not None and folder.stat().st_uid != uid:
                return None
        except OSError:
            return None
        if (folder / CONFIG_FILE).is_file() or os.path.lexists(discovery_path(folder)):
            return folder
    return None


def find_discovery_file(start: Path | None = None) -> Path | None:
    """The discovery file of the workspace `start` (default: the cwd) lies in, or None. Not yet
    checked: read_discovery_file refuses one that is not the runtime's own."""
    workspace = find_workspace(start)
    if workspace is None:
        return None
    path = discovery_path(workspace)
    return path if os.path.lexists(path) else None


def read_discovery_file(path: Path) -> dict[str, Any]:
    """The file's contents, once it passed the checks above (RuntimeNotFound says which failed)."""
    try:
        # O_NOFOLLOW: a symbolic link is refused, and the checks and the read see the same file;
        # O_NONBLOCK: a FIFO in its place cannot hang the open.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError as e:
        if os.path.islink(path):
            raise RuntimeNotFound(f"not using the runtime discovery file {path}: it is a symbolic link "
                                  f"(the runtime writes a regular file)") from e
        raise RuntimeNotFound(f"cannot read the runtime discovery file {path}: {e}") from e
    refusal = _refusal(os.fstat(fd))
    if refusal:
        os.close(fd)
        raise RuntimeNotFound(f"not using the runtime discovery file {path}: {refusal}; it names where "
                              f"this agent connects and which token it sends, so only the runtime's own "
                              f"file is trusted")
    with os.fdopen(fd, "rb") as f:
        try:
            data = json.loads(f.read())
        except (OSError, ValueError) as e:
            raise RuntimeNotFound(f"cannot read the runtime discovery file {path}: {e}") from e
    if not isinstance(data, dict) or not isinstance(data.get("address"), str) or not data["address"]:
        raise RuntimeNotFound(f"the runtime discovery file {path} has no \"address\" string")
    host = data["address"].rpartition(":")[0].strip("[]")
    if host not in ("127.0.0.1", "::1"):
        raise RuntimeNotFound(f"not using the runtime discovery file {path}: it names {data['address']!r}, not "
                              f"127.0.0.1 or ::1 where the runtime listens (this agent would send its token there)")
    return data


def _refusal(st: os.stat_result) -> str | None:
    """Why a discovery file with this status is not the runtime's own, or None."""
    if not stat.S_ISREG(st.st_mode):
        return "it is not a regular file"
    uid = _current_uid()
    if uid is None:
        return None
    if st.st_uid != uid:
        return f"it is owned by uid {st.st_uid}, not by the current user (uid {uid})"
    mode = stat.S_IMODE(st.st_mode)
    if mode != 0o600:
        return f"its mode is {mode:04o}, not 0600 (the runtime writes it 0600: others may have read or changed it)"
    return None


def resolve_endpoint(
    address: str | None = None,
    token: str | None = None,
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> Endpoint:
    """Address and token, each from the first place that has it: argument, environment, file.
    `cwd` is the folder whose workspace is asked about (default: the current directory)."""
    env = os.environ if env is None else env
    source = "argument" if address else None
    if not address and env.get(ADDR_ENV):
        address, source = env[ADDR_ENV], "environment"
    token_from = "argument" if token else TOKEN_ENV if env.get(TOKEN_ENV) else None
    token = token or env.get(TOKEN_ENV) or None
    if address and token:
        return Endpoint(address, token, source or "argument")

    path = find_discovery_file(cwd)
    if path is not None:
        data = read_discovery_file(path)
        if not address:
            if token:
                # A token given here never goes to the address a discovery file names: a file an agent
                # planted in a subfolder (its own, 0600) would have received it.
                raise RuntimeNotFound(
                    f"a token given as {token_from} but no address: pass address=... or set {ADDR_ENV} as well "
                    f"(a token is never sent to the address a discovery file names, here {path}; without a "
                    f"token, that file's own is used)")
            address, source = data["address"], str(path)
        if not token and isinstance(data.get("token"), str):
            token = data["token"] or None
    if not address:
        where = Path(cwd or Path.cwd()).resolve()
        workspace = find_workspace(where)
        looked = (f"{discovery_path(workspace)} does not exist" if workspace is not None else
                  f"no workspace (a folder holding {CONFIG_FILE} or {DISCOVERY_FILE}) from {where} upwards "
                  f"in folders the current user owns")
        raise RuntimeNotFound(
            f"no Loom runtime found: pass address=..., set {ADDR_ENV} (and {TOKEN_ENV}), "
            f"or start the runtime so it writes {DISCOVERY_FILE} ({looked})"
        )
    return Endpoint(address, token, source or "argument")
