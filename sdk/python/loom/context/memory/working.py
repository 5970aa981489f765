"""The cognitive loop's scratchpad: this SDK's loom.memory.WorkingMemory (one class for both
import paths), a bounded transcript whose items read as dicts too (item["role"])."""

from ...memory import WorkingMemory

__all__ = ["WorkingMemory"]
