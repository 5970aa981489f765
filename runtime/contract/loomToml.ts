// Contract: checking loom.toml. The runtime's loader (runtime/config/load.ts, which then maps the
// file onto LoomConfig) and the extension (its Problems panel and its list of agents) check the file
// with this one module, so a file the editor accepts is one the runtime starts with, and both word
// every problem the same way. The schema is the JSON Schema generated from the zod schema in
// runtime/config/schema.ts: loom.schema.json beside this file (the runtime passes the one it
// generates in memory; test/unit/config/schema.test.ts holds the two equal). What a schema cannot
// say (a loopback host, one of interval_ms or cron, a cron expression, ${VAR} in agent env) is
// checked here too.
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import Ajv, { type ValidateFunction } from 'ajv';
import { Cron } from 'croner';
import { ConfigError, problemsFromAjv, tomlPath, type ConfigProblem } from './configProblems';
import { CONFIG_FILE, dataDirProblem } from './dataDir';
import { describe } from './describe';
import { messageOf } from './errors';
import { locateKey } from './locateKey';
import { requireInPieces } from './requireInPieces';
import { closestNames } from './suggest';
import LOOM_TOML_SCHEMA from './loom.schema.json';

type Table = Record<string, unknown>;

/** Something in the file that was accepted without effect here, said once in the log at start. */
export interface ConfigNote {
  key: string;
  message: string;
}

/** Keys of [agents.<id>] that describe the process Loom starts; any of them means the table is Loom's. */
export const AGENT_PROCESS_KEYS: readonly string[] = Object.keys(
  LOOM_TOML_SCHEMA.properties.agents.additionalProperties.properties,
);

export const isTable = (v: unknown): v is Table =>
  !!v && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Date);

/** The entries of a table of tables ([agents.*], [timers.*]) whose values are tables. */
export function tableEntries(value: unknown): [string, Table][] {
  if (!value || typeof value !== 'object') return [];
  return Object.entries(value as Table).filter((e): e is [string, Table] => isTable(e[1]));
}

/** The file's text parsed (smol-toml); a syntax error is a ConfigError at its line and column. */
export async function parseLoomToml(file: string, text: string): Promise<Table> {
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

/**
 * The reference's [agents.<id>] tables have no `command`: they hold settings for agents the person
 * starts by hand. Takes them out of `raw.agents` and says so for each. A table that names any of
 * Loom's process keys, or a key close to `command`, stays a Loom table and is checked as one: a
 * typo is never taken for a reference table.
 */
export function setAsideAgentSettings(raw: Table): ConfigNote[] {
  const notes: ConfigNote[] = [];
  if (!isTable(raw.agents)) return notes;
  for (const [id, agent] of Object.entries(raw.agents)) {
    if (!isTable(agent)) continue;
    const keys = Object.keys(agent);
    if (keys.some((k) => AGENT_PROCESS_KEYS.includes(k) || closestNames(k, ['command'], 1).length > 0)) continue;
    delete raw.agents[id];
    notes.push({
      key: tomlPath(['agents', id]),
      message: `has no command: the runtime starts nothing for "${id}"; its settings (${keys.join(', ') || 'none'}) are for the agent, started by hand, to read`,
    });
  }
  return notes;
}

const compiled = new WeakMap<object, ValidateFunction>();
/** How loom.toml's schema is compiled (esbuild.mjs compiles the prebuilt validator with the same). */
export const LOOM_TOML_AJV_OPTIONS = { allErrors: true, verbose: true, strict: true };

/**
 * An ajv validator of a loom.toml JSON Schema (draft-07), compiled once per schema. Beside a bundle,
 * loomToml.validate.js holds ajv's output for loom.schema.json, compiled at build time (esbuild.mjs):
 * used for a schema with exactly that text, with exactly these options, it saves compiling at run time.
 */
export function compileLoomTomlSchema(schema: object = LOOM_TOML_SCHEMA): ValidateFunction {
  let validate = compiled.get(schema);
  if (!validate) {
    const built = prebuiltValidator();
    validate =
      built && built.options === JSON.stringify(LOOM_TOML_AJV_OPTIONS) && built.schema === JSON.stringify(schema)
        ? built.validate
        : new Ajv(LOOM_TOML_AJV_OPTIONS).compile(schema);
    compiled.set(schema, validate);
  }
  return validate;
}

interface PrebuiltValidator {
  schema: string;
  options: string;
  validate: ValidateFunction;
}
let prebuilt: PrebuiltValidator | null | undefined;
function prebuiltValidator(): PrebuiltValidator | null {
  if (prebuilt === undefined) {
    const file = path.join(__dirname, 'loomToml.validate.js');
    prebuilt = existsSync(file) ? (requireInPieces(file) as PrebuiltValidator) : null;
  }
  return prebuilt;
}

/**
 * Every problem of a parsed file, schema and semantic, so one run shows them all. Agent env values
 * are expanded in place (`${NAME}` from `env`). Problems carry no line: see locateProblems.
 */
export function loomTomlProblems(
  raw: Table,
  env: Record<string, string | undefined>,
  validate: ValidateFunction = compileLoomTomlSchema(),
): ConfigProblem[] {
  const problems = validate(raw) ? [] : problemsFromAjv(validate.errors ?? [], raw);
  const flagged = new Set(problems.map((p) => p.key));
  const add = (segments: string[], message: string) => {
    const key = tomlPath(segments);
    if (!flagged.has(key)) problems.push({ key, message });
  };

  const bridge = (raw.bridge as Table | undefined) ?? {};
  if (typeof bridge.host === 'string' && loopbackHost(bridge.host) === undefined)
    add(['bridge', 'host'], hostMessage(bridge.host));
  if (typeof bridge.address === 'string') {
    const address = splitAddress(bridge.address);
    if (bridge.host !== undefined || bridge.port !== undefined)
      add(['bridge', 'address'], 'give either address or host and port, not both');
    else if (!address)
      add(['bridge', 'address'], `must be host:port with a port up to 65535 (got ${describe(bridge.address)})`);
    else if (loopbackHost(address.host) === undefined) add(['bridge', 'address'], hostMessage(address.host));
  }
  const dashboardHost = (raw.dashboard as Table | undefined)?.host;
  if (typeof dashboardHost === 'string' && loopbackHost(dashboardHost) === undefined)
    add(['dashboard', 'host'], hostMessage(dashboardHost));
  const dataDir = (raw.runtime as Table | undefined)?.data_dir;
  const outside = dataDir === undefined ? undefined : dataDirProblem(dataDir);
  if (outside) add(['runtime', 'data_dir'], outside);

  for (const [name, timer] of tableEntries(raw.timers)) {
    const hasInterval = timer.interval_ms !== undefined;
    const hasCron = timer.cron !== undefined;
    if (hasInterval === hasCron) {
      add(['timers', name], `needs exactly one of interval_ms or cron (got ${hasInterval ? 'both' : 'neither'})`);
    } else if (typeof timer.cron === 'string') {
      const error = cronError(timer.cron);
      if (error)
        add(['timers', name, 'cron'], `is not a valid cron expression: ${error} (got ${describe(timer.cron)})`);
    }
  }

  for (const [id, agent] of tableEntries(raw.agents)) {
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

/** Each problem at the line (and column) where its key is written, when it has none yet. */
export function locateProblems(text: string, problems: ConfigProblem[]): ConfigProblem[] {
  return problems.map((p) => (p.line === undefined && p.key ? { ...p, ...locateKey(text, p.key) } : p));
}

/**
 * Whether a problem's key lies in one [mcp.<name>] server table. Such a problem does not stop the
 * runtime: its MCP part checks each server with this same schema, reports the bad one as failed in
 * these same words, and runs the others (runtime/mcp/config.ts).
 */
export function isMcpServerKey(key: string): boolean {
  const m = /^mcp\.("(?:[^"\\]|\\.)*"|[A-Za-z0-9_-]+)/.exec(key);
  return !!m && m[1] !== 'settings' && m[1] !== 'serve';
}

/**
 * A workspace's loom.toml read and checked as the runtime checks it at start: the parsed file (the
 * reference's agent settings set aside), the problems that stop the start, and those of single MCP
 * servers (the runtime starts without such a server: see isMcpServerKey), each at its line. No
 * file is an empty one.
 */
export async function checkLoomToml(
  workspace: string,
  env: Record<string, string | undefined> = process.env,
): Promise<{ file: Table; problems: ConfigProblem[]; mcpServerProblems: ConfigProblem[] }> {
  const file = path.join(path.resolve(workspace), CONFIG_FILE);
  const text = await fs.readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return '';
    throw new ConfigError(file, CONFIG_FILE, [{ key: '', message: `cannot read: ${messageOf(err)}` }]);
  });
  let raw: Table;
  try {
    raw = await parseLoomToml(file, text);
  } catch (err) {
    if (err instanceof ConfigError) return { file: {}, problems: err.problems, mcpServerProblems: [] };
    throw err;
  }
  setAsideAgentSettings(raw);
  const all = locateProblems(text, loomTomlProblems(raw, env));
  return {
    file: raw,
    problems: all.filter((p) => !isMcpServerKey(p.key)),
    mcpServerProblems: all.filter((p) => isMcpServerKey(p.key)),
  };
}

/** "127.0.0.1" | "::1" for an accepted loopback host ("localhost" means 127.0.0.1), else undefined. */
export function loopbackHost(host: string): string | undefined {
  if (host === '127.0.0.1' || host === 'localhost') return '127.0.0.1';
  if (host === '::1') return '::1';
  return undefined;
}

export function hostMessage(host: string): string {
  return `must be a loopback address "127.0.0.1", "::1" or "localhost" (got ${describe(host)}): the bridge never listens beyond this machine`;
}

/** 127.0.0.1:50051 → host and port (the reference's [bridge] address); undefined when it is not host:port. */
export function splitAddress(address: string): { host: string; port: number } | undefined {
  const m = /^\[?([^\s\]]+?)\]?:(\d{1,5})$/.exec(address);
  if (!m) return undefined;
  const port = Number(m[2]);
  return port <= 65535 ? { host: m[1]!, port } : undefined;
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
  const out = value.replace(
    /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g,
    (match, name?: string, fallback?: string) => {
      if (match === '$$') return '$';
      const v = env[name!];
      if (v !== undefined && (v !== '' || fallback === undefined)) return v;
      if (fallback !== undefined) return fallback;
      missing ??= name;
      return '';
    },
  );
  if (missing === undefined) return out;
  return {
    error: `\${${missing}} is not set in the runtime's environment (write \${${missing}:-default} for a fallback)`,
  };
}
