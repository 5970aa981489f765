"""OpenTelemetry export of the SDK's spans: `init_telemetry`, `shutdown_telemetry` (optional
dependency; see loom.telemetry.tracing)."""
from .tracing import init_telemetry, shutdown_telemetry

__all__ = ["init_telemetry", "shutdown_telemetry"]
