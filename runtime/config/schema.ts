// loom.toml exactly as written in the file (snake_case), as one zod schema: every table, [mcp.*]
// and [llm.*] included. It is the single source: its JSON Schema (loomTomlSchema below) is checked
// in as runtime/contract/loom.schema.json (npm run gen:schema; a unit test fails when it is stale),
// which the runtime (through ajv, without loading zod), the extension and the Python SDK validate
// with, so every reader of the file says the same thing about it.
// It says what is allowed; defaults live in defaults.ts only. Checks a schema cannot say well
// (loopback host, one of interval_ms/cron, a valid cron expression, ${VAR} expansion, an MCP
// server's command-or-url) are in load.ts and runtime/mcp/config.ts.
// `.describe()` on a string schema is the wording used when its `regex` fails.
import { z } from 'zod';
import { clusterSchema } from './clusterSchema';

const int = (minimum: number, maximum?: number) =>
  maximum === undefined ? z.int().min(minimum) : z.int().min(minimum).max(maximum);
const bool = z.boolean();
const str = () => z.string();
const nonEmpty = () => z.string().min(1);
const strings = (item: z.ZodString = str()) => z.array(item);
const oneOf = <const T extends readonly [string, ...string[]]>(...values: T) => z.enum(values);
const stringTable = () => z.record(z.string(), z.string());
/** A table of known keys, each optional unless named in `required`; any other key is an error. */
function table<T extends Record<string, z.ZodType>>(shape: T, required: readonly (keyof T)[] = []) {
  const fields = Object.fromEntries(
    Object.entries(shape).map(([k, v]) => [k, required.includes(k) ? v : v.optional()]),
  );
  return z.strictObject(fields as { [K in keyof T]: T[K] | z.ZodOptional<T[K]> });
}
/** A table of user-named tables ([agents.<id>], [timers.<name>]); the name becomes a topic segment. */
const NAME = z
  .string()
  .regex(/^[A-Za-z0-9_-]+$/)
  .describe('a name of letters, digits, "_" or "-"');
const namedTables = <T extends z.ZodType>(entry: T) => z.record(NAME, entry);

const qos = oneOf('realtime', 'batched', 'background');
/** How a process a tool or agent starts is confined by the OS (runtime/tools/isolation). */
const isolation = oneOf('required', 'best-effort', 'off');
const MiB = 1024 * 1024;
const httpUrl = z
  .string()
  .regex(/^https?:\/\/\S+$/)
  .describe('an http:// or https:// URL');
const policy = oneOf('allow', 'ask', 'deny');

/**
 * One [mcp.<name>] server: stdio (command) or HTTP (url). Which keys go together, the name and the
 * URL (after ${VAR} expansion) are checked by runtime/mcp/config.ts, which also reads the servers
 * of .vscode/mcp.json.
 */
export const mcpServerSchema = table({
  command: nonEmpty(),
  args: strings(),
  env: stringTable(),
  cwd: nonEmpty(),
  isolation,
  network: bool,
  read_only_paths: strings(),
  url: nonEmpty(),
  headers: stringTable(),
  transport: oneOf('stdio', 'http', 'sse'),
  enabled: bool,
  timeout_ms: int(1),
  policy,
  tool_policy: z.record(z.string(), policy),
  restart: bool,
  backoff_initial_ms: int(1),
  backoff_max_ms: int(1),
  max_restarts: int(0),
  restart_window_ms: int(1),
});

export const mcpSettingsSchema = table({
  import_vscode: bool,
  default_policy: policy,
  headless_ask: oneOf('allow', 'deny'),
});
export const mcpServeSchema = table({
  http: bool,
  host: oneOf('127.0.0.1', '::1'),
  port: int(0, 65535),
  include: strings(),
  exclude: strings(),
  policy,
  tool_policy: z.record(z.string(), policy),
});

/** [mcp]: the two settings tables, every other table a server. */
const mcp = z
  .object({ settings: mcpSettingsSchema.optional(), serve: mcpServeSchema.optional() })
  .catchall(mcpServerSchema);

/**
 * One [llm.<name>] table, as the Python SDK (loom.llm, LLMProvider.from_config) and the built-in
 * llm:generate read it. Aliases (type/provider, api_base/base_url, the timeouts) and what a preset
 * fills in are the readers' business.
 */
const llmTable = table({
  type: str(),
  provider: str(),
  api_base: str(),
  base_url: str(),
  model: str(),
  api_key: str(),
  temperature: z.number().min(0).max(2),
  max_tokens: int(1),
  timeout: z.number().positive(),
  timeout_ms: z.number().positive(),
  timeout_sec: z.number().positive(),
  timeout_s: z.number().positive(),
  max_retries: int(0),
  backoff_s: z.number().min(0),
  max_backoff_s: z.number().min(0),
  max_retry_wait_s: z.number().min(0),
  supports_tools: bool,
  native_tools: bool,
  headers: stringTable(),
  extra: z.record(z.string(), z.unknown()),
});

export const loomToml = table({
  // The reference's description of its app: accepted (noted in the log), no effect here.
  name: str(),
  description: str(),
  version: str(),
  runtime: table({
    log_level: oneOf('debug', 'info', 'warn', 'error'),
    data_dir: nonEmpty(),
    roots: strings(nonEmpty()),
    trusted: bool,
    store_max_bytes: int(1024 * 1024, Number.MAX_SAFE_INTEGER),
  }),
  bridge: table({
    host: str(),
    port: int(0, 65535),
    require_token: bool,
    compat: oneOf('none', 'reference'),
    // The reference's: address maps onto host and port; mode and version mean nothing here (noted).
    address: z
      .string()
      .regex(/^\S+:[0-9]{1,5}$/)
      .describe('host:port, e.g. "127.0.0.1:50051"'),
    mode: str(),
    version: str(),
    max_message_bytes: int(1024, 1024 * MiB),
    heartbeat_timeout_ms: int(100),
    max_batch: int(1, 65536),
    max_subscriptions_per_client: int(1, 1_000_000),
    max_tools_per_client: int(1, 1_000_000),
  }),
  bus: table({
    queue_sizes: table({ realtime: int(1, 10_000_000), batched: int(1, 10_000_000), background: int(1, 10_000_000) }),
    queue_bytes: table({
      realtime: int(1024, 1024 * 1024 * MiB),
      batched: int(1024, 1024 * 1024 * MiB),
      background: int(1024, 1024 * 1024 * MiB),
    }),
    max_hops: int(1, 1000),
    request_timeout_ms: int(1),
  }),
  tools: table({
    default_timeout_ms: int(1),
    fs: table({ max_read_bytes: int(1), protected_writes: oneOf('deny', 'ask') }),
    shell: table({
      allow: strings(
        z
          .string()
          .regex(/^[^/\\\s]+$/)
          .describe('a program name without a path or spaces'),
      ),
      timeout_ms: int(1),
      max_output_bytes: int(1),
      env_allow: strings(
        z
          .string()
          .regex(/^[A-Za-z_][A-Za-z0-9_]*$/)
          .describe('an environment variable name'),
      ),
      isolation,
      network: bool,
      preset: oneOf('none', 'reference'),
    }),
    weather: table({ base_url: httpUrl }),
    web_search: table({ base_url: httpUrl, api_key: str() }),
    llm: table({
      provider: z
        .string()
        .regex(/^([A-Za-z0-9_-]+)?$/)
        .describe('the name of an [llm.<name>] table or preset (letters, digits, "_" or "-"), or "" for the default'),
    }),
  }),
  watcher: table({
    enabled: bool,
    include: strings(nonEmpty()),
    ignore: strings(nonEmpty()),
    debounce_ms: int(0, 60_000),
    max_folders: int(1, 1_000_000),
  }),
  timers: namedTables(table({ interval_ms: int(1), cron: nonEmpty(), payload: z.unknown(), qos })),
  agents: namedTables(
    table(
      {
        command: nonEmpty(),
        args: strings(),
        env: stringTable(),
        cwd: nonEmpty(),
        restart: oneOf('always', 'on-failure', 'never'),
        autostart: bool,
        max_restarts: int(0),
        restart_window_ms: int(1),
        backoff_initial_ms: int(0),
        backoff_max_ms: int(0),
        stop_grace_ms: int(0),
        log_lines: int(0),
        isolation,
        network: bool,
        read_only_paths: strings(nonEmpty()),
        state_access: strings(nonEmpty()),
      },
      ['command'],
    ),
  ),
  adhoc_agents: table({ isolation, network: bool, read_only_paths: strings(nonEmpty()) }),
  mcp,
  dashboard: table({ enabled: bool, host: str(), port: int(0, 65535) }),
  // The reference's: root is where its file tools work, reports_dir is for its agents (noted).
  workspace: table({ root: nonEmpty(), reports_dir: nonEmpty() }),
  llm: namedTables(llmTable),
  cluster: clusterSchema,
});

export type McpServerTable = z.infer<typeof mcpServerSchema>;
export type McpSettingsTable = z.infer<typeof mcpSettingsSchema>;
export type McpServeTable = z.infer<typeof mcpServeSchema>;

/** Drops what zod adds that says nothing here: a safe-integer bound on every integer, `propertyNames: {type: string}`. */
function tidy(s: Record<string, unknown>): void {
  if (s.maximum === Number.MAX_SAFE_INTEGER) delete s.maximum;
  if (s.minimum === Number.MIN_SAFE_INTEGER) delete s.minimum;
  const names = s.propertyNames as Record<string, unknown> | undefined;
  if (names && Object.keys(names).length === 1 && names.type === 'string') delete s.propertyNames;
}

/** The JSON Schema of loom.toml (draft-07, ajv's default and the smaller build): what ajv validates, what loom.schema.json holds. */
export function loomTomlJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(loomToml, {
    target: 'draft-7',
    unrepresentable: 'throw',
    override: ({ jsonSchema: s }) => tidy(s),
  }) as Record<string, unknown>;
  return {
    ...schema,
    title: 'loom.toml',
    description: 'The settings file of a Loom workspace (runtime/config/loom.toml.md).',
  };
}

export const loomTomlSchema: Record<string, unknown> = loomTomlJsonSchema();

/** Where the generated JSON Schema is checked in: the contract's copy, and the Python SDK's package data. */
export const SCHEMA_FILES = ['runtime/contract/loom.schema.json', 'sdk/python/loom/config/loom.schema.json'] as const;

/** The text of those files (npm run gen:schema writes it; test/unit/config/schema.test.ts compares). */
export function loomTomlSchemaText(): string {
  return JSON.stringify(loomTomlJsonSchema(), null, 2) + '\n';
}
