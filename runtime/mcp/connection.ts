// One external MCP server: connect (stdio, or streamable HTTP falling back to SSE), list its tools
// and register them as `<server>:<tool>`, follow tools/list_changed, and when it dies withdraw its
// tools and restart it with exponential backoff.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  ErrorCode,
  McpError,
  ToolListChangedNotificationSchema,
  type JSONRPCMessage,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../log';
import { ToolError, type Disposable, type Launch, type ToolContext, type ToolRegistry } from '../tools';
import { expandServer, type McpServerConfig, type McpStdioServerConfig, type SecretResolver } from './config';
import { annotationMetadata } from './kinds';
import { enforcePolicy, type PolicyOptions } from './policy';
import { LoomError, messageOf } from '../contract/errors';
import { boundedFetch, RequestSettledError, ResponseTooLargeError, type BoundedFetch } from './boundedFetch';

export type McpServerStatus = 'disabled' | 'starting' | 'ready' | 'restarting' | 'failed' | 'stopped';

export interface McpServerState {
  name: string;
  status: McpServerStatus;
  transport: McpServerConfig['transport'] | 'sse-fallback';
  source: McpServerConfig['source'];
  /** Registered tool names (`<server>:<tool>`), while ready. */
  tools: string[];
  /** Tools the server listed that could not be registered, with why. */
  skipped: { tool: string; reason: string }[];
  restarts: number;
  lastError?: string;
  /**
   * The server's last stderr lines (at most 3, " | " between them) when lastError was set. The
   * person's to see (the runtime's log, the window, the feed), never an agent's: a server's
   * complaints can quote the secrets it was started with, which stay out of agents' environments.
   */
  stderr?: string;
  /** When a restart is scheduled (epoch ms), while restarting. */
  nextRestartAtMs?: number;
  pid?: number;
  sinceMs: number;
}

export interface ConnectionDeps {
  registry: ToolRegistry;
  log: Logger;
  workspace: string;
  resolveSecret?: SecretResolver;
  policy: Omit<PolicyOptions, 'log'>;
  clientInfo: { name: string; version: string };
  onState: (state: McpServerState) => void;
  /** How to start a stdio server whose `isolation` is not "off" (the isolation part's confineProcess). Throws when required and missing. */
  confine?: (server: McpStdioServerConfig) => Launch;
}

const STDERR_TAIL_LINES = 20;
/**
 * Requests written to a stdio server's input that it has not read. The SDK writes each request
 * at once, drained or not, and a call that times out leaves its request (and its
 * notifications/cancelled) in the pipe's buffer: a server that stopped reading took the runtime
 * to 1.96 GB in 18 s of 1 MiB calls. Past this a call to it is refused at once.
 */
const MAX_UNREAD_INPUT_BYTES = 16 * 1024 * 1024;
/**
 * Tools one server may list: the default of what one agent may register (bridge.max_tools_per_client).
 * Past it, or past the pages or bytes below, the listing fails: a server paging without end took
 * the runtime without bound, and 30 000 tools held the event loop 7.9 s while they registered.
 */
const MAX_TOOLS_PER_SERVER = 1000;
const MAX_TOOL_LIST_PAGES = 100;
const MAX_TOOL_LIST_BYTES = 16 * 1024 * 1024;
/** Between the starts of two listings of one server: a flood of tools/list_changed lists once a second at most. */
const MIN_REFRESH_INTERVAL_MS = 1000;
/** How long registering tools may hold the event loop before it lets other work in. */
const REGISTRATION_TURN_MS = 20;
/** A request id from a server longer than this is dropped unanswered: the answer would carry it back. */
const MAX_REQUEST_ID_CHARS = 1024;

/** A server's tool list is over a limit: it is not registered, and a server already up is restarted. */
class ToolListLimitError extends LoomError {
  constructor(message: string) {
    super('tool_list_limit', message);
  }
}

/** A listed tool with its JSON, which tells a changed tool from an unchanged one. */
interface Listed {
  tool: Tool;
  json: string;
}

export class McpConnection {
  private state: McpServerState;
  private client: Client | undefined;
  /** The client while it connects, so stop() can abort a connection that is still waiting. */
  private opening: Client | undefined;
  private registrations = new Map<string, { json: string; disposable: Disposable }>();
  private restartTimes: number[] = [];
  private consecutiveFailures = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  private stableTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private stderrTail: string[] = [];
  /** The values of the server's expanded configuration that may be secrets (secretsOf), longest first. */
  private secrets: string[] = [];
  /** Serialises tool-list refreshes (the start's and those after tools/list_changed) so they cannot interleave. */
  private refreshing: Promise<void> = Promise.resolve();
  private lastListingAt = 0;
  /** Why the connection was ended on purpose (a limit), for onClosed to report. */
  private dropReason: string | undefined;
  private readonly owner: string;
  private readonly log: Logger;

  constructor(
    private readonly config: McpServerConfig,
    private readonly deps: ConnectionDeps,
  ) {
    this.owner = `mcp:${config.name}`;
    this.log = deps.log.child(config.name);
    this.state = {
      name: config.name,
      status: config.enabled ? 'stopped' : 'disabled',
      transport: config.transport,
      source: config.source,
      tools: [],
      skipped: [],
      restarts: 0,
      sinceMs: Date.now(),
    };
  }

  get name(): string {
    return this.config.name;
  }

  snapshot(): McpServerState {
    return structuredClone(this.state);
  }

  private setState(patch: Partial<McpServerState>): void {
    if (patch.lastError) patch = { ...patch, lastError: this.redact(patch.lastError) };
    const statusChanged = patch.status !== undefined && patch.status !== this.state.status;
    this.state = { ...this.state, ...patch, ...(statusChanged ? { sinceMs: Date.now() } : {}) };
    if (patch.status !== 'restarting') delete this.state.nextRestartAtMs;
    this.deps.onState(this.snapshot());
  }

  /** Starts the server; resolves once it is ready or has failed (a failure schedules a restart); never rejects. */
  async start(): Promise<void> {
    if (!this.config.enabled) {
      this.setState({ status: 'disabled' });
      return;
    }
    this.stopped = false;
    await this.connect();
  }

  private async connect(): Promise<void> {
    this.stderrTail = []; // what an earlier run said is not this start's
    this.dropReason = undefined;
    this.setState({ status: 'starting', tools: [], skipped: [], pid: undefined });
    const clash = this.namespaceClash();
    if (clash) return this.fail(clash, { restart: false });
    let client: Client | undefined;
    try {
      const substituted = new Set<string>();
      const server = await expandServer(this.config, {
        workspace: this.deps.workspace,
        resolve: this.deps.resolveSecret,
        substituted,
      });
      this.secrets = secretsOf(server, substituted);
      client = new Client(this.deps.clientInfo, { capabilities: {} });
      this.opening = client;
      const transportKind = await this.open(client, server).finally(() => (this.opening = undefined));
      if (this.stopped) {
        await client.close();
        return;
      }
      this.client = client;
      client.onclose = () => this.onClosed(client!);
      client.onerror = (err) => this.onTransportError(client!, err);
      client.setNotificationHandler(ToolListChangedNotificationSchema, this.followToolChanges(client));
      await this.refreshTools(client);
      if (this.client !== client) return; // closed while listing
      this.setState({
        status: 'ready',
        transport: transportKind,
        lastError: undefined,
        stderr: undefined,
        pid: this.pidOf(client),
      });
      this.log.info('mcp server ready', { tools: this.state.tools.length, transport: transportKind });
      // A server that stays up for backoffMaxMs has recovered: the next crash starts from the initial delay.
      this.stableTimer = setTimeout(() => (this.consecutiveFailures = 0), this.config.restart.backoffMaxMs);
      this.stableTimer.unref();
    } catch (err) {
      if (client && this.client === client) this.client = undefined;
      await client?.close().catch(() => {});
      // onClosed may have handled this already (the process died while we listed its tools).
      if (this.stopped || this.state.status !== 'starting') return;
      this.withdrawTools();
      this.fail(this.dropReason ?? this.describeFailure(err, 'could not start'), {
        restart: !(err instanceof Error && err.name === 'McpConfigError'),
      });
    }
  }

  /**
   * Connects the client within timeout_ms in all (connect + initialize, over every transport tried):
   * a server that accepts the connection and never answers must not hold the start forever. On
   * expiry the transport is closed, which aborts whatever request was still waiting.
   */
  private async open(client: Client, server: McpServerConfig): Promise<McpServerState['transport']> {
    const timeoutMs = this.config.timeoutMs;
    const deadline = Date.now() + timeoutMs;
    const expired = new Error(
      `no answer within timeout_ms = ${timeoutMs} ms (connect and initialize${server.transport === 'stdio' ? '' : ` at ${server.url}`})`,
    );
    let timer: NodeJS.Timeout | undefined;
    const expiry = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(expired), timeoutMs)));
    const attempt = this.openTransport(client, server, deadline);
    attempt.catch(() => {}); // when the expiry wins, the attempt's own rejection has no reader
    try {
      return await Promise.race([attempt, expiry]);
    } catch (err) {
      await client.close().catch(() => {});
      throw err instanceof McpError && err.code === ErrorCode.RequestTimeout ? expired : err;
    } finally {
      clearTimeout(timer);
    }
  }

  /** For HTTP: streamable HTTP first, the old SSE transport only when the server says it has no streamable endpoint. */
  private async openTransport(
    client: Client,
    server: McpServerConfig,
    deadline: number,
  ): Promise<McpServerState['transport']> {
    const remaining = () => {
      const ms = deadline - Date.now();
      if (ms <= 0 || this.stopped) throw new Error('gave up connecting');
      return ms;
    };
    if (server.transport === 'stdio') {
      let launch: Pick<Launch, 'file' | 'args' | 'env'> = { file: server.command, args: server.args, env: {} };
      if (server.isolation !== 'off') {
        if (!this.deps.confine)
          throw new Error(
            `mcp.${server.name}.isolation = "${server.isolation}" but this runtime cannot confine processes`,
          );
        const confined = this.deps.confine(server);
        if (!confined.isolated) this.log.warn('mcp server runs unconfined', { why: confined.unconfinedBecause });
        launch = confined;
      }
      const transport = new StdioClientTransport({
        command: launch.file,
        args: launch.args,
        env: { ...server.env, ...launch.env },
        cwd: server.cwd,
        stderr: 'pipe',
      });
      transport.stderr?.on('data', (chunk: Buffer) => this.keepStderr(chunk));
      this.guardInput(client, transport);
      await client.connect(transport, { timeout: remaining() });
      this.tapIncoming(transport);
      return 'stdio';
    }
    const url = new URL(server.url);
    const requestInit = { headers: server.headers };
    const connectHttp = async (make: (fetch: BoundedFetch['fetch']) => Transport) => {
      let transport: Transport | undefined;
      const bounded = this.httpFetch(client, () => transport);
      transport = make(bounded.fetch);
      await client.connect(transport, { timeout: remaining() });
      // connect's initialize was answered before the tap below sees answers: end its request too.
      bounded.settleAll();
      this.tapIncoming(transport, bounded);
    };
    if (server.transport === 'sse') {
      await connectHttp((fetch) => new SSEClientTransport(url, { requestInit, fetch }));
      return 'sse';
    }
    try {
      await connectHttp((fetch) => new StreamableHTTPClientTransport(url, { requestInit, fetch }));
      return 'http';
    } catch (err) {
      if (!shouldFallBackToSse(err)) throw err;
      this.log.info('no streamable HTTP endpoint here; trying the SSE transport', { error: messageOf(err) });
      await client.close().catch(() => {});
      await connectHttp((fetch) => new SSEClientTransport(url, { requestInit, fetch }) as Transport);
      return 'sse-fallback';
    }
  }

  /**
   * An HTTP transport's fetch: each response body bounded, each request ended once its call is.
   * A body over the limit fails the request it answers; a stream not tied to one (the server's
   * own, opened with GET) ends the connection, and the server is restarted.
   */
  private httpFetch(client: Client, transport: () => Transport | undefined): BoundedFetch {
    return boundedFetch({
      server: this.config.name,
      onTooLarge: (err, requestId) => {
        if (requestId === undefined) return this.dropConnection(client, err.message);
        this.log.warn('mcp response too large', { error: err });
        transport()?.onmessage?.({
          jsonrpc: '2.0',
          id: requestId,
          error: { code: ErrorCode.InternalError, message: err.message },
        });
      },
    });
  }

  /**
   * Every message written to a stdio server passes the unread-input check, not only calls: a
   * server that sends requests (a ping with an 8 MB id) and never reads the answers filled the
   * pipe the same way. Past the limit, a call or its cancel is refused or left out (callTool refuses
   * calls until the server reads again); anything else means the server asks without reading,
   * and it is stopped.
   */
  private guardInput(client: Client, transport: StdioClientTransport): void {
    const send = transport.send.bind(transport);
    transport.send = async (message: JSONRPCMessage) => {
      const unread = unreadInputBytes(transport);
      if (unread <= MAX_UNREAD_INPUT_BYTES) return send(message);
      const method = 'method' in message ? message.method : undefined;
      if (method === 'notifications/cancelled') return;
      const why = `mcp.${this.config.name}: not reading its input: ${unread} bytes sent to it wait to be read, at most ${MAX_UNREAD_INPUT_BYTES}`;
      if (method !== 'tools/call') this.dropConnection(client, `${why}; stopped`);
      throw new Error(why);
    };
  }

  /**
   * Sees each message from the server before the SDK: a request whose id is too long to send back
   * is dropped, and an answer ends its HTTP request (a server may hold an SSE stream open after it).
   */
  private tapIncoming(transport: Transport, bounded?: BoundedFetch): void {
    const deliver = transport.onmessage;
    if (!deliver) return;
    let dropped = 0;
    transport.onmessage = ((message: JSONRPCMessage, extra) => {
      const id = 'id' in message ? message.id : undefined;
      const isRequest = 'method' in message;
      if (isRequest && typeof id === 'string' && id.length > MAX_REQUEST_ID_CHARS) {
        // Once per connection at warn: a server sending them in a loop would flood the log.
        const error = `mcp.${this.config.name}: the server sent a ${message.method} request whose id is ${id.length} characters, at most ${MAX_REQUEST_ID_CHARS}; it is not answered`;
        if (dropped++ === 0) this.log.warn('mcp request with an over-long id dropped', { error });
        else this.log.debug('mcp request with an over-long id dropped', { error });
        return;
      }
      deliver(message, extra);
      if (!isRequest && id !== undefined && id !== null) bounded?.settle(id);
    }) as Transport['onmessage'];
  }

  /** Ends a connection on purpose (the server went past a limit); the restart reports `reason`. */
  private dropConnection(client: Client, reason: string): void {
    if (this.client !== client && this.opening !== client) return;
    if (this.dropReason === undefined) this.log.warn('mcp server dropped', { error: reason });
    this.dropReason ??= reason;
    void client.close().catch(() => {});
  }

  private keepStderr(chunk: Buffer): void {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (line.trim() === '') continue;
      this.log.debug('server stderr', { line });
      this.stderrTail.push(line);
      if (this.stderrTail.length > STDERR_TAIL_LINES) this.stderrTail.shift();
    }
  }

  private pidOf(client: Client): number | undefined {
    const transport = client.transport;
    return transport instanceof StdioClientTransport ? (transport.pid ?? undefined) : undefined;
  }

  private namespaceClash(): string | undefined {
    const foreign = this.deps.registry.list(`${this.config.name}:`).filter((t) => t.owner !== this.owner);
    if (foreign.length === 0) return undefined;
    return `mcp.${this.config.name}: the tool namespace "${this.config.name}:" is already used by ${foreign[0].owner ?? 'another provider'} (${foreign[0].name}); give the server another name`;
  }

  private describeFailure(err: unknown, what: string): string {
    const message = err instanceof Error ? err.message : String(err);
    return `mcp.${this.config.name}: ${what}: ${message}`;
  }

  /** What the server last said on stderr, for a failure being recorded now (see McpServerState.stderr). */
  private stderrNow(): string | undefined {
    return this.stderrTail.length ? this.stderrTail.slice(-3).join(' | ') : undefined;
  }

  /**
   * The tools/list_changed handler of one connection. However many notifications arrive, one
   * listing runs and one more waits (a flood queued a listing and an info line for each: 1.9 GB
   * and 6 MB/s of log in 15 s), and listings start MIN_REFRESH_INTERVAL_MS apart at most.
   */
  private followToolChanges(client: Client): () => void {
    let unseen = 0;
    let following = false;
    const follow = async () => {
      following = true;
      try {
        while (unseen > 0 && this.client === client) {
          await sleep(this.lastListingAt + MIN_REFRESH_INTERVAL_MS - Date.now(), undefined, { ref: false });
          if (this.client !== client) return;
          this.log.info('listing the tools again after tools/list_changed', { notifications: unseen });
          unseen = 0;
          await this.refreshTools(client);
        }
      } catch (err) {
        this.refreshFailed(client, err);
      } finally {
        following = false;
      }
    };
    return () => {
      this.log.debug('tools/list_changed received');
      unseen++;
      if (!following) void follow();
    };
  }

  /** A listing after tools/list_changed failed: past a limit the server is restarted; otherwise its tools stay as they were. */
  private refreshFailed(client: Client, err: unknown): void {
    if (this.client !== client) return;
    const message = this.describeFailure(err, 'could not list its tools again');
    if (err instanceof ToolListLimitError) this.dropConnection(client, message);
    else this.log.warn('mcp tools not listed again', { error: message });
  }

  /** Lists every page of tools and brings the registry in line with it. */
  private refreshTools(client: Client): Promise<void> {
    const run = async () => {
      this.lastListingAt = Date.now();
      const listed = await this.listTools(client);
      if (this.client !== client) return;
      await this.applyTools(client, listed);
    };
    this.refreshing = this.refreshing.then(run, run);
    return this.refreshing;
  }

  /** Every page, within timeout_ms in all and the limits on pages, tools and bytes. */
  private async listTools(client: Client): Promise<Listed[]> {
    const timeoutMs = this.config.timeoutMs;
    const deadline = Date.now() + timeoutMs;
    const listed: Listed[] = [];
    let bytes = 0;
    let pages = 0;
    let cursor: string | undefined;
    const overdue = () =>
      new ToolListLimitError(
        `tools/list took over timeout_ms = ${timeoutMs} ms in all (${pages} pages, ${listed.length} tools so far)`,
      );
    do {
      if (++pages > MAX_TOOL_LIST_PAGES)
        throw new ToolListLimitError(
          `tools/list went on past ${MAX_TOOL_LIST_PAGES} pages, the most a server may send`,
        );
      if (Date.now() >= deadline) throw overdue();
      const page = await client
        .listTools(cursor ? { cursor } : undefined, { timeout: deadline - Date.now() })
        .catch((err: unknown) => {
          throw err instanceof McpError && err.code === ErrorCode.RequestTimeout ? overdue() : err;
        });
      for (const tool of page.tools) {
        const json = JSON.stringify(tool);
        bytes += Buffer.byteLength(json);
        listed.push({ tool, json });
      }
      if (listed.length > MAX_TOOLS_PER_SERVER)
        throw new ToolListLimitError(
          `tools/list gave ${listed.length} tools by page ${pages}, more than the ${MAX_TOOLS_PER_SERVER} a server may have`,
        );
      if (bytes > MAX_TOOL_LIST_BYTES)
        throw new ToolListLimitError(
          `tools/list gave ${bytes} bytes of tools by page ${pages}, more than the ${MAX_TOOL_LIST_BYTES} a server may send`,
        );
      cursor = page.nextCursor;
    } while (cursor);
    return listed;
  }

  /** Registers what is new or changed and withdraws what is gone, letting other work in between registrations. */
  private async applyTools(client: Client, listed: Listed[]): Promise<void> {
    const byName = new Map(listed.map((l) => [l.tool.name, l]));
    for (const [name, reg] of this.registrations) {
      if (byName.get(name)?.json !== reg.json) {
        reg.disposable.dispose();
        this.registrations.delete(name);
      }
    }
    const skipped: McpServerState['skipped'] = [];
    let turnStarted = performance.now();
    for (const { tool, json } of listed) {
      if (this.registrations.has(tool.name)) continue;
      // Each registration compiles a schema from the server: many, or large ones, would hold the loop for seconds.
      if (performance.now() - turnStarted > REGISTRATION_TURN_MS) {
        await nextTurn();
        if (this.client !== client) return;
        turnStarted = performance.now();
      }
      const problem = this.register(tool, json);
      if (problem) skipped.push(problem);
    }
    const names = [...this.registrations.keys()].map((t) => `${this.config.name}:${t}`).sort();
    // While starting, the list goes out with the "ready" state rather than as a state of its own.
    if (this.state.status === 'ready') this.setState({ tools: names, skipped });
    else Object.assign(this.state, { tools: names, skipped });
  }

  /** Registers one tool; what went wrong when it could not be. */
  private register(tool: Tool, json: string): McpServerState['skipped'][number] | undefined {
    try {
      const disposable = this.deps.registry.register(
        {
          name: `${this.config.name}:${tool.name}`,
          description: tool.description ?? tool.title ?? '',
          parametersSchema: tool.inputSchema as Record<string, unknown>,
          provider: 'mcp',
          owner: this.owner,
          metadata: {
            server: this.config.name,
            tool: tool.name,
            ...annotationMetadata(tool.annotations),
            ...(tool.outputSchema ? { output_schema: JSON.stringify(tool.outputSchema) } : {}),
          },
        },
        (args, ctx) => this.callTool(tool.name, args, ctx),
      );
      this.registrations.set(tool.name, { json, disposable });
      return undefined;
    } catch (err) {
      this.log.warn('mcp tool not registered', { tool: tool.name, error: err as Error });
      return { tool: tool.name, reason: messageOf(err) };
    }
  }

  private withdrawTools(): void {
    for (const reg of this.registrations.values()) reg.disposable.dispose();
    this.registrations.clear();
    // Anything registered under the owner some other way goes too.
    this.deps.registry.unregisterOwner(this.owner);
  }

  private async callTool(tool: string, args: Record<string, unknown>, ctx: ToolContext): Promise<unknown> {
    const qualified = `${this.config.name}:${tool}`;
    await enforcePolicy(this.config, tool, args, { ...this.deps.policy, log: this.log }, ctx.caller);
    const client = this.client;
    if (!client || this.state.status !== 'ready') {
      throw new ToolError(
        'unavailable',
        `${qualified}: MCP server "${this.config.name}" is ${this.state.status}${this.state.lastError ? ` (${this.state.lastError})` : ''}`,
      );
    }
    const unread = unreadInputBytes(client.transport);
    if (unread > MAX_UNREAD_INPUT_BYTES)
      throw new ToolError(
        'unavailable',
        `${qualified}: MCP server "${this.config.name}" is not reading its input: ${unread} bytes of requests sent to it wait to be read, at most ${MAX_UNREAD_INPUT_BYTES}; try again when it reads`,
        { server: this.config.name, reason: 'server_not_reading' },
      );
    let result;
    try {
      // The signal and the timeout make the SDK send notifications/cancelled to the server.
      result = await client.callTool({ name: tool, arguments: args }, undefined, {
        signal: ctx.signal,
        timeout: ctx.timeoutMs,
      });
    } catch (err) {
      throw this.callError(qualified, err, ctx);
    }
    if (result.isError) {
      const text = textOf(result.content) || 'the server reported an error without text';
      throw new ToolError('failed', `${qualified}: ${text}`, { server: this.config.name, tool, is_error: 'true' });
    }
    return result.structuredContent === undefined
      ? { content: result.content }
      : { content: result.content, structuredContent: result.structuredContent };
  }

  private callError(qualified: string, err: unknown, ctx: ToolContext): ToolError {
    const e = this.callErrorAsIs(qualified, err, ctx);
    const message = this.redact(e.message);
    return message === e.message ? e : new ToolError(e.code, message, e.details);
  }

  /**
   * `text` without the values of this server's configuration that may be secrets. A failure's
   * message reaches agents (ListMcpServers, GetStats, mcp.<name>.state, a call's error) and it
   * quoted them: the URL with its ?api_key=, a response body echoing the Authorization header.
   */
  private redact(text: string): string {
    let out = text;
    for (const secret of this.secrets) out = out.split(secret).join('***');
    return out;
  }

  private callErrorAsIs(qualified: string, err: unknown, ctx: ToolContext): ToolError {
    if (err instanceof ToolError) return err;
    if (ctx.signal.aborted && ctx.signal.reason instanceof ToolError) return ctx.signal.reason;
    if (err instanceof McpError) {
      switch (err.code) {
        case ErrorCode.RequestTimeout:
          return new ToolError(
            'timeout',
            `${qualified} timed out after ${ctx.timeoutMs} ms (the server was sent notifications/cancelled)`,
          );
        case ErrorCode.ConnectionClosed:
          return new ToolError(
            'unavailable',
            `${qualified}: the MCP server "${this.config.name}" went away during the call`,
          );
        case ErrorCode.InvalidParams:
          return new ToolError('invalid_arguments', `${qualified}: ${err.message}`);
        case ErrorCode.MethodNotFound:
          return new ToolError('not_found', `${qualified}: ${err.message}`);
      }
    }
    if (this.config.transport !== 'stdio' && this.client) void this.checkAlive(this.client);
    return new ToolError('failed', `${qualified}: ${messageOf(err)}`);
  }

  /** HTTP has no process to watch: a failing request makes us ping, and a failed ping counts as a drop. */
  private async checkAlive(client: Client): Promise<void> {
    try {
      await client.ping({ timeout: Math.min(this.config.timeoutMs, 5000) });
    } catch (err) {
      if (this.client === client) {
        this.log.warn('mcp server does not answer ping; reconnecting', { error: err as Error });
        this.state.lastError = this.redact(this.describeFailure(err, 'stopped answering'));
        this.state.stderr = this.stderrNow();
        await client.close().catch(() => {});
      }
    }
  }

  private onTransportError(client: Client, err: Error): void {
    this.log.debug('mcp transport error', { error: err });
    // Ended on purpose, or already dealt with where the limit was hit: no sign the server is gone.
    if (err instanceof RequestSettledError || err instanceof ResponseTooLargeError) return;
    if (this.config.transport !== 'stdio' && this.client === client && this.state.status === 'ready')
      void this.checkAlive(client);
  }

  private onClosed(client: Client): void {
    if (this.client !== client) return;
    this.client = undefined;
    clearTimeout(this.stableTimer);
    this.withdrawTools();
    if (this.stopped) return;
    const reason =
      this.dropReason ??
      (this.state.lastError && this.state.status === 'ready'
        ? this.state.lastError
        : this.describeFailure(new Error('connection closed'), 'the server exited or dropped the connection'));
    this.log.warn('mcp server went away', { error: reason, stderr: this.stderrNow() });
    this.fail(reason, { restart: true });
  }

  private fail(message: string, opts: { restart: boolean }): void {
    const { restart } = this.config;
    const now = Date.now();
    this.restartTimes = this.restartTimes.filter((t) => now - t < restart.windowMs);
    if (!opts.restart || !restart.enabled || this.restartTimes.length >= restart.maxRestarts) {
      const why =
        !opts.restart || !restart.enabled
          ? message
          : `${message}; gave up after ${this.restartTimes.length} restarts within ${restart.windowMs} ms`;
      this.setState({ status: 'failed', lastError: why, stderr: this.stderrNow(), tools: [], pid: undefined });
      this.log.error('mcp server failed', { error: why, stderr: this.stderrNow() });
      return;
    }
    const delay = Math.min(restart.backoffInitialMs * 2 ** this.consecutiveFailures, restart.backoffMaxMs);
    this.consecutiveFailures++;
    this.setState({
      status: 'restarting',
      lastError: message,
      stderr: this.stderrNow(),
      tools: [],
      pid: undefined,
      nextRestartAtMs: now + delay,
    });
    this.log.warn('mcp server down; restarting', { error: message, stderr: this.stderrNow(), inMs: delay });
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      this.restartTimes.push(Date.now());
      this.state.restarts++;
      void this.connect();
    }, delay);
  }

  /** Stops the server (and any pending restart) and withdraws its tools. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.restartTimer);
    clearTimeout(this.stableTimer);
    const client = this.client;
    this.client = undefined;
    this.withdrawTools();
    await Promise.all([client?.close(), this.opening?.close()].map((p) => p?.catch(() => {})));
    if (this.state.status !== 'disabled') this.setState({ status: 'stopped', tools: [], pid: undefined });
  }
}

function textOf(content: unknown): string {
  if (!Array.isArray(content)) return '';
  return content
    .filter(
      (c): c is { type: 'text'; text: string } =>
        typeof c === 'object' && c !== null && (c as { type?: string }).type === 'text',
    )
    .map((c) => c.text)
    .join('\n');
}

/**
 * The MCP spec's backwards-compatibility rule: a client falls back to HTTP+SSE when the initialize
 * POST fails with 400, 404 or 405 (an old server has no such endpoint). Anything else — 401, a
 * timeout, a refused connection — is the real problem and is reported as it is.
 */
export function shouldFallBackToSse(err: unknown): boolean {
  return err instanceof StreamableHTTPError && [400, 404, 405].includes(err.code ?? 0);
}

/**
 * Bytes buffered in a stdio server's stdin, not yet taken by it; 0 for other transports. The SDK
 * keeps the child process to itself (StdioClientTransport._process), so it is read from there;
 * test/integration/mcp/client.test.ts fails if an SDK update moves it.
 */
function unreadInputBytes(transport: Transport | undefined): number {
  if (!(transport instanceof StdioClientTransport)) return 0;
  const stdin = (transport as unknown as { _process?: { stdin?: { writableLength?: number } | null } })._process?.stdin;
  return stdin?.writableLength ?? 0;
}

/** HTTP authentication schemes: the word before a credential in a header ("Bearer <token>"), no secret itself. */
const AUTH_SCHEMES = new Set(['basic', 'bearer', 'digest', 'negotiate', 'ntlm', 'token', 'hoba', 'mutual']);

/**
 * What in a server's expanded configuration may be a secret: every value a `${...}` reference was
 * replaced with (`substituted`, wherever it stood: an argument too), env and header values (each
 * word of one too, as in "Bearer <token>", but the scheme), and the URL's user, password and query
 * values. Values under 4 characters are left out; a message is more likely to hold "1" by chance
 * than as a secret.
 */
export function secretsOf(server: McpServerConfig, substituted: Iterable<string> = []): string[] {
  const values: string[] = [];
  const add = (v: string) => values.push(v, ...v.split(/\s+/).filter((w) => !AUTH_SCHEMES.has(w.toLowerCase())));
  // As written in the URL and as decoded: a message may quote either.
  const both = (v: string) => {
    values.push(v, encodeURIComponent(v));
    try {
      values.push(decodeURIComponent(v));
    } catch {
      // a raw % that is no escape: the value as it is was kept
    }
  };
  for (const v of substituted) both(v);
  if (server.transport === 'stdio') Object.values(server.env).forEach(add);
  else {
    Object.values(server.headers).forEach(add);
    let url: URL | undefined;
    try {
      url = new URL(server.url);
    } catch {
      // not a URL: the config refused it before
    }
    if (url) {
      [url.username, url.password, url.search.slice(1)].forEach(both);
      for (const v of url.searchParams.values()) both(v);
    }
  }
  return [...new Set(values.filter((v) => v.length >= 4))].sort((a, b) => b.length - a.length);
}
