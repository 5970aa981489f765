from . import loom_pb2 as _loom_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ListToolsRequest(_message.Message):
    __slots__ = ("prefix", "page_size", "page_token")
    PREFIX_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    prefix: str
    page_size: int
    page_token: str
    def __init__(self, prefix: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListToolsResponse(_message.Message):
    __slots__ = ("tools", "next_page_token")
    TOOLS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    tools: _containers.RepeatedCompositeFieldContainer[_loom_pb2.ToolDescriptor]
    next_page_token: str
    def __init__(self, tools: _Optional[_Iterable[_Union[_loom_pb2.ToolDescriptor, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ContextItem(_message.Message):
    __slots__ = ("id", "session_id", "type", "content", "metadata", "timestamp_ms")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_MS_FIELD_NUMBER: _ClassVar[int]
    id: str
    session_id: str
    type: str
    content: str
    metadata: _containers.ScalarMap[str, str]
    timestamp_ms: int
    def __init__(self, id: _Optional[str] = ..., session_id: _Optional[str] = ..., type: _Optional[str] = ..., content: _Optional[str] = ..., metadata: _Optional[_Mapping[str, str]] = ..., timestamp_ms: _Optional[int] = ...) -> None: ...

class SaveContextRequest(_message.Message):
    __slots__ = ("item",)
    ITEM_FIELD_NUMBER: _ClassVar[int]
    item: ContextItem
    def __init__(self, item: _Optional[_Union[ContextItem, _Mapping]] = ...) -> None: ...

class SaveContextResponse(_message.Message):
    __slots__ = ("item",)
    ITEM_FIELD_NUMBER: _ClassVar[int]
    item: ContextItem
    def __init__(self, item: _Optional[_Union[ContextItem, _Mapping]] = ...) -> None: ...

class QueryContextRequest(_message.Message):
    __slots__ = ("session_id", "type", "since_ms", "until_ms", "text", "limit", "newest_first", "page_token")
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    SINCE_MS_FIELD_NUMBER: _ClassVar[int]
    UNTIL_MS_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    NEWEST_FIRST_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    type: str
    since_ms: int
    until_ms: int
    text: str
    limit: int
    newest_first: bool
    page_token: str
    def __init__(self, session_id: _Optional[str] = ..., type: _Optional[str] = ..., since_ms: _Optional[int] = ..., until_ms: _Optional[int] = ..., text: _Optional[str] = ..., limit: _Optional[int] = ..., newest_first: _Optional[bool] = ..., page_token: _Optional[str] = ...) -> None: ...

class QueryContextResponse(_message.Message):
    __slots__ = ("items", "next_page_token")
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[ContextItem]
    next_page_token: str
    def __init__(self, items: _Optional[_Iterable[_Union[ContextItem, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetStateRequest(_message.Message):
    __slots__ = ("agent_id", "key")
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    agent_id: str
    key: str
    def __init__(self, agent_id: _Optional[str] = ..., key: _Optional[str] = ...) -> None: ...

class GetStateResponse(_message.Message):
    __slots__ = ("found", "value")
    FOUND_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    found: bool
    value: bytes
    def __init__(self, found: _Optional[bool] = ..., value: _Optional[bytes] = ...) -> None: ...

class PutStateRequest(_message.Message):
    __slots__ = ("agent_id", "key", "value")
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    agent_id: str
    key: str
    value: bytes
    def __init__(self, agent_id: _Optional[str] = ..., key: _Optional[str] = ..., value: _Optional[bytes] = ...) -> None: ...

class PutStateResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class DeleteStateRequest(_message.Message):
    __slots__ = ("agent_id", "key")
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    agent_id: str
    key: str
    def __init__(self, agent_id: _Optional[str] = ..., key: _Optional[str] = ...) -> None: ...

class DeleteStateResponse(_message.Message):
    __slots__ = ("existed",)
    EXISTED_FIELD_NUMBER: _ClassVar[int]
    existed: bool
    def __init__(self, existed: _Optional[bool] = ...) -> None: ...

class ListStateRequest(_message.Message):
    __slots__ = ("agent_id", "prefix", "limit", "page_token")
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    PREFIX_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    agent_id: str
    prefix: str
    limit: int
    page_token: str
    def __init__(self, agent_id: _Optional[str] = ..., prefix: _Optional[str] = ..., limit: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class StateEntry(_message.Message):
    __slots__ = ("key", "value")
    KEY_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    key: str
    value: bytes
    def __init__(self, key: _Optional[str] = ..., value: _Optional[bytes] = ...) -> None: ...

class ListStateResponse(_message.Message):
    __slots__ = ("entries", "next_page_token")
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    entries: _containers.RepeatedCompositeFieldContainer[StateEntry]
    next_page_token: str
    def __init__(self, entries: _Optional[_Iterable[_Union[StateEntry, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class TopicStats(_message.Message):
    __slots__ = ("topic", "published", "delivered", "dropped")
    class DroppedEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    TOPIC_FIELD_NUMBER: _ClassVar[int]
    PUBLISHED_FIELD_NUMBER: _ClassVar[int]
    DELIVERED_FIELD_NUMBER: _ClassVar[int]
    DROPPED_FIELD_NUMBER: _ClassVar[int]
    topic: str
    published: int
    delivered: int
    dropped: _containers.ScalarMap[str, int]
    def __init__(self, topic: _Optional[str] = ..., published: _Optional[int] = ..., delivered: _Optional[int] = ..., dropped: _Optional[_Mapping[str, int]] = ...) -> None: ...

class SubscriptionStats(_message.Message):
    __slots__ = ("id", "pattern", "subscriber", "qos", "queue_depth", "queue_capacity", "delivered", "dropped", "queue_bytes", "queue_bytes_capacity", "waiting_publishers")
    class DroppedEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    PATTERN_FIELD_NUMBER: _ClassVar[int]
    SUBSCRIBER_FIELD_NUMBER: _ClassVar[int]
    QOS_FIELD_NUMBER: _ClassVar[int]
    QUEUE_DEPTH_FIELD_NUMBER: _ClassVar[int]
    QUEUE_CAPACITY_FIELD_NUMBER: _ClassVar[int]
    DELIVERED_FIELD_NUMBER: _ClassVar[int]
    DROPPED_FIELD_NUMBER: _ClassVar[int]
    QUEUE_BYTES_FIELD_NUMBER: _ClassVar[int]
    QUEUE_BYTES_CAPACITY_FIELD_NUMBER: _ClassVar[int]
    WAITING_PUBLISHERS_FIELD_NUMBER: _ClassVar[int]
    id: str
    pattern: str
    subscriber: str
    qos: _loom_pb2.QoSLevel
    queue_depth: int
    queue_capacity: int
    delivered: int
    dropped: _containers.ScalarMap[str, int]
    queue_bytes: int
    queue_bytes_capacity: int
    waiting_publishers: int
    def __init__(self, id: _Optional[str] = ..., pattern: _Optional[str] = ..., subscriber: _Optional[str] = ..., qos: _Optional[_Union[_loom_pb2.QoSLevel, str]] = ..., queue_depth: _Optional[int] = ..., queue_capacity: _Optional[int] = ..., delivered: _Optional[int] = ..., dropped: _Optional[_Mapping[str, int]] = ..., queue_bytes: _Optional[int] = ..., queue_bytes_capacity: _Optional[int] = ..., waiting_publishers: _Optional[int] = ...) -> None: ...

class AgentInfo(_message.Message):
    __slots__ = ("agent_id", "state", "topics", "tools", "metadata", "last_heartbeat_ms", "pid", "restarts", "supervised", "last_error", "ad_hoc", "node", "isolated")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    TOPICS_FIELD_NUMBER: _ClassVar[int]
    TOOLS_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    LAST_HEARTBEAT_MS_FIELD_NUMBER: _ClassVar[int]
    PID_FIELD_NUMBER: _ClassVar[int]
    RESTARTS_FIELD_NUMBER: _ClassVar[int]
    SUPERVISED_FIELD_NUMBER: _ClassVar[int]
    LAST_ERROR_FIELD_NUMBER: _ClassVar[int]
    AD_HOC_FIELD_NUMBER: _ClassVar[int]
    NODE_FIELD_NUMBER: _ClassVar[int]
    ISOLATED_FIELD_NUMBER: _ClassVar[int]
    agent_id: str
    state: str
    topics: _containers.RepeatedScalarFieldContainer[str]
    tools: _containers.RepeatedScalarFieldContainer[str]
    metadata: _containers.ScalarMap[str, str]
    last_heartbeat_ms: int
    pid: int
    restarts: int
    supervised: bool
    last_error: str
    ad_hoc: bool
    node: str
    isolated: bool
    def __init__(self, agent_id: _Optional[str] = ..., state: _Optional[str] = ..., topics: _Optional[_Iterable[str]] = ..., tools: _Optional[_Iterable[str]] = ..., metadata: _Optional[_Mapping[str, str]] = ..., last_heartbeat_ms: _Optional[int] = ..., pid: _Optional[int] = ..., restarts: _Optional[int] = ..., supervised: _Optional[bool] = ..., last_error: _Optional[str] = ..., ad_hoc: _Optional[bool] = ..., node: _Optional[str] = ..., isolated: _Optional[bool] = ...) -> None: ...

class StatsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class StatsResponse(_message.Message):
    __slots__ = ("timestamp_ms", "uptime_ms", "topics", "subscriptions", "agents", "tool_calls", "tool_errors", "store_bytes", "mcp_servers", "isolation", "cluster", "topics_omitted", "subscriptions_omitted")
    TIMESTAMP_MS_FIELD_NUMBER: _ClassVar[int]
    UPTIME_MS_FIELD_NUMBER: _ClassVar[int]
    TOPICS_FIELD_NUMBER: _ClassVar[int]
    SUBSCRIPTIONS_FIELD_NUMBER: _ClassVar[int]
    AGENTS_FIELD_NUMBER: _ClassVar[int]
    TOOL_CALLS_FIELD_NUMBER: _ClassVar[int]
    TOOL_ERRORS_FIELD_NUMBER: _ClassVar[int]
    STORE_BYTES_FIELD_NUMBER: _ClassVar[int]
    MCP_SERVERS_FIELD_NUMBER: _ClassVar[int]
    ISOLATION_FIELD_NUMBER: _ClassVar[int]
    CLUSTER_FIELD_NUMBER: _ClassVar[int]
    TOPICS_OMITTED_FIELD_NUMBER: _ClassVar[int]
    SUBSCRIPTIONS_OMITTED_FIELD_NUMBER: _ClassVar[int]
    timestamp_ms: int
    uptime_ms: int
    topics: _containers.RepeatedCompositeFieldContainer[TopicStats]
    subscriptions: _containers.RepeatedCompositeFieldContainer[SubscriptionStats]
    agents: _containers.RepeatedCompositeFieldContainer[AgentInfo]
    tool_calls: int
    tool_errors: int
    store_bytes: int
    mcp_servers: _containers.RepeatedCompositeFieldContainer[McpServerInfo]
    isolation: IsolationInfo
    cluster: ClusterInfo
    topics_omitted: int
    subscriptions_omitted: int
    def __init__(self, timestamp_ms: _Optional[int] = ..., uptime_ms: _Optional[int] = ..., topics: _Optional[_Iterable[_Union[TopicStats, _Mapping]]] = ..., subscriptions: _Optional[_Iterable[_Union[SubscriptionStats, _Mapping]]] = ..., agents: _Optional[_Iterable[_Union[AgentInfo, _Mapping]]] = ..., tool_calls: _Optional[int] = ..., tool_errors: _Optional[int] = ..., store_bytes: _Optional[int] = ..., mcp_servers: _Optional[_Iterable[_Union[McpServerInfo, _Mapping]]] = ..., isolation: _Optional[_Union[IsolationInfo, _Mapping]] = ..., cluster: _Optional[_Union[ClusterInfo, _Mapping]] = ..., topics_omitted: _Optional[int] = ..., subscriptions_omitted: _Optional[int] = ...) -> None: ...

class ClusterInfo(_message.Message):
    __slots__ = ("enabled", "node", "namespace", "state", "server", "last_error", "since_ms", "nodes", "events_sent", "events_received", "dropped", "buffered_events", "buffered_bytes")
    class DroppedEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    NODE_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    SERVER_FIELD_NUMBER: _ClassVar[int]
    LAST_ERROR_FIELD_NUMBER: _ClassVar[int]
    SINCE_MS_FIELD_NUMBER: _ClassVar[int]
    NODES_FIELD_NUMBER: _ClassVar[int]
    EVENTS_SENT_FIELD_NUMBER: _ClassVar[int]
    EVENTS_RECEIVED_FIELD_NUMBER: _ClassVar[int]
    DROPPED_FIELD_NUMBER: _ClassVar[int]
    BUFFERED_EVENTS_FIELD_NUMBER: _ClassVar[int]
    BUFFERED_BYTES_FIELD_NUMBER: _ClassVar[int]
    enabled: bool
    node: str
    namespace: str
    state: str
    server: str
    last_error: str
    since_ms: int
    nodes: _containers.RepeatedScalarFieldContainer[str]
    events_sent: int
    events_received: int
    dropped: _containers.ScalarMap[str, int]
    buffered_events: int
    buffered_bytes: int
    def __init__(self, enabled: _Optional[bool] = ..., node: _Optional[str] = ..., namespace: _Optional[str] = ..., state: _Optional[str] = ..., server: _Optional[str] = ..., last_error: _Optional[str] = ..., since_ms: _Optional[int] = ..., nodes: _Optional[_Iterable[str]] = ..., events_sent: _Optional[int] = ..., events_received: _Optional[int] = ..., dropped: _Optional[_Mapping[str, int]] = ..., buffered_events: _Optional[int] = ..., buffered_bytes: _Optional[int] = ...) -> None: ...

class IsolationInfo(_message.Message):
    __slots__ = ("mode", "available", "mechanism", "detail", "trusted")
    MODE_FIELD_NUMBER: _ClassVar[int]
    AVAILABLE_FIELD_NUMBER: _ClassVar[int]
    MECHANISM_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    TRUSTED_FIELD_NUMBER: _ClassVar[int]
    mode: str
    available: bool
    mechanism: str
    detail: str
    trusted: bool
    def __init__(self, mode: _Optional[str] = ..., available: _Optional[bool] = ..., mechanism: _Optional[str] = ..., detail: _Optional[str] = ..., trusted: _Optional[bool] = ...) -> None: ...

class ListAgentsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListAgentsResponse(_message.Message):
    __slots__ = ("agents",)
    AGENTS_FIELD_NUMBER: _ClassVar[int]
    agents: _containers.RepeatedCompositeFieldContainer[AgentInfo]
    def __init__(self, agents: _Optional[_Iterable[_Union[AgentInfo, _Mapping]]] = ...) -> None: ...

class AgentControlRequest(_message.Message):
    __slots__ = ("agent_id", "action")
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    agent_id: str
    action: str
    def __init__(self, agent_id: _Optional[str] = ..., action: _Optional[str] = ...) -> None: ...

class AgentControlResponse(_message.Message):
    __slots__ = ("success", "error_message", "agent")
    SUCCESS_FIELD_NUMBER: _ClassVar[int]
    ERROR_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    AGENT_FIELD_NUMBER: _ClassVar[int]
    success: bool
    error_message: str
    agent: AgentInfo
    def __init__(self, success: _Optional[bool] = ..., error_message: _Optional[str] = ..., agent: _Optional[_Union[AgentInfo, _Mapping]] = ...) -> None: ...

class StartAgentRequest(_message.Message):
    __slots__ = ("agent_id", "script", "args", "cwd", "env", "keep_alive", "restart")
    class EnvEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    SCRIPT_FIELD_NUMBER: _ClassVar[int]
    ARGS_FIELD_NUMBER: _ClassVar[int]
    CWD_FIELD_NUMBER: _ClassVar[int]
    ENV_FIELD_NUMBER: _ClassVar[int]
    KEEP_ALIVE_FIELD_NUMBER: _ClassVar[int]
    RESTART_FIELD_NUMBER: _ClassVar[int]
    agent_id: str
    script: str
    args: _containers.RepeatedScalarFieldContainer[str]
    cwd: str
    env: _containers.ScalarMap[str, str]
    keep_alive: bool
    restart: str
    def __init__(self, agent_id: _Optional[str] = ..., script: _Optional[str] = ..., args: _Optional[_Iterable[str]] = ..., cwd: _Optional[str] = ..., env: _Optional[_Mapping[str, str]] = ..., keep_alive: _Optional[bool] = ..., restart: _Optional[str] = ...) -> None: ...

class FeedRequest(_message.Message):
    __slots__ = ("max_events_per_update", "interval_ms", "topic_filter", "backlog", "after_seq")
    MAX_EVENTS_PER_UPDATE_FIELD_NUMBER: _ClassVar[int]
    INTERVAL_MS_FIELD_NUMBER: _ClassVar[int]
    TOPIC_FILTER_FIELD_NUMBER: _ClassVar[int]
    BACKLOG_FIELD_NUMBER: _ClassVar[int]
    AFTER_SEQ_FIELD_NUMBER: _ClassVar[int]
    max_events_per_update: int
    interval_ms: int
    topic_filter: str
    backlog: int
    after_seq: int
    def __init__(self, max_events_per_update: _Optional[int] = ..., interval_ms: _Optional[int] = ..., topic_filter: _Optional[str] = ..., backlog: _Optional[int] = ..., after_seq: _Optional[int] = ...) -> None: ...

class FeedEvent(_message.Message):
    __slots__ = ("topic", "event", "qos", "size", "seq")
    TOPIC_FIELD_NUMBER: _ClassVar[int]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    QOS_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    SEQ_FIELD_NUMBER: _ClassVar[int]
    topic: str
    event: _loom_pb2.Event
    qos: _loom_pb2.QoSLevel
    size: int
    seq: int
    def __init__(self, topic: _Optional[str] = ..., event: _Optional[_Union[_loom_pb2.Event, _Mapping]] = ..., qos: _Optional[_Union[_loom_pb2.QoSLevel, str]] = ..., size: _Optional[int] = ..., seq: _Optional[int] = ...) -> None: ...

class ToolCallRecord(_message.Message):
    __slots__ = ("id", "name", "caller", "started_ms", "duration_ms", "status", "error_code")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    CALLER_FIELD_NUMBER: _ClassVar[int]
    STARTED_MS_FIELD_NUMBER: _ClassVar[int]
    DURATION_MS_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ERROR_CODE_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    caller: str
    started_ms: int
    duration_ms: float
    status: _loom_pb2.ToolStatus
    error_code: str
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., caller: _Optional[str] = ..., started_ms: _Optional[int] = ..., duration_ms: _Optional[float] = ..., status: _Optional[_Union[_loom_pb2.ToolStatus, str]] = ..., error_code: _Optional[str] = ...) -> None: ...

class SpanRecord(_message.Message):
    __slots__ = ("trace_id", "span_id", "parent_span_id", "name", "agent", "start_ms", "duration_ms", "attributes")
    class AttributesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    TRACE_ID_FIELD_NUMBER: _ClassVar[int]
    SPAN_ID_FIELD_NUMBER: _ClassVar[int]
    PARENT_SPAN_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    AGENT_FIELD_NUMBER: _ClassVar[int]
    START_MS_FIELD_NUMBER: _ClassVar[int]
    DURATION_MS_FIELD_NUMBER: _ClassVar[int]
    ATTRIBUTES_FIELD_NUMBER: _ClassVar[int]
    trace_id: str
    span_id: str
    parent_span_id: str
    name: str
    agent: str
    start_ms: int
    duration_ms: float
    attributes: _containers.ScalarMap[str, str]
    def __init__(self, trace_id: _Optional[str] = ..., span_id: _Optional[str] = ..., parent_span_id: _Optional[str] = ..., name: _Optional[str] = ..., agent: _Optional[str] = ..., start_ms: _Optional[int] = ..., duration_ms: _Optional[float] = ..., attributes: _Optional[_Mapping[str, str]] = ...) -> None: ...

class FeedUpdate(_message.Message):
    __slots__ = ("timestamp_ms", "events", "events_omitted", "stats", "tool_calls", "spans", "events_missed")
    TIMESTAMP_MS_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    EVENTS_OMITTED_FIELD_NUMBER: _ClassVar[int]
    STATS_FIELD_NUMBER: _ClassVar[int]
    TOOL_CALLS_FIELD_NUMBER: _ClassVar[int]
    SPANS_FIELD_NUMBER: _ClassVar[int]
    EVENTS_MISSED_FIELD_NUMBER: _ClassVar[int]
    timestamp_ms: int
    events: _containers.RepeatedCompositeFieldContainer[FeedEvent]
    events_omitted: int
    stats: StatsResponse
    tool_calls: _containers.RepeatedCompositeFieldContainer[ToolCallRecord]
    spans: _containers.RepeatedCompositeFieldContainer[SpanRecord]
    events_missed: int
    def __init__(self, timestamp_ms: _Optional[int] = ..., events: _Optional[_Iterable[_Union[FeedEvent, _Mapping]]] = ..., events_omitted: _Optional[int] = ..., stats: _Optional[_Union[StatsResponse, _Mapping]] = ..., tool_calls: _Optional[_Iterable[_Union[ToolCallRecord, _Mapping]]] = ..., spans: _Optional[_Iterable[_Union[SpanRecord, _Mapping]]] = ..., events_missed: _Optional[int] = ...) -> None: ...

class ListMcpServersRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class McpServerInfo(_message.Message):
    __slots__ = ("name", "state", "transport", "tools", "last_error", "restarts", "source", "next_restart_at_ms", "since_ms")
    NAME_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    TRANSPORT_FIELD_NUMBER: _ClassVar[int]
    TOOLS_FIELD_NUMBER: _ClassVar[int]
    LAST_ERROR_FIELD_NUMBER: _ClassVar[int]
    RESTARTS_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    NEXT_RESTART_AT_MS_FIELD_NUMBER: _ClassVar[int]
    SINCE_MS_FIELD_NUMBER: _ClassVar[int]
    name: str
    state: str
    transport: str
    tools: _containers.RepeatedScalarFieldContainer[str]
    last_error: str
    restarts: int
    source: str
    next_restart_at_ms: int
    since_ms: int
    def __init__(self, name: _Optional[str] = ..., state: _Optional[str] = ..., transport: _Optional[str] = ..., tools: _Optional[_Iterable[str]] = ..., last_error: _Optional[str] = ..., restarts: _Optional[int] = ..., source: _Optional[str] = ..., next_restart_at_ms: _Optional[int] = ..., since_ms: _Optional[int] = ...) -> None: ...

class ListMcpServersResponse(_message.Message):
    __slots__ = ("servers",)
    SERVERS_FIELD_NUMBER: _ClassVar[int]
    servers: _containers.RepeatedCompositeFieldContainer[McpServerInfo]
    def __init__(self, servers: _Optional[_Iterable[_Union[McpServerInfo, _Mapping]]] = ...) -> None: ...

class McpControlRequest(_message.Message):
    __slots__ = ("name", "action")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    name: str
    action: str
    def __init__(self, name: _Optional[str] = ..., action: _Optional[str] = ...) -> None: ...

class McpControlResponse(_message.Message):
    __slots__ = ("success", "error_message", "server")
    SUCCESS_FIELD_NUMBER: _ClassVar[int]
    ERROR_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    SERVER_FIELD_NUMBER: _ClassVar[int]
    success: bool
    error_message: str
    server: McpServerInfo
    def __init__(self, success: _Optional[bool] = ..., error_message: _Optional[str] = ..., server: _Optional[_Union[McpServerInfo, _Mapping]] = ...) -> None: ...
