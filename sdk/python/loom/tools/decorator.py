"""The @tool decorator: a Python function offered to every agent and the runtime.

    @tool("math:add", description="Add two numbers")
    def add(a: int, b: int = 0) -> int:
        return a + b

The parameters schema is derived from the type hints; calls arriving from the runtime are
checked against the signature (bad arguments -> INVALID_ARGUMENTS naming the problem),
run (sync functions in a worker thread, so they cannot stall the connection), and answered
with the JSON of the return value (an exception -> ERROR with its message).
A parameter annotated `Context` receives the agent's context and is not part of the schema.

Pydantic (optional) works as in the reference SDK: a parameter may be a pydantic model, and
`Tool(..., input_model=M, output_model=N)` (or `@tool(..., input_model=M)`) validates calls with
`M` (its JSON Schema is the tool's) and results with `N`.
"""
from __future__ import annotations

import asyncio
import functools
import inspect
import json
from collections.abc import Callable
from typing import Any, TypeVar, overload

from .. import schema as _schema
from ..event import json_default

F = TypeVar("F", bound=Callable[..., Any])


#: Loom's own tool namespaces (runtime/tools/namespaces.ts): never an agent's, so a dotted name in
#: one of them ("fs.read") can only mean Loom's tool ("fs:read").
LOOM_NAMESPACES = ("fs", "system", "weather", "editor", "ui", "clipboard", "agent", "agents", "mcp", "loom",
                   "runtime", "bus", "store", "vscode")


def wire_tool_name(name: str) -> str:
    """The name a tool is registered under: the declared name as it is ("math:add", "web.search",
    "add"), as the reference SDK registers it, so its clients find it by that name."""
    return name


def call_names(name: str) -> list[str]:
    """The registry names a call of `name` tries, in order: the name as given, then the other
    spelling of its namespace separator ("web.search" <-> "web:search"). A dotted name in one of
    Loom's namespaces goes straight to Loom's tool ("fs.read" -> "fs:read")."""
    sep = ":" if ":" in name else "." if "." in name else ""
    if not sep:
        return [name]
    namespace, _, rest = name.partition(sep)
    if not namespace or not rest:
        return [name]
    other = f"{namespace}{':' if sep == '.' else '.'}{rest}"
    if namespace.lower() in LOOM_NAMESPACES:
        return [name if sep == ":" else other]
    return [name, other]


def _require_pydantic(what: str) -> Any:
    try:
        import pydantic
    except ImportError:
        raise ImportError(
            f"{what} needs pydantic, an optional dependency of the Loom SDK: pip install pydantic"
        ) from None
    return pydantic


def _check_model(tool_name: str, role: str, model: Any) -> Any:
    if model is not None and not _schema.is_pydantic_model(model):
        _require_pydantic(f"tool {tool_name!r}: {role}")
        raise TypeError(f"tool {tool_name!r}: {role} must be a pydantic model class, got {model!r}")
    return model


def _is_context_hint(tp: Any) -> bool:
    return isinstance(tp, type) and tp.__name__ in ("Context", "EventContext") and tp.__module__.startswith("loom.")


#: What a tool does, as `loom.kind` tells the runtime, VS Code's agent mode and the cognitive loop:
#: read tools run without asking; write, execute and ask tools are confirmed or guarded.
KINDS = ("read", "write", "execute", "ask")


class Tool:
    """A declared tool: its name, description, schema, kind and the function behind it.

    `input_model` / `output_model` (pydantic model classes, optional) validate the arguments and
    the result; without `input_model` the schema and the checks come from the type hints.
    """

    def __init__(
        self,
        name: str,
        description: str,
        func: Callable[..., Any],
        input_model: type | None = None,
        output_model: type | None = None,
        *,
        kind: str | None = None,
    ) -> None:
        if not name or any(c.isspace() for c in name):
            raise ValueError(f"tool name must be non-empty without spaces, got {name!r}")
        if kind is not None and kind not in KINDS:
            raise ValueError(f"tool {name!r}: kind must be one of {', '.join(KINDS)} (got {kind!r})")
        #: None says nothing, and others then treat the tool as one that may change things.
        self.kind = kind
        self.name = name
        #: The name it is registered under (the declared one; see wire_tool_name).
        self.wire_name = wire_tool_name(name)
        self.description = description
        self.func = func
        self._input_model = _check_model(name, "input_model", input_model)
        hints = _schema._hints(func)
        self.context_params = tuple(n for n, tp in hints.items() if _is_context_hint(tp))
        if self._input_model is not None:
            self.schema: dict[str, Any] = dict(self._input_model.model_json_schema())
        else:
            self.schema = _schema.function_schema(func, skip=self.context_params)
        returned = hints.get("return")
        self.output_model = _check_model(name, "output_model", output_model) or (
            returned if _schema.is_pydantic_model(returned) else None)
        self.is_async = inspect.iscoroutinefunction(func)

    @property
    def input_model(self) -> type | None:
        """The pydantic model of the arguments: the one given, else one made from the signature
        (as the reference SDK makes it; needs pydantic), or None for a function without parameters."""
        if self._input_model is None:
            self._input_model = self._model_from_signature()
        model: type | None = self._input_model
        return model

    def _model_from_signature(self) -> type | None:
        pydantic = _require_pydantic(f"Tool.input_model of {self.name!r}")
        hints = _schema._hints(self.func)
        fields: dict[str, Any] = {}
        for p in _schema._tool_params(self.func):
            if p.name in self.context_params:
                continue
            tp = hints.get(
                p.name, Any if p.default is inspect.Parameter.empty or p.default is None else type(p.default)
            )
            fields[p.name] = (tp, ... if p.default is inspect.Parameter.empty else p.default)
        if not fields:
            return None
        model: type = pydantic.create_model(f"{self.func.__name__.capitalize()}Input", **fields)
        return model

    @property
    def parameters_schema(self) -> str:
        """The schema as the JSON string ToolDescriptor carries (the reference SDK's property)."""
        return json.dumps(self.schema, separators=(",", ":"))

    def bind(self, arguments: Any) -> dict[str, Any]:
        """Checked and converted keyword arguments; ArgumentError says what is wrong."""
        if self._input_model is None:
            return _schema.bind_arguments(self.func, arguments, skip=self.context_params)
        if arguments is None:
            arguments = {}
        if not isinstance(arguments, dict):
            raise _schema.ArgumentError(f"arguments must be a JSON object, got {type(arguments).__name__}")
        try:
            model = self._input_model.model_validate(arguments)
        except ValueError as e:  # pydantic's ValidationError is a ValueError
            raise _schema.ArgumentError(f"arguments do not fit {self._input_model.__name__}: {e}") from None
        return {name: getattr(model, name) for name in type(model).model_fields}

    async def invoke(self, kwargs: dict[str, Any], ctx: Any = None) -> Any:
        for name in self.context_params:
            kwargs[name] = ctx
        if self.is_async:
            result = await self.func(**kwargs)
        else:
            result = await asyncio.to_thread(functools.partial(self.func, **kwargs))
            if inspect.isawaitable(result):
                result = await result
        if self.output_model is not None and not isinstance(result, self.output_model):
            result = self.output_model.model_validate(result)
        return result

    def __repr__(self) -> str:
        return f"Tool({self.name!r})"


def encode_output(value: Any) -> str:
    """The JSON string of a tool's return value; TypeError names what cannot be encoded."""

    def default(v: Any) -> Any:
        if isinstance(v, (bytes, bytearray)):
            return bytes(v).decode("utf-8", errors="replace")
        return json_default(v)

    return json.dumps(value, default=default, separators=(",", ":"))


@overload
def tool(name: F) -> F: ...
@overload
def tool(name: str | None = None, description: str = "", *, kind: str | None = None,
         input_model: type | None = None, output_model: type | None = None, **_: Any) -> Callable[[F], F]: ...


def tool(name: Any = None, description: str = "", *, kind: str | None = None,
         input_model: type | None = None, output_model: type | None = None, **_: Any) -> Any:
    """Declares a function as a Loom tool (also usable bare: `@tool`, named after the function).

    The description defaults to the docstring. `kind` ("read", "write", "execute" or "ask") says
    what calling it does; a "read" tool is never held for confirmation. `input_model` /
    `output_model`: pydantic models validating arguments and result (optional). The function
    keeps working as a plain function.
    """

    def wrap(func: F, tool_name: str | None) -> F:
        doc = inspect.getdoc(func) or ""
        func.__loom_tool__ = Tool(tool_name or func.__name__, description or doc, func,  # type: ignore[attr-defined]
                                  input_model, output_model, kind=kind)
        return func

    if callable(name):
        return wrap(name, None)
    return lambda func: wrap(func, name)


def tool_of(obj: Any) -> Tool:
    """The Tool behind a decorated function (or a Tool itself); TypeError for anything else."""
    if isinstance(obj, Tool):
        return obj
    found = getattr(obj, "__loom_tool__", None) or getattr(obj, "__loom_capability__", None)
    if isinstance(found, Tool):
        return found
    raise TypeError(f"{getattr(obj, '__name__', obj)!r} is not a tool: decorate it with @loom.tool(...)")


#: The reference SDK's older names.
capability = tool
Capability = Tool

__all__ = ["KINDS", "LOOM_NAMESPACES", "tool", "Tool", "tool_of", "encode_output", "wire_tool_name", "call_names",
           "capability", "Capability"]
