"""Quality of service of a subscription (see DESIGN: realtime drops, batched waits, background yields)."""
from __future__ import annotations

import enum

from ._proto.loom_pb2 import QOS_BACKGROUND, QOS_BATCHED, QOS_REALTIME, QoSLevel


class QoS(str, enum.Enum):
    REALTIME = "realtime"
    BATCHED = "batched"
    BACKGROUND = "background"

    @property
    def wire(self) -> QoSLevel:
        """The loom.v1.QoSLevel number."""
        return {"realtime": QOS_REALTIME, "batched": QOS_BATCHED, "background": QOS_BACKGROUND}[self.value]

    @classmethod
    def parse(cls, value: QoS | str | int) -> QoS:
        if isinstance(value, QoS):
            return value
        if isinstance(value, int) and not isinstance(value, bool):
            for q in cls:
                if q.wire == value:
                    return q
        if isinstance(value, str):
            name = value.lower().removeprefix("qos_")
            for q in cls:
                if q.value == name:
                    return q
        raise ValueError(f"qos must be one of realtime, batched, background; got {value!r}")
