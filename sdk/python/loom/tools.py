"""The @tool decorator: a Python function offered to every agent and the runtime.

    @tool("math:add", description="Add two numbers")
    def add(a: int, b: int = 0) -> int:
        return a + b

The parameters schema is derived from the type hints; calls arriving from the runtime are
checked against the signature (bad arguments -> INVALID_ARGUMENTS naming the problem),
run (sync functions in a worker thread, so they cannot stall the connection), and answered
with the JSON of the return value (an exception -> ERROR with its message).
A parameter annotated `Context` receives the agent's context and is not part of the schema.
"""
from __future__ import annotations

import asyncio
import dataclasses
import enum
import functools
import inspect
import json
from typing import Any, Callable, Dict, Optional, TypeVar, overload

from . import schema as _schema

F = TypeVar("F", bound=Callable[..., Any])


def wire_tool_name(name: str) -> str:
    """The registry's "namespace:name" for a tool name.

    The reference SDK named tools "web.search"; the runtime's registry wants "namespace:name".
    Both sides of this SDK map the same way (first "." becomes ":", a bare name gets "py:"), so
    such agents offer and call their tools unchanged. Names with ":" pass through.
    """
    if ":" in name:
        return name
    if "." in name:
        namespace, _, rest = name.partition(".")
        return f"{namespace}:{rest}"
    return f"py:{name}"


def _is_context_hint(tp: Any) -> bool:
    return isinstance(tp, type) and tp.__name__ in ("Context", "EventContext") and tp.__module__.startswith("loom.")


#: What a tool does, as `loom.kind` tells the runtime, VS Code's agent mode and the cognitive loop:
#: read tools run without asking; write, execute and ask tools are confirmed or guarded.
KINDS = ("read", "write", "execute", "ask")


class Tool:
    """A declared tool: its name, description, schema, kind and the function behind it."""

    def __init__(self, name: str, description: str, func: Callable[..., Any], kind: Optional[str] = None) -> None:
        if not name or any(c.isspace() for c in name):
            raise ValueError(f"tool name must be non-empty without spaces, got {name!r}")
        if kind is not None and kind not in KINDS:
            raise ValueError(f"tool {name!r}: kind must be one of {', '.join(KINDS)} (got {kind!r})")
        #: None says nothing, and others then treat the tool as one that may change things.
        self.kind = kind
        self.name = name
        #: The name it is registered and called under (see wire_tool_name).
        self.wire_name = wire_tool_name(name)
        self.description = description
        self.func = func
        hints = _schema._hints(func)
        self.context_params = tuple(n for n, tp in hints.items() if _is_context_hint(tp))
        self.schema: Dict[str, Any] = _schema.function_schema(func, skip=self.context_params)
        self.is_async = inspect.iscoroutinefunction(func)

    @property
    def parameters_schema(self) -> str:
        """The schema as the JSON string ToolDescriptor carries (the reference SDK's property)."""
        return json.dumps(self.schema, separators=(",", ":"))

    def bind(self, arguments: Any) -> Dict[str, Any]:
        """Checked and converted keyword arguments; ArgumentError says what is wrong."""
        return _schema.bind_arguments(self.func, arguments, skip=self.context_params)

    async def invoke(self, kwargs: Dict[str, Any], ctx: Any = None) -> Any:
        for name in self.context_params:
            kwargs[name] = ctx
        if self.is_async:
            return await self.func(**kwargs)
        result = await asyncio.to_thread(functools.partial(self.func, **kwargs))
        if inspect.isawaitable(result):
            result = await result
        return result

    def __repr__(self) -> str:
        return f"Tool({self.name!r})"


def encode_output(value: Any) -> str:
    """The JSON string of a tool's return value; TypeError names what cannot be encoded."""

    def default(v: Any) -> Any:
        if dataclasses.is_dataclass(v) and not isinstance(v, type):
            return dataclasses.asdict(v)
        if isinstance(v, enum.Enum):
            return v.value
        if isinstance(v, (set, frozenset, tuple)):
            return list(v)
        if isinstance(v, (bytes, bytearray)):
            return bytes(v).decode("utf-8", errors="replace")
        raise TypeError(f"a {type(v).__name__} is not JSON-serialisable")

    return json.dumps(value, default=default, separators=(",", ":"))


@overload
def tool(name: F) -> F: ...
@overload
def tool(name: Optional[str] = None, description: str = "", *, kind: Optional[str] = None, **_: Any) -> Callable[[F], F]: ...


def tool(name: Any = None, description: str = "", *, kind: Optional[str] = None, **_: Any) -> Any:
    """Declares a function as a Loom tool (also usable bare: `@tool`, named after the function).

    The description defaults to the docstring. `kind` ("read", "write", "execute" or "ask") says
    what calling it does; a "read" tool is never held for confirmation. The function keeps
    working as a plain function.
    """

    def wrap(func: F, tool_name: Optional[str]) -> F:
        doc = inspect.getdoc(func) or ""
        func.__loom_tool__ = Tool(tool_name or func.__name__, description or doc, func, kind)  # type: ignore[attr-defined]
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

__all__ = ["KINDS", "tool", "Tool", "tool_of", "encode_output", "wire_tool_name", "capability", "Capability"]
