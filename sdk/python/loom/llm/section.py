"""Reading one `[llm.<name>]` table strictly: unknown keys (with a did-you-mean), wrong types
and out-of-range values are all reported at once in one LLMConfigError, so a typo such as
`api_bse` or `modle` never quietly falls back to a preset's default.

The runtime passes `[llm.*]` through unchecked (runtime/config/loom.toml.md), so this is the
only place these keys are validated.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, cast

from .env import expand_env
from .errors import LLMConfigError

#: Every key an [llm.<name>] table may hold. Pairs in _ALIASES name the same setting.
KNOWN_KEYS = (
    "type", "provider", "api_base", "base_url", "model", "api_key", "temperature", "max_tokens",
    "timeout", "timeout_ms", "timeout_sec", "timeout_s", "max_retries", "backoff_s",
    "max_backoff_s", "max_retry_wait_s", "supports_tools", "native_tools", "headers", "extra",
)
_ALIASES = (("type", "provider"), ("api_base", "base_url"), ("supports_tools", "native_tools"),
            ("timeout", "timeout_ms", "timeout_sec", "timeout_s"))
_TIMEOUT_SCALE_MS = {"timeout": 1000, "timeout_ms": 1, "timeout_sec": 1000, "timeout_s": 1000}
#: Request fields the provider sets itself; `extra` may not replace them.
_RESERVED_BODY = {"model": "model", "messages": None, "stream": None, "tools": None,
                  "tool_choice": None, "temperature": "temperature", "max_tokens": "max_tokens"}
#: Values never echoed in an error message.
_SECRET_KEYS = {"api_key", "headers"}


@dataclass
class SectionValues:
    """What a section set (None: not given)."""

    type: str | None = None
    base_url: str | None = None
    model: str | None = None
    api_key: str | None = None
    api_key_given: bool = False
    temperature: float | None = None
    max_tokens: int | None = None
    timeout_ms: int | None = None
    max_retries: int | None = None
    backoff_s: float | None = None
    max_backoff_s: float | None = None
    max_retry_wait_s: float | None = None
    supports_tools: bool | None = None
    headers: dict[str, str] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, Mapping):
        return "a table"
    if isinstance(value, (list, tuple)):
        return "an array"
    return type(value).__name__


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


class _Reader:
    def __init__(self, name: str, section: Any):
        self.name = name
        self.section = section
        self.problems: list[str] = []

    def where(self, key: str) -> str:
        return f"llm.{self.name}.{key}"

    def raw(self, key: str) -> Any:
        if isinstance(self.section, Mapping):
            return self.section.get(key)
        return getattr(self.section, key, None)

    def wrong(self, key: str, expected: str, value: Any) -> None:
        shown = "" if key.split(".")[0] in _SECRET_KEYS else f" {value!r}"
        self.problems.append(f"{self.where(key)} must be {expected}, got {_describe(value)}{shown}")

    def one_of(self, keys: tuple[str, ...]) -> str | None:
        """The one key of an alias group that is set (a problem when several are)."""
        given = [k for k in keys if self.raw(k) is not None]
        if len(given) > 1:
            self.problems.append(f"{' and '.join(self.where(k) for k in given)} set the same thing; keep one")
        return given[0] if given else None

    def text(self, key: str | None) -> str | None:
        if key is None:
            return None
        value = self.raw(key)
        if value is None:
            return None
        return self.expand(key, value)

    def expand(self, key: str, value: Any) -> str | None:
        if not isinstance(value, str):
            self.wrong(key, "a string", value)
            return None
        try:
            return expand_env(value, provider=self.name, key=self.where(key))
        except LLMConfigError as e:
            self.problems.append(e.reason)
            return None

    def number(self, key: str | None, *, integer: bool = False, low: float | None = None,
               high: float | None = None, positive: bool = False) -> float | None:
        if key is None:
            return None
        value = self.raw(key)
        if value is None:
            return None
        kind = "an integer" if integer else "a number"
        if not _is_number(value) or (integer and not isinstance(value, int)):
            self.wrong(key, kind, value)
            return None
        if positive and value <= 0:
            self.problems.append(f"{self.where(key)} must be positive, got {value!r}")
        elif low is not None and high is not None and not low <= value <= high:
            self.problems.append(f"{self.where(key)} must be between {low:g} and {high:g}, got {value!r}")
        elif low is not None and value < low:
            self.problems.append(f"{self.where(key)} must be at least {low:g}, got {value!r}")
        else:
            return cast(float, value)  # an int when integer=True (see whole())
        return None

    def whole(self, key: str | None, *, low: float | None = None, positive: bool = False) -> int | None:
        """number(integer=True), typed as the int it is."""
        value = self.number(key, integer=True, low=low, positive=positive)
        return None if value is None else int(value)

    def flag(self, key: str | None) -> bool | None:
        if key is None:
            return None
        value = self.raw(key)
        if value is not None and not isinstance(value, bool):
            self.wrong(key, "true or false", value)
            return None
        return value

    def table(self, key: str) -> Mapping[str, Any] | None:
        value = self.raw(key)
        if value is None:
            return None
        if not isinstance(value, Mapping):
            self.wrong(key, "a table", value)
            return None
        return value

    def unknown_keys(self) -> None:
        for key in self.section:
            if key in KNOWN_KEYS:
                continue
            close = difflib.get_close_matches(str(key), KNOWN_KEYS, n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]}?)" if close else f"; known keys: {', '.join(KNOWN_KEYS)}"
            self.problems.append(f"unknown key {self.where(str(key))}{hint}")


def read_section(name: str, section: Any) -> SectionValues:
    """The values of `[llm.<name>]` (a mapping, or an object with those attributes like the
    reference's LLMProviderConfig), `${VAR}` expanded in strings; LLMConfigError listing every
    problem otherwise."""
    if section is None or isinstance(section, (str, bytes, int, float, bool, list, tuple)):
        raise LLMConfigError(name, f"llm.{name} must be a table ([llm.{name}]), got {_describe(section)}")
    r = _Reader(name, section)
    if isinstance(section, Mapping):
        r.unknown_keys()
    type_key, base_key, tools_key, timeout_key = (r.one_of(group) for group in _ALIASES)
    out = SectionValues(type=r.text(type_key), base_url=r.text(base_key), model=r.text("model"))
    out.api_key_given = r.raw("api_key") is not None
    out.api_key = r.text("api_key") or None
    out.temperature = r.number("temperature", low=0, high=2)
    out.max_tokens = r.whole("max_tokens", positive=True)
    out.max_retries = r.whole("max_retries", low=0)
    out.backoff_s = r.number("backoff_s", low=0)
    out.max_backoff_s = r.number("max_backoff_s", low=0)
    out.max_retry_wait_s = r.number("max_retry_wait_s", low=0)
    out.supports_tools = r.flag(tools_key)
    timeout = r.number(timeout_key, positive=True)
    if timeout is not None and timeout_key is not None:
        out.timeout_ms = max(1, int(timeout * _TIMEOUT_SCALE_MS[timeout_key]))
    headers = r.table("headers")
    if headers is not None:
        out.headers = {}
        for k, v in headers.items():
            text = r.expand(f"headers.{k}", v)
            if text is not None:
                out.headers[str(k)] = text
    extra = r.table("extra")
    for k, v in (extra or {}).items():
        if k in _RESERVED_BODY:
            own = _RESERVED_BODY[k]
            r.problems.append(f"{r.where('extra.' + k)} cannot be set: "
                              + (f"use {r.where(own)}" if own else "the provider sets it on each call"))
        else:
            out.extra[str(k)] = v
    if r.problems:
        raise LLMConfigError(name, f"invalid [llm.{name}]: " + "; ".join(r.problems))
    return out


__all__ = ["KNOWN_KEYS", "SectionValues", "read_section"]
