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
from typing import Any

from . import tracing

PREFIX = "loom."
#: The reference SDK's name for the prefix (without the dot).
META_PREFIX = "loom"
ENVELOPE_KEYS = ("thread_id", "correlation_id", "reply_to", "sender", "ttl_ms", "hop")
# Older spellings read as synonyms.
_ALIASES = {"ttl_ms": ("ttl_ms", "ttl")}


def read_key(metadata: dict[str, str], key: str) -> str | None:
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
        return json.dumps(payload, separators=(",", ":"), default=json_default).encode("utf-8")
    except (TypeError, ValueError) as e:
        raise TypeError(f"payload must be bytes, str or JSON-serialisable, got {type(payload).__name__}: {e}") from e


def json_default(value: Any) -> Any:
    """`json.dumps(default=...)` for what the SDK sends as JSON: dataclasses, Enums, sets and
    tuples, and pydantic models (optional dependency, recognised by their `model_dump`)."""
    import dataclasses
    import enum

    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if callable(getattr(value, "model_dump", None)) and not isinstance(value, type):
        return value.model_dump(mode="json")
    raise TypeError(f"{type(value).__name__} is not JSON-serialisable")


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


_TRACE_KEYS = ("trace_id", "span_id", "trace_flags")


def _parse_traceparent(tp: str | None) -> tuple[str, str, str] | None:
    """(trace_id, span_id, flags) of a W3C traceparent `00-<32 hex>-<16 hex>-<2 hex>`, else None."""
    if not tp:
        return None
    parts = tp.strip().split("-")
    if len(parts) < 4 or len(parts[1]) != 32 or len(parts[2]) != 16 or len(parts[3]) != 2:
        return None
    try:
        if int(parts[1], 16) == 0 or int(parts[2], 16) == 0:
            return None
        int(parts[3], 16)
    except ValueError:
        return None
    return parts[1].lower(), parts[2].lower(), parts[3].lower()


class Event:
    """One event: the wire `loom.v1.Event` plus its envelope (which lives in `metadata`).

    Constructed like the reference SDK's Envelope (same fields, same order, priority 50);
    `confidence` (default 1.0) and `topic` (the concrete topic it was delivered on) follow.
    Envelope fields given here are written into `metadata`, so they travel.
    """

    def __init__(
        self,
        id: str,
        type: str,
        timestamp_ms: int,
        source: str,
        payload: Any = b"",
        metadata: dict[str, str] | None = None,
        tags: list[str] | None = None,
        priority: int = 50,
        thread_id: str | None = None,
        correlation_id: str | None = None,
        sender: str | None = None,
        reply_to: str | None = None,
        ttl_ms: int | None = None,
        trace_id: str | None = None,
        span_id: str | None = None,
        trace_flags: str | None = None,
        confidence: float = 1.0,
        topic: str | None = None,
        *,
        hop: int | None = None,
    ) -> None:
        self.id = id
        self.type = type
        self.timestamp_ms = timestamp_ms
        self.source = source
        self.payload = encode_payload(payload)
        self.metadata: dict[str, str] = dict(metadata) if metadata else {}
        self.tags: list[str] = list(tags) if tags else []
        self.priority = priority
        #: Not part of the reference's Envelope; the wire field `confidence`.
        self.confidence = confidence
        #: The concrete topic it was delivered on (set on received events; not part of the wire Event).
        self.topic = topic
        for key, value in (
            ("thread_id", thread_id),
            ("correlation_id", correlation_id),
            ("sender", sender),
            ("reply_to", reply_to),
            ("ttl_ms", ttl_ms),
            ("hop", hop),
        ):
            if value is not None:
                self._set(key, value)
        for key, value in (("trace_id", trace_id), ("span_id", span_id), ("trace_flags", trace_flags)):
            if value is not None:
                self._set_trace(key, value)

    # ----- construction -----

    @classmethod
    def new(
        cls,
        type: str,
        payload: Any = b"",
        source: str = "python",
        thread_id: str | None = None,
        correlation_id: str | None = None,
        sender: str | None = None,
        reply_to: str | None = None,
        ttl_ms: int | None = None,
        metadata: dict[str, str] | None = None,
        hop: int | None = None,
    ) -> Event:
        """A fresh event: a random UUID, the time now, envelope fields written into metadata."""
        return cls(
            id=str(uuid.uuid4()),
            type=type,
            timestamp_ms=int(time.time() * 1000),
            source=source,
            payload=payload,
            metadata=metadata,
            thread_id=thread_id,
            correlation_id=correlation_id,
            sender=sender,
            reply_to=reply_to,
            ttl_ms=ttl_ms,
            hop=hop,
        )

    @classmethod
    def from_proto(cls, ev: Any, topic: str | None = None) -> Event:
        """From a wire `loom.v1.Event` (any generated class with its fields); the envelope is read
        from its metadata, prefixed keys first."""
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
        """The wire `loom.v1.Event` (this SDK's class unless another generated one is given)."""
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

    # ----- value behaviour -----

    def _fields(self) -> tuple[Any, ...]:
        return (self.id, self.type, self.timestamp_ms, self.source, self.payload, self.metadata, self.tags,
                self.priority, self.confidence, self.topic)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Event):
            return NotImplemented
        return self._fields() == other._fields()

    __hash__ = None  # type: ignore[assignment]  # mutable, as the dataclass it replaces

    def __repr__(self) -> str:
        return (f"Envelope(id={self.id!r}, type={self.type!r}, source={self.source!r}, topic={self.topic!r}, "
                f"payload={self.payload[:64]!r}{'...' if len(self.payload) > 64 else ''}, metadata={self.metadata!r})")

    # ----- envelope -----

    def _get(self, key: str) -> str | None:
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

    # ----- trace context -----
    # The reference carries trace_id / span_id / trace_flags as bare metadata keys; Loom carries a
    # W3C traceparent. Both are read (the explicit keys first); setting one writes the bare key,
    # as the reference does.

    def _get_trace(self, key: str) -> str | None:
        explicit = read_key(self.metadata, key)
        if explicit:
            return explicit
        parsed = _parse_traceparent(self.traceparent)
        return parsed[_TRACE_KEYS.index(key)] if parsed else None

    def _set_trace(self, key: str, value: Any) -> None:
        self.metadata.pop(PREFIX + key, None)
        if value is None:
            self.metadata.pop(key, None)
        else:
            self.metadata[key] = str(value)

    trace_id = property(lambda self: self._get_trace("trace_id"), lambda self, v: self._set_trace("trace_id", v))
    span_id = property(lambda self: self._get_trace("span_id"), lambda self, v: self._set_trace("span_id", v))
    trace_flags = property(
        lambda self: self._get_trace("trace_flags"), lambda self, v: self._set_trace("trace_flags", v)
    )

    @property
    def traceparent(self) -> str | None:
        return tracing.incoming_traceparent(self.metadata)

    def inject_trace_context(self) -> None:
        """Writes the current trace context (the active OpenTelemetry span, else the traceparent of
        the event being handled) into metadata: `trace_id`, `span_id`, `trace_flags` as the
        reference writes them, and a W3C `traceparent`. Nothing when there is none."""
        parsed = _parse_traceparent(tracing.current_traceparent())
        if parsed is None:
            return
        self.trace_id, self.span_id, self.trace_flags = parsed
        self.metadata[tracing.TRACEPARENT] = f"00-{parsed[0]}-{parsed[1]}-{parsed[2]}"

    def extract_trace_context(self) -> Any:
        """The remote parent as an OpenTelemetry `SpanContext`, or None when the event carries no
        valid trace context or opentelemetry-api is not installed."""
        trace_id, span_id = self.trace_id, self.span_id
        if not trace_id or not span_id:
            return None
        try:
            from opentelemetry.trace import SpanContext, TraceFlags, TraceState
        except ImportError:
            return None
        try:
            return SpanContext(
                trace_id=int(trace_id, 16),
                span_id=int(span_id, 16),
                is_remote=True,
                trace_flags=TraceFlags(int(self.trace_flags or "00", 16)),
                trace_state=TraceState(),
            )
        except (TypeError, ValueError):
            return None

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

__all__ = ["Event", "Envelope", "encode_payload", "read_key", "ENVELOPE_KEYS", "PREFIX", "META_PREFIX"]
