"""LLMProvider.from_config: [llm.<name>] sections, loom.toml files, presets, ${ENV}."""

from __future__ import annotations

import pytest
from llm_server import completion

from loom.llm import PRESETS, LLMConfigError, LLMProvider


def test_presets_cover_the_four_providers():
    assert {"deepseek", "openai", "ollama", "local"} <= set(PRESETS)
    assert LLMProvider.from_name(None, "ollama").config.base_url == "http://127.0.0.1:11434/v1"
    assert LLMProvider.from_config(None, "vllm", {"type": "vllm"}).config.base_url == "http://localhost:8000/v1"


def test_section_overrides_preset_and_expands_env(monkeypatch):
    monkeypatch.setenv("MY_DS_KEY", "sk-from-env")
    llm = LLMProvider.from_config(None, "ds", {
        "type": "deepseek", "api_key": "${MY_DS_KEY}", "model": "deepseek-reasoner",
        "temperature": 0.2, "max_tokens": 100, "timeout": 12})
    c = llm.config
    assert (c.name, c.base_url, c.model, c.api_key) == (
        "ds",
        "https://api.deepseek.com/v1",
        "deepseek-reasoner",
        "sk-from-env",
    )
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


def test_typos_are_rejected_with_did_you_mean():
    with pytest.raises(LLMConfigError) as info:
        LLMProvider.from_config(None, "mine", {"api_bse": "http://127.0.0.1:1/v1", "modle": "m", "type": "http"})
    msg = str(info.value)
    assert "unknown key llm.mine.api_bse (did you mean api_base?)" in msg
    assert "unknown key llm.mine.modle (did you mean model?)" in msg
    with pytest.raises(LLMConfigError, match=r"unknown key llm.x.zzz; known keys: type, provider, api_base"):
        LLMProvider.from_config(None, "x", {"type": "openai", "zzz": 1})


@pytest.mark.parametrize("section, expected", [
    ({"headers": "X-Org: me"}, "llm.x.headers must be a table, got a string"),
    ({"headers": {"X-Org": 5}}, "llm.x.headers.X-Org must be a string, got an integer"),
    ({"max_tokens": -3}, "llm.x.max_tokens must be positive, got -3"),
    ({"max_tokens": 1.5}, "llm.x.max_tokens must be an integer, got a number 1.5"),
    ({"temperature": 5}, "llm.x.temperature must be between 0 and 2, got 5"),
    ({"temperature": "0.2"}, "llm.x.temperature must be a number, got a string '0.2'"),
    ({"temperature": True}, "llm.x.temperature must be a number, got a boolean True"),
    ({"timeout": -1}, "llm.x.timeout must be positive, got -1"),
    ({"timeout": 5, "timeout_ms": 5000}, "llm.x.timeout and llm.x.timeout_ms set the same thing; keep one"),
    ({"max_retries": -1}, "llm.x.max_retries must be at least 0, got -1"),
    ({"supports_tools": "yes"}, "llm.x.supports_tools must be true or false, got a string 'yes'"),
    ({"model": 4}, "llm.x.model must be a string, got an integer 4"),
    ({"api_key": 1234567}, "llm.x.api_key must be a string, got an integer"),
    ({"extra": {"model": "m2"}}, "llm.x.extra.model cannot be set: use llm.x.model"),
    ({"extra": {"messages": []}}, "llm.x.extra.messages cannot be set: the provider sets it on each call"),
])
def test_wrong_types_and_ranges_are_named(section, expected):
    with pytest.raises(LLMConfigError) as info:
        LLMProvider.from_config(None, "x", {"type": "openai", **section})
    assert expected in str(info.value)
    assert "1234567" not in str(info.value)  # a wrong api_key is never echoed


def test_every_problem_is_reported_at_once():
    with pytest.raises(LLMConfigError) as info:
        LLMProvider.from_config(None, "x", {"type": "openai", "max_tokens": 0, "temperature": -1, "modle": "m"})
    assert str(info.value).count(";") == 2 and str(info.value).startswith("LLM provider 'x': invalid [llm.x]: ")


def test_a_section_that_is_not_a_table(tmp_path):
    (tmp_path / "loom.toml").write_text('[llm]\ndefault = "gpt-4o-mini"\n')
    # loom.toml is checked against the runtime's schema first, and worded as the runtime words it.
    with pytest.raises(LLMConfigError, match=r'loom.toml:2:1: llm.default: must be a table \(got "gpt-4o-mini"\)'):
        LLMProvider.from_config(None, "default", tmp_path / "loom.toml")


async def test_extra_fields_and_headers_reach_the_request(llm_server, monkeypatch):
    monkeypatch.setenv("ORG_ID", "org-7")
    llm = LLMProvider.from_config(None, "x", {"llm_unused": {"type": "openai"}, "x": {
        "type": "http", "api_base": llm_server.base_url, "model": "m",
        "headers": {"X-Org": "${ORG_ID}"}, "extra": {"top_p": 0.5, "seed": 7}}})
    llm_server.script(completion("ok"))
    async with llm:
        await llm.generate("hi")
    (req,) = llm_server.requests
    assert (req.body["top_p"], req.body["seed"], req.headers["x-org"]) == (0.5, 7, "org-7")


def test_whole_llm_table_without_the_name_falls_back_to_the_preset():
    table = {"deepseek": {"type": "deepseek"}}
    assert LLMProvider.from_config(None, "ollama", table).config.base_url == PRESETS["ollama"]["base_url"]
    # A single section made only of tables is still a section, not the [llm] table.
    c = LLMProvider.from_config(None, "openai", {"headers": {"X-A": "b"}}).config
    assert c.extra_headers == {"X-A": "b"}


@pytest.mark.parametrize("value, env, expected", [
    ("${A}", {"A": "1"}, "1"),
    ("${A}", {"A": ""}, ""),                     # set but empty: empty, as for agent env
    ("${A:-fb}", {"A": ""}, "fb"),
    ("${A:-fb}", {}, "fb"),
    ("${A:-}", {}, ""),
    ("pre-${A}-${B:-b}-post", {"A": "a"}, "pre-a-b-post"),
    ("$$", {}, "$"),
    ("$${A}", {"A": "1"}, "${A}"),             # $$ escapes the reference
    ("price $5 and $HOME", {}, "price $5 and $HOME"),  # a bare $ stays
    ("${A:-${B}}", {}, "${B}"),                 # the fallback is literal (up to the first })
])
def test_env_expansion_follows_the_agent_env_syntax(value, env, expected):
    from loom.llm import expand_env
    assert expand_env(value, provider="p", key="k", environ=env) == expected


def test_env_expansion_error_suggests_a_fallback():
    from loom.llm import expand_env
    with pytest.raises(LLMConfigError, match=r"k refers to \$\{NOPE\}, which is not set in the environment "
                                             r"\(write \$\{NOPE:-default\} for a fallback\)"):
        expand_env("x${NOPE}", provider="p", key="k", environ={})
