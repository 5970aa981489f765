// Validation of the `[mcp.*]` tables of loom.toml (kept as parsed by the config loader) and the
// opt-in import of VS Code's `.vscode/mcp.json`. Every problem names its key (`mcp.github.url: ...`);
// a bad server entry is reported and skipped, the other servers still run.
import { inputVariable } from '../contract/mcpInputs';
import * as fs from 'node:fs';
import * as path from 'node:path';
import JSON5 from 'json5';
import type { IsolationMode } from '../config';
import { LOOM_NAMESPACES } from '../tools/namespaces';
import { LoomError, messageOf } from '../contract/errors';

export type McpPolicy = 'allow' | 'ask' | 'deny';
export type McpTransportKind = 'stdio' | 'http' | 'sse';

export interface McpRestartConfig {
  enabled: boolean;
  backoffInitialMs: number;
  backoffMaxMs: number;
  /** Restarts allowed within windowMs before the server is left failed. */
  maxRestarts: number;
  windowMs: number;
}

interface McpServerCommon {
  name: string;
  enabled: boolean;
  /** Bounds connecting, initialize and tools/list (not tool calls: those carry their own timeout). */
  timeoutMs: number;
  policy: McpPolicy;
  toolPolicy: Record<string, McpPolicy>;
  restart: McpRestartConfig;
  /** Where the entry came from, for messages. */
  source: 'loom.toml' | '.vscode/mcp.json';
}

export interface McpStdioServerConfig extends McpServerCommon {
  transport: 'stdio';
  command: string;
  args: string[];
  env: Record<string, string>;
  /** Absolute (resolved against the workspace). */
  cwd: string;
  /** OS isolation of the server's process (as system:shell's): "required" | "best-effort" | "off". Default "off". */
  isolation: IsolationMode;
  /** With isolation: the server reaches the network. Default false. */
  network: boolean;
  /** With isolation: more folders it may read, absolute or relative to the workspace. Default []. */
  readOnlyPaths: string[];
}

export interface McpHttpServerConfig extends McpServerCommon {
  /** "http" = streamable HTTP, falling back to SSE; "sse" = the old HTTP+SSE transport only. */
  transport: 'http' | 'sse';
  url: string;
  headers: Record<string, string>;
}

export type McpServerConfig = McpStdioServerConfig | McpHttpServerConfig;

export interface McpSettings {
  importVscode: boolean;
  defaultPolicy: McpPolicy;
  /** What `ask` does when no one can be asked (headless). */
  headlessAsk: 'allow' | 'deny';
}

export interface McpServeConfig {
  /** Serve the registry over streamable HTTP on 127.0.0.1. */
  http: boolean;
  host: string;
  port: number;
  /** Globs over registry tool names ("fs:*"); empty include = everything. */
  include: string[];
  exclude: string[];
  /** Every served tool's policy when set; unset = by kind (read allow, write/execute ask). */
  policy?: McpPolicy;
  /** By registry name or glob ("system:shell", "fs:*"); wins over policy. */
  toolPolicy: Record<string, McpPolicy>;
}

export interface McpConfig {
  settings: McpSettings;
  serve: McpServeConfig;
  servers: McpServerConfig[];
}

export interface McpConfigProblem {
  /** The server the problem belongs to, when there is one (it is reported as failed). */
  server?: string;
  message: string;
  /** What the entry asked for, so its failed state still shows it. */
  transport?: McpTransportKind;
  source?: McpServerConfig['source'];
}

/** The transport a (possibly invalid) server table asks for. */
function configuredTransport(table: unknown): McpTransportKind {
  const t = isTable(table) ? table : {};
  if (t.transport === 'sse' || t.transport === 'http' || t.transport === 'stdio') return t.transport;
  return t.url !== undefined && t.command === undefined ? 'http' : 'stdio';
}

/** Table names under [mcp] that are settings, not servers. */
export const SETTINGS_TABLE = 'settings';
export const SERVE_TABLE = 'serve';

/** Tool namespaces that belong to Loom itself, and the tables that are not servers: a server may not take one of them. */
export const RESERVED_NAMESPACES = [...LOOM_NAMESPACES, SETTINGS_TABLE, SERVE_TABLE];

// A server name becomes a tool namespace (`<name>:tool`) and a topic segment (`mcp.<name>.state`).
const SERVER_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
const POLICIES: readonly McpPolicy[] = ['allow', 'ask', 'deny'];

const DEFAULT_SETTINGS: McpSettings = { importVscode: false, defaultPolicy: 'allow', headlessAsk: 'deny' };
const DEFAULT_SERVE: McpServeConfig = { http: false, host: '127.0.0.1', port: 0, include: [], exclude: [], toolPolicy: {} };
const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_RESTART: McpRestartConfig = {
  enabled: true, backoffInitialMs: 500, backoffMaxMs: 30_000, maxRestarts: 10, windowMs: 300_000,
};

export class McpConfigError extends LoomError {
  override name = 'McpConfigError';
  constructor(message: string) {
    super('mcp_config_error', message);
  }
}

/** Reads typed values off one table, throwing McpConfigError with the full key on a bad one. */
class TableReader {
  private readonly seen = new Set<string>();
  constructor(private readonly table: Record<string, unknown>, private readonly prefix: string) {}

  key(k: string): string {
    return `${this.prefix}.${k}`;
  }

  private take(k: string): unknown {
    this.seen.add(k);
    return this.table[k];
  }

  has(k: string): boolean {
    return this.table[k] !== undefined;
  }

  string(k: string, fallback?: string): string | undefined {
    const v = this.take(k);
    if (v === undefined) return fallback;
    if (typeof v !== 'string' || v === '') throw new McpConfigError(`${this.key(k)}: expected a non-empty string, got ${describe(v)}`);
    return v;
  }

  bool(k: string, fallback: boolean): boolean {
    const v = this.take(k);
    if (v === undefined) return fallback;
    if (typeof v !== 'boolean') throw new McpConfigError(`${this.key(k)}: expected true or false, got ${describe(v)}`);
    return v;
  }

  int(k: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
    const v = this.take(k);
    if (v === undefined) return fallback;
    const n = typeof v === 'bigint' ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
      throw new McpConfigError(`${this.key(k)}: expected a whole number from ${min} to ${max}, got ${describe(v)}`);
    }
    return n;
  }

  stringList(k: string): string[] {
    const v = this.take(k);
    if (v === undefined) return [];
    if (!Array.isArray(v) || v.some((s) => typeof s !== 'string')) {
      throw new McpConfigError(`${this.key(k)}: expected a list of strings, got ${describe(v)}`);
    }
    return v as string[];
  }

  stringMap(k: string): Record<string, string> {
    const v = this.take(k);
    if (v === undefined) return {};
    if (!isTable(v)) throw new McpConfigError(`${this.key(k)}: expected a table of strings, got ${describe(v)}`);
    const out: Record<string, string> = {};
    for (const [name, value] of Object.entries(v)) {
      if (typeof value !== 'string') throw new McpConfigError(`${this.key(k)}.${name}: expected a string, got ${describe(value)}`);
      out[name] = value;
    }
    return out;
  }

  oneOf<T extends string>(k: string, options: readonly T[], fallback: T): T {
    const v = this.take(k);
    if (v === undefined) return fallback;
    if (typeof v !== 'string' || !options.includes(v as T)) {
      throw new McpConfigError(`${this.key(k)}: expected one of ${options.map((o) => `"${o}"`).join(', ')}, got ${describe(v)}`);
    }
    return v as T;
  }

  /** Unknown keys are errors: a typo ("comand") should not silently start nothing. */
  rejectUnknown(): void {
    const unknown = Object.keys(this.table).filter((k) => !this.seen.has(k));
    if (unknown.length > 0) throw new McpConfigError(`${this.key(unknown[0])}: unknown key`);
  }
}

function isTable(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  if (isTable(v)) return 'a table';
  return JSON.stringify(typeof v === 'bigint' ? Number(v) : v);
}

/** Checks a server name; returns the problem or undefined. */
export function serverNameProblem(name: string): string | undefined {
  if (!SERVER_NAME.test(name)) {
    return `mcp.${name}: a server name must be 1-64 letters, digits, "_" or "-", starting with a letter or digit (it becomes the tool namespace "${name}:" and the topic "mcp.${name}.state")`;
  }
  if (RESERVED_NAMESPACES.includes(name.toLowerCase())) {
    return `mcp.${name}: "${name}" is a built-in Loom tool namespace (${name}:*) or a reserved table; choose another server name`;
  }
  return undefined;
}

function readRestart(r: TableReader, key: string): McpRestartConfig {
  const backoffInitialMs = r.int('backoff_initial_ms', DEFAULT_RESTART.backoffInitialMs, 1);
  const backoffMaxMs = r.int('backoff_max_ms', Math.max(DEFAULT_RESTART.backoffMaxMs, backoffInitialMs), 1);
  if (backoffMaxMs < backoffInitialMs) {
    throw new McpConfigError(`${key}.backoff_max_ms: must be at least backoff_initial_ms (${backoffInitialMs}), got ${backoffMaxMs}`);
  }
  return {
    enabled: r.bool('restart', DEFAULT_RESTART.enabled),
    backoffInitialMs,
    backoffMaxMs,
    maxRestarts: r.int('max_restarts', DEFAULT_RESTART.maxRestarts, 0),
    windowMs: r.int('restart_window_ms', DEFAULT_RESTART.windowMs, 1),
  };
}

function readToolPolicy(r: TableReader, names: 'server' | 'registry' = 'server'): Record<string, McpPolicy> {
  const map = r.stringMap('tool_policy');
  for (const [tool, value] of Object.entries(map)) {
    if (!POLICIES.includes(value as McpPolicy)) {
      throw new McpConfigError(`${r.key('tool_policy')}.${tool}: expected one of "allow", "ask", "deny", got ${JSON.stringify(value)}`);
    }
    if (names === 'registry') {
      if (!tool.includes(':') && !tool.includes('*')) {
        throw new McpConfigError(`${r.key('tool_policy')}.${tool}: name a registry tool ("fs:write") or a glob ("fs:*"); quote it in TOML: { "fs:write" = "ask" }`);
      }
    } else if (tool.includes(':')) {
      throw new McpConfigError(`${r.key('tool_policy')}.${tool}: name the tool as the server lists it, without the "<server>:" prefix`);
    }
  }
  return map as Record<string, McpPolicy>;
}

function checkUrl(key: string, url: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new McpConfigError(`${key}: not a valid URL: ${JSON.stringify(url)}`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new McpConfigError(`${key}: expected an http:// or https:// URL, got ${JSON.stringify(url)}`);
  }
}

/** Validates one `[mcp.<name>]` table. Throws McpConfigError naming the key. */
export function parseServer(
  name: string,
  table: Record<string, unknown>,
  settings: McpSettings,
  workspace: string,
  source: McpServerConfig['source'] = 'loom.toml',
): McpServerConfig {
  const nameProblem = serverNameProblem(name);
  if (nameProblem) throw new McpConfigError(nameProblem);
  const key = `mcp.${name}`;
  const r = new TableReader(table, key);
  const hasCommand = r.has('command');
  const hasUrl = r.has('url');
  if (hasCommand && hasUrl) throw new McpConfigError(`${key}: give either command (stdio) or url (HTTP), not both`);
  if (!hasCommand && !hasUrl) throw new McpConfigError(`${key}: needs command = "..." (a stdio server) or url = "http://..." (an HTTP server)`);
  const transport = r.oneOf<McpTransportKind>('transport', ['stdio', 'http', 'sse'], hasCommand ? 'stdio' : 'http');
  if (hasCommand !== (transport === 'stdio')) {
    throw new McpConfigError(`${key}.transport: "${transport}" does not fit ${hasCommand ? 'command' : 'url'}; stdio uses command, http/sse use url`);
  }
  const common = {
    name,
    enabled: r.bool('enabled', true),
    timeoutMs: r.int('timeout_ms', DEFAULT_TIMEOUT_MS, 1),
    policy: r.oneOf<McpPolicy>('policy', POLICIES, settings.defaultPolicy),
    toolPolicy: readToolPolicy(r),
    restart: readRestart(r, key),
    source,
  };
  let server: McpServerConfig;
  if (transport === 'stdio') {
    const cwd = r.string('cwd', '.')!;
    server = {
      ...common,
      transport,
      command: r.string('command')!,
      args: r.stringList('args'),
      env: r.stringMap('env'),
      cwd: path.resolve(workspace, cwd.replaceAll('${workspaceFolder}', workspace)),
      isolation: r.oneOf<IsolationMode>('isolation', ['required', 'best-effort', 'off'], 'off'),
      network: r.bool('network', false),
      readOnlyPaths: r.stringList('read_only_paths'),
    };
  } else {
    const url = r.string('url')!;
    // The URL may carry ${VAR} references; it is checked again after expansion.
    if (!url.includes('${')) checkUrl(r.key('url'), url);
    server = { ...common, transport, url, headers: r.stringMap('headers') };
  }
  r.rejectUnknown();
  return server;
}

function parseSettings(raw: unknown): McpSettings {
  if (raw === undefined) return { ...DEFAULT_SETTINGS };
  if (!isTable(raw)) throw new McpConfigError(`mcp.${SETTINGS_TABLE}: expected a table [mcp.${SETTINGS_TABLE}]`);
  const r = new TableReader(raw, `mcp.${SETTINGS_TABLE}`);
  const settings: McpSettings = {
    importVscode: r.bool('import_vscode', DEFAULT_SETTINGS.importVscode),
    defaultPolicy: r.oneOf<McpPolicy>('default_policy', POLICIES, DEFAULT_SETTINGS.defaultPolicy),
    headlessAsk: r.oneOf<'allow' | 'deny'>('headless_ask', ['allow', 'deny'], DEFAULT_SETTINGS.headlessAsk),
  };
  r.rejectUnknown();
  return settings;
}

function parseServe(raw: unknown): McpServeConfig {
  if (raw === undefined) return { ...DEFAULT_SERVE };
  if (!isTable(raw)) throw new McpConfigError(`mcp.${SERVE_TABLE}: expected a table [mcp.${SERVE_TABLE}]`);
  const r = new TableReader(raw, `mcp.${SERVE_TABLE}`);
  const serve: McpServeConfig = {
    http: r.bool('http', DEFAULT_SERVE.http),
    host: r.oneOf('host', ['127.0.0.1', '::1'], '127.0.0.1'),
    port: r.int('port', DEFAULT_SERVE.port, 0, 65535),
    include: r.stringList('include'),
    exclude: r.stringList('exclude'),
    toolPolicy: readToolPolicy(r, 'registry'),
  };
  if (r.has('policy')) serve.policy = r.oneOf<McpPolicy>('policy', POLICIES, 'ask');
  r.rejectUnknown();
  return serve;
}

/**
 * Validates the whole `mcp` table. Problems with the settings tables are thrown (nothing sensible
 * can run without them); a bad server entry becomes a problem and the rest still load.
 */
export function parseMcpConfig(
  raw: Record<string, unknown>,
  workspace: string,
): { config: McpConfig; problems: McpConfigProblem[] } {
  const settings = parseSettings(raw[SETTINGS_TABLE]);
  const serve = parseServe(raw[SERVE_TABLE]);
  const servers: McpServerConfig[] = [];
  const problems: McpConfigProblem[] = [];
  for (const [name, table] of Object.entries(raw)) {
    if (name === SETTINGS_TABLE || name === SERVE_TABLE) continue;
    try {
      if (!isTable(table)) {
        throw new McpConfigError(`mcp.${name}: expected a table [mcp.${name}] describing a server (global options go under [mcp.${SETTINGS_TABLE}])`);
      }
      servers.push(parseServer(name, table, settings, workspace));
    } catch (err) {
      problems.push({ server: name, message: messageOf(err), transport: configuredTransport(table), source: 'loom.toml' });
    }
  }
  if (settings.importVscode) {
    const imported = readVscodeMcpJson(workspace, settings);
    problems.push(...imported.problems);
    for (const server of imported.servers) {
      if (raw[server.name] !== undefined) {
        problems.push({ message: `.vscode/mcp.json: server "${server.name}" is also in loom.toml; the loom.toml entry is used` });
        continue;
      }
      servers.push(server);
    }
  }
  return { config: { settings, serve, servers }, problems };
}

/**
 * Reads `<workspace>/.vscode/mcp.json` (VS Code's format, comments allowed): `servers.<name>` with
 * type stdio|http|sse, command/args/env/cwd or url/headers. `${input:id}` references stay as they
 * are; the secret resolver (the extension's SecretStorage) answers them when the server starts.
 */
export function readVscodeMcpJson(workspace: string, settings: McpSettings): { servers: McpServerConfig[]; problems: McpConfigProblem[] } {
  const file = path.join(workspace, '.vscode', 'mcp.json');
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { servers: [], problems: [] };
    return { servers: [], problems: [{ message: `.vscode/mcp.json: cannot read: ${messageOf(err)}` }] };
  }
  let doc: unknown;
  try {
    // JSON with comments and trailing commas, as VS Code writes it (JSON5 reads a superset of that).
    doc = JSON5.parse(text);
  } catch (err) {
    return { servers: [], problems: [{ message: `.vscode/mcp.json: ${messageOf(err)}` }] };
  }
  if (!isTable(doc) || (doc.servers !== undefined && !isTable(doc.servers))) {
    return { servers: [], problems: [{ message: '.vscode/mcp.json: expected {"servers": {"<name>": {...}}}' }] };
  }
  const servers: McpServerConfig[] = [];
  const problems: McpConfigProblem[] = [];
  for (const [name, entry] of Object.entries((doc.servers ?? {}) as Record<string, unknown>)) {
    try {
      if (!isTable(entry)) throw new McpConfigError(`mcp.${name}: expected an object in .vscode/mcp.json`);
      // VS Code's fields that Loom has no use for (envFile, dev, gallery...) are dropped, not refused.
      const { type, command, args, env, cwd, url, headers } = entry;
      const table: Record<string, unknown> = { command, args, env, cwd, url, headers };
      if (type !== undefined) table.transport = type;
      for (const k of Object.keys(table)) if (table[k] === undefined) delete table[k];
      servers.push(parseServer(name, table, settings, workspace, '.vscode/mcp.json'));
    } catch (err) {
      const e = isTable(entry) ? entry : {};
      problems.push({ server: name, message: `.vscode/mcp.json: ${messageOf(err)}`, transport: configuredTransport({ transport: e.type, url: e.url, command: e.command }), source: '.vscode/mcp.json' });
    }
  }
  return { servers, problems };
}

/**
 * Answers a `${...}` reference: the name inside the braces without any `:-default`
 * ("GITHUB_TOKEN", "env:GITHUB_TOKEN", "input:github-token"). Return undefined to fall through to
 * the environment. The extension supplies one backed by SecretStorage.
 */
export type SecretResolver = (reference: string) => string | undefined | Promise<string | undefined>;

// `$$` is a literal `$`, as in the config part's expandEnv (agent env), whose syntax this extends.
const REFERENCE = /\$\$|\$\{([^}]+)\}/g;

function splitFallback(ref: string): { name: string; fallback?: string } {
  const i = ref.indexOf(':-');
  return i < 0 ? { name: ref } : { name: ref.slice(0, i), fallback: ref.slice(i + 2) };
}

/**
 * Expands one value, with the syntax of the config part's expandEnv plus VS Code's forms:
 * `${VAR}` / `${env:VAR}` from the environment, `${VAR:-default}` when VAR is unset or empty,
 * `$$` for `$`, `${workspaceFolder}`, and `${input:id}` from LOOM_INPUT_<ID>. The resolver (the
 * extension's SecretStorage) is asked first for every name.
 */
export async function expandValue(
  value: string,
  key: string,
  opts: { workspace: string; resolve?: SecretResolver; env?: NodeJS.ProcessEnv },
): Promise<string> {
  const env = opts.env ?? process.env;
  const answers = new Map<string, string>();
  for (const [match, ref] of value.matchAll(REFERENCE)) {
    if (match === '$$' || answers.has(ref)) continue;
    const { name, fallback } = splitFallback(ref);
    let answer = opts.resolve ? await opts.resolve(name) : undefined;
    let variable: string | undefined;
    if (answer === undefined) {
      if (name === 'workspaceFolder') answer = opts.workspace;
      else {
        variable = name.startsWith('input:') ? inputVariable(name.slice(6)) : name.replace(/^env:/, '');
        answer = env[variable];
      }
    }
    if ((answer === undefined || answer === '') && fallback !== undefined) answer = fallback;
    if (answer === undefined) {
      const hint = name.startsWith('input:')
        ? `inputs come from the VS Code extension (SecretStorage) or the environment variable ${variable}`
        : `set ${variable} in the runtime's environment, or write \${${name}:-default}`;
      throw new McpConfigError(`${key}: \${${name}} has no value (${hint})`);
    }
    answers.set(ref, answer);
  }
  return value.replace(REFERENCE, (match, ref?: string) => (match === '$$' ? '$' : answers.get(ref!)!));
}

async function expandMap(map: Record<string, string>, key: string, opts: Parameters<typeof expandValue>[2]): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(map)) out[k] = await expandValue(v, `${key}.${k}`, opts);
  return out;
}

/**
 * Resolves secret references in a server's launch fields, just before each start (so a secret
 * changed in the environment or SecretStorage applies on the next restart). Throws McpConfigError.
 */
export async function expandServer(server: McpServerConfig, opts: { workspace: string; resolve?: SecretResolver; env?: NodeJS.ProcessEnv }): Promise<McpServerConfig> {
  const key = `mcp.${server.name}`;
  if (server.transport === 'stdio') {
    const args: string[] = [];
    for (const [i, a] of server.args.entries()) args.push(await expandValue(a, `${key}.args[${i}]`, opts));
    return {
      ...server,
      command: await expandValue(server.command, `${key}.command`, opts),
      args,
      env: await expandMap(server.env, `${key}.env`, opts),
    };
  }
  const url = await expandValue(server.url, `${key}.url`, opts);
  checkUrl(`${key}.url`, url);
  return { ...server, url, headers: await expandMap(server.headers, `${key}.headers`, opts) };
}
