"""Every exception class the SDK defines is a loom.LoomError, and none takes a builtin's name."""

from __future__ import annotations

import builtins
import importlib
import inspect
import pkgutil
import types

import loom
from loom import LoomError

#: Modules that need optional extras or start things on import; their classes are checked by
#: source below instead.
_SKIP = {"loom.__main__", "loom.cli.__main__"}


def _modules() -> list[types.ModuleType]:
    mods = []
    for info in pkgutil.walk_packages(loom.__path__, "loom."):
        if info.name in _SKIP or info.name.startswith("loom._proto") or ".proto.generated" in info.name:
            continue
        try:
            mods.append(importlib.import_module(info.name))
        except ImportError:  # an optional extra (opentelemetry-sdk, pydantic) that is not installed
            continue
    return mods


def _sdk_exceptions() -> dict[str, type]:
    found: dict[str, type] = {}
    for mod in _modules():
        for obj in vars(mod).values():
            if (inspect.isclass(obj) and issubclass(obj, BaseException)
                    and obj.__module__.startswith("loom.") and not obj.__module__.startswith("loom._proto")):
                found[f"{obj.__module__}.{obj.__qualname__}"] = obj
    return found


def test_every_sdk_error_is_a_loom_error():
    errors = _sdk_exceptions()
    assert "loom.llm.errors.LLMError" in errors and "loom.memory.memory.MemoryStoreError" in errors
    assert [name for name, cls in errors.items() if not issubclass(cls, LoomError)] == []


def test_no_sdk_name_shadows_a_builtin():
    shadowing = sorted(f"{mod.__name__}.{name}" for mod in _modules() for name in vars(mod)
                       if name in vars(builtins) and not name.startswith("__")
                       and vars(mod)[name] is not vars(builtins)[name])
    assert shadowing == []
    assert not hasattr(loom.memory, "MemoryError")


def test_builtin_bases_are_kept_for_existing_except_clauses():
    from loom.llm.errors import LLMConfigError
    from loom.schema import ArgumentError

    assert issubclass(loom.RequestTimeout, TimeoutError) and issubclass(loom.ToolTimeout, TimeoutError)
    assert issubclass(LLMConfigError, ValueError) and issubclass(ArgumentError, ValueError)
    assert issubclass(loom.LLMError, RuntimeError) and issubclass(LoomError, RuntimeError)
