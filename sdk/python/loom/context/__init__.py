"""Context engineering, as the reference SDK's ``loom.context``:

- ``engineering``: each tool call reduced to a Step, old steps compacted, big outputs offloaded;
- ``prompting``: the context builder, few-shot examples, tool descriptors;
- ``memory``: memory items and tiers (TieredMemory persists through the runtime store);
- ``ranking`` and ``window``: relevance ranking and token budgets.

The cognitive loop (loom.cognitive) uses all of it. For code written against this SDK before
the package existed, ``loom.context`` also still exports the agent context names (now in
``loom.agent``): Context, EventContext, Store, ContextItem, ToolInfo, handling.
"""

from ..agent.context import Context, ContextItem, EventContext, Store, ToolInfo, handling
from .engineering import (
    CompactedHistory,
    CompactionConfig,
    CompactStep,
    DataOffloader,
    DefaultReducer,
    FileEditReducer,
    FileReadReducer,
    FileWriteReducer,
    OffloadConfig,
    OffloadResult,
    SearchReducer,
    ShellReducer,
    Step,
    StepCompactor,
    StepReducer,
    ToolReducer,
    WebFetchReducer,
    compute_content_hash,
    generate_step_id,
)
from .memory import InMemoryStore, MemoryItem, MemoryTier, TieredMemory, WorkingMemory, _memory
from .prompting import (
    ContextBuilder,
    ContextWindow,
    FewShotExample,
    FewShotLibrary,
    ToolDescriptor,
    ToolParameter,
    ToolRegistry,
    create_default_library,
    create_default_registry,
    get_default_library,
)
from .ranking import ContextRanker, ScoredItem
from .window import TokenBudget, TokenWindowManager

__all__ = [
    # agent context (this SDK's earlier loom.context)
    "Context", "ContextItem", "EventContext", "Store", "ToolInfo", "handling",
    # ranking and window
    "ContextRanker", "ScoredItem", "TokenWindowManager", "TokenBudget",
    # engineering
    "Step", "CompactStep", "generate_step_id", "compute_content_hash", "StepReducer", "ToolReducer",
    "FileReadReducer", "FileWriteReducer", "FileEditReducer", "ShellReducer", "SearchReducer",
    "WebFetchReducer", "DefaultReducer", "StepCompactor", "CompactionConfig", "CompactedHistory",
    "DataOffloader", "OffloadConfig", "OffloadResult",
    # memory
    "WorkingMemory", "InMemoryStore", "_memory", "MemoryItem", "MemoryTier", "TieredMemory",
    # prompting
    "ContextBuilder", "ContextWindow", "FewShotExample", "FewShotLibrary", "get_default_library",
    "create_default_library",    "ToolDescriptor", "ToolParameter", "ToolRegistry", "create_default_registry",
]
