"""Finds the runtime: explicit arguments, then the environment, then `.loom/runtime.json`.

The runtime writes `<workspace>/.loom/runtime.json` = {"address", "token", "pid", "version"};
the supervisor gives the agents it spawns LOOM_BRIDGE_ADDR and LOOM_TOKEN.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Optional

from .errors import RuntimeNotFound

ADDR_ENV = "LOOM_BRIDGE_ADDR"
TOKEN_ENV = "LOOM_TOKEN"
DISCOVERY_FILE = Path(".loom") / "runtime.json"


@dataclass(frozen=True)
class Endpoint:
    address: str
    token: Optional[str]
    #: Where the address came from: "argument", "environment" or the discovery file's path.
    source: str

    @property
    def from_file(self) -> bool:
        return self.source not in ("argument", "environment")


def find_discovery_file(start: Optional[Path] = None) -> Optional[Path]:
    """The nearest `.loom/runtime.json` from `start` (default: the cwd) upwards, or None."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / DISCOVERY_FILE
        if candidate.is_file():
            return candidate
    return None


def read_discovery_file(path: Path) -> dict:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise RuntimeNotFound(f"cannot read the runtime discovery file {path}: {e}") from e
    if not isinstance(data, dict) or not isinstance(data.get("address"), str) or not data["address"]:
        raise RuntimeNotFound(f"the runtime discovery file {path} has no \"address\" string")
    return data


def resolve_endpoint(
    address: Optional[str] = None,
    token: Optional[str] = None,
    *,
    env: Optional[Mapping[str, str]] = None,
    cwd: Optional[Path] = None,
) -> Endpoint:
    """Address and token, each from the first place that has it: argument, environment, file."""
    env = os.environ if env is None else env
    source = "argument" if address else None
    if not address and env.get(ADDR_ENV):
        address, source = env[ADDR_ENV], "environment"
    token = token or env.get(TOKEN_ENV) or None
    if address and token:
        return Endpoint(address, token, source or "argument")

    path = find_discovery_file(cwd)
    if path is not None:
        data = read_discovery_file(path)
        if not address:
            address, source = data["address"], str(path)
        if not token and isinstance(data.get("token"), str):
            token = data["token"] or None
    if not address:
        where = (cwd or Path.cwd()).resolve()
        raise RuntimeNotFound(
            f"no Loom runtime found: pass address=..., set {ADDR_ENV} (and {TOKEN_ENV}), "
            f"or start the runtime so it writes {DISCOVERY_FILE} (searched from {where} upwards)"
        )
    return Endpoint(address, token, source or "argument")
