"""Agent memory for context engineering: items and tiers, a scratchpad, a thread-scoped
key-value store, and TieredMemory (short- and long-term items in the runtime store)."""

from .store import InMemoryStore, _memory
from .tiered import TieredMemory
from .types import MemoryItem, MemoryTier
from .working import WorkingMemory

__all__ = ["WorkingMemory", "InMemoryStore", "_memory", "MemoryItem", "MemoryTier", "TieredMemory"]
