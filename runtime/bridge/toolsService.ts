// loom.v1.Tools: one namespace for built-in, agent-provided, MCP and extension tools.
import type { Logger } from '../log';
import type { ToolCall__Output, ToolResult } from '../proto/types';
import type { ToolsHandlers } from '../proto/gen/loom/v1/Tools';
import type { ToolRegistry } from '../tools/types';
import { toolResultFromOutcome } from '../tools/errors';
import { toolToWire } from './convert';
import { agentIdFrom, unary } from './unary';

/** Runs a wire ToolCall; the caller is headers["loom.caller"], else the stream-less metadata id. */
export async function callTool(tools: ToolRegistry, req: ToolCall__Output, metadataCaller: string): Promise<ToolResult> {
  const outcome = await tools.call({
    name: req.name,
    arguments: req.arguments || '{}',
    id: req.id || undefined,
    caller: req.headers['loom.caller'] || metadataCaller || 'anonymous',
    timeoutMs: Number(req.timeoutMs) > 0 ? Number(req.timeoutMs) : undefined,
    headers: req.headers,
    correlationId: req.correlationId || undefined,
  });
  return toolResultFromOutcome(outcome);
}

export function toolsService(tools: ToolRegistry, log: Logger): ToolsHandlers {
  return {
    ListTools: unary(log, 'ListTools', (req) => ({ tools: tools.list(req.prefix || undefined).map(toolToWire) })),
    CallTool: unary(log, 'CallTool', (req, call) => callTool(tools, req, agentIdFrom(call.metadata))),
  };
}
