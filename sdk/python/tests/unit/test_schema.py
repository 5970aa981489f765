import dataclasses
import enum
from typing import Any, Dict, List, Literal, Optional, TypedDict, Union  # noqa: UP035 (their schemas are under test)

import pytest

from loom import Context, tool
from loom.schema import ArgumentError, bind_arguments, function_schema, type_schema


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


@dataclasses.dataclass
class Point:
    x: int
    y: int = 0


class Options(TypedDict):
    depth: int
    label: str


def test_scalar_types():
    assert type_schema(int) == {"type": "integer"}
    assert type_schema(float) == {"type": "number"}
    assert type_schema(str) == {"type": "string"}
    assert type_schema(bool) == {"type": "boolean"}
    assert type_schema(Any) == {}


def test_containers_unions_literals_enums():
    # The typing module's spellings are under test beside the builtin ones.
    assert type_schema(List[int]) == {  # noqa: UP006 (typing.List under test)
        "type": "array", "items": {"type": "integer"}}
    assert type_schema(list[str]) == {"type": "array", "items": {"type": "string"}}
    assert type_schema(dict) == {"type": "object"}
    assert type_schema(Dict[str, float]) == {  # noqa: UP006 (typing.Dict under test)
        "type": "object", "additionalProperties": {"type": "number"}}
    assert type_schema(Optional[int]) == {"type": ["integer", "null"]}  # noqa: UP045 (typing.Optional under test)
    assert type_schema(Union[int, str]) == {"type": ["integer", "string"]}  # noqa: UP007 (typing.Union under test)
    assert type_schema(Literal["a", "b"]) == {"enum": ["a", "b"]}
    assert type_schema(Color) == {"enum": ["red", "blue"]}


def test_dataclass_and_typeddict():
    assert type_schema(Point) == {
        "type": "object", "properties": {"x": {"type": "integer"}, "y": {"type": "integer"}},
        "additionalProperties": False, "required": ["x"],
    }
    assert type_schema(Options)["required"] == ["depth", "label"]


def test_unsupported_type_is_named():
    with pytest.raises(TypeError, match="complex"):
        type_schema(complex)


def test_defaults_make_parameters_optional():
    def f(path: str, limit: int = 10, mode: Literal["r", "w"] = "r", tags: list[str] | None = None):
        pass

    s = function_schema(f)
    assert s["required"] == ["path"]
    assert s["properties"]["limit"] == {"type": "integer", "default": 10}
    assert s["properties"]["tags"]["default"] is None
    assert s["additionalProperties"] is False


def test_binding_converts_and_checks():
    # A list default, never mutated: binding must leave it out (and the schema show it) as given.
    def f(n: int, ratio: float, color: Color, p: Point, opts: Options, items: list[int] = []):  # noqa: B006 (under test)
        pass

    kw = bind_arguments(f, {"n": 3, "ratio": 2, "color": "blue", "p": {"x": 1}, "opts": {"depth": 1, "label": "a"}})
    assert kw["ratio"] == 2.0 and isinstance(kw["ratio"], float)
    assert kw["color"] is Color.BLUE
    assert kw["p"] == Point(1, 0)


@pytest.mark.parametrize(
    "args, message",
    [
        ({}, "missing required argument(s): n"),
        ({"n": "3"}, "n must be an integer, got str '3'"),
        ({"n": True}, "n must be an integer, got bool True"),
        ({"n": 1, "extra": 1}, "unexpected field(s) 'extra'"),
        ({"n": 1, "items": [1, "x"]}, "items[1] must be an integer"),
        ({"n": 1, "color": "green"}, "color must be one of ['red', 'blue']"),
        ({"n": 1, "p": {"y": 2}}, "p.x is required"),
        ({"n": 1, "p": {"x": 1, "z": 2}}, "p has unexpected field(s) 'z'"),
    ],
)
def test_bad_arguments_name_the_problem(args, message):
    def f(n: int, items: list[int] = [], color: Color = Color.RED, p: Point | None = None):  # noqa: B006 (as above)
        pass

    with pytest.raises(ArgumentError) as info:
        bind_arguments(f, args)
    assert message in str(info.value)


def test_arguments_must_be_an_object():
    with pytest.raises(ArgumentError, match="JSON object"):
        bind_arguments(lambda a: a, [1, 2])


def test_tool_decorator_keeps_the_function_and_skips_context():
    @tool("geo:dist", description="distance")
    async def dist(ctx: Context, a: Point, b: Point) -> float:
        return 0.0

    t = dist.__loom_tool__
    assert t.name == "geo:dist" and t.description == "distance" and t.is_async
    assert set(t.schema["properties"]) == {"a", "b"}
    assert t.context_params == ("ctx",)


def test_bare_decorator_uses_function_name_and_docstring():
    @tool
    def shout(text: str) -> str:
        """Upper-cases text."""
        return text.upper()

    assert shout("a") == "A"
    assert (shout.__loom_tool__.name, shout.__loom_tool__.description) == ("shout", "Upper-cases text.")


def test_tool_names_register_as_declared_and_calls_try_both_spellings():
    # The registry takes the reference's names as they are ("web.search", "add"), so a reference
    # client calling "web.search" finds the tool; a call tries the other separator as well, and
    # a dotted name in one of Loom's namespaces means Loom's tool.
    from loom.tools import call_names, wire_tool_name

    names = ["fs:read", "web.search", "a.b.c", "shout"]
    assert [wire_tool_name(n) for n in names] == names
    assert call_names("web.search") == ["web.search", "web:search"]
    assert call_names("notes:search") == ["notes:search", "notes.search"]
    assert call_names("a.b.c") == ["a.b.c", "a:b.c"]
    assert call_names("fs.read") == ["fs:read"]
    assert call_names("fs:read") == ["fs:read"]
    assert call_names("shout") == ["shout"]
