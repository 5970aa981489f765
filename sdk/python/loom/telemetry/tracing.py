"""Exporting the SDK's spans with OpenTelemetry: `init_telemetry()` / `shutdown_telemetry()`.

The SDK always carries W3C `traceparent` across the bridge and, with opentelemetry-api, opens
`loom.handle` / `loom.tool.serve` / `loom.tool.call` spans (loom.tracing). Those spans are
recorded once a tracer provider is set: `init_telemetry` sets one that sends them by OTLP.

OpenTelemetry stays optional: without opentelemetry-sdk, `init_telemetry` warns once and
returns False, and the agent runs as before. Exporters, first found: OTLP over gRPC
(opentelemetry-exporter-otlp-proto-grpc), OTLP over HTTP (…-proto-http); `OTEL_TRACES_EXPORTER=console`
prints spans instead. pip install 'loom-vscode-sdk[telemetry]' installs the gRPC one.
"""
from __future__ import annotations

import logging
import os
from typing import Any

log = logging.getLogger("loom.telemetry")

DEFAULT_ENDPOINT = "http://localhost:4317"
DEFAULT_SERVICE = "loom-python"

_provider: Any = None


def _exporter(endpoint: str) -> Any:
    if os.environ.get("OTEL_TRACES_EXPORTER", "").strip().lower() == "console":
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter

        return ConsoleSpanExporter()
    try:
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter(endpoint=endpoint, insecure=endpoint.startswith("http://"))
    except ImportError:
        pass
    try:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpExporter
    except ImportError:
        return None
    http = endpoint.rstrip("/")
    if http.endswith(":4317"):  # the gRPC port: the HTTP receiver listens on 4318
        http = http[: -len("4317")] + "4318"
    return HttpExporter(endpoint=f"{http}/v1/traces")


def init_telemetry(service_name: str | None = None, otlp_endpoint: str | None = None,
                   *, exporter: Any = None) -> bool:
    """Sets a global tracer provider exporting spans to `otlp_endpoint` (default
    `OTEL_EXPORTER_OTLP_ENDPOINT`, else http://localhost:4317) as `service_name` (default
    `OTEL_SERVICE_NAME`, else "loom-python"). `exporter`: any span exporter instead (tests use an
    in-memory one). True when set (or already set by an earlier call); False without
    opentelemetry-sdk or any exporter."""
    global _provider
    if _provider is not None:
        return True
    try:
        from opentelemetry import trace
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError:
        log.warning("loom.telemetry: opentelemetry-sdk is not installed, spans are not exported "
                    "(pip install 'loom-vscode-sdk[telemetry]')")
        return False
    from .. import __version__

    service = service_name or os.environ.get("OTEL_SERVICE_NAME") or DEFAULT_SERVICE
    endpoint = otlp_endpoint or os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or DEFAULT_ENDPOINT
    chosen = exporter if exporter is not None else _exporter(endpoint)
    if chosen is None:
        log.warning("loom.telemetry: no OTLP exporter is installed, spans are not exported "
                    "(pip install opentelemetry-exporter-otlp-proto-grpc)")
        return False
    provider = TracerProvider(resource=Resource.create({
        "service.name": service,
        "service.version": __version__,
        "deployment.environment": os.environ.get("DEPLOYMENT_ENV", "development"),
    }))
    provider.add_span_processor(BatchSpanProcessor(chosen, schedule_delay_millis=1000))
    trace.set_tracer_provider(provider)
    if trace.get_tracer_provider() is not provider:
        # OpenTelemetry lets the global provider be set once per process.
        log.warning("loom.telemetry: a tracer provider was already set in this process; keeping it")
        provider.shutdown()
        return False
    _provider = provider
    log.info("loom.telemetry: exporting spans of %s to %s", service, endpoint if exporter is None else exporter)
    return True


def shutdown_telemetry() -> None:
    """Sends the spans still queued and stops exporting. Safe to call when not initialised."""
    global _provider
    provider, _provider = _provider, None
    if provider is not None:
        provider.force_flush()
        provider.shutdown()


__all__ = ["init_telemetry", "shutdown_telemetry"]
