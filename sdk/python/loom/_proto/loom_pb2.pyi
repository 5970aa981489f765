from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class QoSLevel(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    QOS_REALTIME: _ClassVar[QoSLevel]
    QOS_BATCHED: _ClassVar[QoSLevel]
    QOS_BACKGROUND: _ClassVar[QoSLevel]

class ProviderKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PROVIDER_NATIVE: _ClassVar[ProviderKind]
    PROVIDER_WASM: _ClassVar[ProviderKind]
    PROVIDER_GRPC: _ClassVar[ProviderKind]
    PROVIDER_MCP: _ClassVar[ProviderKind]

class ToolStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TOOL_OK: _ClassVar[ToolStatus]
    TOOL_ERROR: _ClassVar[ToolStatus]
    TOOL_TIMEOUT: _ClassVar[ToolStatus]
    TOOL_NOT_FOUND: _ClassVar[ToolStatus]
    TOOL_INVALID_ARGUMENTS: _ClassVar[ToolStatus]
QOS_REALTIME: QoSLevel
QOS_BATCHED: QoSLevel
QOS_BACKGROUND: QoSLevel
PROVIDER_NATIVE: ProviderKind
PROVIDER_WASM: ProviderKind
PROVIDER_GRPC: ProviderKind
PROVIDER_MCP: ProviderKind
TOOL_OK: ToolStatus
TOOL_ERROR: ToolStatus
TOOL_TIMEOUT: ToolStatus
TOOL_NOT_FOUND: ToolStatus
TOOL_INVALID_ARGUMENTS: ToolStatus

class Event(_message.Message):
    __slots__ = ("id", "type", "timestamp_ms", "source", "metadata", "payload", "confidence", "tags", "priority")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_MS_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    id: str
    type: str
    timestamp_ms: int
    source: str
    metadata: _containers.ScalarMap[str, str]
    payload: bytes
    confidence: float
    tags: _containers.RepeatedScalarFieldContainer[str]
    priority: int
    def __init__(self, id: _Optional[str] = ..., type: _Optional[str] = ..., timestamp_ms: _Optional[int] = ..., source: _Optional[str] = ..., metadata: _Optional[_Mapping[str, str]] = ..., payload: _Optional[bytes] = ..., confidence: _Optional[float] = ..., tags: _Optional[_Iterable[str]] = ..., priority: _Optional[int] = ...) -> None: ...

class ToolDescriptor(_message.Message):
    __slots__ = ("name", "description", "parameters_schema", "provider", "metadata")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    PARAMETERS_SCHEMA_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    name: str
    description: str
    parameters_schema: str
    provider: ProviderKind
    metadata: _containers.ScalarMap[str, str]
    def __init__(self, name: _Optional[str] = ..., description: _Optional[str] = ..., parameters_schema: _Optional[str] = ..., provider: _Optional[_Union[ProviderKind, str]] = ..., metadata: _Optional[_Mapping[str, str]] = ...) -> None: ...

class ToolCall(_message.Message):
    __slots__ = ("id", "name", "arguments", "headers", "timeout_ms", "correlation_id", "qos")
    class HeadersEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    ARGUMENTS_FIELD_NUMBER: _ClassVar[int]
    HEADERS_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_MS_FIELD_NUMBER: _ClassVar[int]
    CORRELATION_ID_FIELD_NUMBER: _ClassVar[int]
    QOS_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    arguments: str
    headers: _containers.ScalarMap[str, str]
    timeout_ms: int
    correlation_id: str
    qos: QoSLevel
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., arguments: _Optional[str] = ..., headers: _Optional[_Mapping[str, str]] = ..., timeout_ms: _Optional[int] = ..., correlation_id: _Optional[str] = ..., qos: _Optional[_Union[QoSLevel, str]] = ...) -> None: ...

class CancelToolCall(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class ToolError(_message.Message):
    __slots__ = ("code", "message", "details")
    class DetailsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    DETAILS_FIELD_NUMBER: _ClassVar[int]
    code: str
    message: str
    details: _containers.ScalarMap[str, str]
    def __init__(self, code: _Optional[str] = ..., message: _Optional[str] = ..., details: _Optional[_Mapping[str, str]] = ...) -> None: ...

class ToolResult(_message.Message):
    __slots__ = ("id", "status", "output", "error")
    ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    id: str
    status: ToolStatus
    output: str
    error: ToolError
    def __init__(self, id: _Optional[str] = ..., status: _Optional[_Union[ToolStatus, str]] = ..., output: _Optional[str] = ..., error: _Optional[_Union[ToolError, _Mapping]] = ...) -> None: ...

class AgentRegisterRequest(_message.Message):
    __slots__ = ("agent_id", "subscribed_topics", "tools", "metadata", "qos")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    SUBSCRIBED_TOPICS_FIELD_NUMBER: _ClassVar[int]
    TOOLS_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    QOS_FIELD_NUMBER: _ClassVar[int]
    agent_id: str
    subscribed_topics: _containers.RepeatedScalarFieldContainer[str]
    tools: _containers.RepeatedCompositeFieldContainer[ToolDescriptor]
    metadata: _containers.ScalarMap[str, str]
    qos: QoSLevel
    def __init__(self, agent_id: _Optional[str] = ..., subscribed_topics: _Optional[_Iterable[str]] = ..., tools: _Optional[_Iterable[_Union[ToolDescriptor, _Mapping]]] = ..., metadata: _Optional[_Mapping[str, str]] = ..., qos: _Optional[_Union[QoSLevel, str]] = ...) -> None: ...

class AgentRegisterResponse(_message.Message):
    __slots__ = ("success", "error_message", "features")
    SUCCESS_FIELD_NUMBER: _ClassVar[int]
    ERROR_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    FEATURES_FIELD_NUMBER: _ClassVar[int]
    success: bool
    error_message: str
    features: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, success: _Optional[bool] = ..., error_message: _Optional[str] = ..., features: _Optional[_Iterable[str]] = ...) -> None: ...

class Publish(_message.Message):
    __slots__ = ("topic", "event")
    TOPIC_FIELD_NUMBER: _ClassVar[int]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    topic: str
    event: Event
    def __init__(self, topic: _Optional[str] = ..., event: _Optional[_Union[Event, _Mapping]] = ...) -> None: ...

class Ack(_message.Message):
    __slots__ = ("message_id",)
    MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    message_id: str
    def __init__(self, message_id: _Optional[str] = ...) -> None: ...

class HeartbeatRequest(_message.Message):
    __slots__ = ("timestamp_ms", "agent_id")
    TIMESTAMP_MS_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    timestamp_ms: int
    agent_id: str
    def __init__(self, timestamp_ms: _Optional[int] = ..., agent_id: _Optional[str] = ...) -> None: ...

class HeartbeatResponse(_message.Message):
    __slots__ = ("timestamp_ms", "status")
    TIMESTAMP_MS_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    timestamp_ms: int
    status: str
    def __init__(self, timestamp_ms: _Optional[int] = ..., status: _Optional[str] = ...) -> None: ...

class Delivery(_message.Message):
    __slots__ = ("topic", "event", "subscription_id")
    TOPIC_FIELD_NUMBER: _ClassVar[int]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    SUBSCRIPTION_ID_FIELD_NUMBER: _ClassVar[int]
    topic: str
    event: Event
    subscription_id: str
    def __init__(self, topic: _Optional[str] = ..., event: _Optional[_Union[Event, _Mapping]] = ..., subscription_id: _Optional[str] = ...) -> None: ...

class Error(_message.Message):
    __slots__ = ("code", "message")
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    code: str
    message: str
    def __init__(self, code: _Optional[str] = ..., message: _Optional[str] = ...) -> None: ...

class PublishBatch(_message.Message):
    __slots__ = ("publishes",)
    PUBLISHES_FIELD_NUMBER: _ClassVar[int]
    publishes: _containers.RepeatedCompositeFieldContainer[Publish]
    def __init__(self, publishes: _Optional[_Iterable[_Union[Publish, _Mapping]]] = ...) -> None: ...

class DeliveryBatch(_message.Message):
    __slots__ = ("deliveries",)
    DELIVERIES_FIELD_NUMBER: _ClassVar[int]
    deliveries: _containers.RepeatedCompositeFieldContainer[Delivery]
    def __init__(self, deliveries: _Optional[_Iterable[_Union[Delivery, _Mapping]]] = ...) -> None: ...

class SubscribeRequest(_message.Message):
    __slots__ = ("request_id", "pattern", "qos", "agent_id")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    PATTERN_FIELD_NUMBER: _ClassVar[int]
    QOS_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    pattern: str
    qos: QoSLevel
    agent_id: str
    def __init__(self, request_id: _Optional[str] = ..., pattern: _Optional[str] = ..., qos: _Optional[_Union[QoSLevel, str]] = ..., agent_id: _Optional[str] = ...) -> None: ...

class SubscribeResponse(_message.Message):
    __slots__ = ("request_id", "subscription_id", "success", "error_message")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    SUBSCRIPTION_ID_FIELD_NUMBER: _ClassVar[int]
    SUCCESS_FIELD_NUMBER: _ClassVar[int]
    ERROR_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    subscription_id: str
    success: bool
    error_message: str
    def __init__(self, request_id: _Optional[str] = ..., subscription_id: _Optional[str] = ..., success: _Optional[bool] = ..., error_message: _Optional[str] = ...) -> None: ...

class UnsubscribeRequest(_message.Message):
    __slots__ = ("request_id", "pattern", "subscription_id", "agent_id")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    PATTERN_FIELD_NUMBER: _ClassVar[int]
    SUBSCRIPTION_ID_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    pattern: str
    subscription_id: str
    agent_id: str
    def __init__(self, request_id: _Optional[str] = ..., pattern: _Optional[str] = ..., subscription_id: _Optional[str] = ..., agent_id: _Optional[str] = ...) -> None: ...

class UnsubscribeResponse(_message.Message):
    __slots__ = ("request_id", "success", "removed", "error_message")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    SUCCESS_FIELD_NUMBER: _ClassVar[int]
    REMOVED_FIELD_NUMBER: _ClassVar[int]
    ERROR_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    success: bool
    removed: int
    error_message: str
    def __init__(self, request_id: _Optional[str] = ..., success: _Optional[bool] = ..., removed: _Optional[int] = ..., error_message: _Optional[str] = ...) -> None: ...

class ClientEvent(_message.Message):
    __slots__ = ("publish", "ack", "ping", "tool_result", "publish_batch", "subscribe", "unsubscribe", "call_tool", "cancel_tool")
    PUBLISH_FIELD_NUMBER: _ClassVar[int]
    ACK_FIELD_NUMBER: _ClassVar[int]
    PING_FIELD_NUMBER: _ClassVar[int]
    TOOL_RESULT_FIELD_NUMBER: _ClassVar[int]
    PUBLISH_BATCH_FIELD_NUMBER: _ClassVar[int]
    SUBSCRIBE_FIELD_NUMBER: _ClassVar[int]
    UNSUBSCRIBE_FIELD_NUMBER: _ClassVar[int]
    CALL_TOOL_FIELD_NUMBER: _ClassVar[int]
    CANCEL_TOOL_FIELD_NUMBER: _ClassVar[int]
    publish: Publish
    ack: Ack
    ping: HeartbeatRequest
    tool_result: ToolResult
    publish_batch: PublishBatch
    subscribe: SubscribeRequest
    unsubscribe: UnsubscribeRequest
    call_tool: ToolCall
    cancel_tool: CancelToolCall
    def __init__(self, publish: _Optional[_Union[Publish, _Mapping]] = ..., ack: _Optional[_Union[Ack, _Mapping]] = ..., ping: _Optional[_Union[HeartbeatRequest, _Mapping]] = ..., tool_result: _Optional[_Union[ToolResult, _Mapping]] = ..., publish_batch: _Optional[_Union[PublishBatch, _Mapping]] = ..., subscribe: _Optional[_Union[SubscribeRequest, _Mapping]] = ..., unsubscribe: _Optional[_Union[UnsubscribeRequest, _Mapping]] = ..., call_tool: _Optional[_Union[ToolCall, _Mapping]] = ..., cancel_tool: _Optional[_Union[CancelToolCall, _Mapping]] = ...) -> None: ...

class ServerEvent(_message.Message):
    __slots__ = ("delivery", "pong", "err", "tool_call", "delivery_batch", "subscribed", "unsubscribed", "call_tool_result", "cancel_tool_call")
    DELIVERY_FIELD_NUMBER: _ClassVar[int]
    PONG_FIELD_NUMBER: _ClassVar[int]
    ERR_FIELD_NUMBER: _ClassVar[int]
    TOOL_CALL_FIELD_NUMBER: _ClassVar[int]
    DELIVERY_BATCH_FIELD_NUMBER: _ClassVar[int]
    SUBSCRIBED_FIELD_NUMBER: _ClassVar[int]
    UNSUBSCRIBED_FIELD_NUMBER: _ClassVar[int]
    CALL_TOOL_RESULT_FIELD_NUMBER: _ClassVar[int]
    CANCEL_TOOL_CALL_FIELD_NUMBER: _ClassVar[int]
    delivery: Delivery
    pong: HeartbeatResponse
    err: Error
    tool_call: ToolCall
    delivery_batch: DeliveryBatch
    subscribed: SubscribeResponse
    unsubscribed: UnsubscribeResponse
    call_tool_result: ToolResult
    cancel_tool_call: CancelToolCall
    def __init__(self, delivery: _Optional[_Union[Delivery, _Mapping]] = ..., pong: _Optional[_Union[HeartbeatResponse, _Mapping]] = ..., err: _Optional[_Union[Error, _Mapping]] = ..., tool_call: _Optional[_Union[ToolCall, _Mapping]] = ..., delivery_batch: _Optional[_Union[DeliveryBatch, _Mapping]] = ..., subscribed: _Optional[_Union[SubscribeResponse, _Mapping]] = ..., unsubscribed: _Optional[_Union[UnsubscribeResponse, _Mapping]] = ..., call_tool_result: _Optional[_Union[ToolResult, _Mapping]] = ..., cancel_tool_call: _Optional[_Union[CancelToolCall, _Mapping]] = ...) -> None: ...
