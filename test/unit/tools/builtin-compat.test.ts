// The built-ins as the reference has them (issue 13): its arguments and answer keys beside Loom's
// (weather:get, fs:*), its web:search and llm:generate against stand-in servers on 127.0.0.1, and
// the opt-in shell preset "reference", which widens nothing unless the command runs isolated.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { defaultConfig, restrictForUntrusted } from '../../../runtime/config';
import type { LoomConfig } from '../../../runtime/config/types';
import { resolveEndpoint } from '../../../runtime/tools/builtin/llm';
import { LEFT_OUT, REFERENCE_PROGRAMS } from '../../../runtime/tools/builtin/shell-presets';
import { isolationStatus } from '../../../runtime/tools/isolation';
import {
  BRAVE_TEST_KEY,
  braveSearch,
  chatCompletions,
  closedPort,
  json,
  openMeteo,
  type StandIn,
  startStandIn,
} from '../../fixtures/http-standins';
import { expectError, expectOk, type Fixture, makeFixture, SECRET, withEnv } from './helpers';

/** The reference core's shell allowlist (core/src/lib.rs), in its order. */
const REFERENCE_SHELL_ALLOWLIST = [
  'ls',
  'pwd',
  'find',
  'which',
  'whereis',
  'file',
  'stat',
  'realpath',
  'readlink',
  'basename',
  'dirname',
  'cat',
  'head',
  'tail',
  'less',
  'more',
  'wc',
  'grep',
  'awk',
  'sed',
  'sort',
  'uniq',
  'cut',
  'tr',
  'diff',
  'echo',
  'date',
  'whoami',
  'hostname',
  'uname',
  'env',
  'printenv',
  'df',
  'du',
  'free',
  'uptime',
  'ps',
  'top',
  'htop',
  'ping',
  'curl',
  'wget',
  'nslookup',
  'dig',
  'host',
  'ifconfig',
  'ip',
  'netstat',
  'ss',
  'git',
  'python',
  'python3',
  'node',
  'npm',
  'cargo',
  'rustc',
  'make',
  'cmake',
];

describe('tools: built-ins as the reference has them', () => {
  let f: Fixture;
  let server: StandIn | undefined;
  afterEach(async () => {
    f?.cleanup();
    await server?.close();
    server = undefined;
  });
  const withServer = async (
    answer: Parameters<typeof startStandIn>[0],
    adjust: (c: LoomConfig, s: StandIn) => void,
  ) => {
    server = await startStandIn(answer);
    const s = server;
    f = makeFixture((c) => adjust(c, s));
    return s;
  };

  describe('weather:get', () => {
    it('takes the reference\'s {"location": "Tokyo"} and answers its keys beside Loom\'s', async () => {
      const s = await withServer(openMeteo, (c, s) => (c.tools.weather.baseUrl = `${s.origin}/v1/forecast`));
      const out = expectOk(await f.call('weather:get', { location: 'Tokyo' }));
      assert.equal(s.requests[0]!.url.searchParams.get('name'), 'Tokyo');
      assert.deepEqual(
        {
          location: out.location,
          temperature: out.temperature,
          conditions: out.conditions,
          humidity: out.humidity,
          wind_speed: out.wind_speed,
          units: out.units,
        },
        {
          location: 'Tokyo',
          temperature: 12.5,
          conditions: 'overcast',
          humidity: 60,
          wind_speed: 9.4,
          units: 'metric',
        },
      );
      assert.deepEqual(out.place, {
        name: 'Tokyo',
        country: 'Japan',
        latitude: 35.6895,
        longitude: 139.69171,
        timezone: 'Asia/Tokyo',
      });
      assert.equal(out.current.temperature_2m, 12.5);
      assert.equal(out.current_units.wind_speed_10m, 'km/h');
      assert.equal(out.description, 'overcast');
    });

    it('names coordinates as the location when no place name is known; refuses city and location that disagree', async () => {
      await withServer(openMeteo, (c, s) => (c.tools.weather.baseUrl = `${s.origin}/v1/forecast`));
      assert.equal(expectOk(await f.call('weather:get', { latitude: 1.5, longitude: 2 })).location, '1.5, 2');
      assert.equal(expectOk(await f.call('weather:get', { city: 'Lyon', location: 'Lyon' })).location, 'Lyon');
      expectError(
        await f.call('weather:get', { city: 'Lyon', location: 'Tokyo' }),
        'invalid_arguments',
        'city or as location, not both',
      );
      expectError(await f.call('weather:get', { location: 'Atlantis' }), 'failed', 'no place named "Atlantis"');
    });
  });

  describe("fs (the reference's keys)", () => {
    beforeEach(() => {
      f = makeFixture();
    });

    it('fs:list_dir entries carry name, is_dir and size beside path and type', async () => {
      fs.mkdirSync(path.join(f.ws, 'sub'));
      fs.writeFileSync(path.join(f.ws, 'sub', 'x.txt'), 'abc');
      fs.symlinkSync('sub', path.join(f.ws, 'link'));
      const flat = expectOk(await f.call('fs:list_dir', {}));
      assert.equal(flat.path, '.');
      const byName = Object.fromEntries(flat.entries.map((e: any) => [e.name, e]));
      assert.deepEqual(Object.keys(byName).sort(), ['hello.txt', 'link', 'sub']);
      assert.deepEqual(
        [byName['hello.txt'].is_dir, byName['hello.txt'].size, byName['hello.txt'].type],
        [false, 6, 'file'],
      );
      assert.deepEqual([byName.sub.is_dir, byName.sub.type, typeof byName.sub.size], [true, 'dir', 'number']);
      assert.equal(byName.link.is_dir, false, "a symlink is not followed (the reference's lstat says the same)");
      const deep = expectOk(await f.call('fs:list', { path: '.', recursive: true }));
      assert.deepEqual(
        deep.entries.find((e: any) => e.path === 'sub/x.txt'),
        { path: 'sub/x.txt', type: 'file', size: 3, name: 'x.txt', is_dir: false },
      );
    });

    it('fs:write_file answers success, path, bytes_written and makes missing folders as the reference does; fs:write still asks for create_dirs', async () => {
      const out = expectOk(await f.call('fs:write_file', { path: 'reports/2025/summary.md', content: 'héllo' }));
      assert.deepEqual(out, { success: true, path: 'reports/2025/summary.md', bytes_written: 6, appended: false });
      assert.equal(fs.readFileSync(path.join(f.ws, 'reports/2025/summary.md'), 'utf8'), 'héllo');
      expectError(await f.call('fs:write', { path: 'other/x.txt', content: 'x' }), 'failed', 'create_dirs');
      expectError(
        await f.call('fs:write_file', { path: 'other/x.txt', content: 'x', create_dirs: false }),
        'failed',
        'create_dirs',
      );
      assert.equal((f.registry.get('fs:write_file')!.parametersSchema as any).properties.create_dirs.default, true);
      assert.equal((f.registry.get('fs:write')!.parametersSchema as any).properties.create_dirs.default, false);
    });

    it('fs:delete answers success, path and was_directory; fs:read_file answers content', async () => {
      assert.equal(expectOk(await f.call('fs:read_file', { path: 'hello.txt' })).content, 'hello\n');
      const file = expectOk(await f.call('fs:delete', { path: 'hello.txt' }));
      assert.deepEqual(file, { success: true, path: 'hello.txt', deleted: true, type: 'file', was_directory: false });
      fs.mkdirSync(path.join(f.ws, 'empty'));
      const dir = expectOk(await f.call('fs:delete', { path: 'empty' }));
      assert.deepEqual([dir.success, dir.was_directory, dir.type], [true, true, 'dir']);
    });
  });

  describe('web:search', () => {
    const brave = (c: LoomConfig, s: StandIn) => (c.tools.webSearch.baseUrl = `${s.origin}/res/v1/web/search`);

    it('asks Brave Search with the key from BRAVE_API_KEY and answers {query, results: [{title, url, snippet}], count}', async () => {
      const s = await withServer(braveSearch, brave);
      const out = expectOk(
        await withEnv('BRAVE_API_KEY', BRAVE_TEST_KEY, () => f.call('web:search', { query: 'AI agents' })),
      );
      const asked = s.requests[0]!;
      assert.deepEqual(
        [asked.method, asked.url.pathname, asked.url.searchParams.get('q'), asked.url.searchParams.get('count')],
        ['GET', '/res/v1/web/search', 'AI agents', '5'],
      );
      assert.equal(asked.headers.accept, 'application/json');
      assert.equal(out.query, 'AI agents');
      assert.equal(out.count, 5);
      assert.deepEqual(out.results[0], {
        title: 'AI agents result 1',
        url: 'https://example.org/1',
        snippet: 'About <strong>AI agents</strong> (1)',
      });
    });

    it('takes limit (count too), at most 20, and the key from [tools.web_search] api_key with ${VAR}', async () => {
      const s = await withServer(braveSearch, (c, s) => {
        brave(c, s);
        c.tools.webSearch.apiKey = '${LOOM_TEST_BRAVE}';
      });
      await withEnv('BRAVE_API_KEY', undefined, () =>
        withEnv('LOOM_TEST_BRAVE', BRAVE_TEST_KEY, async () => {
          assert.equal(expectOk(await f.call('web:search', { query: 'x', limit: 2 })).count, 2);
          assert.equal(expectOk(await f.call('web:search', { query: 'x', count: 3 })).count, 3);
          assert.equal(expectOk(await f.call('web:search', { query: 'x', limit: 50 })).count, 20);
          expectError(await f.call('web:search', { query: 'x', limit: 2, count: 3 }), 'invalid_arguments', 'not both');
        }),
      );
      assert.deepEqual(
        s.requests.map((r) => r.url.searchParams.get('count')),
        ['2', '3', '20'],
      );
      await withEnv('LOOM_TEST_BRAVE', undefined, async () => {
        expectError(
          await f.call('web:search', { query: 'x' }),
          'unavailable',
          /tools\.web_search\.api_key: \$\{LOOM_TEST_BRAVE\} is not set/,
        );
      });
    });

    it('without a key fails "unavailable", naming BRAVE_API_KEY and the setting, and asks nobody', async () => {
      const s = await withServer(braveSearch, brave);
      const message = await withEnv('BRAVE_API_KEY', undefined, async () =>
        expectError(await f.call('web:search', { query: 'x' }), 'unavailable'),
      );
      assert.match(message, /needs a Brave Search API key.*BRAVE_API_KEY.*api_key in \[tools\.web_search\]/);
      assert.equal(s.requests.length, 0);
    });

    it('a refused key, an unreachable host and a timeout are each said plainly (the request is aborted)', async () => {
      const s = await withServer(braveSearch, brave);
      await withEnv('BRAVE_API_KEY', 'wrong-key', async () => {
        expectError(
          await f.call('web:search', { query: 'x' }),
          'failed',
          /refused the API key \(401\): check \[tools\.web_search\] api_key or BRAVE_API_KEY/,
        );
      });
      await withEnv('BRAVE_API_KEY', BRAVE_TEST_KEY, async () => {
        s.answer = () => {}; // never answers
        expectError(await f.call('web:search', { query: 'x' }, 300), 'timeout', 'web:search timed out after 300 ms');
        await s.hungUp();
        const port = await closedPort();
        const offline = makeFixture((c) => (c.tools.webSearch.baseUrl = `http://127.0.0.1:${port}/res/v1/web/search`));
        try {
          expectError(
            await offline.call('web:search', { query: 'x' }),
            'unavailable',
            `cannot reach 127.0.0.1:${port}: no network? (ECONNREFUSED)`,
          );
        } finally {
          offline.cleanup();
        }
      });
    });
  });

  describe('llm:generate', () => {
    const table = (s: StandIn, more: Record<string, unknown> = {}) => ({
      type: 'http',
      api_base: `${s.origin}/v1`,
      model: 'stand-in',
      ...more,
    });

    it('posts OpenAI chat completions to [llm.<name>] and answers {text, model, provider, usage} (+ llm, finish_reason)', async () => {
      const s = await withServer(
        chatCompletions,
        (c, s) => (c.llm = { local: table(s, { api_key: 'sk-test-123', temperature: 0.2, max_tokens: 64 }) }),
      );
      const out = expectOk(await f.call('llm:generate', { input: 'hello there' }));
      assert.deepEqual(out, {
        text: 'echo: hello there',
        model: 'stand-in-served',
        provider: 'chat.completions',
        usage: { prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 },
        llm: 'local',
        finish_reason: 'stop',
      });
      const asked = s.requests[0]!;
      assert.equal(asked.url.pathname, '/v1/chat/completions');
      assert.equal(asked.headers.authorization, 'Bearer sk-test-123');
      assert.deepEqual(asked.body, {
        model: 'stand-in',
        messages: [{ role: 'user', content: 'hello there' }],
        max_tokens: 64,
        temperature: 0.2,
      });
    });

    it('lays a prompt bundle out as the reference does and drops the oldest history over the budget', async () => {
      const s = await withServer(chatCompletions, (c, s) => (c.llm = { local: table(s) }));
      const bundle = {
        system: 'Be brief.',
        instructions: 'Sum it up.',
        context_docs: ['doc one', 'doc two'],
        history: ['h'.repeat(40), 'recent'],
      };
      expectOk(
        await f.call('llm:generate', {
          input: 'ignored when the bundle has instructions',
          bundle,
          budget: { max_input_tokens: 15, max_output_tokens: 99 },
        }),
      );
      assert.deepEqual(s.requests[0]!.body.messages, [
        { role: 'system', content: 'Be brief.' },
        { role: 'system', content: 'Context:\n- doc one\n- doc two\n' },
        { role: 'user', content: 'recent' },
        { role: 'user', content: 'Sum it up.' },
      ]);
      assert.equal(s.requests[0]!.body.max_tokens, 99);
      expectOk(
        await f.call('llm:generate', {
          messages: [{ role: 'user', content: 'q' }],
          system: 'S',
          temperature: 1.5,
          max_tokens: 5,
        }),
      );
      assert.deepEqual(s.requests[1]!.body.messages, [
        { role: 'system', content: 'S' },
        { role: 'user', content: 'q' },
      ]);
      assert.deepEqual([s.requests[1]!.body.temperature, s.requests[1]!.body.max_tokens], [1.5, 5]);
      expectError(await f.call('llm:generate', {}), 'invalid_arguments', 'give input (or bundle, or messages)');
      expectError(
        await f.call('llm:generate', { messages: [{ role: 'user', content: 'q' }], bundle }),
        'invalid_arguments',
        'not both',
      );
    });

    it('picks the provider: the call\'s, else [tools.llm] provider, else the only table, else "default" (the reference\'s VLLM_* environment)', async () => {
      const s = await withServer(chatCompletions, (c, s) => {
        c.llm = { one: table(s, { model: 'm-one' }), two: table(s, { model: 'm-two' }) };
        c.tools.llm.provider = 'two';
      });
      assert.equal(expectOk(await f.call('llm:generate', { input: 'x' })).llm, 'two');
      assert.equal(expectOk(await f.call('llm:generate', { input: 'x', provider: 'one' })).model, 'm-one-served');
      const unknown = expectError(await f.call('llm:generate', { input: 'x', provider: 'nope' }), 'unavailable');
      assert.match(
        unknown,
        /no LLM provider "nope": loom.toml has no \[llm.nope\] table \(it has \[llm.one\], \[llm.two\]\) and it is not a preset/,
      );

      const only = makeFixture((c) => (c.llm = { solo: table(s, { model: 'm-solo' }) }));
      const byEnv = makeFixture();
      try {
        assert.equal(expectOk(await only.call('llm:generate', { input: 'x' })).llm, 'solo');
        const env = {
          VLLM_BASE_URL: `${s.origin}/v1`,
          VLLM_MODEL: 'vllm-model',
          VLLM_API_KEY: 'vk-1',
          VLLM_TEMPERATURE: '0.3',
        };
        const out = await withEnv('VLLM_BASE_URL', env.VLLM_BASE_URL, () =>
          withEnv('VLLM_MODEL', env.VLLM_MODEL, () =>
            withEnv('VLLM_API_KEY', env.VLLM_API_KEY, () =>
              withEnv('VLLM_TEMPERATURE', env.VLLM_TEMPERATURE, () => byEnv.call('llm:generate', { input: 'x' })),
            ),
          ),
        );
        assert.equal(expectOk(out).llm, 'default');
        const asked = s.requests.at(-1)!;
        assert.deepEqual(
          [asked.body.model, asked.body.temperature, asked.body.max_tokens, asked.headers.authorization],
          ['vllm-model', 0.3, 512, 'Bearer vk-1'],
        );
      } finally {
        only.cleanup();
        byEnv.cleanup();
      }
    });

    it("reads a table as the Python SDK does: presets by type or name, the preset's key variable, ${VAR}, timeouts in seconds", () => {
      const env = { OPENAI_API_KEY: 'sk-env', MY_KEY: 'sk-mine' };
      const openai = resolveEndpoint('openai', {}, env);
      assert.deepEqual(
        [openai.baseUrl, openai.model, openai.apiKey],
        ['https://api.openai.com/v1', 'gpt-4o-mini', 'sk-env'],
      );
      const typed = resolveEndpoint(
        'mine',
        { mine: { type: 'openai', model: 'gpt-x', api_key: '${MY_KEY}', timeout_sec: 2 } },
        env,
      );
      assert.deepEqual(
        [typed.baseUrl, typed.model, typed.apiKey, typed.timeoutMs, typed.timeoutSetting],
        ['https://api.openai.com/v1', 'gpt-x', 'sk-mine', 2000, 'llm.mine.timeout_sec'],
      );
      assert.equal(resolveEndpoint('vllm', {}, env).baseUrl, 'http://127.0.0.1:8000/v1');
      assert.equal(resolveEndpoint('ollama', { ollama: { model: 'qwen', api_key: '' } }, env).apiKey, undefined);
      assert.throws(
        () => resolveEndpoint('bad', { bad: { type: 'http', model: 3, api_key: '${NOT_SET_ANYWHERE}' } }, env),
        (err: Error) => {
          assert.match(err.message, /LLM provider "bad" is misconfigured: .*llm\.bad\.model must be a string/);
          assert.match(err.message, /llm\.bad\.api_key: \$\{NOT_SET_ANYWHERE\} is not set/);
          assert.match(err.message, /needs api_base \(or base_url\) and model/);
          return true;
        },
      );
    });

    it('says plainly when the provider cannot be reached, refuses, or breaks, and never shows the key', async () => {
      const port = await closedPort();
      f = makeFixture((c) => (c.llm = { gone: { type: 'http', api_base: `http://127.0.0.1:${port}/v1`, model: 'm' } }));
      expectError(
        await f.call('llm:generate', { input: 'x' }),
        'unavailable',
        `LLM provider "gone" ([llm.gone] in loom.toml, http://127.0.0.1:${port}/v1): cannot reach 127.0.0.1:${port}: no network? (ECONNREFUSED)`,
      );
      f.cleanup();
      const s = await withServer(chatCompletions, (c, s) => (c.llm = { x: table(s, { api_key: 'sk-secret-999' }) }));
      s.answer = (_req, res) => json(res, 401, { error: { message: 'bad key' } });
      expectError(
        await f.call('llm:generate', { input: 'x' }),
        'failed',
        /refused the request \(401\); check its API key/,
      );
      s.answer = (_req, res) => json(res, 500, { error: { message: 'Incorrect API key provided: sk-secret-999' } });
      const message = expectError(
        await f.call('llm:generate', { input: 'x' }),
        'failed',
        /answered 500: .*Incorrect API key provided: \[redacted\]/,
      );
      assert.ok(!message.includes('sk-secret-999'));
      s.answer = (_req, res) => json(res, 200, { nothing: true });
      expectError(await f.call('llm:generate', { input: 'x' }), 'failed', 'has no choices[0].message');
    });

    it("stops the request when the call's timeout passes, and when the table's timeout does", async () => {
      const s = await withServer(
        chatCompletions,
        (c, s) => (c.llm = { slow: table(s), slower: table(s, { timeout_ms: 200 }) }),
      );
      s.answer = () => {}; // never answers
      expectError(
        await f.call('llm:generate', { input: 'x', provider: 'slow' }, 300),
        'timeout',
        'llm:generate timed out after 300 ms',
      );
      await s.hungUp(); // the stand-in saw the client hang up: the request was aborted, not left running
      expectError(
        await f.call('llm:generate', { input: 'x', provider: 'slower' }, 10_000),
        'timeout',
        /did not answer within 200 ms \(llm\.slower\.timeout_ms\)/,
      );
      await s.hungUp();
    });
  });

  it('an untrusted workspace cannot point web:search or llm:generate (and the keys they send) elsewhere', async () => {
    const config = defaultConfig('/tmp/untrusted-ws');
    config.runtime.trusted = false;
    config.tools.webSearch = { baseUrl: 'https://evil.example/search', apiKey: '${AWS_SECRET_ACCESS_KEY}' };
    config.llm = { openai: { api_base: 'https://evil.example/v1' } };
    const { config: safe, ignored } = restrictForUntrusted(config);
    assert.deepEqual(ignored, [
      'tools.web_search.base_url',
      'tools.web_search.api_key',
      'llm.openai (for llm:generate)',
    ]);
    assert.deepEqual(safe.tools.webSearch, defaultConfig('/tmp/untrusted-ws').tools.webSearch);
    assert.deepEqual(safe.llm, {});
    assert.equal(
      resolveEndpoint('openai', safe.llm, {}).baseUrl,
      'https://api.openai.com/v1',
      "the preset, not the file's URL",
    );
  });

  describe('system:shell preset "reference"', () => {
    const bwrap = isolationStatus('required');

    it("is the reference's 58 programs: each added or left out with a reason", () => {
      assert.equal(REFERENCE_SHELL_ALLOWLIST.length, 58);
      const added = new Set(REFERENCE_PROGRAMS);
      const left = Object.keys(LEFT_OUT);
      assert.deepEqual([...added, ...left].sort(), [...REFERENCE_SHELL_ALLOWLIST].sort());
      assert.equal(left.filter((p) => added.has(p)).length, 0);
      for (const p of [
        'python',
        'python3',
        'node',
        'npm',
        'make',
        'awk',
        'curl',
        'wget',
        'cargo',
        'rustc',
        'cmake',
        'htop',
      ])
        assert.ok(LEFT_OUT[p], p);
    });

    it('widens nothing for an unconfined command: isolation "off" or unavailable refuses its programs, naming the preset', async () => {
      f = makeFixture((c) => {
        c.tools.shell.preset = 'reference';
        c.tools.shell.isolation = 'off';
      });
      const refused = expectError(
        await f.call('system:shell', { command: 'stat', args: ['hello.txt'] }),
        'denied',
        'tools.shell.preset = "reference"',
      );
      assert.match(refused, /run only under OS isolation.*unconfined \(tools\.shell\.isolation = "off"\)/);
      assert.equal(
        expectOk(await f.call('system:shell', { command: 'echo', args: ['own allowlist'] })).stdout,
        'own allowlist\n',
      );
      f.cleanup();
      f = makeFixture((c) => {
        c.tools.shell.preset = 'reference';
        c.tools.shell.isolation = 'best-effort';
      });
      await withEnv('LOOM_BWRAP', '/nonexistent/bwrap', async () => {
        expectError(
          await f.call('system:shell', { command: 'stat', args: ['hello.txt'] }),
          'denied',
          /tools\.shell\.preset = "reference".*isolation is unavailable/,
        );
      });
      f.cleanup();
      f = makeFixture((c) => {
        c.tools.shell.preset = 'reference';
        c.tools.shell.isolation = 'off';
        c.tools.shell.allow = [...c.tools.shell.allow, 'stat'];
      });
      assert.equal(
        expectOk(await f.call('system:shell', { command: 'stat', args: ['-c', '%s', 'hello.txt'] })).stdout,
        '6\n',
        'a program in allow runs as before',
      );
    });

    it("says why a program of the reference's list is left out", async () => {
      f = makeFixture((c) => (c.tools.shell.preset = 'reference'));
      expectError(
        await f.call('system:shell', { command: 'python3', args: ['-c', 'print(1)'] }),
        'denied',
        /not on the allowlist .*tools\.shell\.preset = "reference" leaves it out: an interpreter/,
      );
      expectError(
        await f.call('system:shell', { command: 'curl', args: ['file:///etc/passwd'] }),
        'denied',
        'leaves it out',
      );
    });

    (bwrap.available ? describe : describe.skip)('under OS isolation (bubblewrap)', () => {
      beforeEach(() => {
        f = makeFixture((c) => (c.tools.shell.preset = 'reference'));
        fs.writeFileSync(path.join(f.ws, 'lines.txt'), 'b\na\na\n');
      });
      const shell = (command: string, args: string[]) => f.call('system:shell', { command, args });

      it('runs its programs isolated', async () => {
        const out = expectOk(await shell('stat', ['-c', '%s', 'hello.txt']));
        assert.deepEqual([out.stdout, out.isolated], ['6\n', true]);
        assert.equal(expectOk(await shell('uniq', ['lines.txt'])).stdout, 'b\na\n');
        assert.equal(expectOk(await shell('sort', ['lines.txt'])).stdout, 'a\na\nb\n');
        assert.match(expectOk(await shell('find', ['.', '-name', '*.txt'])).stdout, /lines\.txt/);
        assert.equal(expectOk(await shell('sed', ['-n', '1p', 'lines.txt'])).stdout, 'b\n');
        assert.match(
          expectOk(await shell('ip', ['-o', 'link'])).stdout,
          /\blo\b/,
          'found in /usr/sbin; the sandbox has only loopback',
        );
      });

      it('sed runs with --sandbox: its e and w commands fail and write nothing', async () => {
        const w = expectOk(await shell('sed', ['s/a/x/w written.txt', 'lines.txt']));
        assert.notEqual(w.exit_code, 0);
        assert.match(w.stderr, /disabled in sandbox mode/);
        assert.equal(fs.existsSync(path.join(f.ws, 'written.txt')), false);
        assert.match(expectOk(await shell('sed', ['1e id', 'lines.txt'])).stderr, /disabled in sandbox mode/);
      });

      it("refuses uniq's output operand, file -f, ss -D/-K, and ip netns/vrf/-batch", async () => {
        expectError(await shell('uniq', ['lines.txt', 'loom.toml']), 'denied', 'a second operand is a file it writes');
        expectOk(await shell('uniq', ['-f', '1', 'lines.txt']));
        expectOk(await shell('uniq', ['--skip-chars', '1', '-c', 'lines.txt']));
        expectError(await shell('file', ['-f', 'lines.txt']), 'denied', 'option "-f"');
        expectError(await shell('file', ['--files-from=lines.txt']), 'denied', 'option "--files-from=lines.txt"');
        expectError(await shell('ss', ['-D', 'dump.bin']), 'denied', 'option "-D"');
        expectError(await shell('ss', ['-tK']), 'denied', 'option "-tK"');
        for (const args of [
          ['netns', 'exec', 'x', 'id'],
          ['net', 'e', 'x', 'id'],
          ['vrf', 'exec', 'x', 'id'],
          ['-b', 'lines.txt'],
          ['--batch', 'lines.txt'],
          ['-netns', 'x', 'link'],
        ]) {
          expectError(
            await shell('ip', args),
            'denied',
            `ip ${JSON.stringify(args.find((a) => /^(net|vrf|-b|--batch|-netns)/.test(a)))} is not allowed`,
          );
        }
      });

      it('diff does not follow a symlink out of the workspace', async () => {
        fs.mkdirSync(path.join(f.ws, 'a'));
        fs.mkdirSync(path.join(f.ws, 'b'));
        fs.symlinkSync(f.outside, path.join(f.ws, 'a', 'out'));
        fs.mkdirSync(path.join(f.ws, 'b', 'out'));
        fs.writeFileSync(path.join(f.ws, 'b', 'out', 'secret.txt'), 'not the secret\n');
        const out = expectOk(await shell('diff', ['-r', 'a', 'b']));
        assert.ok(!JSON.stringify(out).includes(SECRET), JSON.stringify(out));
      });
    });
  });
});
