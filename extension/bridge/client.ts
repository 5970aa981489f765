// The extension's link to the runtime: a bridge client like any agent, registered as `vscode`.
// It publishes editor events, answers the tool calls routed to the tools it provides, and makes
// the runtime's admin calls (agents, tools) for the commands and views.
import { randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { BRIDGE_CLIENT_OPTIONS, loadLoomPackage } from '../../runtime/proto';
import type {
  AgentInfo__Output,
  BridgeClient,
  ClientEvent,
  RuntimeClient,
  ServerEvent__Output,
  ToolCall__Output,
  ToolDescriptor,
  ToolDescriptor__Output,
  ToolResult,
  ToolResult__Output,
  ToolsClient,
} from '../../runtime/proto/types';
import type { DiscoveryInfo } from '../../runtime/contract';
import type { Ack__Output } from '../../runtime/proto/gen/loom/v1/Ack';
import type { AgentControlResponse__Output } from '../../runtime/proto/gen/loom/v1/AgentControlResponse';
import type { FeedRequest } from '../../runtime/proto/gen/loom/v1/FeedRequest';
import type { FeedUpdate__Output } from '../../runtime/proto/gen/loom/v1/FeedUpdate';
import type { AgentRegisterResponse__Output } from '../../runtime/proto/gen/loom/v1/AgentRegisterResponse';
import type { HeartbeatResponse__Output } from '../../runtime/proto/gen/loom/v1/HeartbeatResponse';
import type { ListAgentsResponse__Output } from '../../runtime/proto/gen/loom/v1/ListAgentsResponse';
import type { ListToolsResponse__Output } from '../../runtime/proto/gen/loom/v1/ListToolsResponse';
import type { ListMcpServersResponse__Output } from '../../runtime/proto/gen/loom/v1/ListMcpServersResponse';
import type { McpControlResponse__Output } from '../../runtime/proto/gen/loom/v1/McpControlResponse';
import type { McpServerInfo__Output } from '../../runtime/proto/gen/loom/v1/McpServerInfo';
import type { StatsResponse__Output } from '../../runtime/proto/gen/loom/v1/StatsResponse';
import { LoomError, messageOf, TOOL_CANCEL_METADATA_KEY } from '../../runtime/contract';

export const AGENT_ID = 'vscode';

/** A tool the extension provides; `handler` gets the parsed arguments. */
export interface ProvidedTool {
  name: string;
  description: string;
  parametersSchema: Record<string, unknown>;
  /** read: no side effects; write: changes the editor, clipboard or UI state; ask: needs a human. */
  kind: 'read' | 'write' | 'ask';
  handler: (args: Record<string, unknown>, ctx: ToolCallContext) => Promise<unknown>;
}

export interface ToolCallContext {
  caller: string;
  /** Aborted when the call's timeout passes: a handler waiting on a human gives up. */
  signal: AbortSignal;
}

/** A failure with the wire's status, e.g. TOOL_INVALID_ARGUMENTS for a bad argument. */
export class ToolFailure extends LoomError {
  constructor(
    readonly status: 'TOOL_ERROR' | 'TOOL_INVALID_ARGUMENTS' | 'TOOL_NOT_FOUND',
    code: string,
    message: string,
  ) {
    super(code, message);
  }
}

export interface ConnectOptions {
  tools: ProvidedTool[];
  topics?: string[];
  onDelivery?: (topic: string, type: string, payload: Buffer) => void;
  onClosed?: (reason: string) => void;
  log: (message: string) => void;
}

type Invoke<Res> = (
  metadata: grpc.Metadata,
  options: grpc.CallOptions,
  cb: grpc.requestCallback<Res>,
) => grpc.ClientUnaryCall;

function call<Res>(invoke: Invoke<Res>, timeoutMs = 10_000): Promise<Res> {
  return new Promise((resolve, reject) => {
    invoke(new grpc.Metadata(), { deadline: Date.now() + timeoutMs }, (err, res) =>
      err ? reject(err) : resolve(res as Res),
    );
  });
}

function authInterceptor(token: string, agentId?: string): grpc.Interceptor {
  return (options, nextCall) =>
    new grpc.InterceptingCall(nextCall(options), {
      start(metadata, listener, next) {
        metadata.set('authorization', `Bearer ${token}`);
        metadata.set('loom-dialect', 'loom');
        if (agentId) metadata.set('x-loom-agent-id', agentId);
        next(metadata, listener);
      },
    });
}

/** A running Runtime.Feed stream; cancel() ends it without calling `onEnd`. */
export interface FeedSubscription {
  cancel(): void;
}

export interface FeedHandlers {
  onUpdate(update: FeedUpdate__Output): void;
  /** The stream ended by the runtime's side (or failed): `reason` says how. */
  onEnd(reason: string): void;
}

/**
 * How often the window's stream pings: a third of the runtime's heartbeat timeout (from its
 * discovery file), at most every 5 s. Any message on the stream keeps the link alive on the
 * runtime's side; pongs tell this side the runtime is still there.
 */
export function pingIntervalMs(heartbeatTimeoutMs = 45_000): number {
  return Math.max(100, Math.min(5000, Math.floor(heartbeatTimeoutMs / 3)));
}

/** With no message from the runtime for this many ping intervals (and at least 10 s), the link is dead. */
const SILENT_INTERVALS = 3;
const MIN_SILENCE_MS = 10_000;

export class RuntimeConnection {
  readonly bridge: BridgeClient;
  readonly runtime: RuntimeClient;
  readonly tools: ToolsClient;
  private stream: grpc.ClientDuplexStream<ClientEvent, ServerEvent__Output> | undefined;
  private readonly provided = new Map<string, ProvidedTool>();
  /** The calls of provided tools now running, by call id: a cancel from the runtime aborts one. */
  private readonly running = new Map<string, AbortController>();
  private closed = false;
  private pinger: NodeJS.Timeout | undefined;
  private lastHeardMs = 0;

  /** `windowToken`: the window's credential, which alone registers `vscode`; every call of this link carries it. */
  private constructor(
    readonly info: DiscoveryInfo,
    windowToken: string,
    private readonly opts: ConnectOptions,
  ) {
    const pkg = loadLoomPackage();
    const creds = grpc.credentials.createInsecure();
    const options = { ...BRIDGE_CLIENT_OPTIONS, interceptors: [authInterceptor(windowToken, AGENT_ID)] };
    this.bridge = new pkg.Bridge(info.address, creds, options);
    this.runtime = new pkg.Runtime(info.address, creds, options);
    this.tools = new pkg.Tools(info.address, creds, options);
    for (const t of opts.tools) this.provided.set(t.name, t);
  }

  /** Answers whether a runtime's bridge is up and accepts the token. */
  static async probe(info: DiscoveryInfo, timeoutMs = 3000): Promise<boolean> {
    const pkg = loadLoomPackage();
    const client = new pkg.Bridge(info.address, grpc.credentials.createInsecure(), {
      ...BRIDGE_CLIENT_OPTIONS,
      interceptors: [authInterceptor(info.token)],
    });
    try {
      const res = await call<HeartbeatResponse__Output>(
        (m, o, cb) => client.Heartbeat({ agentId: '', timestampMs: Date.now() }, m, o, cb),
        timeoutMs,
      );
      return typeof res.status === 'string';
    } catch {
      return false;
    } finally {
      client.close();
    }
  }

  static async connect(info: DiscoveryInfo, windowToken: string, opts: ConnectOptions): Promise<RuntimeConnection> {
    const conn = new RuntimeConnection(info, windowToken, opts);
    try {
      await conn.register();
      conn.openStream();
    } catch (err) {
      conn.dispose();
      throw err;
    }
    return conn;
  }

  private async register(): Promise<void> {
    const tools: ToolDescriptor[] = [...this.provided.values()].map((t) => ({
      name: t.name,
      description: t.description,
      parametersSchema: JSON.stringify(t.parametersSchema),
      provider: 'PROVIDER_GRPC',
      metadata: { 'loom.kind': t.kind },
    }));
    const request = {
      agentId: AGENT_ID,
      subscribedTopics: this.opts.topics ?? [],
      tools,
      // Told when a call's caller gives up, so a question to the person is taken down at once.
      metadata: { client: 'vscode-extension', [TOOL_CANCEL_METADATA_KEY]: '1' },
    };
    const res = await call<AgentRegisterResponse__Output>((m, o, cb) => this.bridge.RegisterAgent(request, m, o, cb));
    if (!res.success) throw new Error(`the runtime refused to register agent "${AGENT_ID}": ${res.errorMessage}`);
  }

  private openStream(): void {
    const stream = this.bridge.EventStream();
    this.stream = stream;
    stream.on('data', (msg: ServerEvent__Output) => this.onServerEvent(msg));
    stream.on('error', (err: grpc.ServiceError) => this.onClosed(`stream error: ${err.details || err.message}`));
    stream.on('end', () => this.onClosed('the runtime closed the stream'));
    // The reference protocol: the first message names the agent.
    stream.write({ ack: { messageId: AGENT_ID } });
    this.startPinging(stream);
  }

  /** An idle window still speaks: the runtime drops a client silent past its heartbeat timeout. */
  private startPinging(stream: grpc.ClientDuplexStream<ClientEvent, ServerEvent__Output>): void {
    const every = pingIntervalMs(this.info.heartbeatTimeoutMs);
    const silence = Math.max(SILENT_INTERVALS * every, MIN_SILENCE_MS);
    this.lastHeardMs = Date.now();
    this.pinger = setInterval(() => {
      const quiet = Date.now() - this.lastHeardMs;
      if (quiet > silence) {
        stream.cancel();
        this.onClosed(`the runtime has not answered for ${Math.round(quiet / 1000)} s`);
        return;
      }
      stream.write({ ping: { timestampMs: Date.now() } });
    }, every);
  }

  private onClosed(reason: string): void {
    clearInterval(this.pinger);
    if (this.closed) return;
    this.closed = true;
    this.opts.onClosed?.(reason);
  }

  private onServerEvent(msg: ServerEvent__Output): void {
    this.lastHeardMs = Date.now();
    switch (msg.msg) {
      case 'toolCall':
        void this.answer(msg.toolCall!);
        return;
      case 'cancelToolCall':
        this.running.get(msg.cancelToolCall?.id ?? '')?.abort();
        return;
      case 'delivery':
        if (msg.delivery?.event)
          this.opts.onDelivery?.(msg.delivery.topic, msg.delivery.event.type, msg.delivery.event.payload);
        return;
      case 'err':
        this.opts.log(`runtime error on the stream: ${msg.err?.code}: ${msg.err?.message}`);
        return;
      default:
        return;
    }
  }

  private async answer(tc: ToolCall__Output): Promise<void> {
    const controller = new AbortController();
    // Ids are the runtime's, unique among a stream's calls; an id seen twice keeps the first's cancel.
    const tracked = !this.running.has(tc.id);
    if (tracked) this.running.set(tc.id, controller);
    try {
      const result = await runProvidedTool(this.provided.get(tc.name), tc, controller);
      if (!controller.signal.aborted) this.stream?.write({ toolResult: result });
    } finally {
      if (tracked) this.running.delete(tc.id);
    }
  }

  /** Ids of the provided tools' calls running now (for the test hooks). */
  get runningToolCalls(): string[] {
    return [...this.running.keys()];
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  /**
   * Publishes on this window's stream: the runtime states the sender (`vscode`); `source` says
   * where in the window the event came from (e.g. "copilot" for agent mode).
   */
  publish(topic: string, type: string, payload: unknown, source: string = AGENT_ID): void {
    if (!this.stream || this.closed) return;
    this.stream.write({
      publish: {
        topic,
        event: {
          id: randomUUID(),
          type,
          timestampMs: Date.now(),
          source,
          metadata: { 'content-type': 'application/json' },
          payload: Buffer.from(JSON.stringify(payload)),
          confidence: 1,
          tags: [],
          priority: 0,
        },
      },
    });
  }

  /** One event published by a unary call (Runtime.Publish): the runtime's refusal comes back as an error. */
  async publishOnce(
    topic: string,
    type: string,
    payload: Buffer,
    metadata: Record<string, string> = {},
  ): Promise<string> {
    const event = {
      id: randomUUID(),
      type,
      timestampMs: Date.now(),
      source: AGENT_ID,
      metadata,
      payload,
      confidence: 1,
      tags: [],
      priority: 0,
    };
    return (await call<Ack__Output>((m, o, cb) => this.runtime.Publish({ topic, event }, m, o, cb))).messageId;
  }

  /** Subscribes to the runtime's live feed (batched, rate-limited at the source). */
  feed(request: FeedRequest, handlers: FeedHandlers): FeedSubscription {
    const stream = this.runtime.Feed(request);
    let done = false;
    const end = (reason: string) => {
      if (done) return;
      done = true;
      handlers.onEnd(reason);
    };
    stream.on('data', (u: FeedUpdate__Output) => !done && handlers.onUpdate(u));
    stream.on('error', (err: grpc.ServiceError) => end(`feed error: ${err.details || err.message}`));
    stream.on('end', () => end('the runtime ended the feed'));
    return {
      cancel() {
        done = true;
        stream.cancel();
      },
    };
  }

  async listAgents(): Promise<AgentInfo__Output[]> {
    return (await call<ListAgentsResponse__Output>((m, o, cb) => this.runtime.ListAgents({}, m, o, cb))).agents;
  }

  async controlAgent(agentId: string, action: 'start' | 'stop' | 'restart'): Promise<AgentInfo__Output | null> {
    const res = await call<AgentControlResponse__Output>(
      (m, o, cb) => this.runtime.ControlAgent({ agentId, action }, m, o, cb),
      30_000,
    );
    if (!res.success) throw new Error(res.errorMessage || `could not ${action} agent "${agentId}"`);
    return res.agent;
  }

  async stats(): Promise<StatsResponse__Output> {
    return call<StatsResponse__Output>((m, o, cb) => this.runtime.GetStats({}, m, o, cb));
  }

  async listMcpServers(): Promise<McpServerInfo__Output[]> {
    return (await call<ListMcpServersResponse__Output>((m, o, cb) => this.runtime.ListMcpServers({}, m, o, cb)))
      .servers;
  }

  async controlMcpServer(name: string, action: 'restart'): Promise<McpServerInfo__Output | null> {
    const res = await call<McpControlResponse__Output>(
      (m, o, cb) => this.runtime.ControlMcpServer({ name, action }, m, o, cb),
      30_000,
    );
    if (!res.success) throw new Error(res.errorMessage || `could not ${action} MCP server "${name}"`);
    return res.server;
  }

  /** Every tool, following ListTools' pages (a page is cut to fit the message limit). */
  async listTools(prefix = ''): Promise<ToolDescriptor__Output[]> {
    const tools: ToolDescriptor__Output[] = [];
    let pageToken = '';
    do {
      const page = await call<ListToolsResponse__Output>((m, o, cb) =>
        this.tools.ListTools({ prefix, pageToken }, m, o, cb),
      );
      tools.push(...page.tools);
      pageToken = page.nextPageToken === pageToken ? '' : page.nextPageToken;
    } while (pageToken);
    return tools;
  }

  async callTool(name: string, args: unknown, timeoutMs = 30_000): Promise<ToolResult__Output> {
    const request = {
      id: randomUUID(),
      name,
      arguments: JSON.stringify(args ?? {}),
      timeoutMs,
      headers: { 'loom.caller': AGENT_ID },
    };
    return call<ToolResult__Output>((m, o, cb) => this.tools.CallTool(request, m, o, cb), timeoutMs + 5000);
  }

  dispose(): void {
    clearInterval(this.pinger);
    this.closed = true;
    // Nobody is left to answer to: each running call stops, its question to the person taken down.
    for (const controller of this.running.values()) controller.abort();
    try {
      this.stream?.end();
    } catch {
      // already gone
    }
    this.bridge.close();
    this.runtime.close();
    this.tools.close();
  }
}

/** Runs a provided tool for a call from the runtime; never throws, every failure is a result. */
export async function runProvidedTool(
  tool: ProvidedTool | undefined,
  tc: ToolCall__Output,
  controller = new AbortController(),
): Promise<ToolResult> {
  const fail = (status: ToolResult['status'], code: string, message: string): ToolResult => ({
    id: tc.id,
    status,
    output: '',
    error: { code, message, details: {} },
  });
  if (!tool) return fail('TOOL_NOT_FOUND', 'not_found', `the VS Code extension provides no tool "${tc.name}"`);
  let args: unknown;
  try {
    args = tc.arguments.trim() ? JSON.parse(tc.arguments) : {};
  } catch (err) {
    return fail(
      'TOOL_INVALID_ARGUMENTS',
      'invalid_arguments',
      `arguments of "${tc.name}" are not valid JSON: ${messageOf(err)}`,
    );
  }
  if (!args || typeof args !== 'object' || Array.isArray(args))
    return fail('TOOL_INVALID_ARGUMENTS', 'invalid_arguments', `arguments of "${tc.name}" must be a JSON object`);
  const timer = tc.timeoutMs > 0 ? setTimeout(() => controller.abort(), tc.timeoutMs) : undefined;
  try {
    const output = await tool.handler(args as Record<string, unknown>, {
      caller: tc.headers['loom.caller'] ?? '',
      signal: controller.signal,
    });
    return { id: tc.id, status: 'TOOL_OK', output: JSON.stringify(output ?? null) };
  } catch (err) {
    if (err instanceof ToolFailure) return fail(err.status, err.code, err.message);
    return fail('TOOL_ERROR', 'failed', `${tc.name}: ${messageOf(err)}`);
  } finally {
    clearTimeout(timer);
  }
}
