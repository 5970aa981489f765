"""The tools a CognitiveAgent may use: their schemas from the runtime, names the model can
call, the permission check for tools that write or execute, and execution via ctx.tool."""

from __future__ import annotations

import inspect
import json
import logging
import re
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..llm.provider import tool_spec
from .types import Observation

log = logging.getLogger("loom.cognitive")

#: (tool name, arguments, reason) -> bool, sync or async. True lets the call run.
PermissionCallback = Callable[[str, dict[str, Any], str], bool | Awaitable[bool]]

_API_NAME_OK = re.compile(r"[^A-Za-z0-9_-]")
_NO_SCHEMA = {"type": "object", "properties": {}, "additionalProperties": True}

#: The descriptor metadata key by which a tool says what it does: "read", "write", "ask" (the
#: extension's tools; MCP tools from their annotations). Other values are treated as "write".
KIND_KEY = "loom.kind"
#: Kinds that change nothing: reading, or asking the user (who answers for themself).
UNGUARDED_KINDS = frozenset({"read", "ask"})


def tool_kind(info: Any) -> str | None:
    """The `loom.kind` of a tool descriptor (ToolInfo or dict), lower-cased; None without one."""
    if info is None:
        return None
    metadata = info.get("metadata") if isinstance(info, Mapping) else getattr(info, "metadata", None)
    kind = metadata.get(KIND_KEY) if isinstance(metadata, Mapping) else None
    return kind.strip().lower() if isinstance(kind, str) and kind.strip() else None


def needs_permission(name: str, kind: str | None, guarded: frozenset[str]) -> bool:
    """Whether the permission callback is asked before `name` runs: always for the names in
    `guarded`; otherwise by the descriptor's kind (anything but read/ask, e.g. write or
    execute); a tool without a kind and not named is not guarded."""
    if name in guarded:
        return True
    return kind is not None and kind not in UNGUARDED_KINDS


@dataclass
class ToolEntry:
    name: str            # as the runtime knows it, e.g. "fs:write"
    api_name: str        # as function-calling APIs accept it, e.g. "fs_write"
    description: str
    schema: dict[str, Any]
    kind: str | None = None  # the descriptor's loom.kind, when it has one


def _schema_of(info: Any) -> dict[str, Any]:
    """JSON Schema from a descriptor: `parameters` (dict) or `parameters_schema` (JSON text)."""
    def get(key: str) -> Any:
        return info.get(key) if isinstance(info, dict) else getattr(info, key, None)
    value = get("parameters")
    if value is None:
        value = get("parameters_schema")
    if isinstance(value, (str, bytes)) and value:
        try:
            value = json.loads(value)
        except ValueError:
            value = None
    return value if isinstance(value, dict) and value else dict(_NO_SCHEMA)


def _field(info: Any, key: str) -> str:
    value = info.get(key) if isinstance(info, dict) else getattr(info, key, "")
    return str(value or "")


class ToolBox:
    def __init__(self, ctx: Any, wanted: None | str | Iterable[str], *,
                 guarded: frozenset[str], permission_callback: PermissionCallback | None,
                 timeout_ms: int, max_chars: int, registry: Any = None):
        self.ctx = ctx
        self.wanted: str | list[str] = wanted if isinstance(wanted, str) else list(wanted or [])
        self.guarded = guarded
        self.permission_callback = permission_callback
        self.timeout_ms = timeout_ms
        self.max_chars = max_chars
        #: A loom.context ToolRegistry: descriptions and schemas of tools the runtime does not list.
        self.registry = registry
        self.entries: list[ToolEntry] = []
        self._by_name: dict[str, ToolEntry] = {}
        self._loaded = False

    async def load(self, refresh: bool = False) -> list[ToolEntry]:
        """Resolve the wanted names ("*" for every tool) against ctx.list_tools() once."""
        if self._loaded and not refresh:
            return self.entries
        self._loaded = True
        if not self.wanted:
            return []
        try:
            listed = {_field(t, "name"): t for t in await self.ctx.list_tools()}
        except Exception as e:  # the loop can still work with names only
            log.warning("cannot list tools (%s); offering them without schemas", e)
            listed = {}
        names = sorted(listed) if self.wanted == "*" else list(self.wanted)
        entries, used = [], set()
        for name in names:
            info = listed.get(name)
            if info is None and self.registry is not None and self.registry.get(name) is not None:
                described = self.registry.get(name)
                info = {"name": name, "description": described.description,
                        "parameters": described.to_json_schema()}
            description = _field(info, "description") if info is not None else "(not registered in the runtime yet)"
            api = _API_NAME_OK.sub("_", name)[:60] or "tool"
            base, n = api, 2
            while api in used:
                api, n = f"{base}_{n}", n + 1
            used.add(api)
            entries.append(ToolEntry(name, api, description,
                                     _schema_of(info) if info is not None else dict(_NO_SCHEMA), tool_kind(info)))
        self.entries = entries
        self._by_name = {e.name: e for e in entries} | {e.api_name: e for e in entries}
        return entries

    def specs(self) -> list[dict[str, Any]]:
        return [tool_spec(e.api_name, f"{e.description} (Loom tool {e.name})", e.schema) for e in self.entries]

    def described(self) -> list[tuple[str, str, dict[str, Any]]]:
        return [(e.name, e.description, e.schema) for e in self.entries]

    def resolve(self, name: str) -> ToolEntry | None:
        return self._by_name.get(name) or self._by_name.get(name.strip())

    async def run(self, name: str, args: dict[str, Any]) -> Observation:
        """Run one call; every failure becomes an unsuccessful Observation the model can read."""
        entry = self.resolve(name)
        if entry is None:
            available = ", ".join(e.name for e in self.entries) or "none"
            return Observation(name, False, "", f"unknown tool {name!r}; available tools: {available}")
        if self.permission_callback is not None and needs_permission(entry.name, entry.kind, self.guarded):
            if not await self._permitted(entry, args):
                return Observation(entry.name, False, "", f"permission to run {entry.name} was refused by the user")
        start = time.monotonic()
        try:
            value = await self.ctx.tool(entry.name, args, timeout_ms=self.timeout_ms)
        except Exception as e:
            code, message = getattr(e, "code", None), getattr(e, "message", None)
            error = f"{code}: {message}" if code and message else f"{type(e).__name__}: {e}"
            return Observation(entry.name, False, "", error, _ms_since(start))
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
        # Not cut here: the agent offloads a long output first, then cut() bounds what is shown.
        return Observation(entry.name, True, text, None, _ms_since(start), value=value)

    def cut(self, text: str) -> str:
        """`text` bounded to max_chars, saying how much was left out."""
        if len(text) > self.max_chars:
            return text[: self.max_chars] + f"... [cut: {len(text) - self.max_chars} more characters]"
        return text

    async def _permitted(self, entry: ToolEntry, args: dict[str, Any]) -> bool:
        name = entry.name
        reason = (f"{name} is a '{entry.kind}' tool" if entry.kind
                  else f"{name} changes files, the editor or runs a program")
        try:
            verdict = self.permission_callback(name, args, reason)  # type: ignore[misc]
            if inspect.isawaitable(verdict):
                verdict = await verdict
            return bool(verdict)
        except Exception as e:  # a broken callback must fail closed
            log.warning("permission callback failed for %s (%s); refusing", name, e)
            return False


def _ms_since(start: float) -> int:
    return int((time.monotonic() - start) * 1000)


__all__ = ["ToolBox", "ToolEntry", "PermissionCallback", "KIND_KEY", "UNGUARDED_KINDS", "tool_kind",
           "needs_permission"]
