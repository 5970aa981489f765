"""Loom Python SDK: agents that talk to the Loom runtime over its gRPC bridge.

    from loom import Agent, tool

    @tool("math:add", description="Add two numbers")
    def add(a: int, b: int) -> int:
        return a + b

    async def on_event(ctx, topic, event):
        await ctx.emit("greetings.out", type="hello", payload={"to": event.json()["name"]})

    Agent("greeter", topics=["greetings.in"], tools=[add], on_event=on_event).run()
"""
from .agent import Agent, EventHandler
from .cognitive import CognitiveAgent, CognitiveConfig, CognitiveResult, ThinkingStrategy
from .agent import Context, ContextItem, EventContext, Store, ToolInfo
from .discovery import Endpoint, resolve_endpoint
from .errors import (
    AuthenticationError,
    PermissionDenied,
    LoomError,
    NotConnected,
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

__all__ = [
    "Agent",
    "AuthenticationError",
    "PermissionDenied",
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
    "resolve_endpoint",
    "tool",
]
