from . import loom_pb2 as _loom_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class MemoryOpType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MEMORY_OP_SAVE_PLAN: _ClassVar[MemoryOpType]
    MEMORY_OP_GET_RECENT_PLANS: _ClassVar[MemoryOpType]
    MEMORY_OP_CHECK_DUPLICATE: _ClassVar[MemoryOpType]
    MEMORY_OP_MARK_EXECUTED: _ClassVar[MemoryOpType]
    MEMORY_OP_GET_EXECUTION_STATS: _ClassVar[MemoryOpType]
    MEMORY_OP_APPEND_EVENT: _ClassVar[MemoryOpType]
    MEMORY_OP_RETRIEVE: _ClassVar[MemoryOpType]
    MEMORY_OP_SUMMARIZE: _ClassVar[MemoryOpType]
MEMORY_OP_SAVE_PLAN: MemoryOpType
MEMORY_OP_GET_RECENT_PLANS: MemoryOpType
MEMORY_OP_CHECK_DUPLICATE: MemoryOpType
MEMORY_OP_MARK_EXECUTED: MemoryOpType
MEMORY_OP_GET_EXECUTION_STATS: MemoryOpType
MEMORY_OP_APPEND_EVENT: MemoryOpType
MEMORY_OP_RETRIEVE: MemoryOpType
MEMORY_OP_SUMMARIZE: MemoryOpType

class PlanRecord(_message.Message):
    __slots__ = ("timestamp_ms", "symbol", "action", "confidence", "reasoning", "plan_hash", "method", "metadata")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    TIMESTAMP_MS_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    REASONING_FIELD_NUMBER: _ClassVar[int]
    PLAN_HASH_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    timestamp_ms: int
    symbol: str
    action: str
    confidence: float
    reasoning: str
    plan_hash: str
    method: str
    metadata: _containers.ScalarMap[str, str]
    def __init__(self, timestamp_ms: _Optional[int] = ..., symbol: _Optional[str] = ..., action: _Optional[str] = ..., confidence: _Optional[float] = ..., reasoning: _Optional[str] = ..., plan_hash: _Optional[str] = ..., method: _Optional[str] = ..., metadata: _Optional[_Mapping[str, str]] = ...) -> None: ...

class ExecutionRecord(_message.Message):
    __slots__ = ("timestamp_ms", "plan_hash", "symbol", "action", "confidence", "status", "executed", "order_id", "order_size_usdt", "error_message")
    TIMESTAMP_MS_FIELD_NUMBER: _ClassVar[int]
    PLAN_HASH_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    EXECUTED_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_SIZE_USDT_FIELD_NUMBER: _ClassVar[int]
    ERROR_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    timestamp_ms: int
    plan_hash: str
    symbol: str
    action: str
    confidence: float
    status: str
    executed: bool
    order_id: str
    order_size_usdt: float
    error_message: str
    def __init__(self, timestamp_ms: _Optional[int] = ..., plan_hash: _Optional[str] = ..., symbol: _Optional[str] = ..., action: _Optional[str] = ..., confidence: _Optional[float] = ..., status: _Optional[str] = ..., executed: _Optional[bool] = ..., order_id: _Optional[str] = ..., order_size_usdt: _Optional[float] = ..., error_message: _Optional[str] = ...) -> None: ...

class SavePlanRequest(_message.Message):
    __slots__ = ("session_id", "plan")
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    PLAN_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    plan: PlanRecord
    def __init__(self, session_id: _Optional[str] = ..., plan: _Optional[_Union[PlanRecord, _Mapping]] = ...) -> None: ...

class SavePlanResponse(_message.Message):
    __slots__ = ("success", "plan_hash", "error_message")
    SUCCESS_FIELD_NUMBER: _ClassVar[int]
    PLAN_HASH_FIELD_NUMBER: _ClassVar[int]
    ERROR_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    success: bool
    plan_hash: str
    error_message: str
    def __init__(self, success: _Optional[bool] = ..., plan_hash: _Optional[str] = ..., error_message: _Optional[str] = ...) -> None: ...

class GetRecentPlansRequest(_message.Message):
    __slots__ = ("session_id", "symbol", "limit")
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    symbol: str
    limit: int
    def __init__(self, session_id: _Optional[str] = ..., symbol: _Optional[str] = ..., limit: _Optional[int] = ...) -> None: ...

class GetRecentPlansResponse(_message.Message):
    __slots__ = ("plans", "success", "error_message")
    PLANS_FIELD_NUMBER: _ClassVar[int]
    SUCCESS_FIELD_NUMBER: _ClassVar[int]
    ERROR_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    plans: _containers.RepeatedCompositeFieldContainer[PlanRecord]
    success: bool
    error_message: str
    def __init__(self, plans: _Optional[_Iterable[_Union[PlanRecord, _Mapping]]] = ..., success: _Optional[bool] = ..., error_message: _Optional[str] = ...) -> None: ...

class CheckDuplicateRequest(_message.Message):
    __slots__ = ("session_id", "plan", "time_window_sec")
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    PLAN_FIELD_NUMBER: _ClassVar[int]
    TIME_WINDOW_SEC_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    plan: PlanRecord
    time_window_sec: int
    def __init__(self, session_id: _Optional[str] = ..., plan: _Optional[_Union[PlanRecord, _Mapping]] = ..., time_window_sec: _Optional[int] = ...) -> None: ...

class CheckDuplicateResponse(_message.Message):
    __slots__ = ("is_duplicate", "duplicate_plan", "time_since_duplicate_ms")
    IS_DUPLICATE_FIELD_NUMBER: _ClassVar[int]
    DUPLICATE_PLAN_FIELD_NUMBER: _ClassVar[int]
    TIME_SINCE_DUPLICATE_MS_FIELD_NUMBER: _ClassVar[int]
    is_duplicate: bool
    duplicate_plan: PlanRecord
    time_since_duplicate_ms: int
    def __init__(self, is_duplicate: _Optional[bool] = ..., duplicate_plan: _Optional[_Union[PlanRecord, _Mapping]] = ..., time_since_duplicate_ms: _Optional[int] = ...) -> None: ...

class MarkExecutedRequest(_message.Message):
    __slots__ = ("session_id", "plan_hash", "execution")
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    PLAN_HASH_FIELD_NUMBER: _ClassVar[int]
    EXECUTION_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    plan_hash: str
    execution: ExecutionRecord
    def __init__(self, session_id: _Optional[str] = ..., plan_hash: _Optional[str] = ..., execution: _Optional[_Union[ExecutionRecord, _Mapping]] = ...) -> None: ...

class MarkExecutedResponse(_message.Message):
    __slots__ = ("success", "error_message")
    SUCCESS_FIELD_NUMBER: _ClassVar[int]
    ERROR_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    success: bool
    error_message: str
    def __init__(self, success: _Optional[bool] = ..., error_message: _Optional[str] = ...) -> None: ...

class GetExecutionStatsRequest(_message.Message):
    __slots__ = ("session_id", "symbol")
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    symbol: str
    def __init__(self, session_id: _Optional[str] = ..., symbol: _Optional[str] = ...) -> None: ...

class GetExecutionStatsResponse(_message.Message):
    __slots__ = ("total_executions", "successful_executions", "failed_executions", "win_rate", "duplicate_prevented", "recent_executions")
    TOTAL_EXECUTIONS_FIELD_NUMBER: _ClassVar[int]
    SUCCESSFUL_EXECUTIONS_FIELD_NUMBER: _ClassVar[int]
    FAILED_EXECUTIONS_FIELD_NUMBER: _ClassVar[int]
    WIN_RATE_FIELD_NUMBER: _ClassVar[int]
    DUPLICATE_PREVENTED_FIELD_NUMBER: _ClassVar[int]
    RECENT_EXECUTIONS_FIELD_NUMBER: _ClassVar[int]
    total_executions: int
    successful_executions: int
    failed_executions: int
    win_rate: float
    duplicate_prevented: int
    recent_executions: _containers.RepeatedCompositeFieldContainer[ExecutionRecord]
    def __init__(self, total_executions: _Optional[int] = ..., successful_executions: _Optional[int] = ..., failed_executions: _Optional[int] = ..., win_rate: _Optional[float] = ..., duplicate_prevented: _Optional[int] = ..., recent_executions: _Optional[_Iterable[_Union[ExecutionRecord, _Mapping]]] = ...) -> None: ...

class MemoryWriteRequest(_message.Message):
    __slots__ = ("session_id", "event", "metadata")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    event: _loom_pb2.Event
    metadata: _containers.ScalarMap[str, str]
    def __init__(self, session_id: _Optional[str] = ..., event: _Optional[_Union[_loom_pb2.Event, _Mapping]] = ..., metadata: _Optional[_Mapping[str, str]] = ...) -> None: ...

class MemoryWriteResponse(_message.Message):
    __slots__ = ("success", "error_message")
    SUCCESS_FIELD_NUMBER: _ClassVar[int]
    ERROR_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    success: bool
    error_message: str
    def __init__(self, success: _Optional[bool] = ..., error_message: _Optional[str] = ...) -> None: ...

class MemoryRetrieveRequest(_message.Message):
    __slots__ = ("session_id", "query", "k", "filters")
    class FiltersEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    QUERY_FIELD_NUMBER: _ClassVar[int]
    K_FIELD_NUMBER: _ClassVar[int]
    FILTERS_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    query: str
    k: int
    filters: _containers.ScalarMap[str, str]
    def __init__(self, session_id: _Optional[str] = ..., query: _Optional[str] = ..., k: _Optional[int] = ..., filters: _Optional[_Mapping[str, str]] = ...) -> None: ...

class MemoryRetrieveResponse(_message.Message):
    __slots__ = ("results", "success", "error_message")
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    SUCCESS_FIELD_NUMBER: _ClassVar[int]
    ERROR_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedScalarFieldContainer[str]
    success: bool
    error_message: str
    def __init__(self, results: _Optional[_Iterable[str]] = ..., success: _Optional[bool] = ..., error_message: _Optional[str] = ...) -> None: ...

class MemorySummarizeRequest(_message.Message):
    __slots__ = ("session_id", "max_events")
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    MAX_EVENTS_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    max_events: int
    def __init__(self, session_id: _Optional[str] = ..., max_events: _Optional[int] = ...) -> None: ...

class MemorySummarizeResponse(_message.Message):
    __slots__ = ("summary", "event_count", "success", "error_message")
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    EVENT_COUNT_FIELD_NUMBER: _ClassVar[int]
    SUCCESS_FIELD_NUMBER: _ClassVar[int]
    ERROR_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    summary: str
    event_count: int
    success: bool
    error_message: str
    def __init__(self, summary: _Optional[str] = ..., event_count: _Optional[int] = ..., success: _Optional[bool] = ..., error_message: _Optional[str] = ...) -> None: ...

class CheckExecutedRequest(_message.Message):
    __slots__ = ("session_id", "plan_hash")
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    PLAN_HASH_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    plan_hash: str
    def __init__(self, session_id: _Optional[str] = ..., plan_hash: _Optional[str] = ...) -> None: ...

class CheckExecutedResponse(_message.Message):
    __slots__ = ("is_executed", "execution")
    IS_EXECUTED_FIELD_NUMBER: _ClassVar[int]
    EXECUTION_FIELD_NUMBER: _ClassVar[int]
    is_executed: bool
    execution: ExecutionRecord
    def __init__(self, is_executed: _Optional[bool] = ..., execution: _Optional[_Union[ExecutionRecord, _Mapping]] = ...) -> None: ...
