"""Keeping tool history small: reduce each call to a Step, compact old steps, offload big outputs."""

from .compactor import CompactedHistory, CompactionConfig, StepCompactor
from .offloader import DataOffloader, OffloadConfig, OffloadResult
from .reducer import (
    DefaultReducer,
    FileEditReducer,
    FileReadReducer,
    FileWriteReducer,
    SearchReducer,
    ShellReducer,
    StepReducer,
    ToolReducer,
    WebFetchReducer,
)
from .step import CompactStep, Step, compute_content_hash, generate_step_id

__all__ = ["Step", "CompactStep", "generate_step_id", "compute_content_hash",
           "StepReducer", "ToolReducer", "FileReadReducer", "FileWriteReducer", "FileEditReducer",
           "ShellReducer", "SearchReducer", "WebFetchReducer", "DefaultReducer",
           "StepCompactor", "CompactionConfig", "CompactedHistory",
           "DataOffloader", "OffloadConfig", "OffloadResult"]
