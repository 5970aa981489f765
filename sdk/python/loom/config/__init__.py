"""loom.toml checked against the runtime's own schema, with the runtime's own messages.

`loom.schema.json` beside this module is generated from the runtime's zod schema
(runtime/config/schema.ts, `npm run gen:schema`); a runtime unit test fails when it is stale. Every
problem is one line, worded as the runtime words it (runtime/config/errors.ts):

    loom.toml:3:1: llm.default.temperature: must be <= 2 (got 3)

so a file the SDK refuses is refused with the words the runtime, and the editor's Problems panel,
use for it (test/fixtures/config-errors/cases.json holds the cases both sides are tested on).
Only what the schema says is checked here; the runtime adds the checks a schema cannot make (a
cron expression, a loopback host, `${VAR}` in agent env, one of interval_ms or cron). Problems in
one `[mcp.<name>]` server table are listed like the rest, though the runtime starts without that
server rather than refusing the file. TOML dates are shown in Python's spelling, not JavaScript's.
"""

from __future__ import annotations

import copy
import datetime as _dt
import json
import math
import re
from collections.abc import Iterable, Mapping
from functools import cache
from importlib import resources
from typing import Any

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: the same parser, packaged as tomli
    import tomli as tomllib  # type: ignore[no-redef]

from jsonschema import Draft7Validator

from ..errors import LoomError

CONFIG_FILE = "loom.toml"

_TYPE_WORDS = {"integer": "an integer", "number": "a number", "string": "a string", "boolean": "true or false",
               "object": "a table", "array": "an array"}
_COMPARISON = {"minimum": ">=", "maximum": "<=", "exclusiveMinimum": ">", "exclusiveMaximum": "<"}


class LoomTomlError(LoomError, ValueError):
    """loom.toml breaks the schema; `problems` holds one line per problem, as the runtime prints them."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


@cache
def schema() -> dict[str, Any]:
    """The JSON Schema of loom.toml (draft-07), as shipped with the SDK."""
    text = resources.files(__name__).joinpath("loom.schema.json").read_text(encoding="utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


@cache
def _validator() -> Any:
    return Draft7Validator(schema())


def describe(value: Any) -> str:
    """A value as the runtime's messages show it (runtime/contract/describe.ts, JavaScript's spelling)."""
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _js_number(value)
    if isinstance(value, (_dt.datetime, _dt.date, _dt.time)):
        return f"date {value.isoformat()}"
    if isinstance(value, (list, tuple)):
        return "an array"
    if isinstance(value, Mapping):
        return "a table"
    return str(value)


def _js_number(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    return repr(value)


def toml_path(segments: Iterable[str | int]) -> str:
    """Bare keys joined by dots, other keys quoted, array items as [i] (runtime/config/errors.ts)."""
    out = ""
    for s in segments:
        if isinstance(s, int):
            out += f"[{s}]"
        else:
            bare = re.fullmatch(r"[A-Za-z0-9_-]+", s)
            out += ("." if out else "") + (s if bare else json.dumps(s, ensure_ascii=False))
    return out


def _edit_distance(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i]
        for j in range(1, len(b) + 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (0 if a[i - 1] == b[j - 1] else 1)))
        prev = cur
    return prev[len(b)]


def closest_names(wanted: str, names: Iterable[str], limit_count: int = 3) -> list[str]:
    """The names nearest `wanted` by edit distance (runtime/suggest.ts's closestNames)."""
    lower = wanted.lower()
    bare = lower[lower.find(":") + 1:]
    limit = max(2, len(lower) // 3)
    scored = []
    for name in names:
        n = name.lower()
        same_bare = bool(bare) and n[n.find(":") + 1:] == bare
        scored.append((0 if same_bare else _edit_distance(lower, n), n, name))
    return [name for score, _, name in sorted(s for s in scored if s[0] <= limit)][:limit_count]


def suggestion(unknown_key: str, known: list[str]) -> str:
    """' (did you mean "x"?)' for a close known key, else the known keys (runtime/config/errors.ts)."""
    if not known:
        return ""
    snake = re.sub(r"[A-Z]", lambda m: "_" + m.group(0).lower(), unknown_key).replace("-", "_")
    best = closest_names(snake, known, 1)
    return f' (did you mean "{best[0]}"?)' if best else f" (known keys: {', '.join(known)})"


def _problems(document: Any) -> list[tuple[str, str]]:
    """(key, message) per key, the first problem of each key, as the runtime's problemsFromAjv."""
    by_key: dict[str, str] = {}
    for e in _validator().iter_errors(document):
        segments: list[str | int] = list(e.absolute_path)
        kind = e.validator
        sub = e.schema if isinstance(e.schema, Mapping) else {}
        if len(e.absolute_schema_path) >= 2 and e.absolute_schema_path[-2] == "propertyNames":
            segments.append(str(e.instance))
            pairs = [(segments, f"is not a valid name: must be {sub.get('description', 'a valid name')}")]
        elif kind == "additionalProperties" and e.validator_value is False:
            known = list(sub.get("properties", {}))
            pairs = [([*segments, str(k)], f"unknown key{suggestion(str(k), known)}")
                     for k in e.instance if k not in known]
        elif kind == "required":
            pairs = [([*segments, str(k)], "is required") for k in e.validator_value if k not in e.instance]
        else:
            pairs = [(segments, _value_message(kind, e.validator_value, e.instance, sub))]
        for path, message in pairs:
            by_key.setdefault(toml_path(path), message)
    return list(by_key.items())


def _value_message(kind: str, expected: Any, value: Any, sub: Mapping[str, Any]) -> str:
    got = f" (got {describe(value)})"
    if kind == "type":
        return f"must be {_TYPE_WORDS.get(str(expected), str(expected))}{got}"
    if kind == "enum":
        return f"must be one of {', '.join(json.dumps(v, ensure_ascii=False) for v in expected)}{got}"
    if kind in _COMPARISON:
        return f"must be {_COMPARISON[kind]} {describe(expected)}{got}"
    if kind == "minLength":
        return "must not be empty" if expected == 1 else f"must be at least {expected} characters{got}"
    if kind == "maxLength":
        return f"must be at most {expected} characters{got}"
    if kind in ("minItems", "maxItems"):
        least = "at least" if kind == "minItems" else "at most"
        return f"must have {least} {expected} item{'' if expected == 1 else 's'}{got}"
    if kind == "pattern":
        return f"must be {sub.get('description', f'a string matching {expected}')}{got}"
    return f"is invalid{got}"


def _agent_process_keys() -> list[str]:
    return list(schema()["properties"]["agents"]["additionalProperties"]["properties"])


def set_aside_reference_agents(document: dict[str, Any]) -> list[str]:
    """Drops the reference's command-less [agents.<id>] tables (its agents' own settings), as the
    runtime does (runtime/config/reference.ts), and returns their ids. A table naming one of
    Loom's process keys, or a key close to `command`, stays and is checked as Loom's."""
    agents = document.get("agents")
    if not isinstance(agents, dict):
        return []
    process_keys = _agent_process_keys()
    aside = []
    for agent_id, table in list(agents.items()):
        if not isinstance(table, dict):
            continue
        if any(k in process_keys or closest_names(k, ["command"], 1) for k in table):
            continue
        del agents[agent_id]
        aside.append(agent_id)
    return aside


_HEADER = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY = r'(?:"(?:[^"\\]|\\.)*"|[A-Za-z0-9_-]+)'
_ASSIGNMENT = re.compile(rf"^(\s*)({_KEY}(?:\s*\.\s*{_KEY})*)\s*=")
_SEGMENT = re.compile(r'"((?:[^"\\]|\\.)*)"|([A-Za-z0-9_-]+)|\[\d+\]')


def _segments_of(path: str) -> list[str]:
    out = []
    for m in _SEGMENT.finditer(path):
        if m.group(1) is not None:
            out.append(json.loads(f'"{m.group(1)}"'))
        elif m.group(2) is not None:
            out.append(m.group(2))
    return out


def locate_key(text: str, path: str) -> tuple[int, int] | None:
    """(line, column), 1-based, where the key is written, else its nearest enclosing key or
    table (runtime/config/locate.ts)."""
    wanted = _segments_of(path)
    if not wanted:
        return None
    table: list[str] = []
    best: tuple[tuple[int, int], int] | None = None

    def consider(segments: list[str], location: tuple[int, int]) -> None:
        nonlocal best
        shared = min(len(segments), len(wanted))
        if segments[:shared] != wanted[:shared]:
            return
        if best is None or shared > best[1]:
            best = (location, shared)

    for i, line in enumerate(re.split(r"\r?\n", text)):
        header = _HEADER.match(line)
        if header:
            table = _segments_of(header.group(1))
            consider(table, (i + 1, line.index("[") + 1))
            continue
        assignment = _ASSIGNMENT.match(line)
        if assignment:
            consider([*table, *_segments_of(assignment.group(2))], (i + 1, len(assignment.group(1)) + 1))
    return best[0] if best else None


def check_document(document: Mapping[str, Any], text: str = "", file: str = CONFIG_FILE) -> list[str]:
    """The schema's problems with a parsed loom.toml, one line each (empty: none). `text`, the
    file as written, places each problem at its line."""
    doc = copy.deepcopy(dict(document))
    set_aside_reference_agents(doc)
    lines = []
    for key, message in _problems(doc):
        at = locate_key(text, key) if key else None
        where = f"{file}:{at[0]}:{at[1]}" if at else file
        lines.append(f"{where}: {key}: {message}" if key else f"{where}: {message}")
    return lines


def check_text(text: str, file: str = CONFIG_FILE) -> list[str]:
    """check_document for the text of a loom.toml; a TOML syntax error is one problem."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        return [f"{file}: invalid TOML: {e}"]
    return check_document(document, text, file)


def load(text: str, file: str = CONFIG_FILE) -> dict[str, Any]:
    """The parsed loom.toml; LoomTomlError listing every problem when the schema refuses it."""
    problems = check_text(text, file)
    if problems:
        raise LoomTomlError(problems)
    return tomllib.loads(text)


__all__ = ["CONFIG_FILE", "LoomTomlError", "check_document", "check_text", "closest_names", "describe", "load",
           "locate_key", "schema", "set_aside_reference_agents", "suggestion", "toml_path"]
