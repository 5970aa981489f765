"""The reasoning loop of a Python agent: CognitiveAgent, its config and results."""

from ..memory import Memory, WorkingMemory
from .agent import CognitiveAgent
from .config import DEFAULT_GUARDED_TOOLS, CognitiveConfig, ThinkingStrategy
from .types import CognitiveResult, Observation, ThoughtStep, ToolCall

__all__ = ["CognitiveAgent", "CognitiveConfig", "ThinkingStrategy", "DEFAULT_GUARDED_TOOLS",
           "CognitiveResult", "ToolCall", "Observation", "ThoughtStep", "Memory", "WorkingMemory"]
