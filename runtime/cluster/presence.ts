// Who is in the cluster: each runtime puts its entry (node, offered tools, agents) into a JetStream
// KV bucket every heartbeat; the bucket's TTL removes the entry of a runtime that died, and a
// clean stop deletes it at once. Entries older than the TTL are ignored even before the server
// purges them, on the server's clock: an entry is gone when it was written more than the TTL
// before our own latest write that the watch brought back. A watch that lags (a loaded machine)
// delays ours and the others' alike, so it declares nobody gone; one that stalls brings none of
// ours back, so nobody is declared gone while it is blind.
import type { KV } from '@nats-io/kv';
import type { ToolDefinition } from '../tools';
import type { Logger } from '../log';
import { messageOf } from '../contract/errors';
import { MAX_NODES, MAX_TOOLS_PER_NODE, RefusalLog } from './limits';

/**
 * What the cluster needs of an agent's view (the agents part's AgentInfoView is one): the rest
 * travels as it is. Declared here, so this part does not import another service.
 */
export interface AgentView {
  agentId: string;
  state: string;
  supervised: boolean;
}

export interface PresenceEntry {
  node: string;
  tools: Pick<ToolDefinition, 'name' | 'description' | 'parametersSchema'>[];
  agents: AgentView[];
  /** When the entry was written (the writer's clock; the KV's own time decides liveness). */
  atMs: number;
}

/** Most agents one entry may list, and the longest text it may carry in one field (tools: MAX_TOOLS_PER_NODE). */
const MAX_ITEMS = 10_000;
const MAX_TEXT = 65_536;

const text = (v: unknown, fallback = ''): string => (typeof v === 'string' && v.length <= MAX_TEXT ? v : fallback);
const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
const strings = (v: unknown): string[] =>
  Array.isArray(v) ? v.filter((s) => typeof s === 'string').slice(0, MAX_ITEMS) : [];
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The entry a value read from the bucket under `key` is, with only the fields and types this
 * runtime's own entries have (what GetStats, ListAgents and the tool list pass on); undefined when
 * it is not one. A tool or agent that is not well-formed is left out of it.
 */
export function presenceEntry(value: unknown, key: string): PresenceEntry | undefined {
  if (!isObject(value) || value.node !== key || !Array.isArray(value.tools) || !Array.isArray(value.agents))
    return undefined;
  const tools = value.tools
    .filter(
      (t): t is Record<string, unknown> => isObject(t) && typeof t.name === 'string' && isObject(t.parametersSchema),
    )
    // Each becomes a registration here, and listing them is someone else's work at each change.
    .slice(0, MAX_TOOLS_PER_NODE)
    .map((t) => ({
      name: text(t.name),
      description: text(t.description),
      parametersSchema: t.parametersSchema as Record<string, unknown>,
    }))
    .filter((t) => t.name !== '');
  const agents = value.agents
    .filter((a): a is Record<string, unknown> => isObject(a) && typeof a.agentId === 'string' && a.agentId !== '')
    .slice(0, MAX_ITEMS)
    .map((a) => ({
      agentId: text(a.agentId),
      state: text(a.state, 'unknown'),
      supervised: a.supervised === true,
      topics: strings(a.topics),
      tools: strings(a.tools),
      metadata: isObject(a.metadata)
        ? Object.fromEntries(
            Object.entries(a.metadata).filter(([, v]) => typeof v === 'string' && v.length <= MAX_TEXT),
          )
        : {},
      lastHeartbeatMs: num(a.lastHeartbeatMs),
      pid: num(a.pid),
      restarts: num(a.restarts),
      lastError: text(a.lastError),
      ...(a.adHoc === true ? { adHoc: true } : {}),
      ...(a.isolated === true ? { isolated: true } : {}),
    }))
    .filter((a) => a.agentId !== '');
  return { node: key, tools, agents, atMs: num(value.atMs) };
}

export class Presence {
  /** The other runtimes' entries, with when each was written (the server's clock) and what check() compares of it. */
  private seen = new Map<string, { entry: PresenceEntry; writtenMs: number; signature: string }>();
  /** When our own latest write that came back through the watch was written (the server's clock); 0 = none yet. */
  private ownWrittenMs = 0;
  private timer?: NodeJS.Timeout;
  private watcher?: { stop(): void };
  private listeners: (() => void)[] = [];
  private lastSignature = '';
  private stopped = false;
  /** When our own write last came back through the watch: a stalled watch (a NATS node died) says nothing of others. */
  private ownSeenMs = Date.now();
  private watchStartedMs = Date.now();
  private readonly refusals: RefusalLog;

  constructor(
    private readonly kv: KV,
    private readonly node: string,
    private readonly ttlMs: number,
    private readonly heartbeatMs: number,
    private readonly own: () => PresenceEntry,
    private readonly log: Logger,
  ) {
    this.refusals = new RefusalLog(log);
  }

  start(): void {
    void this.watch();
    const beat = async () => {
      await this.beat().catch((err) => this.log.debug('presence heartbeat not written', { error: messageOf(err) }));
      if (!this.stopped) this.timer = setTimeout(() => void beat(), this.heartbeatMs);
    };
    void beat();
  }

  /** One watch for the whole life: every runtime's puts and deletes as they happen (started again when it breaks). */
  private async watch(): Promise<void> {
    while (!this.stopped) {
      try {
        const it = await this.kv.watch();
        this.watcher = it;
        this.watchStartedMs = Date.now();
        for await (const e of it) {
          if (e.key === this.node) {
            this.ownSeenMs = Date.now();
            if (e.operation === 'PUT') this.ownWrittenMs = Math.max(this.ownWrittenMs, e.created.getTime());
          } else if (e.operation !== 'PUT') this.seen.delete(e.key);
          else {
            let value: { tools?: unknown } | undefined;
            let entry: PresenceEntry | undefined;
            try {
              value = e.json<{ tools?: unknown }>();
              entry = presenceEntry(value, e.key);
            } catch {
              // not JSON: not an entry of ours
            }
            // Anyone holding the deployment's credentials can write the bucket: an entry that is
            // not one is left out, and so is what an earlier put of that key said.
            if (entry) this.keep(e.key, entry, e.created.getTime(), value?.tools);
            else {
              this.seen.delete(e.key);
              this.log.debug('a presence entry that is not one was ignored', { key: e.key });
            }
          }
          this.check();
        }
      } catch (err) {
        if (!this.stopped) this.log.debug('presence watch restarts', { error: messageOf(err) });
      }
      if (!this.stopped) await new Promise((r) => setTimeout(r, 500));
    }
  }

  /** Follows another runtime's entry, within MAX_NODES runtimes; says what it left out. */
  private keep(key: string, entry: PresenceEntry, writtenMs: number, offered: unknown): void {
    if (!this.seen.has(key) && this.seen.size >= MAX_NODES) {
      // Entries past the TTL stay until a delete that a server's expiry never writes: room first.
      const clock = this.ownWrittenMs || Date.now();
      for (const [k, s] of this.seen) if (clock - s.writtenMs > this.ttlMs) this.seen.delete(k);
      if (this.seen.size >= MAX_NODES) {
        this.refusals.warn('nodes', `more runtimes than this one follows (${MAX_NODES}): one is left out`, {
          node: key,
          limit: MAX_NODES,
        });
        return;
      }
    }
    if (Array.isArray(offered) && offered.length > MAX_TOOLS_PER_NODE)
      this.refusals.warn(
        'tools',
        `a runtime offers more tools than this one lists (${MAX_TOOLS_PER_NODE}): the rest are left out`,
        {
          node: key,
          offered: offered.length,
          limit: MAX_TOOLS_PER_NODE,
        },
      );
    const signature = JSON.stringify([
      key,
      entry.tools.map((t) => t.name),
      entry.agents.map((a) => [a.agentId, a.state]),
    ]);
    this.seen.set(key, { entry, writtenMs, signature });
  }

  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  /** The live runtimes but this one: an entry not rewritten within the TTL is gone (a dead runtime says no goodbye). */
  nodes(): PresenceEntry[] {
    return this.live().map((s) => s.entry);
  }

  private live() {
    // Before our first write comes back, the local clock stands in (a dead runtime's last entry, replayed by a new watch, is old already).
    const clock = this.ownWrittenMs || Date.now();
    return [...this.seen.values()].filter((s) => clock - s.writtenMs <= this.ttlMs);
  }

  private check(): void {
    // Each entry's part is made once, when it is put: this runs at every put of every runtime.
    const signature = this.live()
      .map((s) => s.signature)
      .join('\n');
    if (signature === this.lastSignature) return;
    this.lastSignature = signature;
    for (const l of this.listeners) {
      try {
        l();
      } catch (err) {
        this.log.warn('a presence listener failed', { error: messageOf(err) });
      }
    }
  }

  /** Writes our entry now (after our tools or agents changed, and every heartbeat). */
  async beat(): Promise<void> {
    this.check(); // expiry is noticed here too
    if (this.stopped) return;
    // A watch that no longer brings our own writes back is started again (the loop in watch()).
    const now = Date.now();
    if (now - this.ownSeenMs > this.ttlMs / 2 && now - this.watchStartedMs > this.ttlMs / 2) this.watcher?.stop();
    await this.kv.put(this.node, JSON.stringify(this.own()));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.watcher?.stop();
    await this.kv.delete(this.node).catch(() => undefined);
  }
}
