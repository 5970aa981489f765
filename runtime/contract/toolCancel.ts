// Contract: the registration metadata by which a client of the bridge's EventStream says it
// understands ServerEvent.cancel_tool_call. The runtime sends it only to such a client
// (runtime/bridge/eventStream.ts), since the reference's would not know it; the VS Code window
// (extension/bridge/client.ts) and the Python SDK (loom/agent/base.py) say so.
export const TOOL_CANCEL_METADATA_KEY = 'loom.tool_cancel';
