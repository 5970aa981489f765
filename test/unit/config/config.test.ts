import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ConfigError, defaultConfig, loadConfig } from '../../../runtime/config';
import { loomTomlSchema } from '../../../runtime/config/schema';
import { REFERENCE_BRIDGE_KEYS } from '../../../runtime/config/reference';

describe('config: loom.toml', () => {
  let ws: string;
  beforeEach(async () => {
    ws = await fs.mkdtemp(path.join(os.tmpdir(), 'loom-config-'));
  });
  afterEach(async () => {
    await fs.rm(ws, { recursive: true, force: true });
  });
  const write = (text: string) => fs.writeFile(path.join(ws, 'loom.toml'), text);
  async function loadError(text: string, env: Record<string, string> = {}): Promise<ConfigError> {
    await write(text);
    try {
      await loadConfig(ws, undefined, { env });
    } catch (err) {
      assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
      return err;
    }
    assert.fail('loadConfig accepted a bad file');
  }

  it('runs on defaults when the workspace has no loom.toml', async () => {
    const config = await loadConfig(ws);
    assert.deepEqual(config, defaultConfig(ws));
    assert.equal(config.workspace, path.resolve(ws));
    assert.equal(config.bridge.host, '127.0.0.1');
    assert.equal(config.bridge.port, 0);
    assert.equal(config.watcher.debounceMs, 100);
    assert.deepEqual(config.bus.queueSizes, { realtime: 1024, batched: 4096, background: 65536 });
  });

  it('an empty file also means all defaults', async () => {
    await write('# nothing here\n');
    assert.deepEqual(await loadConfig(ws), defaultConfig(ws));
  });

  it('parses every section and maps snake_case keys onto the config', async () => {
    await write(`
[runtime]
log_level = "debug"
data_dir = "state"
roots = ["../shared"]
trusted = false
store_max_bytes = 2097152

[bridge]
host = "::1"
port = 7411
require_token = false
compat = "reference"
max_message_bytes = 1048576
heartbeat_timeout_ms = 3000
max_batch = 32
max_subscriptions_per_client = 50
max_tools_per_client = 60

[bus]
max_hops = 4
request_timeout_ms = 1500
queue_bytes = { batched = 2048 }
[bus.queue_sizes]
realtime = 8
background = 99

[tools]
default_timeout_ms = 1000
[tools.fs]
max_read_bytes = 2048
protected_writes = "ask"
[tools.shell]
allow = ["echo"]
timeout_ms = 500
max_output_bytes = 100
env_allow = ["PATH"]
isolation = "best-effort"
network = true
preset = "reference"
[tools.weather]
base_url = "http://127.0.0.1:9/forecast"
[tools.web_search]
base_url = "http://127.0.0.1:9/search"
api_key = "\${MY_BRAVE_KEY}"
[tools.llm]
provider = "local"

[watcher]
enabled = false
include = ["src/**/*.ts"]
ignore = ["dist/**"]
debounce_ms = 20
max_folders = 500

[timers.every_second]
interval_ms = 1000
payload = { hello = "world", n = 2 }
qos = "realtime"
[timers.nightly]
cron = "0 3 * * *"

[agents.planner]
command = "python"
args = ["-m", "planner"]
env = { MODE = "fast" }
cwd = "agents"
restart = "always"
autostart = false
max_restarts = 9
restart_window_ms = 1000
backoff_initial_ms = 10
backoff_max_ms = 20
stop_grace_ms = 30
log_lines = 40
isolation = "required"
network = false
read_only_paths = ["/opt/py"]
state_access = ["helper"]
[agents.helper]
command = "node"

[adhoc_agents]
isolation = "best-effort"
read_only_paths = ["/opt/py"]

[mcp.files]
command = "npx"
args = ["server"]
timeout_ms = 5000

[llm.openai]
model = "gpt"
api_base = "http://localhost"
`);
    const c = await loadConfig(ws);
    assert.deepEqual(c.runtime, {
      logLevel: 'debug',
      dataDir: 'state',
      roots: ['../shared'],
      trusted: false,
      storeMaxBytes: 2097152,
    });
    assert.deepEqual(c.bridge, {
      host: '::1',
      port: 7411,
      requireToken: false,
      compat: 'reference',
      maxMessageBytes: 1048576,
      heartbeatTimeoutMs: 3000,
      maxBatch: 32,
      maxSubscriptionsPerClient: 50,
      maxToolsPerClient: 60,
    });
    assert.deepEqual(c.bus, {
      queueSizes: { realtime: 8, batched: 4096, background: 99 },
      queueBytes: { realtime: 16 << 20, batched: 2048, background: 256 << 20 },
      maxHops: 4,
      requestTimeoutMs: 1500,
    });
    assert.deepEqual(c.tools, {
      defaultTimeoutMs: 1000,
      fs: { maxReadBytes: 2048, protectedWrites: 'ask' },
      shell: {
        allow: ['echo'],
        timeoutMs: 500,
        maxOutputBytes: 100,
        envAllow: ['PATH'],
        isolation: 'best-effort',
        network: true,
        preset: 'reference',
      },
      weather: { baseUrl: 'http://127.0.0.1:9/forecast' },
      webSearch: { baseUrl: 'http://127.0.0.1:9/search', apiKey: '${MY_BRAVE_KEY}' },
      llm: { provider: 'local' },
    });
    assert.deepEqual(c.watcher, {
      enabled: false,
      include: ['src/**/*.ts'],
      ignore: ['dist/**'],
      debounceMs: 20,
      maxFolders: 500,
    });
    assert.deepEqual(c.timers, {
      every_second: { intervalMs: 1000, payload: { hello: 'world', n: 2 }, qos: 'realtime' },
      nightly: { cron: '0 3 * * *', qos: 'batched' },
    });
    assert.deepEqual(c.agents.planner, {
      command: 'python',
      args: ['-m', 'planner'],
      env: { MODE: 'fast' },
      cwd: 'agents',
      restart: 'always',
      autostart: false,
      maxRestarts: 9,
      restartWindowMs: 1000,
      backoffInitialMs: 10,
      backoffMaxMs: 20,
      stopGraceMs: 30,
      logLines: 40,
      isolation: 'required',
      network: false,
      readOnlyPaths: ['/opt/py'],
      stateAccess: ['helper'],
    });
    assert.deepEqual(c.agents.helper, { ...defaultConfigAgent(), command: 'node' });
    assert.deepEqual(c.adhocAgents, { isolation: 'best-effort', network: true, readOnlyPaths: ['/opt/py'] });
    assert.deepEqual(
      c.mcp,
      { files: { command: 'npx', args: ['server'], timeout_ms: 5000 } },
      'mcp is kept as written, for runtime/mcp',
    );
    assert.deepEqual(
      c.llm,
      { openai: { model: 'gpt', api_base: 'http://localhost' } },
      'llm is kept as written, for its readers',
    );
  });

  function defaultConfigAgent() {
    return {
      args: [],
      env: {},
      cwd: '.',
      restart: 'on-failure',
      autostart: true,
      maxRestarts: 5,
      restartWindowMs: 60000,
      backoffInitialMs: 500,
      backoffMaxMs: 30000,
      stopGraceMs: 5000,
      logLines: 1000,
      isolation: 'off',
      network: true,
      readOnlyPaths: [],
      stateAccess: [],
    };
  }

  it('the schema and the defaults name the same keys (so no setting lacks a default)', () => {
    const snake = (k: string) => k.replace(/[A-Z]/g, (c) => '_' + c.toLowerCase());
    const compare = (schema: any, defaults: any, where: string) => {
      const schemaKeys = Object.keys(schema.properties)
        .filter((k) => where !== 'bridge' || !REFERENCE_BRIDGE_KEYS.includes(k))
        .sort();
      const defaultKeys = Object.keys(defaults).map(snake).sort();
      assert.deepEqual(schemaKeys, defaultKeys, `keys of ${where}`);
      for (const [k, v] of Object.entries(defaults)) {
        if (v && typeof v === 'object' && !Array.isArray(v))
          compare(schema.properties[snake(k)], v, `${where}.${snake(k)}`);
      }
    };
    const d = defaultConfig('/x');
    const top = (loomTomlSchema as any).properties;
    for (const section of ['runtime', 'bridge', 'bus', 'tools', 'watcher'] as const)
      compare(top[section], d[section], section);
    const agentKeys = Object.keys(top.agents.additionalProperties.properties).sort();
    assert.deepEqual(agentKeys, ['command', ...Object.keys(defaultConfigAgent()).map(snake)].sort());
  });

  const badCases: { name: string; toml: string; key: string; says: RegExp }[] = [
    {
      name: 'restart policy not in the enum',
      toml: '[agents.worker]\ncommand = "python"\nrestart = "sometimes"',
      key: 'agents.worker.restart',
      says: /must be one of "always", "on-failure", "never" \(got "sometimes"\)/,
    },
    {
      name: 'port of the wrong type',
      toml: '[bridge]\nport = "80"',
      key: 'bridge.port',
      says: /must be an integer \(got "80"\)/,
    },
    {
      name: 'port out of range',
      toml: '[bridge]\nport = 70000',
      key: 'bridge.port',
      says: /must be <= 65535 \(got 70000\)/,
    },
    {
      name: 'log level not in the enum',
      toml: '[runtime]\nlog_level = "loud"',
      key: 'runtime.log_level',
      says: /must be one of "debug", "info", "warn", "error"/,
    },
    {
      name: 'agent without a command',
      toml: '[agents.worker]\nargs = ["x"]',
      key: 'agents.worker.command',
      says: /is required/,
    },
    {
      name: 'timer with both interval and cron',
      toml: '[timers.tick]\ninterval_ms = 10\ncron = "* * * * *"',
      key: 'timers.tick',
      says: /exactly one of interval_ms or cron \(got both\)/,
    },
    {
      name: 'timer with neither interval nor cron',
      toml: '[timers.tick]\npayload = 1',
      key: 'timers.tick',
      says: /exactly one of interval_ms or cron \(got neither\)/,
    },
    {
      name: 'invalid cron expression',
      toml: '[timers.tick]\ncron = "every day"',
      key: 'timers.tick.cron',
      says: /is not a valid cron expression/,
    },
    {
      name: 'cron field out of range',
      toml: '[timers.tick]\ncron = "99 * * * *"',
      key: 'timers.tick.cron',
      says: /is not a valid cron expression/,
    },
    {
      name: 'shell allowlist entry with a path',
      toml: '[tools.shell]\nallow = ["echo", "/bin/sh"]',
      key: 'tools.shell.allow[1]',
      says: /program name without a path/,
    },
    {
      name: 'shell isolation not in the enum',
      toml: '[tools.shell]\nisolation = "maybe"',
      key: 'tools.shell.isolation',
      says: /must be one of "required", "best-effort", "off" \(got "maybe"\)/,
    },
    {
      name: 'agent isolation of the wrong type',
      toml: '[agents.w]\ncommand = "x"\nisolation = true',
      key: 'agents.w.isolation',
      says: /must be a string|must be one of/,
    },
    {
      name: 'protected_writes not in the enum',
      toml: '[tools.fs]\nprotected_writes = "allow"',
      key: 'tools.fs.protected_writes',
      says: /must be one of "deny", "ask"/,
    },
    {
      name: 'negative debounce',
      toml: '[watcher]\ndebounce_ms = -5',
      key: 'watcher.debounce_ms',
      says: /must be >= 0 \(got -5\)/,
    },
    {
      name: 'an infinite subscription cap',
      toml: '[bridge]\nmax_subscriptions_per_client = inf',
      key: 'bridge.max_subscriptions_per_client',
      says: /must be an integer/,
    },
    {
      name: 'a zero tool cap',
      toml: '[bridge]\nmax_tools_per_client = 0',
      key: 'bridge.max_tools_per_client',
      says: /must be >= 1 \(got 0\)/,
    },
    {
      name: 'zero queue size',
      toml: '[bus.queue_sizes]\nrealtime = 0',
      key: 'bus.queue_sizes.realtime',
      says: /must be >= 1 \(got 0\)/,
    },
    {
      name: 'a NaN queue byte budget',
      toml: '[bus]\nqueue_bytes = { realtime = nan }',
      key: 'bus.queue_bytes.realtime',
      says: /must be an integer/,
    },
    {
      name: 'a negative queue byte budget',
      toml: '[bus]\nqueue_bytes = { batched = -1 }',
      key: 'bus.queue_bytes.batched',
      says: /must be >= 1024 \(got -1\)/,
    },
    {
      name: 'a huge queue byte budget',
      toml: '[bus]\nqueue_bytes = { background = 9007199254740991 }',
      key: 'bus.queue_bytes.background',
      says: /must be <= 1099511627776/,
    },
    {
      name: 'agent name that cannot be a topic segment',
      toml: '[agents."my agent"]\ncommand = "x"',
      key: 'agents."my agent"',
      says: /not a valid name/,
    },
    {
      name: 'weather URL that is not http(s)',
      toml: '[tools.weather]\nbase_url = "ftp://x"',
      key: 'tools.weather.base_url',
      says: /http:\/\/ or https:\/\/ URL/,
    },
    {
      name: 'web search URL that is not http(s)',
      toml: '[tools.web_search]\nbase_url = "file:///etc/passwd"',
      key: 'tools.web_search.base_url',
      says: /http:\/\/ or https:\/\/ URL/,
    },
    {
      name: 'a shell preset Loom does not have',
      toml: '[tools.shell]\npreset = "everything"',
      key: 'tools.shell.preset',
      says: /must be one of "none", "reference"/,
    },
    {
      name: 'an llm provider name with a space',
      toml: '[tools.llm]\nprovider = "my model"',
      key: 'tools.llm.provider',
      says: /the name of an \[llm.<name>\] table or preset/,
    },
    {
      name: 'backoff start above its cap',
      toml: '[agents.w]\ncommand = "x"\nbackoff_initial_ms = 900\nbackoff_max_ms = 100',
      key: 'agents.w.backoff_initial_ms',
      says: /must be <= backoff_max_ms/,
    },
    {
      name: 'include given as a string, not an array',
      toml: '[watcher]\ninclude = "src/**"',
      key: 'watcher.include',
      says: /must be an array \(got "src\/\*\*"\)/,
    },
    {
      name: 'args with a non-string',
      toml: '[agents.w]\ncommand = "x"\nargs = ["a", 3]',
      key: 'agents.w.args[1]',
      says: /must be a string \(got 3\)/,
    },
    {
      name: 'a compat mode Loom does not have',
      toml: '[bridge]\ncompat = "rust"',
      key: 'bridge.compat',
      says: /must be one of "none", "reference"/,
    },
    {
      name: 'a float where an integer belongs',
      toml: '[bus]\nmax_hops = 2.5',
      key: 'bus.max_hops',
      says: /must be an integer \(got 2.5\)/,
    },
    {
      name: 'a section that is not a table',
      toml: 'watcher = true',
      key: 'watcher',
      says: /must be a table \(got true\)/,
    },
    {
      name: 'an env value that is not a string',
      toml: '[agents.w]\ncommand = "x"\nenv = { N = 1 }',
      key: 'agents.w.env.N',
      says: /must be a string \(got 1\)/,
    },
  ];
  for (const c of badCases) {
    it(`rejects ${c.name}, naming ${c.key}`, async () => {
      const err = await loadError(c.toml);
      const problem = err.problems.find((p) => p.key === c.key);
      assert.ok(problem, `no problem for ${c.key} in:\n${err.message}`);
      assert.match(problem.message, c.says);
      // Each line names the file, the key's line and column, the key and the problem.
      assert.ok(
        err.message.split('\n').some((l) => /^loom\.toml:\d+:\d+: /.test(l) && l.includes(`: ${c.key}: `)),
        err.message,
      );
      assert.ok(problem.line !== undefined, `no line for ${c.key}`);
      assert.equal(err.file, path.join(ws, 'loom.toml'));
    });
  }

  it('lists every problem of a file at once', async () => {
    const err = await loadError(
      '[bridge]\nport = -1\nhost = "10.0.0.1"\n[agents.a]\nrestart = "x"\n[runtime]\nlog_level = 3\n',
    );
    const keys = err.problems.map((p) => p.key).sort();
    assert.deepEqual(keys, ['agents.a.command', 'agents.a.restart', 'bridge.host', 'bridge.port', 'runtime.log_level']);
    assert.equal(err.message.split('\n').length, 5);
  });

  it('reports a TOML syntax error with its line and column', async () => {
    const err = await loadError('[runtime]\nlog_level = "info"\n\n[bridge\nport = 1\n');
    assert.equal(err.problems.length, 1);
    assert.equal(err.problems[0].line, 4);
    assert.equal(typeof err.problems[0].column, 'number');
    assert.match(err.message, /^loom\.toml:4:\d+: invalid TOML: /);
  });

  it('reports a duplicate key as a syntax error at its line', async () => {
    const err = await loadError('[bridge]\nport = 1\nport = 2\n');
    assert.equal(err.problems[0].line, 3);
  });

  it('rejects an unknown key with a did-you-mean suggestion', async () => {
    const err = await loadError('[agents.worker]\ncommand = "python"\nrestrat = "always"\n');
    assert.match(err.message, /loom\.toml:3:1: agents\.worker\.restrat: unknown key \(did you mean "restart"\?\)/);
  });

  it('suggests the snake_case spelling of a camelCase key', async () => {
    const err = await loadError('[watcher]\ndebounceMs = 5\n');
    assert.match(err.message, /watcher\.debounceMs: unknown key \(did you mean "debounce_ms"\?\)/);
  });

  it('lists the known keys when no key is close', async () => {
    const err = await loadError('[bridge]\nzzzzzz = 1\n');
    assert.match(err.message, /bridge\.zzzzzz: unknown key \(known keys: host, port, /);
  });

  it('rejects an unknown section with a suggestion', async () => {
    const err = await loadError('[agent.worker]\ncommand = "x"\n');
    assert.match(err.message, /loom\.toml:\d+:1: agent: unknown key \(did you mean "agents"\?\)/);
  });

  for (const host of ['0.0.0.0', '192.168.1.10', '::', 'example.com']) {
    it(`refuses a non-loopback bridge host ${host}`, async () => {
      const err = await loadError(`[bridge]\nhost = "${host}"\n`);
      assert.equal(err.problems[0].key, 'bridge.host');
      assert.match(err.problems[0].message, /loopback/);
    });
  }

  it('accepts loopback hosts, localhost meaning 127.0.0.1', async () => {
    for (const [host, expected] of [
      ['127.0.0.1', '127.0.0.1'],
      ['::1', '::1'],
      ['localhost', '127.0.0.1'],
    ]) {
      await write(`[bridge]\nhost = "${host}"\n`);
      assert.equal((await loadConfig(ws)).bridge.host, expected);
    }
  });

  it('expands ${VAR} in agent env values from the runtime environment', async () => {
    await write(
      '[agents.w]\ncommand = "x"\nenv = { KEY = "${API_KEY}", URL = "http://${HOST:-localhost}:${PORT:-80}/", COST = "$$5", RAW = "a$b" }\n',
    );
    const c = await loadConfig(ws, undefined, { env: { API_KEY: 'sekret', PORT: '8080' } });
    assert.deepEqual(c.agents.w.env, { KEY: 'sekret', URL: 'http://localhost:8080/', COST: '$5', RAW: 'a$b' });
  });

  it('expands from process.env by default', async () => {
    process.env.LOOM_CONFIG_TEST_VAR = 'from-process';
    try {
      await write('[agents.w]\ncommand = "x"\nenv = { V = "<${LOOM_CONFIG_TEST_VAR}>" }\n');
      assert.equal((await loadConfig(ws)).agents.w.env.V, '<from-process>');
    } finally {
      delete process.env.LOOM_CONFIG_TEST_VAR;
    }
  });

  it('names the key and the variable when ${VAR} is unset', async () => {
    const err = await loadError('[agents.w]\ncommand = "x"\nenv = { KEY = "${MISSING_SECRET}" }\n');
    assert.equal(err.problems[0].key, 'agents.w.env.KEY');
    assert.match(err.problems[0].message, /\$\{MISSING_SECRET\} is not set/);
  });

  it('overrides from code win over the file and still get defaults', async () => {
    await write('[bridge]\nport = 1000\n[runtime]\ntrusted = true\n');
    const c = await loadConfig(ws, {
      bridge: { port: 2000 },
      runtime: { trusted: false },
      agents: { extra: { command: 'python' } },
    });
    assert.equal(c.bridge.port, 2000);
    assert.equal(c.runtime.trusted, false);
    assert.equal(c.runtime.dataDir, '.loom');
    assert.deepEqual(c.agents.extra, { ...defaultConfigAgent(), command: 'python' });
  });

  it('refuses a non-loopback host from overrides too', async () => {
    await assert.rejects(
      loadConfig(ws, { bridge: { host: '0.0.0.0' } }),
      (err: unknown) => err instanceof ConfigError && /overrides: bridge\.host: must be a loopback/.test(err.message),
    );
  });

  describe('the reference page runtime/config/loom.toml.md', () => {
    const page = () => fs.readFile(path.join(__dirname, '../../../runtime/config/loom.toml.md'), 'utf8');
    /** The page's text for one `## [section...]` heading, up to the next heading. */
    const sectionOf = (text: string, heading: string) =>
      text.split(/^## /m).find((part) => part.startsWith(heading)) ?? '';
    const leaves = (schema: any, prefix = ''): string[] =>
      Object.entries(schema.properties ?? {}).flatMap(([k, v]: [string, any]) =>
        v.type === 'object' && v.properties ? leaves(v, `${prefix}${k}.`) : [`${prefix}${k}`],
      );

    it('documents every key of the schema in its section', async () => {
      const text = await page();
      const top = (loomTomlSchema as any).properties;
      const sections: [string, any][] = [
        ...(['runtime', 'bridge', 'bus', 'tools', 'watcher', 'adhoc_agents', 'dashboard', 'workspace'] as const).map(
          (s): [string, any] => [`[${s}]`, top[s]],
        ),
        ['[timers.', top.timers.additionalProperties],
        ['[agents.', top.agents.additionalProperties],
      ];
      for (const [heading, schema] of sections) {
        const part = sectionOf(text, heading);
        assert.ok(part, `no section ${heading}`);
        for (const key of leaves(schema))
          assert.ok(part.includes(`| \`${key}\` |`), `${heading} does not document ${key}`);
      }
    });

    it('has an example that loads', async () => {
      const example = /```toml\n([\s\S]*?)```/.exec(sectionOf(await page(), 'Example'))?.[1];
      assert.ok(example);
      await write(example);
      const c = await loadConfig(ws, undefined, { env: { OPENAI_API_KEY: 'k' } });
      assert.equal(c.agents.planner.env.MODE, 'fast');
      assert.equal(c.timers.nightly.cron, '0 3 * * *');
    });
  });

  it('says so when the workspace does not exist', async () => {
    await assert.rejects(loadConfig(path.join(ws, 'nope')), /is not a directory/);
  });
});
