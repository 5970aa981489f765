// The cluster part: joins this runtime to others over NATS ([cluster] in loom.toml). main.ts
// imports it with import() only when [cluster] is configured, so a runtime without it never loads
// a NATS client. While NATS is unreachable the runtime keeps working locally; the connection's
// health is on the bus (cluster.health), in GetStats and in the log. Credentials are never logged.
import { readFileSync } from 'node:fs';
import {
  connect,
  credsAuthenticator,
  nkeyAuthenticator,
  type ConnectionOptions,
  type NatsConnection,
} from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import { createEvent, type Bus } from '../bus';
import type { ToolRegistry } from '../tools';
import type { Logger } from '../log';
import { messageOf } from '../contract/errors';
import { EventBridge } from './events';
import { clusterFile } from './files';
import { Presence, type AgentView } from './presence';
import { names, type ClusterConfig } from './subjects';
import { ClusterTools } from './tools';

export { CLUSTER_OWNER } from './tools';
export type ClusterState = 'connecting' | 'connected' | 'reconnecting' | 'disconnected';

/** Same shape as loom.v1.ClusterInfo (GetStats). */
export interface ClusterHealth {
  enabled: boolean;
  node: string;
  namespace: string;
  state: ClusterState;
  server: string;
  lastError: string;
  sinceMs: number;
  nodes: string[];
  eventsSent: number;
  eventsReceived: number;
  dropped: Record<string, number>;
  bufferedEvents: number;
  bufferedBytes: number;
}

export interface ClusterDeps {
  config: ClusterConfig;
  workspace: string;
  /** The workspace's roots (real paths): the files [cluster] names must lie outside them. */
  roots: readonly string[];
  bus: Bus;
  tools: ToolRegistry;
  /** This runtime's agents, for the cluster's directory. */
  localAgents: () => AgentView[];
  log: Logger;
}

export interface ClusterHandle {
  readonly node: string;
  health(): ClusterHealth;
  /** Our agents (with our node) and every other live runtime's. */
  agents<T extends AgentView>(local: T[]): (T & { node: string })[];
  close(): Promise<void>;
}

const RETRY_CONNECT_MS = 2000;
/** How long the durable backlog waits for this runtime's declared agents to link up after a (re)start. */
const AGENTS_BACK_MS = 20_000;

/**
 * Resolves once no declared agent is still on its way (starting, crashed and restarting): what
 * this runtime missed while it was down is then published to subscribers that exist.
 */
async function agentsSettled(agents: () => AgentView[], closed: () => boolean): Promise<void> {
  const until = Date.now() + AGENTS_BACK_MS;
  const onTheWay = new Set(['starting', 'crashed', 'backoff', 'disconnected']);
  while (!closed() && Date.now() < until && agents().some((a) => a.supervised && onTheWay.has(a.state)))
    await new Promise((r) => setTimeout(r, 100));
}

export async function startCluster(deps: ClusterDeps): Promise<ClusterHandle> {
  const { config: cfg, bus, tools, log } = deps;
  const n = names(cfg.namespace);
  const open = openToOthers(cfg);
  if (open)
    log.warn(
      `cluster: ${open} has neither credentials nor TLS: anyone who reaches it reads and injects this deployment's events, presence and tool calls (give token, user, nkey_seed_file or creds_file, and tls)`,
    );
  let state: ClusterState = 'connecting';
  let server = '';
  let lastError = '';
  let sinceMs = Date.now();
  let nc: NatsConnection | undefined;
  let closed = false;
  let presence: Presence | undefined;

  const setState = (next: ClusterState, detail: { server?: string; error?: string } = {}) => {
    // The same refusal every retry is said once, not every 2 s.
    const newError = detail.error !== undefined && detail.error !== lastError;
    if (detail.error !== undefined) lastError = detail.error;
    else if (next === 'connected') lastError = ''; // back: the old problem is over
    if (detail.server !== undefined) server = detail.server;
    if (next === state && !newError) return;
    const previous = state;
    state = next;
    sinceMs = Date.now();
    const fields = {
      node: cfg.node,
      state,
      ...(server ? { server } : {}),
      ...(detail.error ? { error: detail.error } : {}),
    };
    if (next === 'connected') log.info('cluster connected', fields);
    else log.warn(`cluster ${next}`, fields);
    if (previous !== next) {
      const event = createEvent({
        type: `cluster.${next}`,
        source: 'runtime',
        sender: 'runtime',
        payload: { node: cfg.node, state: next, server, error: lastError, previous },
      });
      bus.publish('cluster.health', event).catch(() => undefined);
    }
  };

  const events = new EventBridge(
    bus,
    cfg,
    n,
    log,
    () => state === 'connected',
    () => agentsSettled(deps.localAgents, () => closed),
    (id) => deps.localAgents().some((a) => a.agentId === id),
  );
  const clusterTools = new ClusterTools(
    tools,
    cfg.node,
    cfg.offerTools,
    n,
    cfg.toolTimeoutMs,
    log,
    () => void presence?.beat().catch(() => undefined),
  );
  const options = connectionOptions(cfg, deps.workspace, deps.roots);

  // Core NATS at once; JetStream (stream, consumer, presence bucket) as soon as it answers: right
  // after a server starts or dies, its cluster is electing leaders for a moment.
  const joinCluster = async (conn: NatsConnection) => {
    events.attachCore(conn);
    clusterTools.attach(conn);
    const domain = cfg.jetstreamDomain ? { domain: cfg.jetstreamDomain } : {};
    const js = jetstream(conn, domain);
    let streamReady = false;
    while (!closed && !conn.isClosed()) {
      try {
        const jsm = await jetstreamManager(conn, domain);
        if (!streamReady) await events.attachJetStream(js, jsm);
        streamReady = true;
        const kv = await presenceBucket(new Kvm(js), n.presenceBucket, cfg);
        presence = new Presence(
          kv,
          cfg.node,
          cfg.presenceTtlMs,
          cfg.heartbeatMs,
          () => ({
            node: cfg.node,
            tools: clusterTools.offeredTools(),
            agents: deps.localAgents(),
            atMs: Date.now(),
          }),
          log,
        );
        presence.onChange(() => clusterTools.sync(presence!.nodes()));
        presence.start();
        if (lastError.startsWith('JetStream')) setState('connected', { error: '' });
        return;
      } catch (err) {
        setState('connected', {
          error: `JetStream is not available (yet): ${describeError(err)}; is JetStream enabled on the servers?`,
        });
        await new Promise((r) => setTimeout(r, RETRY_CONNECT_MS));
      }
    }
  };

  const watch = async (conn: NatsConnection) => {
    for await (const s of conn.status()) {
      if (s.type === 'disconnect') setState('reconnecting', { server: s.server });
      else if (s.type === 'reconnecting') setState('reconnecting');
      else if (s.type === 'reconnect') {
        setState('connected', { server: s.server });
        events.resume();
      } else if (s.type === 'error') lastError = describeError(s.error);
    }
  };

  // Connects in the background until it works: the runtime starts and runs locally meanwhile.
  const run = async () => {
    while (!closed) {
      try {
        const conn = await connect(options);
        if (closed) {
          await conn.close();
          return;
        }
        nc = conn;
        setState('connected', { server: conn.getServer() });
        void watch(conn);
        await joinCluster(conn);
        events.resume();
        const err = await conn.closed();
        if (closed) return;
        setState('disconnected', { error: err ? describeError(err) : 'the NATS connection closed' });
      } catch (err) {
        setState('disconnected', { error: describeError(err) });
      }
      await new Promise((r) => setTimeout(r, RETRY_CONNECT_MS));
    }
  };
  void run();

  return {
    node: cfg.node,
    health: () => {
      const buffered = events.buffered;
      return {
        enabled: true,
        node: cfg.node,
        namespace: cfg.namespace,
        state,
        server,
        lastError,
        sinceMs,
        nodes: [cfg.node, ...(presence?.nodes().map((e) => e.node) ?? [])].sort(),
        eventsSent: events.counters.sent,
        eventsReceived: events.counters.received,
        dropped: { ...events.counters.dropped },
        bufferedEvents: buffered.events,
        bufferedBytes: buffered.bytes,
      };
    },
    // Another runtime's agents are its own views, as it wrote them (the same shape as ours).
    agents: <T extends AgentView>(local: T[]) => [
      ...local.map((a) => ({ ...a, node: cfg.node })),
      ...(presence?.nodes().flatMap((e) => e.agents.map((a) => ({ ...(a as T), node: e.node }))) ?? []),
    ],
    close: async () => {
      if (closed) return;
      await events.flush(5000);
      closed = true;
      clusterTools.close();
      events.close();
      await presence?.stop();
      if (nc) await nc.drain().catch(() => nc?.close());
    },
  };
}

/**
 * Opens the bucket when it exists and creates it only when it does not: creating an existing
 * stream again asks every replica, and times out while a NATS node is down (nats-server 2.9).
 */
async function presenceBucket(kvm: Kvm, bucket: string, cfg: ClusterConfig): Promise<KV> {
  try {
    const kv = await kvm.open(bucket);
    await kv.status();
    return kv;
  } catch {
    return kvm.create(bucket, { history: 1, ttl: cfg.presenceTtlMs, replicas: cfg.replicas });
  }
}

function connectionOptions(cfg: ClusterConfig, workspace: string, roots: readonly string[]): ConnectionOptions {
  const file = (key: string, p: string) => clusterFile(key, p, workspace, roots);
  const read = (key: string, p: string) => {
    const at = file(key, p);
    try {
      return readFileSync(at);
    } catch (err) {
      throw new Error(`cluster.${key}: cannot read ${at}: ${messageOf(err)}`);
    }
  };
  const o: ConnectionOptions = {
    servers: cfg.servers,
    name: `loom:${cfg.node}`,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    pingInterval: 5000,
    maxPingOut: 2,
    // An echo of our own core publishes would only be thrown away.
    noEcho: true,
  };
  const a = cfg.auth;
  if (a.kind === 'token') o.token = a.token;
  else if (a.kind === 'user') Object.assign(o, { user: a.user, pass: a.password });
  else if (a.kind === 'nkey')
    o.authenticator = nkeyAuthenticator(
      new TextEncoder().encode(read('nkey_seed_file', a.seedFile).toString('utf8').trim()),
    );
  else if (a.kind === 'creds') o.authenticator = credsAuthenticator(new Uint8Array(read('creds_file', a.credsFile)));
  if (cfg.tls) {
    o.tls = {
      ...(cfg.tls.caFile ? { caFile: file('tls.ca_file', cfg.tls.caFile) } : {}),
      ...(cfg.tls.certFile ? { certFile: file('tls.cert_file', cfg.tls.certFile) } : {}),
      ...(cfg.tls.keyFile ? { keyFile: file('tls.key_file', cfg.tls.keyFile) } : {}),
    };
  }
  return o;
}

/** The server's words for the usual failures, in a sentence a person can act on; never a credential. */
function describeError(err: unknown): string {
  const text = messageOf(err);
  if (/authorization|authentication|auth/i.test(text))
    return `NATS refused the credentials (${text}): check cluster.token, user/password, nkey_seed_file or creds_file`;
  if (/ECONNREFUSED|CONNECTION_REFUSED|connection refused/i.test(text))
    return `no NATS server answers at the configured URLs (${text})`;
  return text;
}

/** The first server off this machine that the runtime would reach without credentials and TLS. */
export function openToOthers(cfg: Pick<ClusterConfig, 'servers' | 'auth' | 'tls'>): string | undefined {
  if (cfg.auth.kind !== 'none' || cfg.tls) return undefined;
  return cfg.servers.find((url) => {
    const host = /^(?:[a-z]+:\/\/)?(?:[^@/]*@)?(\[[^\]]+\]|[^:/]+)/i.exec(url)?.[1]?.replace(/^\[|\]$/g, '') ?? '';
    return !['localhost', '127.0.0.1', '::1'].includes(host.toLowerCase()) && !host.startsWith('127.');
  });
}
