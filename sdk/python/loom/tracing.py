"""W3C trace context across the bridge, with or without OpenTelemetry.

The `traceparent` of the event (or tool call) being handled always travels on with what the
handler emits or calls. When opentelemetry-api is importable the SDK also opens spans that
continue the incoming trace, so a configured SDK/exporter sees one trace from editor to tool.
"""
from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator, Mapping, MutableMapping
from typing import Any

try:  # optional dependency: pip install loom-vscode-sdk[otel]
    from opentelemetry import trace as _otel_trace
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    _propagator: Any = TraceContextTextMapPropagator()
    _tracer: Any = _otel_trace.get_tracer("loom")
    _NO_SDK: tuple[type, ...] = (_otel_trace.ProxyTracerProvider, _otel_trace.NoOpTracerProvider)
    HAVE_OTEL = True
except ImportError:  # pragma: no cover - exercised in environments without the extra
    HAVE_OTEL = False


def _tracing_active() -> bool:
    """An OpenTelemetry SDK is set up: spans record. Checked at each span (one may be set up at any
    time); without one the API's spans are invalid and only cost time on every event and tool call."""
    return HAVE_OTEL and not isinstance(_otel_trace.get_tracer_provider(), _NO_SDK)

TRACEPARENT = "traceparent"
TRACESTATE = "tracestate"

# The traceparent of what is being handled right now, for propagation without OpenTelemetry.
_incoming: contextvars.ContextVar[str | None] = contextvars.ContextVar("loom_traceparent", default=None)


def incoming_traceparent(carrier: Mapping[str, str]) -> str | None:
    return carrier.get(TRACEPARENT) or carrier.get("loom.traceparent") or None


def current_traceparent() -> str | None:
    """The traceparent to put on an outgoing event or call: the active span's, else the handled one's."""
    if HAVE_OTEL:
        carrier: dict[str, str] = {}
        _propagator.inject(carrier)
        if carrier.get(TRACEPARENT):
            return carrier[TRACEPARENT]
    return _incoming.get()


def inject(carrier: MutableMapping[str, str]) -> None:
    """Writes the current traceparent into event metadata or call headers (never overwrites one)."""
    if TRACEPARENT in carrier:
        return
    tp = current_traceparent()
    if tp:
        carrier[TRACEPARENT] = tp


# What span() gives when there is nothing to continue and nothing records: every tool call and
# handled event passes here, and a generator-based context manager costs several microseconds.
_NO_SPAN: contextlib.nullcontext[None] = contextlib.nullcontext()


def span(
    name: str, parent: Mapping[str, str] | None = None, kind: str = "internal", **attributes: Any
) -> contextlib.AbstractContextManager[Any]:
    """Runs the block as a span continuing `parent`'s traceparent (if any); yields the span or None."""
    tp = incoming_traceparent(parent) if parent else None
    if tp is None and not _tracing_active():
        return _NO_SPAN
    return _span(name, tp, kind, attributes)


@contextlib.contextmanager
def _span(name: str, tp: str | None, kind: str, attributes: dict[str, Any]) -> Iterator[Any]:
    token = _incoming.set(tp) if tp else None
    try:
        if not _tracing_active():
            yield None
            return
        ctx = _propagator.extract({TRACEPARENT: tp}) if tp else None
        otel_kind = {
            "server": _otel_trace.SpanKind.SERVER,
            "client": _otel_trace.SpanKind.CLIENT,
            "consumer": _otel_trace.SpanKind.CONSUMER,
        }.get(kind, _otel_trace.SpanKind.INTERNAL)
        attrs = {k.replace("_", "."): v for k, v in attributes.items() if v is not None}
        with _tracer.start_as_current_span(name, context=ctx, kind=otel_kind, attributes=attrs) as s:
            yield s
    finally:
        if token is not None:
            _incoming.reset(token)


def mark_error(s: Any, message: str) -> None:
    if HAVE_OTEL and s is not None:
        s.set_status(_otel_trace.Status(_otel_trace.StatusCode.ERROR, message))


__all__ = ["HAVE_OTEL", "current_traceparent", "inject", "span", "mark_error", "TRACEPARENT"]


class _NoSpan:
    """What a span offers callers, doing nothing: the tracer without OpenTelemetry."""

    def set_attribute(self, key: str, value: Any) -> None:
        pass

    def set_attributes(self, attributes: Mapping[str, Any]) -> None:
        pass

    def add_event(self, name: str, attributes: Mapping[str, Any] | None = None) -> None:
        pass

    def record_exception(self, exception: BaseException) -> None:
        pass

    def set_status(self, *args: Any, **kwargs: Any) -> None:
        pass

    def is_recording(self) -> bool:
        return False


class _NoTracer:
    @contextlib.contextmanager
    def start_as_current_span(self, name: str, *args: Any, **kwargs: Any) -> Iterator[_NoSpan]:
        yield _NoSpan()

    def start_span(self, name: str, *args: Any, **kwargs: Any) -> _NoSpan:
        return _NoSpan()


def get_tracer(name: str) -> Any:
    """An OpenTelemetry tracer for `name`, or one that does nothing without OpenTelemetry (the
    reference's modules expose such a module-level `tracer`)."""
    return _otel_trace.get_tracer(name) if HAVE_OTEL else _NoTracer()
