"""LLMProvider.from_config: [llm.<name>] sections, loom.toml files, presets, ${ENV}."""

from __future__ import annotations

import pytest

from llm_server import completion
from loom.llm import LLMConfigError, LLMProvider, PRESETS


def test_presets_cover_the_four_providers():
    assert {"deepseek", "openai", "ollama", "local"} <= set(PRESETS)
    assert LLMProvider.from_name(None, "ollama").config.base_url == "http://127.0.0.1:11434/v1"
    assert LLMProvider.from_config(None, "vllm", {"type": "vllm"}).config.base_url == "http://127.0.0.1:8000/v1"


def test_section_overrides_preset_and_expands_env(monkeypatch):
    monkeypatch.setenv("MY_DS_KEY", "sk-from-env")
    llm = LLMProvider.from_config(None, "ds", {
        "type": "deepseek", "api_key": "${MY_DS_KEY}", "model": "deepseek-reasoner",
        "temperature": 0.2, "max_tokens": 100, "timeout": 12})
    c = llm.config
    assert (c.name, c.base_url, c.model, c.api_key) == ("ds", "https://api.deepseek.com/v1", "deepseek-reasoner", "sk-from-env")
    assert (c.temperature, c.max_tokens, c.timeout_ms) == (0.2, 100, 12000)


def test_unset_env_names_the_variable_not_a_value(monkeypatch):
    monkeypatch.delenv("NOPE_KEY", raising=False)
    with pytest.raises(LLMConfigError, match=r"api_key refers to \$\{NOPE_KEY\}, which is not set"):
        LLMProvider.from_config(None, "x", {"type": "openai", "api_key": "${NOPE_KEY}"})
    monkeypatch.delenv("NOPE_BASE", raising=False)
    llm = LLMProvider.from_config(None, "x", {"type": "openai", "api_base": "${NOPE_BASE:-http://127.0.0.1:9/v1}"})
    assert llm.config.base_url == "http://127.0.0.1:9/v1"


def test_bad_sections_are_clear_errors():
    with pytest.raises(LLMConfigError, match="unknown type 'gpt5'"):
        LLMProvider.from_config(None, "x", {"type": "gpt5"})
    with pytest.raises(LLMConfigError, match="needs api_base and model"):
        LLMProvider.from_config(None, "mine", {"type": "http", "model": "m"})
    with pytest.raises(LLMConfigError, match="timeout must be positive"):
        LLMProvider.from_config(None, "x", {"type": "openai", "timeout": 0})
    with pytest.raises(LLMConfigError, match="needs api_base and model; or name a preset"):
        LLMProvider.from_config(None, "nothing-like-this", {})
    with pytest.raises(LLMConfigError, match="unknown preset"):
        LLMProvider.from_name(None, "nothing-like-this")


async def test_loom_toml_path_and_workspace_discovery(tmp_path, monkeypatch, llm_server):
    (tmp_path / "loom.toml").write_text(
        '[runtime]\nlog_level = "info"\n\n'
        f'[llm.scripted]\ntype = "http"\napi_base = "{llm_server.base_url}"\nmodel = "tiny"\n'
        'api_key = "${SCRIPTED_KEY}"\ntimeout_ms = 5000\nsupports_tools = true\n')
    monkeypatch.setenv("SCRIPTED_KEY", "k-123456")
    by_path = LLMProvider.from_config(None, "scripted", tmp_path / "loom.toml")
    assert (by_path.config.model, by_path.config.timeout_ms, by_path.supports_tools) == ("tiny", 5000, True)
    monkeypatch.setenv("LOOM_WORKSPACE", str(tmp_path))
    found = LLMProvider.from_config(None, "scripted")
    llm_server.script(completion("from toml"))
    async with found:
        assert await found.generate("hi") == "from toml"
    assert llm_server.requests[0].headers["authorization"] == "Bearer k-123456"
    assert llm_server.requests[0].body["model"] == "tiny"


def test_invalid_toml_is_named(tmp_path):
    (tmp_path / "loom.toml").write_text("[llm.x\n")
    with pytest.raises(LLMConfigError, match="is not valid TOML"):
        LLMProvider.from_config(None, "x", str(tmp_path / "loom.toml"))


def test_reference_project_config_object():
    class Section:  # attribute-style section, as the reference's LLMProviderConfig
        api_base = "http://127.0.0.1:1/v1"
        model = "m"
        api_key = None
        temperature = 0.5
        max_tokens = 10
        timeout_sec = 3

    class Project:
        llm_providers = {"mine": Section()}

    c = LLMProvider.from_config(None, "mine", Project()).config
    assert (c.base_url, c.timeout_ms, c.temperature) == ("http://127.0.0.1:1/v1", 3000, 0.5)
    assert LLMProvider.from_config(None, "openai", Project()).config.model == PRESETS["openai"]["model"]
