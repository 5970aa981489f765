"""``plugin.proto`` of the reference, written for this SDK with the same wire (``compat_pb2``). The
runtime does not serve the reference's ``Plugin`` service."""
from ...._proto.compat_pb2 import (
    DESCRIPTOR,
    PLUGIN_ACTUATOR,
    PLUGIN_FEATURE_EXTRACTOR,
    PLUGIN_MODEL_BACKEND,
    PLUGIN_TOOL,
    HealthRequest,
    HealthStatus,
    PluginMeta,
    PluginResponse,
    PluginType,
    ShutdownRequest,
)

__all__ = ["DESCRIPTOR", "PluginMeta", "PluginResponse", "HealthStatus", "HealthRequest", "ShutdownRequest",
           "PluginType", "PLUGIN_FEATURE_EXTRACTOR", "PLUGIN_MODEL_BACKEND", "PLUGIN_TOOL", "PLUGIN_ACTUATOR"]
