// [cluster]: how this runtime joins others over NATS (runtime/cluster). Its zod schema
// (clusterSchema.ts) says what the file may hold (snake_case, as written); clusterConfig() maps it
// onto ClusterConfig with the defaults. Nothing here loads a NATS client (without [cluster] the
// runtime never imports one), nor zod until a [cluster] table is checked.
import { hostname } from 'node:os';
import { basename } from 'node:path';

export type ClusterAuth =
  | { kind: 'none' }
  | { kind: 'token'; token: string }
  | { kind: 'user'; user: string; password: string }
  | { kind: 'nkey'; seedFile: string }
  | { kind: 'creds'; credsFile: string };

export interface ClusterConfig {
  servers: string[];
  /** This runtime's name in the cluster: its durable consumer, its presence key, its agents' node. */
  node: string;
  /** Keeps several Loom deployments apart on one NATS: every subject, stream and bucket carries it. */
  namespace: string;
  /** Shared over JetStream (batched, background: nothing lost, a runtime that was down catches up). */
  share: string[];
  /** Shared over core NATS (at most once; a runtime that is down misses them). */
  shareRealtime: string[];
  /** Names or `ns:*` patterns of this runtime's tools that other runtimes may call. */
  offerTools: string[];
  auth: ClusterAuth;
  /** The environment variables token, user and password were read from: agents never get them. */
  secretEnv: string[];
  tls?: { caFile?: string; certFile?: string; keyFile?: string };
  replicas: number;
  retentionMs: number;
  streamMaxBytes: number;
  /** Batched events kept while NATS is unreachable; beyond it they are dropped and counted. */
  bufferBytes: number;
  heartbeatMs: number;
  presenceTtlMs: number;
  toolTimeoutMs: number;
  /** The hub's JetStream domain, for a runtime that joins through a leaf server (which does not extend JetStream). */
  jetstreamDomain?: string;
}

export const CLUSTER_DEFAULTS = {
  namespace: 'loom',
  replicas: 1,
  retentionMs: 24 * 3600_000,
  streamMaxBytes: 1024 * 1024 * 1024,
  bufferBytes: 64 * 1024 * 1024,
  heartbeatMs: 2000,
  presenceTtlMs: 10_000,
  toolTimeoutMs: 30_000,
} as const;

/**
 * Maps a validated [cluster] table onto ClusterConfig. `${VAR}` in token, user, password is read
 * from the environment, so no secret needs to sit in loom.toml. Throws an Error naming the key.
 */
export function clusterConfig(
  raw: unknown,
  workspace: string,
  env: Record<string, string | undefined> = process.env,
): ClusterConfig {
  const { clusterSchema } = require('./clusterSchema') as typeof import('./clusterSchema');
  const parsed = clusterSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const at = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('');
    throw new Error(`cluster${at}: ${issue.message}`);
  }
  const t = parsed.data;
  const secret = (key: string, value: string | undefined) =>
    value === undefined ? undefined : expand(`cluster.${key}`, value, env);
  const methods = [
    t.token !== undefined,
    t.user !== undefined,
    t.nkey_seed_file !== undefined,
    t.creds_file !== undefined,
  ].filter(Boolean).length;
  if (methods > 1) throw new Error('cluster: give one of token, user/password, nkey_seed_file or creds_file');
  if (t.password !== undefined && t.user === undefined) throw new Error('cluster.password: needs cluster.user');
  const auth: ClusterAuth =
    t.token !== undefined
      ? { kind: 'token', token: secret('token', t.token)! }
      : t.user !== undefined
        ? { kind: 'user', user: secret('user', t.user)!, password: secret('password', t.password) ?? '' }
        : t.nkey_seed_file !== undefined
          ? { kind: 'nkey', seedFile: t.nkey_seed_file }
          : t.creds_file !== undefined
            ? { kind: 'creds', credsFile: t.creds_file }
            : { kind: 'none' };
  if (t.tls && (t.tls.cert_file === undefined) !== (t.tls.key_file === undefined))
    throw new Error('cluster.tls: give both cert_file and key_file, or neither');
  const ttl = t.presence_ttl_ms ?? CLUSTER_DEFAULTS.presenceTtlMs;
  const heartbeat = t.heartbeat_ms ?? Math.min(CLUSTER_DEFAULTS.heartbeatMs, Math.floor(ttl / 3));
  if (heartbeat * 2 > ttl)
    throw new Error(
      `cluster.heartbeat_ms: must be at most half of presence_ttl_ms (${ttl}), ` +
        'so one lost heartbeat does not withdraw this runtime',
    );
  return {
    servers: t.servers,
    node: t.node ?? defaultNode(workspace),
    namespace: t.namespace ?? CLUSTER_DEFAULTS.namespace,
    share: t.share ?? [],
    shareRealtime: t.share_realtime ?? [],
    offerTools: t.offer_tools ?? [],
    auth,
    secretEnv: [t.token, t.user, t.password].flatMap((v) =>
      v === undefined ? [] : [...v.matchAll(ENV_REFERENCE)].map((m) => m[1]!),
    ),
    ...(t.tls ? { tls: { caFile: t.tls.ca_file, certFile: t.tls.cert_file, keyFile: t.tls.key_file } } : {}),
    replicas: t.replicas ?? CLUSTER_DEFAULTS.replicas,
    retentionMs: t.retention_ms ?? CLUSTER_DEFAULTS.retentionMs,
    streamMaxBytes: t.stream_max_bytes ?? CLUSTER_DEFAULTS.streamMaxBytes,
    bufferBytes: t.buffer_bytes ?? CLUSTER_DEFAULTS.bufferBytes,
    heartbeatMs: heartbeat,
    presenceTtlMs: ttl,
    toolTimeoutMs: t.tool_timeout_ms ?? CLUSTER_DEFAULTS.toolTimeoutMs,
    ...(t.jetstream_domain ? { jetstreamDomain: t.jetstream_domain } : {}),
  };
}

/** Stable across restarts (the durable consumer is named after it) and distinct per workspace on one machine. */
function defaultNode(workspace: string): string {
  const clean = (s: string) => s.replace(/[^A-Za-z0-9_-]+/g, '-').replace(/^-+|-+$/g, '');
  return `${clean(hostname()) || 'host'}-${clean(basename(workspace)) || 'workspace'}`.slice(0, 64);
}

const ENV_REFERENCE = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

function expand(key: string, value: string, env: Record<string, string | undefined>): string {
  return value.replace(ENV_REFERENCE, (_m, name: string) => {
    const v = env[name];
    if (v === undefined) throw new Error(`${key}: the environment variable ${name} is not set`);
    return v;
  });
}

/** For the loader: the mapped [cluster], or the problem (key without the "cluster." prefix split off). */
export function readCluster(
  raw: unknown,
  workspace: string,
  env: Record<string, string | undefined>,
): { config?: ClusterConfig; problem?: { key: string; message: string } } {
  try {
    return { config: clusterConfig(raw, workspace, env) };
  } catch (err) {
    const message = (err as Error).message;
    const colon = message.indexOf(': ');
    return { problem: { key: message.slice(0, colon), message: message.slice(colon + 2) } };
  }
}
