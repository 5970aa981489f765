"""LLM configuration: presets, `[llm.<name>]` sections of loom.toml, `${ENV}` expansion.

A section looks like:

    [llm.deepseek]
    type = "deepseek"            # preset: deepseek | openai | ollama | local (vLLM) | http
    api_base = "https://api.deepseek.com/v1"
    model = "deepseek-chat"
    api_key = "${DEEPSEEK_API_KEY}"
    temperature = 0.7
    max_tokens = 4096
    timeout = 60                 # seconds (timeout_sec and timeout_ms are accepted too)

Keys given in the section override the preset named by `type` (or by the section's name when
it matches a preset). Unknown `type` values are an error rather than a silent default.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping, Optional, Union

from .errors import LLMConfigError


@dataclass
class LLMConfig:
    """Connection settings for one OpenAI-compatible chat-completions endpoint."""

    base_url: str
    model: str
    # repr=False: a config printed in a log or a traceback must not show the key.
    api_key: Optional[str] = field(default=None, repr=False)
    temperature: float = 0.7
    max_tokens: int = 4096
    timeout_ms: int = 30000
    name: str = "llm"
    # Whether the endpoint accepts `tools` (native function calling).
    supports_tools: bool = True
    max_retries: int = 3
    # First backoff delay; doubles per attempt (with jitter), capped at max_backoff_s.
    backoff_s: float = 0.5
    max_backoff_s: float = 8.0
    # A Retry-After longer than this is not waited out: the call fails at once instead.
    max_retry_wait_s: float = 60.0
    extra_headers: dict[str, str] = field(default_factory=dict, repr=False)


def _preset(base_url: str, model: str, key_env: Optional[str], supports_tools: bool,
            temperature: float = 0.7, max_tokens: int = 4096) -> dict[str, Any]:
    return {"base_url": base_url, "model": model, "key_env": key_env,
            "supports_tools": supports_tools, "temperature": temperature,
            "max_tokens": max_tokens}


PRESETS: dict[str, dict[str, Any]] = {
    "deepseek": _preset("https://api.deepseek.com/v1", "deepseek-chat", "DEEPSEEK_API_KEY", True),
    "openai": _preset("https://api.openai.com/v1", "gpt-4o-mini", "OPENAI_API_KEY", True),
    "ollama": _preset("http://127.0.0.1:11434/v1", "llama3.2", None, True),
    # vLLM-style local server; tool calling there depends on server flags, so off by default.
    "local": _preset("http://127.0.0.1:8000/v1", "qwen2.5-0.5b-instruct", None, False, 0.8, 2048),
}
_PRESET_ALIASES = {"vllm": "local"}
_GENERIC_TYPES = {"http", "openai-compatible", "openai_compatible", "custom"}

_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def expand_env(value: str, *, provider: str, key: str) -> str:
    """Expand `${VAR}` and `${VAR:-default}`; an unset VAR without default is an error that
    names the variable (never its value)."""

    def sub(m: re.Match[str]) -> str:
        var, default = m.group(1), m.group(2)
        got = os.environ.get(var)
        if got is not None and got != "":
            return got
        if default is not None:
            return default
        raise LLMConfigError(provider, f"{key} refers to ${{{var}}}, which is not set in the environment")

    return _ENV_REF.sub(sub, value)


def preset_config(name: str) -> LLMConfig:
    """An LLMConfig from a built-in preset, its key read from the preset's env variable."""
    key = _PRESET_ALIASES.get(name.lower(), name.lower())
    if key not in PRESETS:
        raise LLMConfigError(name, f"unknown preset; choose one of {sorted(PRESETS)} "
                                   "or give api_base and model")
    p = PRESETS[key]
    return LLMConfig(
        base_url=p["base_url"], model=p["model"],
        api_key=os.environ.get(p["key_env"]) if p["key_env"] else None,
        temperature=p["temperature"], max_tokens=p["max_tokens"],
        supports_tools=p["supports_tools"], name=name,
    )


def _section_value(section: Any, key: str) -> Any:
    if isinstance(section, Mapping):
        return section.get(key)
    return getattr(section, key, None)


def config_from_section(name: str, section: Any) -> LLMConfig:
    """Build an LLMConfig from an `[llm.<name>]` mapping (or an object with those attributes,
    like the reference's LLMProviderConfig)."""
    kind = _section_value(section, "type") or _section_value(section, "provider")
    kind = str(kind).lower() if kind else None
    preset_name = _PRESET_ALIASES.get(kind, kind) if kind else None
    if preset_name in PRESETS:
        cfg = preset_config(preset_name)
    elif preset_name is None and name.lower() in PRESETS:
        cfg = preset_config(name.lower())
    elif preset_name is None or preset_name in _GENERIC_TYPES:
        base = _section_value(section, "api_base") or _section_value(section, "base_url")
        model = _section_value(section, "model")
        if not base or not model:
            hint = "" if kind else f"; or name a preset with type = one of {sorted(PRESETS)}"
            raise LLMConfigError(name, f"the [llm.{name}] section needs api_base and model{hint}")
        cfg = LLMConfig(base_url="", model="", supports_tools=False)
    else:
        raise LLMConfigError(name, f"unknown type {kind!r}; choose one of "
                                   f"{sorted(set(PRESETS) | set(_PRESET_ALIASES) | _GENERIC_TYPES)}")
    changes: dict[str, Any] = {"name": name}

    def text(key: str) -> Optional[str]:
        v = _section_value(section, key)
        return expand_env(str(v), provider=name, key=key) if v is not None else None

    base = text("api_base") or text("base_url")
    if base:
        changes["base_url"] = base
    if text("model"):
        changes["model"] = text("model")
    if _section_value(section, "api_key") is not None:
        changes["api_key"] = text("api_key") or None
    for key, conv in (("temperature", float), ("max_tokens", int), ("max_retries", int),
                      ("max_retry_wait_s", float), ("backoff_s", float)):
        v = _section_value(section, key)
        if v is not None:
            try:
                changes[key] = conv(v)
            except (TypeError, ValueError):
                raise LLMConfigError(name, f"{key} must be a number, got {v!r}") from None
    for key in ("supports_tools", "native_tools"):
        v = _section_value(section, key)
        if v is not None:
            changes["supports_tools"] = bool(v)
    timeout_ms = _timeout_ms(name, section)
    if timeout_ms is not None:
        changes["timeout_ms"] = timeout_ms
    headers = _section_value(section, "headers")
    if isinstance(headers, Mapping):
        changes["extra_headers"] = {str(k): expand_env(str(v), provider=name, key=f"headers.{k}")
                                    for k, v in headers.items()}
    return replace(cfg, **changes)


def _timeout_ms(name: str, section: Any) -> Optional[int]:
    for key, scale in (("timeout_ms", 1), ("timeout", 1000), ("timeout_sec", 1000), ("timeout_s", 1000)):
        v = _section_value(section, key)
        if v is not None:
            try:
                ms = int(float(v) * scale)
            except (TypeError, ValueError):
                raise LLMConfigError(name, f"{key} must be a number, got {v!r}") from None
            if ms <= 0:
                raise LLMConfigError(name, f"{key} must be positive, got {v!r}")
            return ms
    return None


def find_loom_toml(start: Optional[Union[str, Path]] = None) -> Optional[Path]:
    """loom.toml of the workspace: $LOOM_WORKSPACE, else `start` (default cwd) and its parents."""
    ws = os.environ.get("LOOM_WORKSPACE")
    if ws and (Path(ws) / "loom.toml").is_file():
        return Path(ws) / "loom.toml"
    here = Path(start or os.getcwd()).resolve()
    for d in (here, *here.parents):
        if (d / "loom.toml").is_file():
            return d / "loom.toml"
    return None


def read_llm_sections(path: Union[str, Path]) -> dict[str, Any]:
    """The `[llm.*]` tables of a loom.toml file (a clear error if the file is not valid TOML)."""
    p = Path(path)
    if p.is_dir():
        p = p / "loom.toml"
    try:
        with p.open("rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError:
        raise LLMConfigError("config", f"{p} does not exist") from None
    except tomllib.TOMLDecodeError as e:
        raise LLMConfigError("config", f"{p} is not valid TOML: {e}") from None
    llm = data.get("llm", {})
    if not isinstance(llm, dict):
        raise LLMConfigError("config", f"{p}: [llm] must be a table of [llm.<name>] tables")
    return llm


def resolve_config(name: str, source: Any = None) -> LLMConfig:
    """LLMConfig for provider `name` from: a section mapping, an LLMConfig, a loom.toml path,
    a reference-style ProjectConfig (`llm_providers`), or (None) the workspace's loom.toml;
    falls back to the preset called `name`."""
    if isinstance(source, LLMConfig):
        return source
    if isinstance(source, Mapping):
        # Either the [llm.<name>] section itself or the whole [llm] table.
        inner = source.get(name) if name in source and isinstance(source.get(name), Mapping) else None
        return config_from_section(name, inner if inner is not None else source)
    providers = getattr(source, "llm_providers", None)
    if providers is not None:
        if name in providers:
            return config_from_section(name, providers[name])
        return preset_config(name)
    if isinstance(source, (str, Path)):
        sections = read_llm_sections(source)
    elif source is None:
        found = find_loom_toml()
        sections = read_llm_sections(found) if found else {}
    else:
        raise LLMConfigError(name, f"cannot read a configuration from {type(source).__name__}")
    if name in sections:
        return config_from_section(name, sections[name])
    return preset_config(name)


__all__ = ["LLMConfig", "PRESETS", "expand_env", "preset_config", "config_from_section",
           "find_loom_toml", "read_llm_sections", "resolve_config"]
