"""JSON Schema from Python type hints, and the matching check of incoming arguments.

Handles int, float, str, bool, None, Any, list[T], tuple, set, dict / dict[str, T], Optional
and unions, Literal, Enum, dataclasses and TypedDicts. A parameter with a default is optional.
The check converts where the schema allows it (an Enum value to its member, an int to a float,
an object to its dataclass) and otherwise names the first offending path.
"""
from __future__ import annotations

import dataclasses
import enum
import inspect
import types
import typing
from collections.abc import Callable
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

from .errors import LoomError

try:  # Python 3.11+
    from typing import NotRequired, Required
except ImportError:  # pragma: no cover - Python 3.10 has neither; nothing can carry them there
    NotRequired = Required = object()  # type: ignore[assignment]

_NONE = type(None)


class ArgumentError(LoomError, ValueError):
    """Arguments that do not fit the tool's signature; the message names the path. A LoomError and,
    as before, a ValueError."""


def _is_typeddict(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, dict) and hasattr(tp, "__annotations__") and hasattr(tp, "__total__")


def is_pydantic_model(tp: Any) -> bool:
    """A pydantic (v2) model class, recognised without importing pydantic (an optional dependency)."""
    return isinstance(tp, type) and callable(getattr(tp, "model_json_schema", None)) and callable(
        getattr(tp, "model_validate", None))


def _is_union(origin: Any) -> bool:
    return origin is Union or origin is types.UnionType


def type_schema(tp: Any) -> dict[str, Any]:
    """The JSON Schema of one annotation."""
    if tp is Any or tp is inspect.Parameter.empty or tp is object:
        return {}
    if tp is _NONE or tp is None:
        return {"type": "null"}
    if tp is bool:
        return {"type": "boolean"}
    if tp is int:
        return {"type": "integer"}
    if tp is float:
        return {"type": "number"}
    if tp is str:
        return {"type": "string"}
    if tp is bytes:
        return {"type": "string", "description": "UTF-8 text"}
    origin, args = get_origin(tp), get_args(tp)
    if origin is typing.Annotated:
        described = type_schema(args[0])
        for extra in args[1:]:
            if isinstance(extra, str):
                described["description"] = extra
        return described
    if origin in (Required, NotRequired):
        return type_schema(args[0])
    if _is_union(origin):
        options = [type_schema(a) for a in args]
        simple = [o.get("type") for o in options]
        if all(isinstance(t, str) and len(o) == 1 for t, o in zip(simple, options, strict=False)):
            return {"type": simple}
        return {"anyOf": options}
    if origin is Literal:
        return {"enum": list(args)}
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return {"enum": [m.value for m in tp]}
    if tp in (list, set, frozenset, tuple) or origin in (list, set, frozenset, typing.Sequence, typing.Iterable):
        schema: dict[str, Any] = {"type": "array"}
        if args:
            schema["items"] = type_schema(args[0])
        if tp in (set, frozenset) or origin in (set, frozenset):
            schema["uniqueItems"] = True
        return schema
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return {"type": "array", "items": type_schema(args[0])}
        return {
            "type": "array",
            "prefixItems": [type_schema(a) for a in args],
            "minItems": len(args),
            "maxItems": len(args),
        }
    if tp is dict or origin in (dict, typing.Mapping):
        schema = {"type": "object"}
        if len(args) == 2 and args[1] is not Any:
            schema["additionalProperties"] = type_schema(args[1])
        return schema
    if is_pydantic_model(tp):
        # Its own schema; "$defs" (nested models) are hoisted to the root by function_schema.
        return dict(tp.model_json_schema())
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        hints = get_type_hints(tp, include_extras=True)
        props = {f.name: type_schema(hints.get(f.name, Any)) for f in dataclasses.fields(tp)}
        required = [
            f.name
            for f in dataclasses.fields(tp)
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        ]
        return _object(props, required)
    if _is_typeddict(tp):
        hints = get_type_hints(tp, include_extras=True)
        props = {k: type_schema(v) for k, v in hints.items()}
        return _object(props, sorted(getattr(tp, "__required_keys__", hints.keys())))
    raise TypeError(
        f"cannot derive a JSON Schema for the type {tp!r}; "
        "use a JSON type, Enum, dataclass, TypedDict or pydantic model"
    )


def _object(props: dict[str, Any], required: list[str]) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": props, "additionalProperties": False}
    if required:
        schema["required"] = list(required)
    return schema


def _tool_params(func: Callable[..., Any]) -> list[inspect.Parameter]:
    return [
        p
        for p in inspect.signature(func).parameters.values()
        if p.name not in ("self", "cls") and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    ]


def _hints(func: Callable[..., Any]) -> dict[str, Any]:
    try:
        return get_type_hints(func, include_extras=True)
    except Exception as e:  # unresolved forward references
        raise TypeError(f"cannot read the type hints of {getattr(func, '__qualname__', func)}: {e}") from e


def function_schema(func: Callable[..., Any], skip: tuple[str, ...] = ()) -> dict[str, Any]:
    """The JSON Schema of a function's keyword arguments (unannotated = any, or the default's type)."""
    hints = _hints(func)
    props: dict[str, Any] = {}
    hoisted: dict[str, Any] = {}
    required = []
    for p in _tool_params(func):
        if p.name in skip:
            continue
        tp = hints.get(p.name, inspect.Parameter.empty)
        if tp is inspect.Parameter.empty and p.default is not inspect.Parameter.empty and p.default is not None:
            tp = type(p.default)
        schema = type_schema(tp)
        if p.default is not inspect.Parameter.empty:
            default = p.default.value if isinstance(p.default, enum.Enum) else p.default
            if default is None or isinstance(default, (str, int, float, bool, list, dict)):
                schema = {**schema, "default": default}
        else:
            required.append(p.name)
        defs = schema.pop("$defs", None) if "$defs" in schema else None
        if defs:
            hoisted.update(defs)
        props[p.name] = schema
    schema = _object(props, required)
    if hoisted:
        schema["$defs"] = hoisted
    if any(p.kind == p.VAR_KEYWORD for p in inspect.signature(func).parameters.values()):
        schema["additionalProperties"] = True
    return schema


# ---------- checking ----------


def _describe(value: Any) -> str:
    text = repr(value)
    return f"{type(value).__name__} {text if len(text) <= 40 else text[:37] + '...'}"


def check(value: Any, tp: Any, path: str) -> Any:
    """`value` converted to `tp`, or ArgumentError naming `path`."""
    if tp is Any or tp is inspect.Parameter.empty or tp is object:
        return value
    if tp is _NONE or tp is None:
        if value is None:
            return None
        raise ArgumentError(f"{path} must be null, got {_describe(value)}")
    if tp is bool:
        if isinstance(value, bool):
            return value
        raise ArgumentError(f"{path} must be a boolean, got {_describe(value)}")
    if tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise ArgumentError(f"{path} must be an integer, got {_describe(value)}")
    if tp is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        raise ArgumentError(f"{path} must be a number, got {_describe(value)}")
    if tp is str:
        if isinstance(value, str):
            return value
        raise ArgumentError(f"{path} must be a string, got {_describe(value)}")
    if tp is bytes:
        if isinstance(value, str):
            return value.encode("utf-8")
        raise ArgumentError(f"{path} must be a string, got {_describe(value)}")
    origin, args = get_origin(tp), get_args(tp)
    if origin is typing.Annotated or origin in (Required, NotRequired):
        return check(value, args[0], path)
    if _is_union(origin):
        problems = []
        # Exact JSON types first, so 1 stays an int in Union[int, float] and True a bool.
        for option in sorted(args, key=lambda a: a not in (bool, int, str, _NONE)):
            try:
                return check(value, option, path)
            except ArgumentError as e:
                problems.append(str(e).removeprefix(f"{path} must be "))
        raise ArgumentError(f"{path} must be one of: {'; '.join(problems)}")
    if origin is Literal:
        if value in args and not (isinstance(value, bool) and True not in args and False not in args):
            return value
        raise ArgumentError(f"{path} must be one of {list(args)!r}, got {_describe(value)}")
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        for member in tp:
            if member.value == value and type(member.value) is type(value):
                return member
        raise ArgumentError(f"{path} must be one of {[m.value for m in tp]!r}, got {_describe(value)}")
    if tp in (list, set, frozenset, tuple) or origin in (list, set, frozenset, tuple, typing.Sequence, typing.Iterable):
        if not isinstance(value, list):
            raise ArgumentError(f"{path} must be an array, got {_describe(value)}")
        container = origin or tp
        if origin is tuple and args and not (len(args) == 2 and args[1] is Ellipsis):
            if len(value) != len(args):
                raise ArgumentError(f"{path} must have exactly {len(args)} items, got {len(value)}")
            return tuple(check(v, a, f"{path}[{i}]") for i, (v, a) in enumerate(zip(value, args, strict=False)))
        items = [check(v, args[0], f"{path}[{i}]") if args else v for i, v in enumerate(value)]
        if container in (set, frozenset):
            return container(items)
        return tuple(items) if container is tuple else items
    if tp is dict or origin in (dict, typing.Mapping):
        if not isinstance(value, dict):
            raise ArgumentError(f"{path} must be an object, got {_describe(value)}")
        if len(args) == 2:
            return {k: check(v, args[1], f"{path}.{k}") for k, v in value.items()}
        return value
    if is_pydantic_model(tp):
        if isinstance(value, tp):
            return value
        if not isinstance(value, dict):
            raise ArgumentError(f"{path} must be an object, got {_describe(value)}")
        try:
            return tp.model_validate(value)
        except ValueError as e:  # pydantic's ValidationError is a ValueError
            raise ArgumentError(f"{path} does not fit {tp.__name__}: {e}") from None
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        if not isinstance(value, dict):
            raise ArgumentError(f"{path} must be an object, got {_describe(value)}")
        hints = get_type_hints(tp, include_extras=True)
        names = {f.name for f in dataclasses.fields(tp) if f.init}
        _no_extras(value, names, path)
        kwargs = {k: check(v, hints.get(k, Any), f"{path}.{k}") for k, v in value.items()}
        for f in dataclasses.fields(tp):
            if (
                f.init
                and f.name not in kwargs
                and f.default is dataclasses.MISSING
                and f.default_factory is dataclasses.MISSING
            ):
                raise ArgumentError(f"{path}.{f.name} is required")
        return tp(**kwargs)
    if _is_typeddict(tp):
        if not isinstance(value, dict):
            raise ArgumentError(f"{path} must be an object, got {_describe(value)}")
        hints = get_type_hints(tp, include_extras=True)
        _no_extras(value, set(hints), path)
        for key in getattr(tp, "__required_keys__", hints.keys()):
            if key not in value:
                raise ArgumentError(f"{path}.{key} is required")
        return {k: check(v, hints[k], f"{path}.{k}") for k, v in value.items()}
    raise ArgumentError(f"{path}: unsupported parameter type {tp!r}")


def _no_extras(value: dict[str, Any], allowed: set[str], path: str) -> None:
    extra = sorted(set(value) - allowed)
    if extra:
        raise ArgumentError(f"{path} has unexpected field(s) {', '.join(map(repr, extra))}; expected {sorted(allowed)}")


def bind_arguments(func: Callable[..., Any], arguments: Any, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    """Checks a JSON arguments object against `func`'s signature and returns converted kwargs."""
    if arguments is None:
        arguments = {}
    if not isinstance(arguments, dict):
        raise ArgumentError(f"arguments must be a JSON object, got {_describe(arguments)}")
    hints = _hints(func)
    params = [p for p in _tool_params(func) if p.name not in skip]
    accepts_extra = any(p.kind == p.VAR_KEYWORD for p in inspect.signature(func).parameters.values())
    names = {p.name for p in params}
    if not accepts_extra:
        _no_extras(arguments, names, "arguments")
    kwargs: dict[str, Any] = {}
    missing = [p.name for p in params if p.default is inspect.Parameter.empty and p.name not in arguments]
    if missing:
        raise ArgumentError(f"missing required argument(s): {', '.join(missing)}")
    for name, value in arguments.items():
        param = next((p for p in params if p.name == name), None)
        tp = hints.get(name, inspect.Parameter.empty) if param else Any
        if param is not None and tp is inspect.Parameter.empty and param.default not in (inspect.Parameter.empty, None):
            tp = type(param.default)
        kwargs[name] = check(value, tp, name)
    return kwargs


__all__ = ["type_schema", "function_schema", "bind_arguments", "check", "ArgumentError", "is_pydantic_model"]
