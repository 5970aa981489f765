"""``event.proto`` of the reference: ``Event`` and ``QoSLevel`` (this SDK's ``loom_pb2``), and the
reference's EventBus messages that do not clash with Loom's (``EventStream``, ``PublishRequest``,
``PublishResponse``). Its ``SubscribeRequest``/``UnsubscribeRequest``/``StatsRequest``/… are not
here: Loom's ``loom.v1`` defines messages of those names with other fields (see runtime_pb2)."""
from ...._proto.compat_pb2 import EventStream, PublishRequest, PublishResponse
from ...._proto.loom_pb2 import DESCRIPTOR, QOS_BACKGROUND, QOS_BATCHED, QOS_REALTIME, Event, QoSLevel

__all__ = ["DESCRIPTOR", "Event", "QoSLevel", "QOS_REALTIME", "QOS_BATCHED", "QOS_BACKGROUND",
           "EventStream", "PublishRequest", "PublishResponse"]
