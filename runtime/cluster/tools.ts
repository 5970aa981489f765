// Tools across runtimes. A runtime serves each tool it offers ([cluster] offer_tools) on the tool's
// subject in a queue group named after the tool, so replicas on several runtimes share the calls;
// the call runs through the owner's registry, so the owner's policy (allow/ask/deny, sandbox)
// decides. Other runtimes register the tools listed in presence as their own entries, owned by
// "cluster", whose handler is a NATS request.
import type { Msg, NatsConnection, Subscription as NatsSubscription } from '@nats-io/transport-node';
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
import { MAX_ID_BYTES, MAX_NAME_BYTES, MAX_REMOTE_CALLS, RefusalLog, tooLong } from './limits';

export const CLUSTER_OWNER = CLUSTER_TOOL_OWNER;

interface WireCall {
  arguments: Record<string, unknown> | string;
  /** The calling agent and runtime, as the caller says: a claim nobody checked (see README, "Tools"). */
  caller: string;
  node: string;
  timeoutMs: number;
  correlationId?: string;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The call a request's body is, or what is wrong with it (it comes from anyone who reaches NATS). */
export function wireCall(body: unknown): WireCall | string {
  if (!isObject(body))
    return `the body is ${body === null ? 'null' : Array.isArray(body) ? 'an array' : `a ${typeof body}`}, not an object`;
  const { arguments: args, caller, node, timeoutMs, correlationId } = body;
  if (!isObject(args) && typeof args !== 'string') return '"arguments" must be an object or a JSON string';
  for (const [field, value] of [
    ['caller', caller],
    ['node', node],
  ] as const)
    if (typeof value !== 'string' || value === '' || tooLong(value, MAX_ID_BYTES))
      return `"${field}" must be a string of 1 to ${MAX_ID_BYTES} bytes`;
  if (timeoutMs !== undefined && (typeof timeoutMs !== 'number' || !Number.isFinite(timeoutMs) || timeoutMs < 0))
    return '"timeoutMs" must be a number of milliseconds';
  if (correlationId !== undefined && (typeof correlationId !== 'string' || tooLong(correlationId, MAX_NAME_BYTES)))
    return `"correlationId" must be a string of at most ${MAX_NAME_BYTES} bytes`;
  return {
    arguments: args,
    caller: caller as string,
    node: node as string,
    timeoutMs: (timeoutMs as number | undefined) ?? 0,
    ...(correlationId ? { correlationId: correlationId as string } : {}),
  };
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
  /** Each other runtime's tool names as last synced: a presence change that leaves them alone costs no sync. */
  private toolSets = new Map<string, string>();
  private syncing = false;
  /**
   * A sync registered or withdrew remote tools: the registry's next notice (it tells once per
   * burst, after the code that made the changes) is that sync's own, which changes nothing we offer.
   */
  private ownNotice = false;
  /** Calls from other runtimes running here (each held its answer, its arguments and its output in memory). */
  private running = 0;
  private readonly refusals: RefusalLog;
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
    this.refusals = new RefusalLog(log);
    this.watcher = tools.onDidChangeTools(() => {
      // Registrations of sync() change nothing we offer: without this each sync was followed by a
      // forced one over every peer's tools and a rewrite of our presence entry.
      if (this.ownNotice) {
        this.ownNotice = false;
        return;
      }
      this.serve();
      // A local tool that took a remote one's name, and left again: the remote one comes back.
      this.sync(this.entries, true);
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
            if (this.running >= MAX_REMOTE_CALLS) {
              this.refusals.warn('busy', 'calls from other runtimes refused: too many are running here', {
                tool: name,
                running: this.running,
                limit: MAX_REMOTE_CALLS,
              });
              return this.answer(
                name,
                msg,
                this.error(
                  'unavailable',
                  `${this.node} is busy: ${MAX_REMOTE_CALLS} calls from other runtimes are running there (the limit), try again later`,
                  { reason: 'busy', limit: String(MAX_REMOTE_CALLS) },
                ),
              );
            }
            this.running++;
            void this.handle(name, msg.data)
              .catch((e: unknown) => this.error('failed', `the call to ${name} failed: ${messageOf(e)}`))
              .then((out) => this.answer(name, msg, out))
              .finally(() => this.running--);
          },
        }),
      );
    }
  }

  private error(code: ToolErrorCode, message: string, details?: Record<string, string>): WireOutcome {
    return { status: 'error', error: { code, message, ...(details ? { details } : {}) }, node: this.node };
  }

  /**
   * Sends an outcome back; one too large for NATS (the server's max_payload) becomes an error
   * saying so, instead of a publish that throws and a caller that waits for its timeout.
   */
  private answer(name: string, msg: Msg, out: WireOutcome): void {
    const max = this.nc?.info?.max_payload ?? Infinity;
    let data: Buffer;
    try {
      data = Buffer.from(JSON.stringify(out), 'utf8');
    } catch (err) {
      data = Buffer.from(JSON.stringify(this.error('failed', `the output of ${name} is not JSON: ${messageOf(err)}`)));
    }
    if (data.byteLength > max)
      data = Buffer.from(
        JSON.stringify(
          this.error(
            'failed',
            `the answer of ${name} is ${data.byteLength} bytes, more than NATS carries (max_payload ${max} bytes): ask for less`,
            { reason: 'too_large', limit: String(max) },
          ),
        ),
        'utf8',
      );
    try {
      msg.respond(data);
    } catch (err) {
      this.log.debug('a tool call from another runtime could not be answered', { tool: name, error: messageOf(err) });
    }
  }

  private async handle(name: string, data: Uint8Array): Promise<WireOutcome> {
    let body: unknown;
    try {
      body = JSON.parse(Buffer.from(data).toString('utf8'));
    } catch (err) {
      return this.error('invalid_arguments', `the call to ${name} is not JSON: ${messageOf(err)}`);
    }
    const call = wireCall(body);
    if (typeof call === 'string') return this.error('invalid_arguments', `the call to ${name} is malformed: ${call}`);
    const outcome: ToolOutcome = await this.tools.call({
      name,
      arguments: call.arguments,
      // Always with "@": the agents part tells a call from elsewhere by it (runtime/agents/tools.ts).
      caller: `${call.caller}@${call.node}`,
      ...(call.timeoutMs > 0 ? { timeoutMs: call.timeoutMs } : {}),
      ...(call.correlationId ? { correlationId: call.correlationId } : {}),
    });
    return outcome.status === 'ok'
      ? { status: 'ok', output: outcome.output, node: this.node }
      : this.error(outcome.error.code, outcome.error.message, outcome.error.details);
  }

  /**
   * Registers the tools other runtimes offer, and withdraws those whose runtimes left. Unless
   * `force`d (a local tool came or went), nothing is done when no runtime's tool names changed:
   * presence changes with every agent that starts or stops.
   */
  sync(entries: PresenceEntry[], force = false): void {
    this.entries = entries;
    if (this.syncing) return; // a registration below calls back here
    const toolSets = new Map(entries.map((e) => [e.node, e.tools.map((t) => t.name).join('\n')]));
    const same =
      toolSets.size === this.toolSets.size && [...toolSets].every(([node, set]) => this.toolSets.get(node) === set);
    if (same && !force) return;
    this.toolSets = toolSets;
    this.syncing = true;
    try {
      if (this.syncNow(entries)) this.ownNotice = true;
    } finally {
      this.syncing = false;
    }
  }

  /** Brings the remote tools in line with `entries`; whether it registered or withdrew any. */
  private syncNow(entries: PresenceEntry[]): boolean {
    let touched = false;
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
        if (this.tools.get(name)?.owner === CLUSTER_OWNER) touched = true; // else a local tool holds the name
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
        touched = true;
      } catch (err) {
        this.log.warn('a tool another runtime offers could not be registered here', {
          tool: name,
          error: messageOf(err),
        });
      }
    }
    return touched;
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
    if (out?.status === 'ok') return out.output;
    if (out?.status !== 'error' || !isObject(out.error) || typeof out.error.message !== 'string')
      throw new ToolError('failed', `${name} (on another runtime) answered with something that is not an outcome`);
    throw new ToolError(out.error.code, out.error.message, { ...(out.error.details ?? {}), node: String(out.node) });
  }

  close(): void {
    this.watcher.dispose();
    for (const sub of this.served.values()) sub.unsubscribe();
    this.served.clear();
    for (const r of this.remote.values()) r.disposable.dispose();
    this.remote.clear();
  }
}
