"""Loom Python SDK: agents that talk to the Loom runtime over its gRPC bridge.

    from loom import Agent, tool

    @tool("math:add", description="Add two numbers")
    def add(a: int, b: int) -> int:
        return a + b

    async def on_event(ctx, topic, event):
        await ctx.emit("greetings.out", type="hello", payload={"to": event.json()["name"]})

    Agent("greeter", topics=["greetings.in"], tools=[add], on_event=on_event).run()
"""
from typing import Any

from .agent import Agent, Context, ContextItem, EventContext, EventHandler, Store, ToolInfo
from .cognitive import CognitiveAgent, CognitiveConfig, CognitiveResult, ThinkingStrategy
from .discovery import Endpoint, resolve_endpoint
from .errors import (
    AuthenticationError,
    LoomError,
    NotConnected,
    PermissionDenied,
    RequestTimeout,
    RuntimeNotFound,
    ToolDenied,
    ToolError,
    ToolInvalidArguments,
    ToolNotFound,
    ToolTimeout,
)
from .event import Envelope, Event
from .llm import LLMConfig, LLMError, LLMProvider
from .memory import Memory, WorkingMemory
from .qos import QoS
from .tools import Capability, Tool, capability, tool

__version__ = "0.1.0"

# The reference SDK's top-level names from loom.runtime.config and loom.telemetry, imported on
# first use (PEP 562) so that `import loom` stays light and does not start telemetry.
_LAZY = {
    "ProjectConfig": ("runtime.config", "ProjectConfig"),
    "load_project_config": ("runtime.config", "load_project_config"),
    "init_telemetry": ("telemetry", "init_telemetry"),
    "shutdown_telemetry": ("telemetry", "shutdown_telemetry"),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        value = getattr(importlib.import_module(f".{module}", __name__), attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "Agent",
    "AuthenticationError",
    "PermissionDenied",
    "ProjectConfig",
    "Capability",
    "CognitiveAgent",
    "CognitiveConfig",
    "CognitiveResult",
    "Context",
    "ContextItem",
    "Endpoint",
    "Envelope",
    "Event",
    "EventContext",
    "EventHandler",
    "LLMConfig",
    "LLMError",
    "LLMProvider",
    "LoomError",
    "Memory",
    "NotConnected",
    "QoS",
    "RequestTimeout",
    "RuntimeNotFound",
    "Store",
    "ThinkingStrategy",
    "Tool",
    "ToolDenied",
    "ToolError",
    "ToolInfo",
    "ToolInvalidArguments",
    "ToolNotFound",
    "ToolTimeout",
    "WorkingMemory",
    "capability",
    "init_telemetry",
    "load_project_config",
    "resolve_endpoint",
    "shutdown_telemetry",
    "tool",
]
