// JSON Schema of loom.toml exactly as written in the file (snake_case). It says what is allowed;
// defaults live in defaults.ts only. Checks a schema cannot say well (loopback host, one of
// interval_ms/cron, a valid cron expression, ${VAR} expansion) are in load.ts.
// `description` on a string schema is the wording used when its `pattern` fails.

type Schema = Record<string, unknown>;

const int = (minimum: number, maximum?: number): Schema => ({ type: 'integer', minimum, ...(maximum !== undefined ? { maximum } : {}) });
const bool: Schema = { type: 'boolean' };
const str = (extra: Schema = {}): Schema => ({ type: 'string', ...extra });
const strings = (item: Schema = str()): Schema => ({ type: 'array', items: item });
const oneOf = (...values: string[]): Schema => ({ type: 'string', enum: values });
const table = (properties: Record<string, Schema>, required: string[] = []): Schema => ({
  type: 'object',
  properties,
  additionalProperties: false,
  ...(required.length ? { required } : {}),
});
/** A table of user-named tables ([agents.<id>], [timers.<name>]); the name becomes a topic segment. */
const namedTables = (entry: Schema): Schema => ({
  type: 'object',
  propertyNames: { type: 'string', pattern: '^[A-Za-z0-9_-]+$', description: 'a name of letters, digits, "_" or "-"' },
  additionalProperties: entry,
});
/** A table of tables kept as parsed; another part reads their contents. */
const opaqueTables: Schema = { type: 'object', additionalProperties: { type: 'object' } };

const qos = oneOf('realtime', 'batched', 'background');
/** How a process a tool or agent starts is confined by the OS (runtime/tools/isolation). */
const isolation = oneOf('required', 'best-effort', 'off');
const MiB = 1024 * 1024;
const httpUrl = str({ pattern: '^https?://\\S+$', description: 'an http:// or https:// URL' });

export const loomTomlSchema: Schema = table({
  // The reference's description of its app: accepted (noted in the log), no effect here.
  name: str(),
  description: str(),
  version: str(),
  runtime: table({
    log_level: oneOf('debug', 'info', 'warn', 'error'),
    data_dir: str({ minLength: 1 }),
    roots: strings(str({ minLength: 1 })),
    trusted: bool,
  }),
  bridge: table({
    host: str(),
    port: int(0, 65535),
    require_token: bool,
    compat: oneOf('none', 'reference'),
    // The reference's: address maps onto host and port; mode and version mean nothing here (noted).
    address: str({ pattern: '^\\S+:[0-9]{1,5}$', description: 'host:port, e.g. "127.0.0.1:50051"' }),
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
    queue_bytes: table({ realtime: int(1024, 1024 * 1024 * MiB), batched: int(1024, 1024 * 1024 * MiB), background: int(1024, 1024 * 1024 * MiB) }),
    max_hops: int(1, 1000),
    request_timeout_ms: int(1),
  }),
  tools: table({
    default_timeout_ms: int(1),
    fs: table({ max_read_bytes: int(1), protected_writes: oneOf('deny', 'ask') }),
    shell: table({
      allow: strings(str({ pattern: '^[^/\\\\\\s]+$', description: 'a program name without a path or spaces' })),
      timeout_ms: int(1),
      max_output_bytes: int(1),
      env_allow: strings(str({ pattern: '^[A-Za-z_][A-Za-z0-9_]*$', description: 'an environment variable name' })),
      isolation,
      network: bool,
      preset: oneOf('none', 'reference'),
    }),
    weather: table({ base_url: httpUrl }),
    web_search: table({ base_url: httpUrl, api_key: str() }),
    llm: table({ provider: str({ pattern: '^([A-Za-z0-9_-]+)?$', description: 'the name of an [llm.<name>] table or preset (letters, digits, "_" or "-"), or "" for the default' }) }),
  }),
  watcher: table({
    enabled: bool,
    include: strings(str({ minLength: 1 })),
    ignore: strings(str({ minLength: 1 })),
    debounce_ms: int(0, 60_000),
  }),
  timers: namedTables(
    table({
      interval_ms: int(1),
      cron: str({ minLength: 1 }),
      payload: {},
      qos,
    }),
  ),
  agents: namedTables(
    table(
      {
        command: str({ minLength: 1 }),
        args: strings(),
        env: { type: 'object', additionalProperties: { type: 'string' } },
        cwd: str({ minLength: 1 }),
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
        read_only_paths: strings(str({ minLength: 1 })),
        state_access: strings(str({ minLength: 1 })),
      },
      ['command'],
    ),
  ),
  mcp: opaqueTables,
  dashboard: table({ enabled: bool, host: str(), port: int(0, 65535) }),
  // The reference's: root is where its file tools work, reports_dir is for its agents (noted).
  workspace: table({ root: str({ minLength: 1 }), reports_dir: str({ minLength: 1 }) }),
  llm: opaqueTables,
});
