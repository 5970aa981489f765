// The `[mcp.*]` tables of loom.toml as typed settings, and the opt-in import of VS Code's
// `.vscode/mcp.json`. Each table is checked against loom.toml's own schema (runtime/config/schema.ts,
// which loadConfig checks the file with too), so a problem is worded as everywhere else
// (`mcp.github.url: must not be empty`); here are only the rules a schema cannot say (command or url,
// the transport that fits, a server name that is no Loom namespace, a URL after ${VAR} expansion).
// A bad server entry is reported and skipped, the other servers still run.
import { inputVariable } from '../contract/mcpInputs';
import * as fs from 'node:fs';
import * as path from 'node:path';
import JSON5 from 'json5';
import type { IsolationMode, McpServeTable, McpServerTable, McpSettingsTable } from '../config';
import { problemsFromAjv } from '../contract/configProblems';
import { describe } from '../contract/describe';
import { compileLoomTomlSchema } from '../contract/loomToml';
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

const DEFAULT_SETTINGS: McpSettings = { importVscode: false, defaultPolicy: 'allow', headlessAsk: 'deny' };
const DEFAULT_SERVE: McpServeConfig = {
  http: false,
  host: '127.0.0.1',
  port: 0,
  include: [],
  exclude: [],
  toolPolicy: {},
};
const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_RESTART: McpRestartConfig = {
  enabled: true,
  backoffInitialMs: 500,
  backoffMaxMs: 30_000,
  maxRestarts: 10,
  windowMs: 300_000,
};

export class McpConfigError extends LoomError {
  override name = 'McpConfigError';
  constructor(message: string) {
    super('mcp_config_error', message);
  }
}

/**
 * Checks an [mcp.<name>] table (a server, or settings/serve) against loom.toml's own schema
 * (runtime/config/schema.ts), so every reader words its problems alike: loadConfig for loom.toml,
 * this for .vscode/mcp.json, LOOM_MCP_SERVERS and tables given in code. Returns it typed.
 */
function checked<T>(name: string, table: unknown): T {
  const validate = compileLoomTomlSchema();
  const doc = { mcp: { [name]: table } };
  if (validate(doc)) return table as T;
  const problems = problemsFromAjv(validate.errors ?? [], doc);
  throw new McpConfigError(problems.map((p) => `${p.key}: ${p.message}`).join('; '));
}

function isTable(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

/** Keys that belong to one transport only; given to a server of the other, they are refused. */
const STDIO_ONLY = ['command', 'args', 'env', 'cwd', 'isolation', 'network', 'read_only_paths'] as const;
const HTTP_ONLY = ['url', 'headers'] as const;

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

function readRestart(t: McpServerTable, key: string): McpRestartConfig {
  const backoffInitialMs = t.backoff_initial_ms ?? DEFAULT_RESTART.backoffInitialMs;
  const backoffMaxMs = t.backoff_max_ms ?? Math.max(DEFAULT_RESTART.backoffMaxMs, backoffInitialMs);
  if (backoffMaxMs < backoffInitialMs) {
    throw new McpConfigError(
      `${key}.backoff_max_ms: must be at least backoff_initial_ms (${backoffInitialMs}), got ${backoffMaxMs}`,
    );
  }
  return {
    enabled: t.restart ?? DEFAULT_RESTART.enabled,
    backoffInitialMs,
    backoffMaxMs,
    maxRestarts: t.max_restarts ?? DEFAULT_RESTART.maxRestarts,
    windowMs: t.restart_window_ms ?? DEFAULT_RESTART.windowMs,
  };
}

/** tool_policy names tools as the server lists them ('server'), or by registry name or glob ([mcp.serve]). */
function checkToolPolicy(
  key: string,
  map: Record<string, McpPolicy> | undefined,
  names: 'server' | 'registry',
): Record<string, McpPolicy> {
  for (const tool of Object.keys(map ?? {})) {
    if (names === 'registry') {
      if (!tool.includes(':') && !tool.includes('*')) {
        throw new McpConfigError(
          `${key}.tool_policy.${tool}: name a registry tool ("fs:write") or a glob ("fs:*"); quote it in TOML: { "fs:write" = "ask" }`,
        );
      }
    } else if (tool.includes(':')) {
      throw new McpConfigError(
        `${key}.tool_policy.${tool}: name the tool as the server lists it, without the "<server>:" prefix`,
      );
    }
  }
  return { ...map };
}

function checkUrl(key: string, url: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new McpConfigError(`${key}: must be a valid URL (got ${describe(url)})`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new McpConfigError(`${key}: must be an http:// or https:// URL (got ${describe(url)})`);
  }
}

/** Validates one `[mcp.<name>]` table. Throws McpConfigError naming the key. */
export function parseServer(
  name: string,
  table: unknown,
  settings: McpSettings,
  workspace: string,
  source: McpServerConfig['source'] = 'loom.toml',
): McpServerConfig {
  const nameProblem = serverNameProblem(name);
  if (nameProblem) throw new McpConfigError(nameProblem);
  const key = `mcp.${name}`;
  const t = checked<McpServerTable>(name, table);
  const hasCommand = t.command !== undefined;
  const hasUrl = t.url !== undefined;
  if (hasCommand && hasUrl) throw new McpConfigError(`${key}: give either command (stdio) or url (HTTP), not both`);
  if (!hasCommand && !hasUrl)
    throw new McpConfigError(`${key}: needs command = "..." (a stdio server) or url = "http://..." (an HTTP server)`);
  const transport: McpTransportKind = t.transport ?? (hasCommand ? 'stdio' : 'http');
  if (hasCommand !== (transport === 'stdio')) {
    throw new McpConfigError(
      `${key}.transport: "${transport}" does not fit ${hasCommand ? 'command' : 'url'}; stdio uses command, http/sse use url`,
    );
  }
  const misplaced = (transport === 'stdio' ? HTTP_ONLY : STDIO_ONLY).find((k) => t[k] !== undefined);
  if (misplaced)
    throw new McpConfigError(
      `${key}.${misplaced}: only for ${transport === 'stdio' ? 'HTTP servers (url)' : 'stdio servers (command)'}`,
    );
  const common = {
    name,
    enabled: t.enabled ?? true,
    timeoutMs: t.timeout_ms ?? DEFAULT_TIMEOUT_MS,
    policy: t.policy ?? settings.defaultPolicy,
    toolPolicy: checkToolPolicy(key, t.tool_policy, 'server'),
    restart: readRestart(t, key),
    source,
  };
  if (transport === 'stdio') {
    const cwd = t.cwd ?? '.';
    return {
      ...common,
      transport,
      command: t.command!,
      args: t.args ?? [],
      env: t.env ?? {},
      cwd: path.resolve(workspace, cwd.replaceAll('${workspaceFolder}', workspace)),
      isolation: t.isolation ?? 'off',
      network: t.network ?? false,
      readOnlyPaths: t.read_only_paths ?? [],
    };
  }
  const url = t.url!;
  // The URL may carry ${VAR} references; it is checked again after expansion.
  if (!url.includes('${')) checkUrl(`${key}.url`, url);
  return { ...common, transport, url, headers: t.headers ?? {} };
}

function parseSettings(raw: unknown): McpSettings {
  if (raw === undefined) return { ...DEFAULT_SETTINGS };
  const t = checked<McpSettingsTable>(SETTINGS_TABLE, raw);
  return {
    importVscode: t.import_vscode ?? DEFAULT_SETTINGS.importVscode,
    defaultPolicy: t.default_policy ?? DEFAULT_SETTINGS.defaultPolicy,
    headlessAsk: t.headless_ask ?? DEFAULT_SETTINGS.headlessAsk,
  };
}

function parseServe(raw: unknown): McpServeConfig {
  if (raw === undefined) return { ...DEFAULT_SERVE };
  const t = checked<McpServeTable>(SERVE_TABLE, raw);
  const serve: McpServeConfig = {
    http: t.http ?? DEFAULT_SERVE.http,
    host: t.host ?? DEFAULT_SERVE.host,
    port: t.port ?? DEFAULT_SERVE.port,
    include: t.include ?? [],
    exclude: t.exclude ?? [],
    toolPolicy: checkToolPolicy(`mcp.${SERVE_TABLE}`, t.tool_policy, 'registry'),
  };
  if (t.policy !== undefined) serve.policy = t.policy;
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
      servers.push(parseServer(name, table, settings, workspace));
    } catch (err) {
      problems.push({
        server: name,
        message: messageOf(err),
        transport: configuredTransport(table),
        source: 'loom.toml',
      });
    }
  }
  if (settings.importVscode) {
    const imported = readVscodeMcpJson(workspace, settings);
    problems.push(...imported.problems);
    for (const server of imported.servers) {
      if (raw[server.name] !== undefined) {
        problems.push({
          message: `.vscode/mcp.json: server "${server.name}" is also in loom.toml; the loom.toml entry is used`,
        });
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
export function readVscodeMcpJson(
  workspace: string,
  settings: McpSettings,
): { servers: McpServerConfig[]; problems: McpConfigProblem[] } {
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
      problems.push({
        server: name,
        message: `.vscode/mcp.json: ${messageOf(err)}`,
        transport: configuredTransport({ transport: e.type, url: e.url, command: e.command }),
        source: '.vscode/mcp.json',
      });
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

export interface ExpandOptions {
  workspace: string;
  resolve?: SecretResolver;
  env?: NodeJS.ProcessEnv;
  /** Gathers each value a reference was replaced with (but the workspace folder and `:-` defaults): any may be a secret. */
  substituted?: Set<string>;
}

/**
 * Expands one value, with the syntax of the config part's expandEnv plus VS Code's forms:
 * `${VAR}` / `${env:VAR}` from the environment, `${VAR:-default}` when VAR is unset or empty,
 * `$$` for `$`, `${workspaceFolder}`, and `${input:id}` from LOOM_INPUT_<ID>. The resolver (the
 * extension's SecretStorage) is asked first for every name.
 */
export async function expandValue(value: string, key: string, opts: ExpandOptions): Promise<string> {
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
    const fromFallback = (answer === undefined || answer === '') && fallback !== undefined;
    if (fromFallback) answer = fallback;
    if (answer === undefined) {
      const hint = name.startsWith('input:')
        ? `inputs come from the VS Code extension (SecretStorage) or the environment variable ${variable}`
        : `set ${variable} in the runtime's environment, or write \${${name}:-default}`;
      throw new McpConfigError(`${key}: \${${name}} has no value (${hint})`);
    }
    answers.set(ref, answer);
    // The config's own defaults ("${DEBUG:-true}") are written in the file: no secret.
    if (name !== 'workspaceFolder' && !fromFallback) opts.substituted?.add(answer);
  }
  return value.replace(REFERENCE, (match, ref?: string) => (match === '$$' ? '$' : answers.get(ref!)!));
}

async function expandMap(
  map: Record<string, string>,
  key: string,
  opts: ExpandOptions,
): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(map)) out[k] = await expandValue(v, `${key}.${k}`, opts);
  return out;
}

/**
 * Resolves secret references in a server's launch fields, just before each start (so a secret
 * changed in the environment or SecretStorage applies on the next restart). Throws McpConfigError.
 */
export async function expandServer(server: McpServerConfig, opts: ExpandOptions): Promise<McpServerConfig> {
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
