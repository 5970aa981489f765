// Reads <workspace>/loom.toml: parse and check it as the extension does too (runtime/contract/loomToml.ts:
// smol-toml, the schema generated from schema.ts through ajv, and what a schema cannot say), then map
// snake_case onto LoomConfig over the defaults.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { defaultAgent, defaultConfig, defaultTimer } from './defaults';
import { CONFIG_FILE, dataDirProblem, isOutside } from '../contract/dataDir';
import { ConfigError, type ConfigProblem } from './errors';
import {
  compileLoomTomlSchema,
  hostMessage,
  isMcpServerKey,
  locateProblems,
  loomTomlProblems,
  loopbackHost,
  parseLoomToml,
  tableEntries as entries,
} from '../contract/loomToml';
import { mcpServersFromEnv, referenceNotes, setAsideAgentSettings, splitAddress, type ConfigNote } from './reference';
import { readCluster } from './cluster';
import type { AgentConfig, LoomConfig } from './types';
import { messageOf } from '../contract/errors';
import type { ClusterOverrides } from '../contract/configOverrides';

export { CONFIG_FILE } from '../contract/dataDir';
export { expandEnv, loopbackHost } from '../contract/loomToml';

export type DeepPartial<T> = T extends (infer U)[]
  ? U[]
  : T extends object
    ? { [K in keyof T]?: DeepPartial<T[K]> }
    : T;

/** Settings that win over the file (the extension's --overrides): LoomConfig's shape, but [cluster] as the settings give it. */
export type ConfigOverrides = DeepPartial<Omit<LoomConfig, 'workspace' | 'cluster'>> & { cluster?: ClusterOverrides };

export interface LoadOptions {
  /** Environment for ${VAR} expansion in agent env values. Default process.env. */
  env?: Record<string, string | undefined>;
}

type Table = Record<string, unknown>;

// The checked-in schema (runtime/contract/loom.schema.json): what zod generates from schema.ts, by
// test (test/unit/config/schema.test.ts), without loading zod at every start.
const validateFile = compileLoomTomlSchema();

export async function loadConfig(
  workspace: string,
  overrides?: ConfigOverrides,
  options: LoadOptions = {},
): Promise<LoomConfig> {
  const root = path.resolve(workspace);
  const file = path.join(root, CONFIG_FILE);
  const stat = await fs.stat(root).catch(() => undefined);
  if (!stat?.isDirectory()) {
    throw new ConfigError(file, CONFIG_FILE, [{ key: '', message: `workspace ${root} is not a directory` }]);
  }
  const text = await readIfPresent(file);
  const raw = await parseLoomToml(file, text);
  const env = options.env ?? process.env;
  const { notes, problems: referenceProblems } = readReferenceKeys(raw, env);
  // A bad [mcp.<name>] server does not stop the start: runtime/mcp reports it failed, in the same words.
  const problems = [
    ...referenceProblems,
    ...loomTomlProblems(raw, env, validateFile).filter((p) => !isMcpServerKey(p.key)),
  ];
  const clusterTable = withClusterSettings(raw.cluster, overrides?.cluster);
  const cluster = clusterTable === undefined ? undefined : readCluster(clusterTable, root, env);
  if (cluster?.problem && !problems.some((p) => p.key.startsWith('cluster'))) {
    // A problem the settings brought is theirs to name, not a line of the file.
    const fromSettings = clusterTable !== raw.cluster && settingsKey(cluster.problem.key, overrides?.cluster);
    if (fromSettings) throw new ConfigError('overrides', 'overrides', [{ ...cluster.problem, key: fromSettings }]);
    problems.push(cluster.problem);
  }
  if (problems.length) throw new ConfigError(file, CONFIG_FILE, locateProblems(text, problems));

  const config = fromFile(root, raw);
  if (cluster?.config) config.cluster = cluster.config;
  config.notes.push(...notes);
  if (overrides) {
    const { cluster: _settled, ...rest } = overrides;
    applyOverrides(config, rest);
  }
  return config;
}

const CLUSTER_CREDENTIALS = ['token', 'user', 'password', 'nkey_seed_file', 'creds_file'];

/** loom.toml's [cluster] with the loom.cluster.* settings laid over it (snake_case, as the file spells it). */
function withClusterSettings(table: unknown, settings: ClusterOverrides | undefined): unknown {
  const given = Object.entries(settings ?? {}).filter(([, v]) => v !== undefined);
  if (!given.length || (table === undefined && !settings?.servers)) return table;
  const out: Table = isPlainObject(table) ? { ...table } : {};
  if (settings?.credsFile !== undefined || settings?.token !== undefined)
    for (const key of CLUSTER_CREDENTIALS) delete out[key];
  for (const [key, value] of given) out[snake(key)] = value;
  return out;
}

/** `cluster.share_realtime[0]` → `cluster.shareRealtime[0]` when that setting was given, else undefined. */
function settingsKey(key: string, settings: ClusterOverrides | undefined): string | undefined {
  const m = /^cluster\.([a-z_]+)(.*)$/.exec(key);
  const camel = (m?.[1] ?? '').replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());
  if (!m || !settings || !(camel in settings)) return undefined;
  return `cluster.${camel}${m[2]}`;
}

/**
 * The reference's ways of saying things, folded into the file as Loom reads it: its agents'
 * own settings set aside, and the MCP servers of LOOM_MCP_SERVERS added beside [mcp.*].
 */
function readReferenceKeys(
  raw: Table,
  env: Record<string, string | undefined>,
): { notes: ConfigNote[]; problems: ConfigProblem[] } {
  const aside = setAsideAgentSettings(raw);
  const fromEnv = mcpServersFromEnv(env.LOOM_MCP_SERVERS);
  const problems = [...fromEnv.problems];
  const mcp = (raw.mcp ??= {}) as Table;
  for (const [name, server] of Object.entries(fromEnv.servers)) {
    if (name in mcp)
      problems.push({
        key: `LOOM_MCP_SERVERS.${name}`,
        message: `names a server loom.toml also defines ([mcp.${name}]); rename one`,
      });
    else mcp[name] = server;
  }
  return { notes: [...aside, ...fromEnv.notes, ...referenceNotes(raw)], problems };
}

async function readIfPresent(file: string): Promise<string> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw new ConfigError(file, CONFIG_FILE, [{ key: '', message: `cannot read: ${messageOf(err)}` }]);
  }
}

// ---- mapping onto LoomConfig -------------------------------------------------------------

const snake = (key: string) => key.replace(/[A-Z]/g, (c) => '_' + c.toLowerCase());

function isPlainObject(v: unknown): v is Table {
  return !!v && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Date);
}

/**
 * Takes each field of `defaults` from the file's snake_case key, or keeps the default.
 * A default that is a non-empty table is a section and is walked; an empty one ({} as in
 * agent env) is a user-keyed value and taken whole, its keys untouched.
 */
function overDefaults<T extends object>(defaults: T, raw: unknown): T {
  const file = isPlainObject(raw) ? raw : {};
  const out: Table = {};
  for (const [key, def] of Object.entries(defaults)) {
    const value = file[snake(key)];
    out[key] = isPlainObject(def) && Object.keys(def).length > 0 ? overDefaults(def, value) : (value ?? def);
  }
  return out as T;
}

function fromFile(workspace: string, raw: Table): LoomConfig {
  const defaults = defaultConfig(workspace);
  const config: LoomConfig = {
    ...defaults,
    runtime: overDefaults(defaults.runtime, raw.runtime),
    bridge: overDefaults(defaults.bridge, raw.bridge),
    bus: overDefaults(defaults.bus, raw.bus),
    tools: overDefaults(defaults.tools, raw.tools),
    watcher: overDefaults(defaults.watcher, raw.watcher),
    adhocAgents: overDefaults(defaults.adhocAgents, raw.adhoc_agents),
    mcp: (raw.mcp as LoomConfig['mcp']) ?? {},
    llm: (raw.llm as LoomConfig['llm']) ?? {},
  };
  const address =
    typeof (raw.bridge as Table | undefined)?.address === 'string'
      ? splitAddress((raw.bridge as Table).address as string)
      : undefined;
  if (address) Object.assign(config.bridge, address);
  config.bridge.host = loopbackHost(config.bridge.host)!;
  const dashboard = (raw.dashboard as Table | undefined) ?? {};
  config.dashboard = {
    enabled: dashboard.enabled === true,
    port: typeof dashboard.port === 'number' ? dashboard.port : 0,
  };
  const root = (raw.workspace as Table | undefined)?.root;
  if (typeof root === 'string') {
    const abs = path.resolve(workspace, root);
    const outside = isOutside(path.relative(workspace, abs));
    if (outside) config.runtime.roots = [...config.runtime.roots, abs];
    config.notes.push({
      key: 'workspace.root',
      message: outside
        ? `added to runtime.roots: the file tools reach ${abs} too`
        : 'lies within the workspace, which the file tools reach already',
    });
  }
  for (const key of ['name', 'description', 'version']) {
    if (raw[key] !== undefined)
      config.notes.push({ key, message: "describes the app (the reference's key); no effect on the runtime" });
  }
  for (const [name, t] of entries(raw.timers)) {
    config.timers[name] = {
      ...overDefaults(defaultTimer(), t),
      ...(t.interval_ms !== undefined ? { intervalMs: t.interval_ms as number } : {}),
      ...(t.cron !== undefined ? { cron: t.cron as string } : {}),
      ...(t.payload !== undefined ? { payload: t.payload } : {}),
    };
  }
  for (const [id, a] of entries(raw.agents)) {
    config.agents[id] = { command: a.command as string, ...overDefaults(defaultAgent(), a) };
  }
  return config;
}

/** Values passed in code (CLI flags, the extension's trust state) win over the file. */
function applyOverrides(config: LoomConfig, overrides: ConfigOverrides): void {
  deepMerge(config as unknown as Table, overrides as Table);
  for (const [id, agent] of Object.entries(config.agents))
    config.agents[id] = { ...defaultAgent(), ...agent } as AgentConfig;
  for (const [name, timer] of Object.entries(config.timers)) config.timers[name] = { ...defaultTimer(), ...timer };
  const host = loopbackHost(config.bridge.host);
  const problems: ConfigProblem[] = [];
  if (host === undefined) problems.push({ key: 'bridge.host', message: hostMessage(config.bridge.host) });
  const outside = dataDirProblem(config.runtime.dataDir);
  if (outside) problems.push({ key: 'runtime.data_dir', message: outside });
  if (problems.length) throw new ConfigError('overrides', 'overrides', problems);
  config.bridge.host = host!;
}

function deepMerge(target: Table, source: Table): void {
  for (const [key, value] of Object.entries(source)) {
    if (value === undefined) continue;
    if (isPlainObject(value) && isPlainObject(target[key])) deepMerge(target[key] as Table, value);
    else target[key] = value;
  }
}
