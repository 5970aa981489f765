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
it matches a preset). Unknown `type` values, unknown keys, wrong types and out-of-range values
are errors rather than silent defaults (see section.py; a loom.toml file is first checked against
the runtime's schema by loom.config); strings expand `${VAR}` as env.py says.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: the same parser, packaged as tomli
    import tomli as tomllib  # type: ignore[no-redef]

from ..config import check_document
from .env import expand_env
from .errors import LLMConfigError
from .section import KNOWN_KEYS, read_section


@dataclass
class LLMConfig:
    """Connection settings for one OpenAI-compatible chat-completions endpoint."""

    base_url: str
    model: str
    # repr=False: a config printed in a log or a traceback must not show the key.
    api_key: str | None = field(default=None, repr=False)
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
    #: Extra fields sent in every request body (e.g. top_p, seed); `[llm.<name>] extra = {...}`.
    extra_body: dict[str, Any] = field(default_factory=dict)


def _preset(base_url: str, model: str, key_env: str | None, supports_tools: bool,
            temperature: float = 0.7, max_tokens: int = 4096) -> dict[str, Any]:
    return {"base_url": base_url, "model": model, "key_env": key_env,
            "supports_tools": supports_tools, "temperature": temperature,
            "max_tokens": max_tokens}


PRESETS: dict[str, dict[str, Any]] = {
    "deepseek": _preset("https://api.deepseek.com/v1", "deepseek-chat", "DEEPSEEK_API_KEY", True),
    "openai": _preset("https://api.openai.com/v1", "gpt-4o-mini", "OPENAI_API_KEY", True),
    "ollama": _preset("http://127.0.0.1:11434/v1", "llama3.2", None, True),
    # vLLM-style local server; tool calling there depends on server flags, so off by default.
    "local": _preset("http://localhost:8000/v1", "qwen2.5-0.5b-instruct", None, False, 0.8, 2048),
}
_PRESET_ALIASES = {"vllm": "local"}
_GENERIC_TYPES = {"http", "openai-compatible", "openai_compatible", "custom"}

def preset_config(name: str) -> LLMConfig:
    """An LLMConfig from a built-in preset, its key read from the preset's env variable."""
    key = _PRESET_ALIASES.get(name.lower(), name.lower())
    if key not in PRESETS:
        raise LLMConfigError(name, f"Unknown provider {name!r} (unknown preset); choose one of "
                                   f"{sorted(PRESETS)} or give api_base and model")
    p = PRESETS[key]
    return LLMConfig(
        base_url=p["base_url"], model=p["model"],
        api_key=os.environ.get(p["key_env"]) if p["key_env"] else None,
        temperature=p["temperature"], max_tokens=p["max_tokens"],
        supports_tools=p["supports_tools"], name=name,
    )


def config_from_section(name: str, section: Any) -> LLMConfig:
    """Build an LLMConfig from an `[llm.<name>]` mapping (or an object with those attributes,
    like the reference's LLMProviderConfig)."""
    v = read_section(name, section)
    kind = v.type.lower() if v.type else None
    preset_name = _PRESET_ALIASES.get(kind, kind) if kind else None
    if preset_name in PRESETS:
        cfg = preset_config(preset_name)
    elif preset_name is None and name.lower() in PRESETS:
        cfg = preset_config(name.lower())
    elif preset_name is None or preset_name in _GENERIC_TYPES:
        if not v.base_url or not v.model:
            hint = "" if kind else f"; or name a preset with type = one of {sorted(PRESETS)}"
            raise LLMConfigError(name, f"the [llm.{name}] section needs api_base and model{hint}")
        cfg = LLMConfig(base_url="", model="", supports_tools=False)
    else:
        raise LLMConfigError(name, f"unknown type {kind!r}; choose one of "
                                   f"{sorted(set(PRESETS) | set(_PRESET_ALIASES) | _GENERIC_TYPES)}")
    changes: dict[str, Any] = {"name": name}
    if v.base_url:
        changes["base_url"] = v.base_url
    if v.model:
        changes["model"] = v.model
    if v.api_key_given:
        changes["api_key"] = v.api_key
    for key in ("temperature", "max_tokens", "timeout_ms", "max_retries", "backoff_s",
                "max_backoff_s", "max_retry_wait_s", "supports_tools"):
        value = getattr(v, key)
        if value is not None:
            changes[key] = value
    if v.headers is not None:
        changes["extra_headers"] = v.headers
    if v.extra:
        changes["extra_body"] = v.extra
    return replace(cfg, **changes)


def find_loom_toml(start: str | Path | None = None) -> Path | None:
    """loom.toml of the workspace: $LOOM_WORKSPACE, else `start` (default cwd) and its parents."""
    ws = os.environ.get("LOOM_WORKSPACE")
    if ws and (Path(ws) / "loom.toml").is_file():
        return Path(ws) / "loom.toml"
    here = Path(start or os.getcwd()).resolve()
    for d in (here, *here.parents):
        if (d / "loom.toml").is_file():
            return d / "loom.toml"
    return None


def read_llm_sections(path: str | Path) -> dict[str, Any]:
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
    # The [llm.*] tables against the runtime's own schema, in the runtime's words (loom.config):
    # the file is refused here exactly where the runtime and the editor refuse it.
    problems = check_document({"llm": llm}, p.read_text(encoding="utf-8"), p.name)
    if problems:
        raise LLMConfigError("config", "\n".join(problems))
    return llm


def resolve_config(name: str, source: Any = None) -> LLMConfig:
    """LLMConfig for provider `name` from: a section mapping, an LLMConfig, a loom.toml path,
    a reference-style ProjectConfig (`llm_providers`), or (None) the workspace's loom.toml;
    falls back to the preset called `name`."""
    if isinstance(source, LLMConfig):
        return source
    if isinstance(source, Mapping):
        # Either the [llm.<name>] section itself or the whole [llm] table (all of whose
        # values are tables and none of whose keys is a section key).
        if name in source and isinstance(source.get(name), Mapping):
            return config_from_section(name, source[name])
        if (source and all(isinstance(x, Mapping) for x in source.values())
                and not any(k in KNOWN_KEYS for k in source)):
            return preset_config(name)
        return config_from_section(name, source)
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
