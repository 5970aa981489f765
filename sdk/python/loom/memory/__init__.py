"""Agent memory: a token-budgeted working transcript and long-term items in the runtime store."""

from .budget import fit_messages
from .memory import Memory, MemoryError, MemoryItem, WorkingMemory
from .tokens import estimate_tokens, message_tokens, messages_tokens

__all__ = ["Memory", "MemoryItem", "MemoryError", "WorkingMemory", "estimate_tokens",
           "message_tokens", "messages_tokens", "fit_messages"]
