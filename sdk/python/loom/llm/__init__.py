"""The model side of an agent's brain: LLMProvider over OpenAI-compatible HTTP APIs."""

from .config import PRESETS, LLMConfig, expand_env, find_loom_toml, preset_config, resolve_config
from .errors import (
    LLMAuthError,
    LLMBadRequestError,
    LLMConfigError,
    LLMConnectionError,
    LLMError,
    LLMRateLimitError,
    LLMResponseError,
    LLMServerError,
    LLMStatusError,
    LLMTimeoutError,
)
from .provider import LLMProvider, tool_spec
from .types import LLMResponse, Message, StreamDelta, ToolCallRequest

__all__ = [
    "LLMProvider", "LLMConfig", "PRESETS", "preset_config", "resolve_config", "expand_env",
    "find_loom_toml", "tool_spec", "Message", "LLMResponse", "StreamDelta", "ToolCallRequest",
    "LLMError", "LLMConfigError", "LLMConnectionError", "LLMTimeoutError", "LLMResponseError",
    "LLMStatusError", "LLMAuthError", "LLMBadRequestError", "LLMRateLimitError", "LLMServerError",
]
