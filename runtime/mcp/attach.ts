// `--mcp-stdio` beside a live runtime of the same workspace: a second runtime could not open the
// store (LevelDB's lock), so this process serves THAT runtime's registry over stdio, reaching it
// through gRPC (Tools.ListTools / Tools.CallTool with its token). The [mcp.serve] filter and policy
// of the workspace's loom.toml apply here, as they would in the runtime itself.
import * as grpc from '@grpc/grpc-js';
import { randomUUID } from 'node:crypto';
import type { Readable, Writable } from 'node:stream';
import type { Logger } from '../log';
import { BRIDGE_CLIENT_OPTIONS, loadLoomPackage } from '../proto';
import type { ToolDescriptor__Output, ToolResult__Output, ToolsClient } from '../proto/types';
import {
  ToolError,
  unwrapToolResult,
  type Disposable,
  type ToolCallRequest,
  type ToolDefinition,
  type ToolOutcome,
  type ToolProviderKind,
} from '../tools';
import { parseMcpConfig } from './config';
import { serveMcpStdio, type McpServeHandle, type ServedRegistry } from './server';
import { messageOf } from '../contract/errors';

/** How often the remote tool list is compared for tools/list_changed (the runtime has no push for it over gRPC). */
const DEFAULT_POLL_MS = 2000;

const PROVIDERS: Record<string, ToolProviderKind> = {
  PROVIDER_NATIVE: 'native',
  PROVIDER_WASM: 'wasm',
  PROVIDER_GRPC: 'grpc',
  PROVIDER_MCP: 'mcp',
};

function definitionFromWire(d: ToolDescriptor__Output): ToolDefinition {
  let schema: Record<string, unknown> = { type: 'object' };
  try {
    if (d.parametersSchema) schema = JSON.parse(d.parametersSchema) as Record<string, unknown>;
  } catch {
    // the runtime checked it at registration; a bad one is offered as a plain object schema
  }
  const { 'loom.owner': owner, ...metadata } = d.metadata;
  return {
    name: d.name,
    description: d.description,
    parametersSchema: schema,
    provider: PROVIDERS[String(d.provider)] ?? 'grpc',
    metadata,
    ...(owner ? { owner } : {}),
  };
}

/** A live runtime's registry, as far as serving it needs: a cached list, calls over gRPC. */
export class RemoteRegistry implements ServedRegistry {
  private tools: ToolDefinition[] = [];
  private signature = '';
  private readonly listeners = new Set<() => void>();
  private readonly client: ToolsClient;
  private poller: NodeJS.Timeout | undefined;

  constructor(
    private readonly address: string,
    private readonly token: string,
    private readonly log: Logger,
  ) {
    this.client = new (loadLoomPackage().Tools)(address, grpc.credentials.createInsecure(), BRIDGE_CLIENT_OPTIONS);
  }

  private metadata(): grpc.Metadata {
    const md = new grpc.Metadata();
    md.set('authorization', `Bearer ${this.token}`);
    md.set('loom-dialect', 'loom'); // Loom's dialect: its error codes, not the reference's
    return md;
  }

  /** Reads the tool list now; listeners hear of a change. */
  async refresh(): Promise<void> {
    const listed: ToolDescriptor__Output[] = [];
    let pageToken = '';
    do {
      const res = await new Promise<{ tools: ToolDescriptor__Output[]; nextPageToken: string }>((resolve, reject) =>
        this.client.ListTools(
          { prefix: '', pageToken },
          this.metadata(),
          { deadline: Date.now() + 10_000 },
          (err, r) => (err ? reject(err) : resolve(r!)),
        ),
      );
      listed.push(...res.tools);
      pageToken = res.nextPageToken === pageToken ? '' : res.nextPageToken;
    } while (pageToken);
    const tools = listed.map(definitionFromWire);
    const signature = JSON.stringify(tools);
    if (signature === this.signature) return;
    this.tools = tools;
    this.signature = signature;
    for (const l of this.listeners) l();
  }

  startPolling(intervalMs: number): void {
    this.poller = setInterval(() => {
      this.refresh().catch((err: grpc.ServiceError) =>
        this.log.warn('the runtime did not list its tools', {
          address: this.address,
          error: err.details ?? err.message,
        }),
      );
    }, intervalMs);
    this.poller.unref();
  }

  list(prefix?: string): ToolDefinition[] {
    return this.tools.filter((t) => !prefix || t.name.startsWith(prefix));
  }

  async call(request: ToolCallRequest): Promise<ToolOutcome> {
    const id = request.id ?? randomUUID();
    const started = Date.now();
    const done = (o: { output: unknown } | { error: ToolError }): ToolOutcome =>
      'output' in o
        ? { id, status: 'ok', output: o.output, durationMs: Date.now() - started }
        : {
            id,
            status: 'error',
            error: { code: o.error.code, message: o.error.message, details: o.error.details },
            durationMs: Date.now() - started,
          };
    const wire = {
      id,
      name: request.name,
      arguments: typeof request.arguments === 'string' ? request.arguments : JSON.stringify(request.arguments),
      headers: { ...request.headers, 'loom.caller': request.caller ?? 'mcp-client' },
      timeoutMs: request.timeoutMs ?? 0,
    };
    try {
      const result = await new Promise<ToolResult__Output>((resolve, reject) => {
        const call = this.client.CallTool(wire, this.metadata(), (err, r) => (err ? reject(err) : resolve(r!)));
        request.signal?.addEventListener('abort', () => call.cancel(), { once: true });
      });
      return done({ output: unwrapToolResult(result) });
    } catch (err) {
      if (err instanceof ToolError) return done({ error: err });
      if (request.signal?.aborted)
        return done({
          error: new ToolError('failed', `${request.name}: cancelled by the caller`, { reason: 'cancelled' }),
        });
      const e = err as grpc.ServiceError;
      return done({
        error: new ToolError(
          'unavailable',
          `${request.name}: the Loom runtime at ${this.address} did not answer: ${e.details ?? e.message}`,
        ),
      });
    }
  }

  onDidChangeTools(listener: () => void): Disposable {
    this.listeners.add(listener);
    return { dispose: () => void this.listeners.delete(listener) };
  }

  close(): void {
    clearInterval(this.poller);
    this.client.close();
  }
}

/**
 * Serves the live runtime at `address` over this process's stdio. `mcp` is the workspace's raw
 * `[mcp]` table (for [mcp.serve] include/exclude/policy and [mcp.settings] headless_ask); a bad
 * settings or serve table throws McpConfigError. Rejects when the runtime does not answer.
 */
export async function serveAttachedMcpStdio(opts: {
  address: string;
  token: string;
  mcp: Record<string, unknown>;
  workspace: string;
  log: Logger;
  version?: string;
  pollMs?: number;
  stdin?: Readable;
  stdout?: Writable;
}): Promise<McpServeHandle> {
  const { config } = parseMcpConfig(opts.mcp, opts.workspace);
  const registry = new RemoteRegistry(opts.address, opts.token, opts.log);
  try {
    await registry.refresh();
  } catch (err) {
    registry.close();
    throw new Error(
      `the Loom runtime at ${opts.address} did not list its tools: ${(err as grpc.ServiceError).details ?? messageOf(err)}`,
    );
  }
  registry.startPolling(opts.pollMs ?? DEFAULT_POLL_MS);
  const served = await serveMcpStdio({
    registry,
    log: opts.log,
    include: config.serve.include,
    exclude: config.serve.exclude,
    policy: { serve: config.serve, headlessAsk: config.settings.headlessAsk },
    version: opts.version,
    stdin: opts.stdin,
    stdout: opts.stdout,
  });
  return {
    close: async () => {
      await served.close();
      registry.close();
    },
  };
}
