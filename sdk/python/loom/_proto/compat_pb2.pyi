from . import loom_pb2 as _loom_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ActionStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ACTION_OK: _ClassVar[ActionStatus]
    ACTION_ERROR: _ClassVar[ActionStatus]
    ACTION_TIMEOUT: _ClassVar[ActionStatus]
    ACTION_RETRYABLE: _ClassVar[ActionStatus]

class PluginType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PLUGIN_FEATURE_EXTRACTOR: _ClassVar[PluginType]
    PLUGIN_MODEL_BACKEND: _ClassVar[PluginType]
    PLUGIN_TOOL: _ClassVar[PluginType]
    PLUGIN_ACTUATOR: _ClassVar[PluginType]
ACTION_OK: ActionStatus
ACTION_ERROR: ActionStatus
ACTION_TIMEOUT: ActionStatus
ACTION_RETRYABLE: ActionStatus
PLUGIN_FEATURE_EXTRACTOR: PluginType
PLUGIN_MODEL_BACKEND: PluginType
PLUGIN_TOOL: PluginType
PLUGIN_ACTUATOR: PluginType

class CapabilityDescriptor(_message.Message):
    __slots__ = ("name", "version", "provider", "metadata")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    name: str
    version: str
    provider: _loom_pb2.ProviderKind
    metadata: _containers.ScalarMap[str, str]
    def __init__(self, name: _Optional[str] = ..., version: _Optional[str] = ..., provider: _Optional[_Union[_loom_pb2.ProviderKind, str]] = ..., metadata: _Optional[_Mapping[str, str]] = ...) -> None: ...

class ActionCall(_message.Message):
    __slots__ = ("id", "capability", "version", "payload", "headers", "timeout_ms", "correlation_id", "qos")
    class HeadersEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    CAPABILITY_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    HEADERS_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_MS_FIELD_NUMBER: _ClassVar[int]
    CORRELATION_ID_FIELD_NUMBER: _ClassVar[int]
    QOS_FIELD_NUMBER: _ClassVar[int]
    id: str
    capability: str
    version: str
    payload: bytes
    headers: _containers.ScalarMap[str, str]
    timeout_ms: int
    correlation_id: str
    qos: _loom_pb2.QoSLevel
    def __init__(self, id: _Optional[str] = ..., capability: _Optional[str] = ..., version: _Optional[str] = ..., payload: _Optional[bytes] = ..., headers: _Optional[_Mapping[str, str]] = ..., timeout_ms: _Optional[int] = ..., correlation_id: _Optional[str] = ..., qos: _Optional[_Union[_loom_pb2.QoSLevel, str]] = ...) -> None: ...

class ActionError(_message.Message):
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

class ActionResult(_message.Message):
    __slots__ = ("id", "status", "output", "error")
    ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    id: str
    status: ActionStatus
    output: bytes
    error: ActionError
    def __init__(self, id: _Optional[str] = ..., status: _Optional[_Union[ActionStatus, str]] = ..., output: _Optional[bytes] = ..., error: _Optional[_Union[ActionError, _Mapping]] = ...) -> None: ...

class ListCapabilitiesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListCapabilitiesResponse(_message.Message):
    __slots__ = ("capabilities",)
    CAPABILITIES_FIELD_NUMBER: _ClassVar[int]
    capabilities: _containers.RepeatedCompositeFieldContainer[CapabilityDescriptor]
    def __init__(self, capabilities: _Optional[_Iterable[_Union[CapabilityDescriptor, _Mapping]]] = ...) -> None: ...

class EventStream(_message.Message):
    __slots__ = ("events", "session_id")
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[_loom_pb2.Event]
    session_id: str
    def __init__(self, events: _Optional[_Iterable[_Union[_loom_pb2.Event, _Mapping]]] = ..., session_id: _Optional[str] = ...) -> None: ...

class PublishRequest(_message.Message):
    __slots__ = ("topic", "event")
    TOPIC_FIELD_NUMBER: _ClassVar[int]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    topic: str
    event: _loom_pb2.Event
    def __init__(self, topic: _Optional[str] = ..., event: _Optional[_Union[_loom_pb2.Event, _Mapping]] = ...) -> None: ...

class PublishResponse(_message.Message):
    __slots__ = ("success", "error_message", "sequence_number")
    SUCCESS_FIELD_NUMBER: _ClassVar[int]
    ERROR_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_NUMBER_FIELD_NUMBER: _ClassVar[int]
    success: bool
    error_message: str
    sequence_number: int
    def __init__(self, success: _Optional[bool] = ..., error_message: _Optional[str] = ..., sequence_number: _Optional[int] = ...) -> None: ...

class AgentState(_message.Message):
    __slots__ = ("agent_id", "persistent_state", "ephemeral_context", "last_update_ms", "metadata")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    PERSISTENT_STATE_FIELD_NUMBER: _ClassVar[int]
    EPHEMERAL_CONTEXT_FIELD_NUMBER: _ClassVar[int]
    LAST_UPDATE_MS_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    agent_id: str
    persistent_state: bytes
    ephemeral_context: bytes
    last_update_ms: int
    metadata: _containers.ScalarMap[str, str]
    def __init__(self, agent_id: _Optional[str] = ..., persistent_state: _Optional[bytes] = ..., ephemeral_context: _Optional[bytes] = ..., last_update_ms: _Optional[int] = ..., metadata: _Optional[_Mapping[str, str]] = ...) -> None: ...

class AgentConfig(_message.Message):
    __slots__ = ("agent_id", "agent_type", "subscribed_topics", "capabilities", "parameters")
    class ParametersEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    AGENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    SUBSCRIBED_TOPICS_FIELD_NUMBER: _ClassVar[int]
    CAPABILITIES_FIELD_NUMBER: _ClassVar[int]
    PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    agent_id: str
    agent_type: str
    subscribed_topics: _containers.RepeatedScalarFieldContainer[str]
    capabilities: _containers.RepeatedScalarFieldContainer[str]
    parameters: _containers.ScalarMap[str, str]
    def __init__(self, agent_id: _Optional[str] = ..., agent_type: _Optional[str] = ..., subscribed_topics: _Optional[_Iterable[str]] = ..., capabilities: _Optional[_Iterable[str]] = ..., parameters: _Optional[_Mapping[str, str]] = ...) -> None: ...

class Action(_message.Message):
    __slots__ = ("action_type", "parameters", "payload", "priority")
    class ParametersEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ACTION_TYPE_FIELD_NUMBER: _ClassVar[int]
    PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    action_type: str
    parameters: _containers.ScalarMap[str, str]
    payload: bytes
    priority: int
    def __init__(self, action_type: _Optional[str] = ..., parameters: _Optional[_Mapping[str, str]] = ..., payload: _Optional[bytes] = ..., priority: _Optional[int] = ...) -> None: ...

class AgentResponse(_message.Message):
    __slots__ = ("agent_id", "actions", "updated_state", "generated_events")
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    ACTIONS_FIELD_NUMBER: _ClassVar[int]
    UPDATED_STATE_FIELD_NUMBER: _ClassVar[int]
    GENERATED_EVENTS_FIELD_NUMBER: _ClassVar[int]
    agent_id: str
    actions: _containers.RepeatedCompositeFieldContainer[Action]
    updated_state: AgentState
    generated_events: _containers.RepeatedCompositeFieldContainer[_loom_pb2.Event]
    def __init__(self, agent_id: _Optional[str] = ..., actions: _Optional[_Iterable[_Union[Action, _Mapping]]] = ..., updated_state: _Optional[_Union[AgentState, _Mapping]] = ..., generated_events: _Optional[_Iterable[_Union[_loom_pb2.Event, _Mapping]]] = ...) -> None: ...

class CreateAgentResponse(_message.Message):
    __slots__ = ("success", "error_message")
    SUCCESS_FIELD_NUMBER: _ClassVar[int]
    ERROR_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    success: bool
    error_message: str
    def __init__(self, success: _Optional[bool] = ..., error_message: _Optional[str] = ...) -> None: ...

class DeleteAgentRequest(_message.Message):
    __slots__ = ("agent_id",)
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    agent_id: str
    def __init__(self, agent_id: _Optional[str] = ...) -> None: ...

class DeleteAgentResponse(_message.Message):
    __slots__ = ("success",)
    SUCCESS_FIELD_NUMBER: _ClassVar[int]
    success: bool
    def __init__(self, success: _Optional[bool] = ...) -> None: ...

class GetAgentStateRequest(_message.Message):
    __slots__ = ("agent_id",)
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    agent_id: str
    def __init__(self, agent_id: _Optional[str] = ...) -> None: ...

class UpdateAgentStateResponse(_message.Message):
    __slots__ = ("success",)
    SUCCESS_FIELD_NUMBER: _ClassVar[int]
    success: bool
    def __init__(self, success: _Optional[bool] = ...) -> None: ...

class SendEventRequest(_message.Message):
    __slots__ = ("agent_id", "event")
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    agent_id: str
    event: _loom_pb2.Event
    def __init__(self, agent_id: _Optional[str] = ..., event: _Optional[_Union[_loom_pb2.Event, _Mapping]] = ...) -> None: ...

class PluginMeta(_message.Message):
    __slots__ = ("plugin_id", "name", "version", "type", "capabilities", "config")
    class ConfigEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    PLUGIN_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    CAPABILITIES_FIELD_NUMBER: _ClassVar[int]
    CONFIG_FIELD_NUMBER: _ClassVar[int]
    plugin_id: str
    name: str
    version: str
    type: PluginType
    capabilities: _containers.RepeatedScalarFieldContainer[str]
    config: _containers.ScalarMap[str, str]
    def __init__(self, plugin_id: _Optional[str] = ..., name: _Optional[str] = ..., version: _Optional[str] = ..., type: _Optional[_Union[PluginType, str]] = ..., capabilities: _Optional[_Iterable[str]] = ..., config: _Optional[_Mapping[str, str]] = ...) -> None: ...

class PluginResponse(_message.Message):
    __slots__ = ("success", "error_message", "result", "output_events")
    SUCCESS_FIELD_NUMBER: _ClassVar[int]
    ERROR_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_EVENTS_FIELD_NUMBER: _ClassVar[int]
    success: bool
    error_message: str
    result: bytes
    output_events: _containers.RepeatedCompositeFieldContainer[_loom_pb2.Event]
    def __init__(self, success: _Optional[bool] = ..., error_message: _Optional[str] = ..., result: _Optional[bytes] = ..., output_events: _Optional[_Iterable[_Union[_loom_pb2.Event, _Mapping]]] = ...) -> None: ...

class HealthStatus(_message.Message):
    __slots__ = ("healthy", "message", "metrics")
    class MetricsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    HEALTHY_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    METRICS_FIELD_NUMBER: _ClassVar[int]
    healthy: bool
    message: str
    metrics: _containers.ScalarMap[str, str]
    def __init__(self, healthy: _Optional[bool] = ..., message: _Optional[str] = ..., metrics: _Optional[_Mapping[str, str]] = ...) -> None: ...

class HealthRequest(_message.Message):
    __slots__ = ("plugin_id",)
    PLUGIN_ID_FIELD_NUMBER: _ClassVar[int]
    plugin_id: str
    def __init__(self, plugin_id: _Optional[str] = ...) -> None: ...

class ShutdownRequest(_message.Message):
    __slots__ = ("plugin_id", "force")
    PLUGIN_ID_FIELD_NUMBER: _ClassVar[int]
    FORCE_FIELD_NUMBER: _ClassVar[int]
    plugin_id: str
    force: bool
    def __init__(self, plugin_id: _Optional[str] = ..., force: _Optional[bool] = ...) -> None: ...
