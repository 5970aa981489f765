"""Agent memory: a token-budgeted working transcript and long-term items in the runtime store."""

from .budget import fit_messages
from .memory import Memory, MemoryItem, MemoryStoreError, WorkingMemory
from .tokens import estimate_tokens, message_tokens, messages_tokens

__all__ = ["Memory", "MemoryItem", "MemoryStoreError", "WorkingMemory", "estimate_tokens",
           "message_tokens", "messages_tokens", "fit_messages"]
