"""loom.config: loom.toml checked against the runtime's JSON Schema, worded as the runtime words it.

The corpus test/fixtures/config-errors/cases.json is shared with the runtime's test
(test/unit/config/schema.test.ts): for every file in it both sides must print the same lines.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from loom.config import LoomTomlError, check_text, load, schema
from loom.llm import LLMConfigError
from loom.llm.config import read_llm_sections

REPO = Path(__file__).resolve().parents[4]
CASES = json.loads((REPO / "test/fixtures/config-errors/cases.json").read_text(encoding="utf-8"))["cases"]


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_the_sdk_says_what_the_runtime_says(case):
    assert sorted(check_text(case["toml"])) == sorted(case["problems"])


def test_the_shipped_schema_is_the_runtimes():
    # The runtime's test holds runtime/contract/loom.schema.json to the zod schema; this copy is the package's.
    assert schema() == json.loads((REPO / "runtime/contract/loom.schema.json").read_text(encoding="utf-8"))


def test_load_returns_the_document_or_raises_every_problem():
    assert load('[llm.default]\nmodel = "m"\n') == {"llm": {"default": {"model": "m"}}}
    with pytest.raises(LoomTomlError) as info:
        load('[bridge]\nport = "80"\n\n[llm.x]\ntemperature = -1\n')
    assert sorted(info.value.problems) == [
        'loom.toml:2:1: bridge.port: must be an integer (got "80")',
        "loom.toml:5:1: llm.x.temperature: must be >= 0 (got -1)",
    ]


def test_reading_llm_tables_from_a_file_checks_them_with_the_schema(tmp_path):
    (tmp_path / "loom.toml").write_text('[bridge]\nport = 7411\n\n[llm.default]\nmodle = "gpt"\n')
    said = r'loom.toml:5:1: llm.default.modle: unknown key \(did you mean "model"\?\)'
    with pytest.raises(LLMConfigError, match=said):
        read_llm_sections(tmp_path / "loom.toml")
    (tmp_path / "loom.toml").write_text('[llm.default]\nmodel = "gpt"\n')
    assert read_llm_sections(tmp_path) == {"default": {"model": "gpt"}}


def test_a_syntax_error_is_one_problem():
    [problem] = check_text("[llm.x\n")
    assert problem.startswith("loom.toml: invalid TOML: ")
