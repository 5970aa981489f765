// loom.v1.Tools: one namespace for built-in, agent-provided, MCP and extension tools.
import type * as grpc from '@grpc/grpc-js';
import type { Logger } from '../log';
import type { ToolCall__Output, ToolResult } from '../proto/types';
import type { ListToolsRequest__Output } from '../proto/gen/loom/v1/ListToolsRequest';
import type { ListToolsResponse } from '../proto/gen/loom/v1/ListToolsResponse';
import type { ToolDescriptor } from '../proto/gen/loom/v1/ToolDescriptor';
import type { ToolsHandlers } from '../proto/gen/loom/v1/Tools';
import { CallCancel, toolResultFromOutcome, type CancelSignal, type ToolRegistry } from '../tools';
import { toolToWire } from './convert';
import { decodePageToken, encodePageToken, PAGE_OVERHEAD_BYTES } from './pageToken';
import { dialectOf, inReferenceDialect } from './dialect';
import type { Access } from './identity';
import { agentIdFrom, invalidArgument, StatusError, unary } from './unary';

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
 * Runs a wire ToolCall (ForwardToolCall, CallTool). The caller is the identity the credential
 * proves; what the call states (headers["loom.caller"], else the metadata id) must agree with it, so
 * nobody on the wire calls as "runtime" or "vscode", whose calls tools such as ui:confirm trust.
 * A client that gives up (its deadline, a cancelled call) cancels the tool: a command it started is
 * ended then, not at the tool's own timeout.
 */
export async function callTool(
  tools: ToolRegistry,
  access: Access,
  req: ToolCall__Output,
  call: grpc.ServerUnaryCall<ToolCall__Output, ToolResult>,
): Promise<ToolResult> {
  const { metadata } = call;
  const cancelled = new CallCancel();
  call.once('cancelled', () => cancelled.cancel());
  const result = await callToolAs(
    tools,
    () => access.toolCaller(access.identify(metadata), req.headers['loom.caller'] || agentIdFrom(metadata)),
    req,
    traceHeaders(metadata),
    cancelled,
  );
  return dialectOf(metadata) === 'reference' ? inReferenceDialect(result, req.name) : result;
}

/**
 * Runs a wire ToolCall as the caller `callerOf` names (it throws StatusError to refuse) and answers
 * it as a wire ToolResult: for ForwardToolCall and CallTool, and for a call on an agent's stream
 * (eventStream.ts), whose caller is the agent the stream is bound to.
 */
export async function callToolAs(
  tools: ToolRegistry,
  callerOf: () => string,
  req: ToolCall__Output,
  extraHeaders: Record<string, string>,
  cancelled: CancelSignal,
): Promise<ToolResult> {
  let caller: string;
  try {
    caller = callerOf();
  } catch (err) {
    if (!(err instanceof StatusError)) throw err;
    return {
      id: req.id,
      status: 'TOOL_ERROR',
      output: '',
      error: { code: 'denied', message: `tool call refused: ${err.message}`, details: {} },
    };
  }
  const outcome = await tools.call({
    name: req.name,
    arguments: req.arguments || '{}',
    id: req.id || undefined,
    caller,
    timeoutMs: Number(req.timeoutMs) > 0 ? Number(req.timeoutMs) : undefined,
    // The caller as established, not as the headers state it: tools that read the header see the same.
    headers: { ...extraHeaders, ...req.headers, 'loom.caller': caller },
    correlationId: req.correlationId || undefined,
    signal: cancelled,
  });
  return toolResultFromOutcome(outcome);
}

export const DEFAULT_TOOLS_PAGE_SIZE = 1000;
export const MAX_TOOLS_PAGE_SIZE = 10_000;
/** ListTools' page tokens name the last tool listed (v1, as before the tokens were shared with QueryContext). */
const TOKEN_KIND = 'v1';

const utf8 = (text: string) => Buffer.byteLength(text, 'utf8');

/** An upper estimate of a descriptor's encoded size: its strings plus tags and lengths. */
function descriptorBytes(d: ToolDescriptor): number {
  let bytes = 32 + utf8(d.name ?? '') + utf8(d.description ?? '') + utf8(d.parametersSchema ?? '');
  for (const k in d.metadata ?? {}) bytes += 16 + utf8(k) + utf8(d.metadata![k]);
  return bytes;
}

/**
 * One page of the registry, by name in code-unit order: at most page_size tools (0 = the
 * default) and never more bytes than a message may carry, at least one tool per page.
 */
export function listToolsPage(
  tools: ToolRegistry,
  req: Pick<ListToolsRequest__Output, 'prefix' | 'pageSize' | 'pageToken'>,
  maxMessageBytes: number,
): ListToolsResponse {
  const asked = Number(req.pageSize ?? 0);
  if (!Number.isInteger(asked) || asked < 0 || asked > MAX_TOOLS_PAGE_SIZE) {
    throw invalidArgument(
      `ListTools: page_size must be 0 (the default, ${DEFAULT_TOOLS_PAGE_SIZE}) or an integer from 1 to ${MAX_TOOLS_PAGE_SIZE}, got ${String(req.pageSize)}`,
    );
  }
  const pageSize = asked || DEFAULT_TOOLS_PAGE_SIZE;
  // The next page starts after the last tool named, whatever was added or removed meanwhile.
  const after = req.pageToken ? decodePageToken(TOKEN_KIND, req.pageToken, 'ListTools') : undefined;
  const names = tools.list(req.prefix || undefined).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const budget = Math.max(0, maxMessageBytes - PAGE_OVERHEAD_BYTES);
  const page: ToolDescriptor[] = [];
  let bytes = 0;
  let i = after === undefined ? 0 : names.findIndex((t) => t.name > after);
  if (i < 0) i = names.length;
  for (; i < names.length && page.length < pageSize; i++) {
    const wire = toolToWire(names[i]);
    const size = descriptorBytes(wire);
    if (page.length > 0 && bytes + size > budget) break;
    page.push(wire);
    bytes += size;
  }
  return {
    tools: page,
    nextPageToken: i < names.length ? encodePageToken(TOKEN_KIND, page[page.length - 1].name!) : '',
  };
}

export function toolsService(tools: ToolRegistry, access: Access, log: Logger, maxMessageBytes: number): ToolsHandlers {
  return {
    ListTools: unary(log, 'ListTools', (req) => listToolsPage(tools, req, maxMessageBytes)),
    CallTool: unary(log, 'CallTool', (req, call) => callTool(tools, access, req, call)),
  };
}
