// Reads <workspace>/loom.toml: parse (smol-toml), validate the file as written (ajv, schema.ts),
// check what a schema cannot say, then map snake_case onto LoomConfig over the defaults.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import Ajv from 'ajv';
import { Cron } from 'croner';
import { defaultAgent, defaultConfig, defaultTimer } from './defaults';
import { locateKey } from './locate';
import { CONFIG_FILE, dataDirProblem, isOutside } from '../contract/dataDir';
import { ConfigError, describe, problemsFromAjv, tomlPath, type ConfigProblem } from './errors';
import { mcpServersFromEnv, referenceNotes, setAsideAgentSettings, splitAddress, type ConfigNote } from './reference';
import { loomTomlSchema } from './schema';
import type { AgentConfig, LoomConfig } from './types';
import { messageOf } from '../contract/errors';

export { CONFIG_FILE } from '../contract/dataDir';

export type DeepPartial<T> = T extends (infer U)[]
  ? U[]
  : T extends object
    ? { [K in keyof T]?: DeepPartial<T[K]> }
    : T;

export type ConfigOverrides = DeepPartial<Omit<LoomConfig, 'workspace'>>;

export interface LoadOptions {
  /** Environment for ${VAR} expansion in agent env values. Default process.env. */
  env?: Record<string, string | undefined>;
}

type Table = Record<string, unknown>;

const validateFile = new Ajv({ allErrors: true, verbose: true, strict: true }).compile(loomTomlSchema);

export async function loadConfig(workspace: string, overrides?: ConfigOverrides, options: LoadOptions = {}): Promise<LoomConfig> {
  const root = path.resolve(workspace);
  const file = path.join(root, CONFIG_FILE);
  const stat = await fs.stat(root).catch(() => undefined);
  if (!stat?.isDirectory()) {
    throw new ConfigError(file, CONFIG_FILE, [{ key: '', message: `workspace ${root} is not a directory` }]);
  }
  const text = await readIfPresent(file);
  const raw = await parseFile(file, text);
  const env = options.env ?? process.env;
  const { notes, problems: referenceProblems } = readReferenceKeys(raw, env);
  const problems = [...referenceProblems, ...validate(raw, env)];
  if (problems.length) throw new ConfigError(file, CONFIG_FILE, problems.map((p) => (p.line === undefined && p.key ? { ...p, ...locateKey(text, p.key) } : p)));

  const config = fromFile(root, raw);
  config.notes.push(...notes);
  if (overrides) applyOverrides(config, overrides);
  return config;
}

/**
 * The reference's ways of saying things, folded into the file as Loom reads it: its agents'
 * own settings set aside, and the MCP servers of LOOM_MCP_SERVERS added beside [mcp.*].
 */
function readReferenceKeys(raw: Table, env: Record<string, string | undefined>): { notes: ConfigNote[]; problems: ConfigProblem[] } {
  const aside = setAsideAgentSettings(raw);
  const fromEnv = mcpServersFromEnv(env.LOOM_MCP_SERVERS);
  const problems = [...fromEnv.problems];
  const mcp = (raw.mcp ??= {}) as Table;
  for (const [name, server] of Object.entries(fromEnv.servers)) {
    if (name in mcp) problems.push({ key: `LOOM_MCP_SERVERS.${name}`, message: `names a server loom.toml also defines ([mcp.${name}]); rename one` });
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

async function parseFile(file: string, text: string): Promise<Table> {
  // smol-toml's types are ESM-only; a dynamic import keeps this CommonJS module typed.
  const { parse, TomlError } = await import('smol-toml');
  try {
    return plain(parse(text)) as Table;
  } catch (err) {
    if (!(err instanceof TomlError)) throw err;
    // smol-toml's message is "Invalid TOML document: <reason>\n\n<code excerpt>"; keep both.
    const [reason, ...excerpt] = err.message.replace(/^Invalid TOML document: /, '').split('\n');
    const message = `invalid TOML: ${reason}${excerpt.length ? '\n' + excerpt.join('\n').replace(/^\n+|\n+$/g, '') : ''}`;
    throw new ConfigError(file, CONFIG_FILE, [{ key: '', message, line: err.line, column: err.column }]);
  }
}

/** smol-toml builds inline tables without a prototype; give every table an ordinary one. */
function plain(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(plain);
  if (!value || typeof value !== 'object' || value instanceof Date) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
}

/** Every problem in the file, schema and semantic, so one run shows them all. */
function validate(raw: Table, env: Record<string, string | undefined>): ConfigProblem[] {
  const problems = validateFile(raw) ? [] : problemsFromAjv(validateFile.errors ?? [], raw);
  const flagged = new Set(problems.map((p) => p.key));
  const add = (segments: string[], message: string) => {
    const key = tomlPath(segments);
    if (!flagged.has(key)) problems.push({ key, message });
  };

  const bridge = (raw.bridge as Table | undefined) ?? {};
  if (typeof bridge.host === 'string' && loopbackHost(bridge.host) === undefined) add(['bridge', 'host'], hostMessage(bridge.host));
  if (typeof bridge.address === 'string') {
    const address = splitAddress(bridge.address);
    if (bridge.host !== undefined || bridge.port !== undefined) add(['bridge', 'address'], 'give either address or host and port, not both');
    else if (!address) add(['bridge', 'address'], `must be host:port with a port up to 65535 (got ${describe(bridge.address)})`);
    else if (loopbackHost(address.host) === undefined) add(['bridge', 'address'], hostMessage(address.host));
  }
  const dashboardHost = (raw.dashboard as Table | undefined)?.host;
  if (typeof dashboardHost === 'string' && loopbackHost(dashboardHost) === undefined) add(['dashboard', 'host'], hostMessage(dashboardHost));
  const dataDir = (raw.runtime as Table | undefined)?.data_dir;
  const outside = dataDir === undefined ? undefined : dataDirProblem(dataDir);
  if (outside) add(['runtime', 'data_dir'], outside);

  for (const [name, timer] of entries(raw.timers)) {
    const hasInterval = timer.interval_ms !== undefined;
    const hasCron = timer.cron !== undefined;
    if (hasInterval === hasCron) {
      add(['timers', name], `needs exactly one of interval_ms or cron (got ${hasInterval ? 'both' : 'neither'})`);
    } else if (typeof timer.cron === 'string') {
      const error = cronError(timer.cron);
      if (error) add(['timers', name, 'cron'], `is not a valid cron expression: ${error} (got ${describe(timer.cron)})`);
    }
  }

  for (const [id, agent] of entries(raw.agents)) {
    const { backoff_initial_ms: initial, backoff_max_ms: max } = agent;
    if (typeof initial === 'number' && typeof max === 'number' && initial > max) {
      add(['agents', id, 'backoff_initial_ms'], `must be <= backoff_max_ms (got ${initial} > ${max})`);
    }
    for (const [name, value] of Object.entries((agent.env as Table | undefined) ?? {})) {
      if (typeof value !== 'string') continue;
      const expanded = expandEnv(value, env);
      if (typeof expanded === 'string') (agent.env as Table)[name] = expanded;
      else add(['agents', id, 'env', name], expanded.error);
    }
  }
  return problems;
}

function entries(value: unknown): [string, Table][] {
  if (!value || typeof value !== 'object') return [];
  return Object.entries(value as Table).filter((e): e is [string, Table] => !!e[1] && typeof e[1] === 'object' && !Array.isArray(e[1]));
}

/** "127.0.0.1" | "::1" for an accepted loopback host ("localhost" means 127.0.0.1), else undefined. */
export function loopbackHost(host: string): string | undefined {
  if (host === '127.0.0.1' || host === 'localhost') return '127.0.0.1';
  if (host === '::1') return '::1';
  return undefined;
}

function hostMessage(host: string): string {
  return `must be a loopback address "127.0.0.1", "::1" or "localhost" (got ${describe(host)}): the bridge never listens beyond this machine`;
}

function cronError(expression: string): string | undefined {
  try {
    new Cron(expression, { paused: true }).stop();
    return undefined;
  } catch (err) {
    return messageOf(err).replace(/^CronPattern: /, '');
  }
}

/**
 * Agent env values may name variables of the runtime's environment: `${NAME}` is replaced by
 * its value, `${NAME:-fallback}` uses the fallback when NAME is unset or empty, `$$` is a
 * literal `$`. An unset NAME without a fallback is an error, not an empty string, so a missing
 * secret shows up at start rather than as a confusing failure inside the agent.
 */
export function expandEnv(value: string, env: Record<string, string | undefined>): string | { error: string } {
  let missing: string | undefined;
  const out = value.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g, (match, name?: string, fallback?: string) => {
    if (match === '$$') return '$';
    const v = env[name!];
    if (v !== undefined && (v !== '' || fallback === undefined)) return v;
    if (fallback !== undefined) return fallback;
    missing ??= name;
    return '';
  });
  if (missing === undefined) return out;
  return { error: `\${${missing}} is not set in the runtime's environment (write \${${missing}:-default} for a fallback)` };
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
    mcp: (raw.mcp as LoomConfig['mcp']) ?? {},
    llm: (raw.llm as LoomConfig['llm']) ?? {},
  };
  const address = typeof (raw.bridge as Table | undefined)?.address === 'string' ? splitAddress((raw.bridge as Table).address as string) : undefined;
  if (address) Object.assign(config.bridge, address);
  config.bridge.host = loopbackHost(config.bridge.host)!;
  const dashboard = (raw.dashboard as Table | undefined) ?? {};
  config.dashboard = { enabled: dashboard.enabled === true, port: typeof dashboard.port === 'number' ? dashboard.port : 0 };
  const root = (raw.workspace as Table | undefined)?.root;
  if (typeof root === 'string') {
    const abs = path.resolve(workspace, root);
    const outside = isOutside(path.relative(workspace, abs));
    if (outside) config.runtime.roots = [...config.runtime.roots, abs];
    config.notes.push({ key: 'workspace.root', message: outside ? `added to runtime.roots: the file tools reach ${abs} too` : 'lies within the workspace, which the file tools reach already' });
  }
  for (const key of ['name', 'description', 'version']) {
    if (raw[key] !== undefined) config.notes.push({ key, message: 'describes the app (the reference\'s key); no effect on the runtime' });
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
  for (const [id, agent] of Object.entries(config.agents)) config.agents[id] = { ...defaultAgent(), ...agent } as AgentConfig;
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
