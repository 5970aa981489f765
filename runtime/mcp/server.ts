// Loom as an MCP server: the registry's tools (built-ins, agent tools, extension tools, proxied MCP
// tools), filtered by include/exclude globs, offered to any MCP client over stdio or streamable HTTP
// on loopback. Every call goes through registry.call, so the same sandbox and timeouts apply, and
// first through the [mcp.serve] policy (read tools allow, write/execute tools ask by default).
//
// Tool names: MCP names may use only A-Z a-z 0-9 _ - . (SEP-986), and many clients hand them on to
// LLM APIs that refuse "." too, so "namespace:name" is offered as "namespace__name" (fs:read ->
// fs__read). The server answers calls from a table built off the registry, so the mapping is exact
// for every listed tool; a name whose mapping collides with another's is left out and logged.
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  CallToolRequestSchema,
  ErrorCode,
  ListToolsRequestSchema,
  McpError,
  type CallToolResult,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import picomatch from 'picomatch';
import type { Readable, Writable } from 'node:stream';
import type { Logger } from '../log';
import type { ToolError, ToolDefinition, ToolOutcome, ToolRegistry } from '../tools';
import type { McpServeConfig } from './config';
import { hostMcpOverHttp, type McpHttpHost, type SessionServer } from './http-host';
import { canonicalToolName } from '../contract/toolNames';
import { BUILTIN_OWNER, WINDOW_OWNER } from '../tools/namespaces';
import { enforce, servedToolPolicy, type ConfirmFn } from './policy';

export const NAME_SEPARATOR = '__';
const MCP_TOOL_NAME = /^[A-Za-z0-9._-]{1,128}$/;

/** "fs:read" -> "fs__read"; the inverse is exposedToolTable's lookup. */
export function exposedName(registryName: string): string {
  return registryName.replace(':', NAME_SEPARATOR);
}

/** What serving needs of a registry: the runtime's own, or one reached over gRPC (--mcp-stdio attached). */
export type ServedRegistry = Pick<ToolRegistry, 'list' | 'call' | 'onDidChangeTools'>;

export interface ServePolicyOptions {
  /** `[mcp.serve] policy` / `tool_policy`; absent = the defaults (read allow, write/execute ask). */
  serve?: Pick<McpServeConfig, 'policy' | 'toolPolicy'>;
  /** `[mcp.settings] headless_ask`, what `ask` does with no confirm; default "deny". */
  headlessAsk?: 'allow' | 'deny';
  confirm?: ConfirmFn;
}

export interface ServeOptions {
  registry: ServedRegistry;
  log: Logger;
  policy?: ServePolicyOptions;
  /** Globs over registry names ("fs:*", "github:*"); empty or absent = every tool. */
  include?: string[];
  exclude?: string[];
  version?: string;
}

type Matcher = (name: string) => boolean;

/**
 * include/exclude over registry names. An exclude that names a tool leaves out its aliases too
 * (fs:write_file goes with fs:write, runtime/contract/toolNames.ts); one that names only an alias
 * (`"fs:*_*"`, the reference's names) leaves out that name and keeps the tool. include stays
 * literal: `include = ["fs:read"]` offers fs:read alone.
 */
function toolFilter(include: string[] = [], exclude: string[] = []): Matcher {
  const inc = include.length ? picomatch(include) : () => true;
  const exc = exclude.length ? picomatch(exclude) : () => false;
  return (name) => inc(name) && !exc(name) && !exc(canonicalToolName(name));
}

/** Exposed name -> registry definition, for the tools this server offers right now. */
function exposedToolTable(registry: ServedRegistry, allowed: Matcher, log: Logger): Map<string, ToolDefinition> {
  const table = new Map<string, ToolDefinition>();
  // On a collision of MCP names ("fs:read" and another "fs__read"), by who registered it: the
  // runtime's own tools keep theirs, then the window's, then MCP servers', then agents'; within
  // one, the name spelled with ":". By namespace alone, an agent's "web__search" had won the name
  // over the built-in web:search the day "web" was missing from Loom's namespaces.
  const rank = (def: ToolDefinition) =>
    (def.owner === BUILTIN_OWNER ? 0 : def.owner === WINDOW_OWNER ? 2 : def.owner?.startsWith('mcp:') ? 4 : 6) +
    (def.name.includes(':') ? 0 : 1);
  for (const def of registry.list().sort((a, b) => rank(a) - rank(b))) {
    if (!allowed(def.name)) continue;
    const name = exposedName(def.name);
    if (!MCP_TOOL_NAME.test(name)) {
      log.debug('tool not offered over MCP: name does not fit MCP tool names', { tool: def.name });
      continue;
    }
    const other = table.get(name);
    if (other) {
      log.warn('tool not offered over MCP: its MCP name collides', { tool: def.name, with: other.name, mcpName: name });
      continue;
    }
    table.set(name, def);
  }
  return table;
}

function asMcpTool(name: string, def: ToolDefinition): Tool {
  const schema = def.parametersSchema as Tool['inputSchema'];
  return {
    name,
    title: def.name,
    description: def.description,
    inputSchema: schema.type === 'object' ? schema : { ...schema, type: 'object' },
    _meta: { 'loom/tool': def.name, 'loom/provider': def.provider, ...(def.owner ? { 'loom/owner': def.owner } : {}) },
  };
}

function isMcpShaped(
  output: unknown,
): output is { content: CallToolResult['content']; structuredContent?: Record<string, unknown> } {
  return typeof output === 'object' && output !== null && Array.isArray((output as { content?: unknown }).content);
}

/** A registry outcome as an MCP CallToolResult. Tool failures are results with isError, as the spec asks. */
export function toCallToolResult(outcome: ToolOutcome): CallToolResult {
  if (outcome.status === 'error') {
    return {
      content: [{ type: 'text', text: `${outcome.error.code}: ${outcome.error.message}` }],
      isError: true,
      _meta: { 'loom/code': outcome.error.code },
    };
  }
  const output = outcome.output;
  // A proxied MCP tool already answers in MCP's shape.
  if (isMcpShaped(output))
    return output.structuredContent === undefined
      ? { content: output.content }
      : { content: output.content, structuredContent: output.structuredContent };
  const text = typeof output === 'string' ? output : JSON.stringify(output ?? null);
  const structured =
    typeof output === 'object' && output !== null && !Array.isArray(output)
      ? (output as Record<string, unknown>)
      : undefined;
  return structured
    ? { content: [{ type: 'text', text }], structuredContent: structured }
    : { content: [{ type: 'text', text }] };
}

/** One MCP server instance (one per client session) over the registry. */
export function createLoomMcpServer(
  opts: ServeOptions,
  allowed: Matcher = toolFilter(opts.include, opts.exclude),
  /** Called as the client lists the tools (ListChangedWatcher.listed). */
  onList?: () => void,
): Server {
  const log = opts.log;
  const server = new Server(
    { name: 'loom', version: opts.version ?? '0.1.0' },
    { capabilities: { tools: { listChanged: true } } },
  );
  const policyOf = servedToolPolicy(opts.policy?.serve ?? { toolPolicy: {} });
  const policyOpts = { confirm: opts.policy?.confirm, headlessAsk: opts.policy?.headlessAsk ?? 'deny', log } as const;
  server.setRequestHandler(ListToolsRequestSchema, async () => {
    onList?.();
    return { tools: [...exposedToolTable(opts.registry, allowed, log)].map(([name, def]) => asMcpTool(name, def)) };
  });
  server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
    const def = exposedToolTable(opts.registry, allowed, log).get(request.params.name);
    if (!def) throw new McpError(ErrorCode.InvalidParams, `Unknown tool: ${request.params.name}`);
    const client = server.getClientVersion()?.name ?? 'unknown';
    // An id an agent could have (it travels over the wire when attached to a live runtime).
    const caller = `mcp-client.${client.replace(/[^A-Za-z0-9_-]+/g, '-').slice(0, 64) || 'unknown'}`;
    const args = request.params.arguments ?? {};
    try {
      await enforce(def.name, policyOf(def), args, policyOpts, caller);
    } catch (err) {
      const e = err as ToolError;
      return toCallToolResult({
        id: '',
        status: 'error',
        error: { code: e.code, message: e.message, details: e.details },
        durationMs: 0,
      });
    }
    const outcome = await opts.registry.call({
      name: def.name,
      arguments: args,
      caller,
      signal: extra.signal,
    });
    return toCallToolResult(outcome);
  });
  return server;
}

/**
 * Sends tools/list_changed to every connected server whenever the offered tool set changes (a
 * registry change outside the include/exclude filter is not one: the signature compares what is offered).
 * A session is told once until it lists the tools again: it knows its list is stale, and a client
 * that does not read its notifications would otherwise be sent one per change, held for it without
 * limit (an agent toggling its tools took the runtime from 190 MB to 877 MB with 20 such sessions).
 */
class ListChangedWatcher {
  private readonly servers = new Set<Server>();
  /** Sessions told of a change that have not listed the tools since. */
  private readonly told = new Set<Server>();
  private last: string;
  private readonly subscription: { dispose(): void };

  constructor(
    private readonly opts: ServeOptions,
    private readonly allowed: Matcher,
  ) {
    this.last = this.signature();
    this.subscription = opts.registry.onDidChangeTools(() => this.check());
  }

  private signature(): string {
    return JSON.stringify(
      [...exposedToolTable(this.opts.registry, this.allowed, this.opts.log)].map(([n, d]) => [
        n,
        d.description,
        d.parametersSchema,
      ]),
    );
  }

  private check(): void {
    const now = this.signature();
    if (now === this.last) return;
    this.last = now;
    for (const server of this.servers) if (!this.told.has(server)) this.tell(server);
  }

  private tell(server: Server): void {
    this.told.add(server);
    server
      .sendToolListChanged()
      .catch((err: Error) => this.opts.log.debug('tools/list_changed not sent', { error: err }));
  }

  /** The session listed the tools: the next change is news to it. */
  listed(server: Server): void {
    this.told.delete(server);
  }

  add(server: Server): SessionServer {
    this.servers.add(server);
    const known = this.signature();
    return {
      close: async () => {
        this.servers.delete(server);
        this.told.delete(server);
        await server.close();
      },
      // A change that happened before the client opened its notification stream was lost on the
      // way; tell it now.
      onStreamOpen: () => {
        if (this.signature() !== known) this.tell(server);
      },
    };
  }

  stop(): void {
    this.subscription.dispose();
  }
}

export interface McpServeHandle {
  close(): Promise<void>;
}

/** Serves the registry over streamable HTTP at http://<host>:<port>/mcp; every request needs `Authorization: Bearer <token>`. */
export async function serveMcpHttp(
  opts: ServeOptions & { host?: '127.0.0.1' | '::1'; port?: number; token: string },
): Promise<McpHttpHost> {
  if (!opts.token) throw new Error('serveMcpHttp: a token is required (Loom never serves tools without one)');
  const log = opts.log.child('serve');
  const allowed = toolFilter(opts.include, opts.exclude);
  const watcher = new ListChangedWatcher({ ...opts, log }, allowed);
  const host = await hostMcpOverHttp({
    host: opts.host ?? '127.0.0.1',
    port: opts.port ?? 0,
    token: opts.token,
    log,
    connect: async (transport: Transport) => {
      const server: Server = createLoomMcpServer({ ...opts, log }, allowed, () => watcher.listed(server));
      await server.connect(transport);
      return watcher.add(server);
    },
  });
  log.info('serving tools over MCP (streamable HTTP)', { url: host.url });
  return {
    ...host,
    close: async () => {
      watcher.stop();
      await host.close();
    },
  };
}

/** Serves the registry over stdio (the process's own stdin/stdout unless given): for `--mcp-stdio` runs launched by an MCP client. */
export async function serveMcpStdio(
  opts: ServeOptions & { stdin?: Readable; stdout?: Writable },
): Promise<McpServeHandle> {
  const log = opts.log.child('serve');
  const allowed = toolFilter(opts.include, opts.exclude);
  const watcher = new ListChangedWatcher({ ...opts, log }, allowed);
  const server: Server = createLoomMcpServer({ ...opts, log }, allowed, () => watcher.listed(server));
  await server.connect(new StdioServerTransport(opts.stdin, opts.stdout));
  const handle = watcher.add(server);
  log.info('serving tools over MCP (stdio)');
  return {
    close: async () => {
      watcher.stop();
      await handle.close();
    },
  };
}
