// loom.v1.Tools: one namespace for built-in, agent-provided, MCP and extension tools.
import type * as grpc from '@grpc/grpc-js';
import type { Logger } from '../log';
import type { ToolCall__Output, ToolResult } from '../proto/types';
import type { ToolsHandlers } from '../proto/gen/loom/v1/Tools';
import { toolResultFromOutcome, type ToolRegistry } from '../tools';
import { toolToWire } from './convert';
import { agentIdFrom, unary } from './unary';
import { validateAgentId } from '../agents';

/** W3C trace context sent as gRPC metadata continues into the call when the headers carry none. */
function traceHeaders(metadata: grpc.Metadata): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of ['traceparent', 'tracestate']) {
    const v = metadata.get(key)[0];
    if (typeof v === 'string' && v) out[key] = v;
  }
  return out;
}

/**
 * Runs a wire ToolCall; the caller is headers["loom.caller"], else the stream-less metadata id.
 * A stated caller must be a name an agent could register as: nobody on the wire may call as
 * "runtime", whose calls tools such as ui:confirm trust.
 */
export async function callTool(tools: ToolRegistry, req: ToolCall__Output, metadata: grpc.Metadata): Promise<ToolResult> {
  const stated = req.headers['loom.caller'] || agentIdFrom(metadata);
  const bad = stated ? validateAgentId(stated) : undefined;
  if (bad) {
    return { id: req.id, status: 'TOOL_ERROR', output: '', error: { code: 'denied', message: `tool call refused: the caller is not a valid agent id (${bad})`, details: {} } };
  }
  const outcome = await tools.call({
    name: req.name,
    arguments: req.arguments || '{}',
    id: req.id || undefined,
    caller: stated || 'anonymous',
    timeoutMs: Number(req.timeoutMs) > 0 ? Number(req.timeoutMs) : undefined,
    headers: { ...traceHeaders(metadata), ...req.headers },
    correlationId: req.correlationId || undefined,
  });
  return toolResultFromOutcome(outcome);
}

export function toolsService(tools: ToolRegistry, log: Logger): ToolsHandlers {
  return {
    ListTools: unary(log, 'ListTools', (req) => ({ tools: tools.list(req.prefix || undefined).map(toolToWire) })),
    CallTool: unary(log, 'CallTool', (req, call) => callTool(tools, req, call.metadata)),
  };
}
