// The directory of agents known to this runtime: who is registered, which topics and tools
// each has, whether its link is live. It owns the agents' bus subscriptions and their tools in
// the registry, so that a disconnect frees both in one place and a reconnect restores both.
//
// Re-registration of an id that already has a live stream: the newest wins. A new
// RegisterAgent replaces topics, tools and metadata at once; a new EventStream for the id
// closes the old one (it gets Error{code:"replaced"}) and takes over its subscriptions.
// Between two streams in the reference's dialect the reference's rule holds instead: the older
// stays live with the subscriptions it had (a "companion"), both receive, tool calls go to the
// newest, and when the newest ends the latest companion takes its place.
import { correlationId, fromReferencePattern, parsePattern, type Bus, type QoS, type Subscription } from '../bus';
import type { Logger } from '../log';
import {
  namespacesOf,
  refuseAgentToolName,
  ToolError,
  unwrapToolResult,
  type ToolDefinition,
  type ToolRegistry,
} from '../tools';
import type { AgentConnection, AgentInfoView, AgentState, Dialect, LifecycleEmitter, OutgoingToolCall } from './types';
import { randomUUID } from 'node:crypto';
import { messageOf } from '../contract/errors';

export interface AgentRegistration {
  agentId: string;
  topics: string[];
  /** QoS of the subscriptions made for `topics`. */
  qos: QoS;
  tools: Omit<ToolDefinition, 'owner' | 'provider'>[];
  metadata: Record<string, string>;
}

/** What the provider answered: a loom.v1 ToolResult as decoded from the wire. */
export type ProviderAnswer = Parameters<typeof unwrapToolResult>[0];

interface AgentRecord {
  id: string;
  topics: Map<string, QoS>;
  tools: Omit<ToolDefinition, 'owner' | 'provider'>[];
  toolsLive: boolean;
  metadata: Record<string, string>;
  lastHeartbeatMs: number;
  state: Extract<AgentState, 'starting' | 'connected' | 'disconnected'>;
  /** When it last went from live to disconnected; unset while live. */
  disconnectedAtMs?: number;
  conn?: AgentConnection;
  subs: Subscription[];
  /** Older reference-dialect streams still live under the id, oldest first, each with its subscriptions. */
  companions: Array<{ conn: AgentConnection; subs: Subscription[] }>;
  /** Tool calls that came between its registration (which lists its tools) and its stream. */
  linkWaiters: Array<{ resolve(conn: AgentConnection): void; reject(err: Error): void }>;
  /** Which credential registered the id (the bridge's holder key): only it may take the id while live. */
  holder: string;
}

interface PendingCall {
  agentId: string;
  resolve(output: unknown): void;
  reject(err: Error): void;
}

const AGENT_ID = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
/**
 * An agent's id is also the owner of its tools in the registry, and a registration withdraws
 * the owner's previous tools: so no agent may take the owner name of the built-ins ("runtime"),
 * and no id has a ":" (MCP servers own theirs as "mcp:<name>").
 */
const RESERVED_IDS = new Set(['runtime']);
/**
 * How long a disconnected agent stays listed, in heartbeat timeouts: long enough to see it come
 * back after a hiccup or a runtime-side restart, short enough that one-off clients don't pile up.
 */
const RETAIN_DISCONNECTED_TIMEOUTS = 10;
/**
 * And at most this many of them, the most recently disconnected: clients that come and go by the
 * thousand (the fuzz found ~80 new ids a second) would otherwise grow ListAgents and GetStats to
 * megabytes within the retention.
 */
export const MAX_REMEMBERED_DISCONNECTED = 256;

/**
 * Older reference-dialect streams an id keeps live beside its newest. Each holds a copy of the
 * id's subscriptions, so without a cap one agent opening streams it never reads held 300 000
 * subscriptions (1.7 GB) under a cap of 1000 per client.
 */
export const MAX_COMPANIONS = 3;

/**
 * Bytes of an agent's registration metadata (keys and values). Every ListAgents, GetStats and feed
 * update lists it: one agent's 3.9 MB brought those answers to the edge of the message limit.
 */
export const MAX_METADATA_BYTES = 16 * 1024;

/** Names a log line lists: a client reconnecting in a loop must not write its 1000 patterns each time. */
const LOGGED_NAMES = 20;

function firstFew(names: string[]): string[] {
  return names.length <= LOGGED_NAMES
    ? names
    : [...names.slice(0, LOGGED_NAMES), `… and ${names.length - LOGGED_NAMES} more`];
}

/** A pattern as an agent of that dialect wrote it, as the bus takes it. */
function onBus(dialect: Dialect | undefined, pattern: string): string {
  return dialect === 'reference' ? fromReferencePattern(pattern) : pattern;
}

/** The ids of the runtime's own clients: the VS Code window, the dashboard, MCP clients. */
export function clientOwnId(id: string): boolean {
  return id === 'vscode' || id === 'dashboard' || id === 'mcp-client' || id.startsWith('mcp-client.');
}

export function validateAgentId(id: string): string | undefined {
  if (!id) return 'agent id is empty';
  if (RESERVED_IDS.has(id)) return `agent id "${id}" is reserved for the runtime itself`;
  if (!AGENT_ID.test(id) || id.includes('..') || id.endsWith('.')) {
    return `agent id "${id}" is invalid: use letters, digits, "_", "-" and single dots, at most 128 (it becomes part of the topic agent.<id>.*)`;
  }
  return undefined;
}

export interface DirectoryOptions {
  bus: Bus;
  tools: ToolRegistry;
  heartbeatTimeoutMs: number;
  emit: LifecycleEmitter;
  /** Ids declared for the supervisor: never forgotten by the sweep, their process comes back. */
  isSupervised?: (agentId: string) => boolean;
  /** Distinct subscription patterns one agent id may hold ([bridge] max_subscriptions_per_client). Default 1000. */
  maxSubscriptionsPerClient?: number;
  /** Tools one agent id may register ([bridge] max_tools_per_client). Default 1000. */
  maxToolsPerClient?: number;
  /**
   * Whose a tool namespace is, where loom.toml says: a declared agent's id ("victim" for
   * "victim:secret"), or "mcp:<name>" for an MCP server's. No other agent registers tools in it:
   * first come, first served let an agent take "victim:secret" and receive the calls (and
   * arguments) meant for the agent declared as "victim".
   */
  namespaceOwner?: (namespace: string) => string | undefined;
  log: Logger;
}

export const DEFAULT_MAX_SUBSCRIPTIONS_PER_CLIENT = 1000;
export const DEFAULT_MAX_TOOLS_PER_CLIENT = 1000;

function capOption(value: number | undefined, fallback: number, name: string): number {
  const v = value ?? fallback;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1)
    throw new Error(`${name} must be a positive integer, got ${String(value)}`);
  return v;
}

export class AgentDirectory {
  private readonly records = new Map<string, AgentRecord>();
  private readonly pending = new Map<string, PendingCall>();
  /** Ids whose process exits the supervisor reported (besides isSupervised): never forgotten. */
  private readonly supervised = new Set<string>();
  private readonly sweeper: NodeJS.Timeout;
  private readonly maxSubscriptions: number;
  private readonly maxTools: number;
  private readonly linkEndedListeners = new Set<(agentId: string) => void>();

  constructor(private readonly opts: DirectoryOptions) {
    this.maxSubscriptions = capOption(
      opts.maxSubscriptionsPerClient,
      DEFAULT_MAX_SUBSCRIPTIONS_PER_CLIENT,
      'bridge.max_subscriptions_per_client',
    );
    this.maxTools = capOption(opts.maxToolsPerClient, DEFAULT_MAX_TOOLS_PER_CLIENT, 'bridge.max_tools_per_client');
    const every = Math.max(50, Math.min(1000, Math.floor(opts.heartbeatTimeoutMs / 4)));
    this.sweeper = setInterval(() => this.sweep(), every);
    this.sweeper.unref();
  }

  /**
   * Throws an Error with a clear message when the registration is refused; nothing changes then.
   * `holder` names the credential it came with (the bridge checks who may take a live id).
   */
  register(reg: AgentRegistration, holder = 'owner'): void {
    const bad = validateAgentId(reg.agentId);
    if (bad) throw new Error(bad);
    // A pattern given twice is one subscription (record.topics is keyed by pattern).
    const distinct = new Set(reg.topics).size;
    if (distinct > this.maxSubscriptions) {
      throw new Error(
        `registration of "${reg.agentId}" refused: ${distinct} distinct subscription patterns exceed bridge.max_subscriptions_per_client = ${this.maxSubscriptions} (raise it in loom.toml [bridge])`,
      );
    }
    if (reg.tools.length > this.maxTools) {
      throw new Error(
        `registration of "${reg.agentId}" refused: ${reg.tools.length} tools exceed bridge.max_tools_per_client = ${this.maxTools} (raise it in loom.toml [bridge])`,
      );
    }
    const metadataBytes = Object.entries(reg.metadata).reduce(
      (sum, [k, v]) => sum + Buffer.byteLength(k) + Buffer.byteLength(v),
      0,
    );
    if (metadataBytes > MAX_METADATA_BYTES)
      throw new Error(
        `registration of "${reg.agentId}" refused: its metadata is ${metadataBytes} bytes, at most ${MAX_METADATA_BYTES} (keys and values; it is listed in every ListAgents and GetStats answer)`,
      );
    for (const tool of reg.tools) {
      const refused = refuseAgentToolName(reg.agentId, tool.name) ?? this.othersNamespace(reg.agentId, tool.name);
      if (refused) throw new Error(`registration of "${reg.agentId}" refused: ${refused}`);
    }
    for (const topic of reg.topics) {
      try {
        parsePattern(topic);
      } catch (err) {
        throw new Error(`subscribed topic "${topic}" is invalid: ${messageOf(err)}`);
      }
    }
    const existing = this.records.get(reg.agentId);
    const record: AgentRecord = existing ?? {
      id: reg.agentId,
      topics: new Map(),
      tools: [],
      toolsLive: false,
      metadata: {},
      lastHeartbeatMs: Date.now(),
      state: 'starting',
      subs: [],
      companions: [],
      linkWaiters: [],
      holder,
    };
    record.holder = holder;
    this.replaceTools(record, reg.tools);
    record.topics = new Map(reg.topics.map((t) => [t, reg.qos]));
    record.metadata = { ...reg.metadata };
    record.lastHeartbeatMs = Date.now();
    if (record.state === 'disconnected') record.state = 'starting';
    this.records.set(record.id, record);
    if (record.conn) this.resubscribe(record);
    this.opts.emit(record.id, 'registered', {
      state: record.state,
      topics: reg.topics,
      tools: reg.tools.map((t) => t.name),
    });
  }

  private othersNamespace(agentId: string, tool: string): string | undefined {
    // "a__b:x" is agent a__b's own, though its "__" reading names a namespace "a".
    if (tool.startsWith(`${agentId}:`)) return undefined;
    for (const namespace of namespacesOf(tool)) {
      const owner = this.opts.namespaceOwner?.(namespace);
      if (owner === undefined || owner === agentId) continue;
      const whose = owner.startsWith('mcp:')
        ? `the MCP server "${owner.slice(4)}"`
        : `the agent "${owner}" declared in loom.toml`;
      return `tool ${JSON.stringify(tool)} is in the namespace of ${whose}; name it "${agentId}:…" or under a namespace of its own`;
    }
    return undefined;
  }

  /** Binds a live link to the id (registering it bare if unknown) and restores its subscriptions and tools. */
  attach(agentId: string, conn: AgentConnection, holder = 'owner'): void {
    const bad = validateAgentId(agentId);
    if (bad) throw new Error(bad);
    let record = this.records.get(agentId);
    if (!record) {
      this.register({ agentId, topics: [], qos: 'realtime', tools: [], metadata: {} }, holder);
      record = this.records.get(agentId)!;
    }
    record.holder = holder;
    const previous = record.conn;
    record.conn = conn;
    if (previous && previous !== conn && previous.dialect === 'reference' && conn.dialect === 'reference') {
      record.companions.push({ conn: previous, subs: record.subs });
      record.subs = [];
      if (record.companions.length > MAX_COMPANIONS) this.closeOldestCompanion(record);
      this.opts.log.info('another stream shares the agent id (reference dialect: both receive)', {
        agent: agentId,
        streams: record.companions.length + 1,
      });
    } else if (previous && previous !== conn) {
      this.dropSubscriptions(record);
      this.failPending(agentId, `agent ${agentId} reconnected on a new stream`);
      previous.close('replaced', `agent id ${agentId} was taken over by a newer stream`);
      this.opts.emit(agentId, 'replaced', { state: 'connected' });
    }
    record.state = 'connected';
    record.lastHeartbeatMs = Date.now();
    if (!record.toolsLive) this.replaceTools(record, record.tools);
    this.resubscribe(record);
    for (const waiter of record.linkWaiters.splice(0)) waiter.resolve(conn);
    this.opts.log.info('agent connected', {
      agent: agentId,
      topics: firstFew([...record.topics.keys()]),
      tools: firstFew(record.tools.map((t) => t.name)),
    });
    this.opts.emit(agentId, 'connected', { state: 'connected', topics: [...record.topics.keys()] });
  }

  /** Each companion holds a copy of the id's subscriptions: past the cap the oldest goes, as a replaced stream does. */
  private closeOldestCompanion(record: AgentRecord): void {
    const oldest = record.companions.shift()!;
    for (const sub of oldest.subs) sub.unsubscribe();
    oldest.conn.close(
      'replaced',
      `agent id ${record.id} has more than ${MAX_COMPANIONS + 1} streams (reference dialect: all receive); the oldest is closed`,
    );
    this.opts.log.info('the oldest stream sharing the agent id was closed', {
      agent: record.id,
      streams: record.companions.length + 1,
    });
  }

  /** Called when a link ends; ignored when the id has already moved to a newer link. */
  detach(agentId: string, conn: AgentConnection, reason: string): void {
    const record = this.records.get(agentId);
    if (!record) return;
    const companion = record.companions.findIndex((c) => c.conn === conn);
    if (companion >= 0) {
      for (const sub of record.companions[companion].subs) sub.unsubscribe();
      record.companions.splice(companion, 1);
      return;
    }
    if (record.conn !== conn) return;
    const successor = record.companions.pop();
    if (successor) {
      this.dropSubscriptions(record);
      record.conn = successor.conn;
      record.subs = successor.subs;
      this.failPending(agentId, `the stream of agent ${agentId} that had the call ended: ${reason}`);
      this.opts.log.info('agent stream ended; an older stream of the id carries on', { agent: agentId, reason });
      return;
    }
    this.disconnect(record, reason);
  }

  /**
   * The agent's process has ended, so its link has too, whatever its stream has yet to report:
   * without this a restarted process would look connected through its predecessor's link.
   */
  processExited(agentId: string, how: string): void {
    this.supervised.add(agentId);
    const record = this.records.get(agentId);
    if (!record?.conn) return;
    this.disconnect(record, `its process ${how}`);
  }

  /**
   * Tells `listener` the id of every link that ends (disconnected, not taken over by a newer
   * stream): what was started for that link (an ad-hoc agent) ends with it. Returns the undo.
   */
  onLinkEnded(listener: (agentId: string) => void): () => void {
    this.linkEndedListeners.add(listener);
    return () => this.linkEndedListeners.delete(listener);
  }

  /** The holder of the id while it is live (registered or connected), else undefined. */
  liveHolder(agentId: string): string | undefined {
    const record = this.records.get(agentId);
    return record && record.state !== 'disconnected' ? record.holder : undefined;
  }

  /** Any sign of life (a heartbeat, a message on the stream). Returns false for an unknown id. */
  touch(agentId: string): boolean {
    const record = this.records.get(agentId);
    if (!record) return false;
    record.lastHeartbeatMs = Date.now();
    return true;
  }

  /**
   * A heartbeat that names no agent (the reference client's unary Heartbeat is empty) counts for
   * the agents whose stream runs on the same connection. Returns how many it kept alive.
   */
  touchPeer(peer: string): number {
    let touched = 0;
    for (const record of this.records.values()) {
      if (record.conn?.peer !== peer) continue;
      record.lastHeartbeatMs = Date.now();
      touched++;
    }
    return touched;
  }

  /**
   * Adds a subscription that outlives a reconnect. A pattern the agent already holds is not
   * subscribed twice: with the same QoS its subscription is answered again, with another QoS it
   * is replaced. Throws for an unknown agent, a bad pattern, or a new pattern beyond the cap.
   */
  subscribe(agentId: string, pattern: string, qos: QoS): { subscriptionId: string } {
    const record = this.mustGet(agentId);
    const held = record.subs.find((s) => s.pattern === onBus(record.conn?.dialect, pattern));
    if (held && held.qos === qos) return { subscriptionId: held.id };
    if (!record.topics.has(pattern) && record.topics.size >= this.maxSubscriptions) {
      throw new Error(
        `subscription to "${pattern}" refused: agent ${agentId} already holds ${record.topics.size} subscriptions, the most bridge.max_subscriptions_per_client = ${this.maxSubscriptions} allows (raise it in loom.toml [bridge])`,
      );
    }
    parsePattern(pattern); // a bad pattern throws before the one it would replace is removed
    let subscriptionId = '';
    if (record.conn) {
      if (held) this.unsubscribe(agentId, { pattern });
      const sub = this.subscribeFor(record, record.conn, pattern, qos);
      record.subs.push(sub);
      subscriptionId = sub.id;
    }
    record.topics.set(pattern, qos);
    return { subscriptionId };
  }

  /** Removes by pattern (every subscription of the agent with it) or by subscription id. */
  unsubscribe(agentId: string, by: { pattern?: string; subscriptionId?: string }): number {
    const record = this.mustGet(agentId);
    const dialect = record.conn?.dialect;
    const doomed = record.subs.filter((s) =>
      by.subscriptionId ? s.id === by.subscriptionId : s.pattern === onBus(dialect, by.pattern!),
    );
    for (const sub of doomed) sub.unsubscribe();
    record.subs = record.subs.filter((s) => !doomed.includes(s));
    const gone = new Set(by.pattern ? [onBus(dialect, by.pattern)] : doomed.map((s) => s.pattern));
    let forgotten = 0;
    for (const p of [...record.topics.keys()]) {
      const bus = onBus(dialect, p);
      if (gone.has(bus) && !record.subs.some((s) => s.pattern === bus) && record.topics.delete(p)) forgotten++;
    }
    return Math.max(doomed.length, forgotten);
  }

  /** A tool_result arrived from `agentId`. Returns false when no call with that id is waiting for this agent. */
  resolveToolCall(agentId: string, callId: string, answer: ProviderAnswer): boolean {
    const call = this.pending.get(callId);
    if (!call || call.agentId !== agentId) return false;
    this.pending.delete(callId);
    let output: unknown;
    try {
      output = unwrapToolResult(answer);
    } catch (err) {
      call.reject(err as Error);
      return true;
    }
    call.resolve(output);
    return true;
  }

  get(agentId: string): AgentInfoView | undefined {
    const record = this.records.get(agentId);
    return record && this.view(record);
  }

  list(): AgentInfoView[] {
    return [...this.records.values()].map((r) => this.view(r));
  }

  /**
   * Marks silent agents disconnected and forgets unsupervised ones disconnected for longer than
   * the retention. Runs on a timer; public so the sweep can be forced.
   */
  sweep(now = Date.now()): void {
    const retentionMs = RETAIN_DISCONNECTED_TIMEOUTS * this.opts.heartbeatTimeoutMs;
    const kept: AgentRecord[] = [];
    for (const record of this.records.values()) {
      if (record.state === 'disconnected') {
        if (this.supervised.has(record.id) || this.opts.isSupervised?.(record.id)) continue;
        if (now - (record.disconnectedAtMs ?? now) > retentionMs) this.forget(record.id);
        else kept.push(record);
        continue;
      }
      if (now - record.lastHeartbeatMs <= this.opts.heartbeatTimeoutMs) continue;
      const reason = `no heartbeat or message for ${now - record.lastHeartbeatMs} ms (timeout ${this.opts.heartbeatTimeoutMs} ms)`;
      // Disconnect first: closing the link reports its end, which must find the agent already gone.
      const conn = record.conn;
      this.disconnect(record, reason, 'heartbeat_timeout');
      conn?.close('heartbeat_timeout', reason);
    }
    if (kept.length > MAX_REMEMBERED_DISCONNECTED) {
      kept.sort((a, b) => (a.disconnectedAtMs ?? 0) - (b.disconnectedAtMs ?? 0));
      for (const record of kept.slice(0, kept.length - MAX_REMEMBERED_DISCONNECTED))
        this.forget(record.id, { beyond: MAX_REMEMBERED_DISCONNECTED });
    }
  }

  dispose(): void {
    clearInterval(this.sweeper);
    for (const record of this.records.values()) {
      const conn = record.conn;
      this.disconnect(record, 'runtime stopping', 'shutdown');
      conn?.close('shutdown', 'the runtime is stopping');
    }
  }

  /** `why`: the count cap that pushed it out, else the retention ran out. */
  private forget(agentId: string, why?: { beyond: number }): void {
    this.records.delete(agentId);
    this.opts.log.info('disconnected agent forgotten', {
      agent: agentId,
      ...(why ?? { afterMs: RETAIN_DISCONNECTED_TIMEOUTS * this.opts.heartbeatTimeoutMs }),
    });
  }

  /** `code`: how streams sharing the id (reference dialect) are told why they end with it. */
  private disconnect(record: AgentRecord, reason: string, code = 'disconnected'): void {
    const wasLive = record.state !== 'disconnected';
    for (const companion of record.companions.splice(0)) {
      for (const sub of companion.subs) sub.unsubscribe();
      companion.conn.close(code, reason);
    }
    this.dropSubscriptions(record);
    this.opts.tools.unregisterOwner(record.id);
    record.toolsLive = false;
    record.conn = undefined;
    record.state = 'disconnected';
    this.failPending(record.id, `agent ${record.id} disconnected: ${reason}`);
    for (const waiter of record.linkWaiters.splice(0))
      waiter.reject(
        new ToolError('unavailable', `agent ${record.id} disconnected before its stream opened: ${reason}`),
      );
    if (!wasLive) return;
    for (const listener of this.linkEndedListeners) listener(record.id);
    record.disconnectedAtMs = Date.now();
    this.opts.log.info('agent disconnected', { agent: record.id, reason });
    this.opts.emit(record.id, 'disconnected', { state: 'disconnected', reason });
  }

  private resubscribe(record: AgentRecord): void {
    this.dropSubscriptions(record);
    const conn = record.conn!;
    for (const [pattern, qos] of record.topics) {
      try {
        record.subs.push(this.subscribeFor(record, conn, pattern, qos));
      } catch (err) {
        record.topics.delete(pattern);
        this.opts.log.warn('subscription refused', { agent: record.id, pattern, error: messageOf(err) });
        conn.close('invalid_topic', `cannot subscribe to "${pattern}": ${messageOf(err)}`);
      }
    }
  }

  /** `pattern` as the agent wrote it; the bus takes it in Loom's dialect. */
  private subscribeFor(record: AgentRecord, conn: AgentConnection, pattern: string, qos: QoS): Subscription {
    return this.opts.bus.subscribe(onBus(conn.dialect, pattern), conn.handlerFor(qos, pattern), {
      qos,
      subscriber: record.id,
    });
  }

  private dropSubscriptions(record: AgentRecord): void {
    for (const sub of record.subs) sub.unsubscribe();
    record.subs = [];
  }

  private replaceTools(record: AgentRecord, tools: AgentRecord['tools']): void {
    const previous = record.toolsLive ? record.tools : [];
    this.opts.tools.unregisterOwner(record.id);
    try {
      for (const tool of tools) this.registerTool(record.id, tool);
    } catch (err) {
      this.opts.tools.unregisterOwner(record.id);
      for (const tool of previous) this.registerTool(record.id, tool);
      throw err;
    }
    record.tools = tools;
    record.toolsLive = true;
  }

  private registerTool(agentId: string, tool: AgentRecord['tools'][number]): void {
    this.opts.tools.register({ ...tool, provider: 'grpc', owner: agentId }, (args, ctx) =>
      this.route(
        agentId,
        {
          id: randomUUID(),
          name: tool.name,
          arguments: JSON.stringify(args),
          headers: { ...ctx.headers, 'loom.caller': ctx.caller },
          timeoutMs: ctx.timeoutMs,
          correlationId: correlationId({ metadata: ctx.headers }) ?? ctx.callId,
        },
        ctx.signal,
      ),
    );
  }

  private async route(agentId: string, call: OutgoingToolCall, signal: AbortSignal): Promise<unknown> {
    const conn = this.records.get(agentId)?.conn ?? (await this.linkOf(agentId, call, signal));
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        this.pending.delete(call.id);
        conn.cancelToolCall(call.id);
        reject(new ToolError('timeout', `agent ${agentId} did not answer ${call.name} within ${call.timeoutMs} ms`));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      const settle =
        <T>(fn: (v: T) => void) =>
        (v: T) => {
          signal.removeEventListener('abort', onAbort);
          fn(v);
        };
      this.pending.set(call.id, { agentId, resolve: settle(resolve), reject: settle(reject) });
      try {
        conn.sendToolCall(call);
      } catch (err) {
        this.pending.delete(call.id);
        settle(reject)(err);
      }
    });
  }

  /**
   * The stream of an agent that has registered (so its tools are listed) but not yet opened it:
   * a call in that moment waits for it, within the call's time, rather than failing.
   */
  private linkOf(agentId: string, call: OutgoingToolCall, signal: AbortSignal): Promise<AgentConnection> {
    const record = this.records.get(agentId);
    if (record?.state !== 'starting')
      return Promise.reject(
        new ToolError('unavailable', `agent ${agentId}, which provides ${call.name}, is not connected`),
      );
    return new Promise((resolve, reject) => {
      const waiter = {
        resolve: (conn: AgentConnection) => {
          signal.removeEventListener('abort', onAbort);
          resolve(conn);
        },
        reject: (err: Error) => {
          signal.removeEventListener('abort', onAbort);
          reject(err);
        },
      };
      const onAbort = () => {
        record.linkWaiters = record.linkWaiters.filter((w) => w !== waiter);
        reject(
          new ToolError(
            'timeout',
            `agent ${agentId} registered ${call.name} but did not open its stream within ${call.timeoutMs} ms`,
          ),
        );
      };
      signal.addEventListener('abort', onAbort, { once: true });
      record.linkWaiters.push(waiter);
    });
  }

  private failPending(agentId: string, message: string): void {
    for (const [id, call] of this.pending) {
      if (call.agentId !== agentId) continue;
      this.pending.delete(id);
      call.reject(new ToolError('unavailable', message));
    }
  }

  private mustGet(agentId: string): AgentRecord {
    const record = this.records.get(agentId);
    if (!record)
      throw new Error(`unknown agent "${agentId}": register it first (RegisterAgent) or open its event stream`);
    return record;
  }

  private view(record: AgentRecord): AgentInfoView {
    return {
      agentId: record.id,
      state: record.state,
      topics: [...record.topics.keys()],
      tools: record.tools.map((t) => t.name),
      metadata: record.metadata,
      lastHeartbeatMs: record.lastHeartbeatMs,
      pid: 0,
      restarts: 0,
      supervised: false,
      lastError: '',
    };
  }
}
