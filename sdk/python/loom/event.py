"""Events and their envelope.

The envelope travels in event metadata. Loom WRITES the `loom.`-prefixed keys (loom.thread_id,
loom.correlation_id, loom.reply_to, loom.sender, loom.ttl_ms, loom.hop) plus W3C `traceparent`,
and READS both prefixed and bare keys (the reference server used bare ones).

`Event` keeps the field names of the reference SDK's `Envelope` (also exported under that name),
so handlers written for it read events unchanged.
"""
from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from . import tracing

PREFIX = "loom."
ENVELOPE_KEYS = ("thread_id", "correlation_id", "reply_to", "sender", "ttl_ms", "hop")
# Older spellings read as synonyms.
_ALIASES = {"ttl_ms": ("ttl_ms", "ttl")}


def read_key(metadata: Dict[str, str], key: str) -> Optional[str]:
    """An envelope value from metadata: `loom.<key>` first, then bare `<key>`; empty means absent."""
    for name in _ALIASES.get(key, (key,)):
        value = metadata.get(PREFIX + name) or metadata.get(name)
        if value:
            return value
    return None


def encode_payload(payload: Any) -> bytes:
    """bytes pass through, str is UTF-8, None is empty, anything else is JSON."""
    if payload is None:
        return b""
    if isinstance(payload, (bytes, bytearray, memoryview)):
        return bytes(payload)
    if isinstance(payload, str):
        return payload.encode("utf-8")
    try:
        return json.dumps(payload, separators=(",", ":"), default=_json_default).encode("utf-8")
    except (TypeError, ValueError) as e:
        raise TypeError(f"payload must be bytes, str or JSON-serialisable, got {type(payload).__name__}: {e}") from e


def _json_default(value: Any) -> Any:
    import dataclasses
    import enum

    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON-serialisable")


def _int_or_none(value: Optional[str]) -> Optional[int]:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


@dataclass
class Event:
    id: str
    type: str
    timestamp_ms: int
    source: str
    payload: bytes = b""
    metadata: Dict[str, str] = field(default_factory=dict)
    tags: List[str] = field(default_factory=list)
    priority: int = 0
    confidence: float = 0.0
    #: The concrete topic it was delivered on (set on received events; not part of the wire Event).
    topic: Optional[str] = None

    # ----- construction -----

    @classmethod
    def new(
        cls,
        type: str,
        payload: Any = b"",
        source: str = "python",
        thread_id: Optional[str] = None,
        correlation_id: Optional[str] = None,
        sender: Optional[str] = None,
        reply_to: Optional[str] = None,
        ttl_ms: Optional[int] = None,
        metadata: Optional[Dict[str, str]] = None,
        hop: Optional[int] = None,
    ) -> "Event":
        ev = cls(
            id=str(uuid.uuid4()),
            type=type,
            timestamp_ms=int(time.time() * 1000),
            source=source,
            payload=encode_payload(payload),
            metadata=dict(metadata or {}),
        )
        for key, value in (
            ("thread_id", thread_id),
            ("correlation_id", correlation_id),
            ("sender", sender),
            ("reply_to", reply_to),
            ("ttl_ms", ttl_ms),
            ("hop", hop),
        ):
            if value is not None:
                ev._set(key, value)
        return ev

    @classmethod
    def from_proto(cls, ev: Any, topic: Optional[str] = None) -> "Event":
        return cls(
            id=ev.id,
            type=ev.type,
            timestamp_ms=ev.timestamp_ms,
            source=ev.source,
            payload=bytes(ev.payload),
            metadata=dict(ev.metadata),
            tags=list(ev.tags),
            priority=ev.priority,
            confidence=ev.confidence,
            topic=topic,
        )

    def to_proto(self, pb_event_cls: Any = None) -> Any:
        if pb_event_cls is None:
            from ._proto import loom_pb2

            pb_event_cls = loom_pb2.Event
        return pb_event_cls(
            id=self.id,
            type=self.type,
            timestamp_ms=self.timestamp_ms,
            source=self.source,
            metadata=self.metadata,
            payload=self.payload,
            confidence=self.confidence,
            tags=self.tags,
            priority=self.priority,
        )

    # ----- envelope -----

    def _get(self, key: str) -> Optional[str]:
        return read_key(self.metadata, key)

    def _set(self, key: str, value: Any) -> None:
        if value is None:
            self.metadata.pop(PREFIX + key, None)
            self.metadata.pop(key, None)
        else:
            self.metadata[PREFIX + key] = str(value)

    thread_id = property(lambda self: self._get("thread_id"), lambda self, v: self._set("thread_id", v))
    correlation_id = property(lambda self: self._get("correlation_id"), lambda self, v: self._set("correlation_id", v))
    reply_to = property(lambda self: self._get("reply_to"), lambda self, v: self._set("reply_to", v))
    sender = property(lambda self: self._get("sender"), lambda self, v: self._set("sender", v))
    ttl_ms = property(lambda self: _int_or_none(self._get("ttl_ms")), lambda self, v: self._set("ttl_ms", v))
    hop = property(lambda self: _int_or_none(self._get("hop")) or 0, lambda self, v: self._set("hop", v))

    @property
    def traceparent(self) -> Optional[str]:
        return tracing.incoming_traceparent(self.metadata)

    # ----- payload -----

    @property
    def text(self) -> str:
        """The payload decoded as UTF-8 (undecodable bytes replaced)."""
        return self.payload.decode("utf-8", errors="replace")

    def json(self) -> Any:
        """The payload parsed as JSON (None for an empty payload); ValueError names the event if it is not JSON."""
        if not self.payload:
            return None
        try:
            return json.loads(self.payload)
        except ValueError as e:
            raise ValueError(f"payload of event {self.id} ({self.type}) is not JSON: {e}") from e

    @property
    def data(self) -> Any:
        """The payload as JSON when it parses, else as text."""
        try:
            return self.json()
        except ValueError:
            return self.text


#: The reference SDK's name for the same thing.
Envelope = Event

__all__ = ["Event", "Envelope", "encode_payload", "read_key", "ENVELOPE_KEYS", "PREFIX"]
