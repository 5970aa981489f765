"""The reasoning loop of a Python agent: CognitiveAgent, its config and results, and the
reference SDK's building blocks (ToolExecutor, StrategyExecutor, the prompt helpers of
loom.cognitive.loop). Context engineering comes from loom.context."""

from ..memory import Memory, WorkingMemory
from .agent import CognitiveAgent
from .config import DEFAULT_GUARDED_TOOLS, CognitiveConfig, ThinkingStrategy
from .executor import TOOLS_REQUIRING_APPROVAL, ToolExecutor
from .strategies import StrategyExecutor
from .types import CognitiveResult, Observation, ThoughtStep, ToolCall

__all__ = ["CognitiveAgent", "CognitiveConfig", "ThinkingStrategy", "DEFAULT_GUARDED_TOOLS",
           "CognitiveResult", "ToolCall", "Observation", "ThoughtStep", "Memory", "WorkingMemory",
           "ToolExecutor", "StrategyExecutor", "TOOLS_REQUIRING_APPROVAL"]
