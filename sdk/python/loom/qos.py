"""Quality of service of a subscription (see DESIGN: realtime drops, batched waits, background yields)."""
from __future__ import annotations

import enum
from typing import Union


class QoS(str, enum.Enum):
    REALTIME = "realtime"
    BATCHED = "batched"
    BACKGROUND = "background"

    @property
    def wire(self) -> int:
        """The loom.v1.QoSLevel number."""
        return {"realtime": 0, "batched": 1, "background": 2}[self.value]

    @classmethod
    def parse(cls, value: Union["QoS", str, int]) -> "QoS":
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
