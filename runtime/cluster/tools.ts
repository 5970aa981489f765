// Tools across runtimes. A runtime serves each tool it offers ([cluster] offer_tools) on the tool's
// subject in a queue group named after the tool, so replicas on several runtimes share the calls;
// the call runs through the owner's registry, so the owner's policy (allow/ask/deny, sandbox)
// decides. Other runtimes register the tools listed in presence as their own entries, owned by
// "cluster", whose handler is a NATS request.
import type { NatsConnection, Subscription as NatsSubscription } from '@nats-io/transport-node';
import {
  CLUSTER_TOOL_OWNER,
  loomNamespaceOf,
  ToolError,
  type Disposable,
  type ToolDefinition,
  type ToolErrorCode,
  type ToolOutcome,
  type ToolRegistry,
} from '../tools';
import type { Logger } from '../log';
import { messageOf } from '../contract/errors';
import type { Names } from './subjects';
import type { PresenceEntry } from './presence';

export const CLUSTER_OWNER = CLUSTER_TOOL_OWNER;

interface WireCall {
  arguments: Record<string, unknown> | string;
  caller: string;
  node: string;
  timeoutMs: number;
  correlationId?: string;
}

type WireOutcome =
  | { status: 'ok'; output: unknown; node: string }
  | {
      status: 'error';
      error: { code: ToolErrorCode; message: string; details?: Record<string, string> };
      node: string;
    };

export function offered(patterns: string[], name: string): boolean {
  return patterns.some((p) => p === name || p === '*' || (p.endsWith(':*') && name.startsWith(p.slice(0, -1))));
}

export class ClusterTools {
  private served = new Map<string, NatsSubscription>();
  private remote = new Map<string, { disposable: Disposable; nodes: string[] }>();
  private nc?: NatsConnection;
  private entries: PresenceEntry[] = [];
  private syncing = false;
  private readonly watcher: Disposable;

  constructor(
    private readonly tools: ToolRegistry,
    private readonly node: string,
    private readonly offer: string[],
    private readonly n: Names,
    private readonly defaultTimeoutMs: number,
    private readonly log: Logger,
    private readonly changed: () => void,
  ) {
    this.watcher = tools.onDidChangeTools(() => {
      this.serve();
      // A local tool that took a remote one's name, and left again: the remote one comes back.
      this.sync(this.entries);
      this.changed();
    });
  }

  /** Our tools that the cluster may call (never a tool we know only from another runtime). */
  offeredTools(): PresenceEntry['tools'] {
    if (this.offer.length === 0) return [];
    return this.tools
      .list()
      .filter((t) => t.owner !== CLUSTER_OWNER && offered(this.offer, t.name))
      .map((t) => ({ name: t.name, description: t.description, parametersSchema: t.parametersSchema }));
  }

  attach(nc: NatsConnection): void {
    this.nc = nc;
    this.serve();
  }

  /** Keeps one queue subscription per offered tool, following the registry. */
  private serve(): void {
    const nc = this.nc;
    if (!nc) return;
    const want = new Set(this.offeredTools().map((t) => t.name));
    for (const [name, sub] of this.served)
      if (!want.has(name)) {
        sub.unsubscribe();
        this.served.delete(name);
      }
    for (const name of want) {
      if (this.served.has(name)) continue;
      const subject = this.n.tool(name);
      this.served.set(
        name,
        nc.subscribe(subject, {
          queue: subject,
          callback: (err, msg) => {
            if (err) return;
            void this.handle(name, msg.data).then((out) => msg.respond(Buffer.from(JSON.stringify(out), 'utf8')));
          },
        }),
      );
    }
  }

  private async handle(name: string, data: Uint8Array): Promise<WireOutcome> {
    let call: WireCall;
    try {
      call = JSON.parse(Buffer.from(data).toString('utf8')) as WireCall;
    } catch (err) {
      return {
        status: 'error',
        error: { code: 'invalid_arguments', message: `the call to ${name} is not JSON: ${messageOf(err)}` },
        node: this.node,
      };
    }
    const outcome: ToolOutcome = await this.tools.call({
      name,
      arguments: call.arguments,
      caller: `${call.caller}@${call.node}`,
      timeoutMs: call.timeoutMs,
      ...(call.correlationId ? { correlationId: call.correlationId } : {}),
    });
    return outcome.status === 'ok'
      ? { status: 'ok', output: outcome.output, node: this.node }
      : { status: 'error', error: outcome.error, node: this.node };
  }

  /** Registers the tools other runtimes offer, and withdraws those whose runtimes left. */
  sync(entries: PresenceEntry[]): void {
    this.entries = entries;
    if (this.syncing) return; // a registration below calls back here
    this.syncing = true;
    try {
      this.syncNow(entries);
    } finally {
      this.syncing = false;
    }
  }

  private syncNow(entries: PresenceEntry[]): void {
    const byName = new Map<string, { def: PresenceEntry['tools'][number]; nodes: string[] }>();
    for (const e of entries)
      for (const t of e.tools) {
        const known = byName.get(t.name);
        if (known) known.nodes.push(e.node);
        else byName.set(t.name, { def: t, nodes: [e.node] });
      }
    for (const [name, r] of this.remote) {
      const next = byName.get(name);
      // Gone from the cluster, or a tool of this runtime took the name (our own replica answers here).
      if (!next || this.tools.get(name)?.owner !== CLUSTER_OWNER) {
        r.disposable.dispose();
        this.remote.delete(name);
      } else r.nodes = next.nodes;
    }
    for (const [name, { def, nodes }] of byName) {
      if (this.remote.has(name) || this.tools.get(name)) continue;
      // A name in Loom's own namespaces (editor:openFile, fs__write) is this runtime's to give,
      // never another's: offered by a peer, it would stand in for the window's or a built-in.
      if (loomNamespaceOf(name)) {
        this.log.debug("a tool another runtime offers is in one of Loom's own namespaces: not listed here", {
          tool: name,
        });
        continue;
      }
      const definition: ToolDefinition = {
        name,
        description: def.description,
        parametersSchema: def.parametersSchema,
        provider: 'grpc',
        owner: CLUSTER_OWNER,
        metadata: { nodes: nodes.join(',') },
      };
      try {
        const disposable = this.tools.register(definition, (args, ctx) =>
          this.callRemote(name, args, ctx.caller, ctx.timeoutMs, ctx.signal),
        );
        this.remote.set(name, { disposable, nodes });
      } catch (err) {
        this.log.warn('a tool another runtime offers could not be registered here', {
          tool: name,
          error: messageOf(err),
        });
      }
    }
  }

  private async callRemote(
    name: string,
    args: Record<string, unknown>,
    caller: string,
    timeoutMs: number,
    signal: AbortSignal,
  ): Promise<unknown> {
    const nc = this.nc;
    if (!nc || nc.isClosed())
      throw new ToolError('unavailable', `${name} is offered by another runtime, and NATS is not reachable`);
    const body: WireCall = { arguments: args, caller, node: this.node, timeoutMs: timeoutMs || this.defaultTimeoutMs };
    let reply;
    try {
      reply = await nc.request(this.n.tool(name), Buffer.from(JSON.stringify(body), 'utf8'), {
        timeout: timeoutMs || this.defaultTimeoutMs,
      });
    } catch (err) {
      if (signal.aborted) throw new ToolError('timeout', `${name} did not answer in time`);
      const text = messageOf(err);
      if (/no responders|503/i.test(text)) throw new ToolError('unavailable', `no runtime serves ${name} any more`);
      if (/timeout/i.test(text))
        throw new ToolError('timeout', `${name} (on another runtime) did not answer within ${timeoutMs} ms`);
      throw new ToolError('unavailable', `${name} (on another runtime) could not be called: ${text}`);
    }
    const out = JSON.parse(Buffer.from(reply.data).toString('utf8')) as WireOutcome;
    if (out.status === 'ok') return out.output;
    throw new ToolError(out.error.code, out.error.message, { ...(out.error.details ?? {}), node: out.node });
  }

  close(): void {
    this.watcher.dispose();
    for (const sub of this.served.values()) sub.unsubscribe();
    this.served.clear();
    for (const r of this.remote.values()) r.disposable.dispose();
    this.remote.clear();
  }
}
