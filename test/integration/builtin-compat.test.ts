// The built-in tools as the reference has them, on the REAL runtime over real gRPC, with real HTTP
// stand-ins on 127.0.0.1 for Open-Meteo, Brave Search and an OpenAI-compatible LLM: the
// reference's arguments and answer keys (weather:get, fs:*, web:search, llm:generate), a Python
// agent making the calls of the reference's tests/e2e/test_native_tools.py, what happens
// unconfigured or offline, and the shell preset "reference" (bubblewrap).
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ToolResult__Output } from '../../runtime/proto/types';
import {
  BRAVE_TEST_KEY,
  braveSearch,
  chatCompletions,
  closedPort,
  openMeteo,
  type StandIn,
  startStandIn,
} from '../fixtures/http-standins';
import { call, connect, type Clients } from '../support/grpc';
import {
  makeWorkspace,
  removeWorkspaces,
  REPO,
  type RuntimeProcess,
  startRuntime,
  stopAllRuntimes,
  PYTHON,
} from './helpers/runtime';

/** The calls of the reference's tests/e2e/test_native_tools.py, made as a reference agent makes them (Agent(...)._ctx.tool). */
const REFERENCE_STYLE_AGENT = `
import asyncio, json, os
from loom import Agent

async def main():
    agent = Agent(agent_id="test-native", topics=["test.replies"], address=os.environ["LOOM_BRIDGE_ADDR"])
    await agent.start()
    out = {}
    try:
        out["weather"] = json.loads(await agent._ctx.tool("weather:get", payload={"location": "Tokyo"}, timeout_ms=10000))
        out["search"] = json.loads(await agent._ctx.tool("web:search", payload={"query": "AI agents"}, timeout_ms=15000))
        out["shell"] = json.loads(await agent._ctx.tool("system:shell", payload={"command": "echo", "args": ["Hello", "from", "Loom"]}, timeout_ms=5000))
        out["read"] = json.loads(await agent._ctx.tool("fs:read_file", payload={"path": "README.md"}, timeout_ms=5000))
        out["llm"] = json.loads(await agent._ctx.tool("llm:generate", payload={"input": "Say hi"}, timeout_ms=10000))
        try:
            await agent._ctx.tool("nonexistent:tool", payload={}, timeout_ms=5000)
            out["missing"] = "no error"
        except RuntimeError as e:
            out["missing"] = str(e)
    finally:
        await agent.stop()
    print("RESULT " + json.dumps(out))

asyncio.run(main())
`;

describe('built-in tools as the reference has them (real runtime, stand-in services)', function () {
  this.timeout(120_000);
  let weather: StandIn;
  let search: StandIn;
  let llm: StandIn;
  let rt: RuntimeProcess;
  let c: Clients;

  const tool = (name: string, args: object, timeoutMs?: number) =>
    call(c.bridge, 'ForwardToolCall', {
      id: `c-${Math.random()}`,
      name,
      arguments: JSON.stringify(args),
      ...(timeoutMs ? { timeoutMs } : {}),
    });
  const ok = (r: ToolResult__Output) => {
    assert.equal(r.status, 'TOOL_OK', `${r.error?.code}: ${r.error?.message}`);
    return JSON.parse(r.output);
  };

  before(async () => {
    [weather, search, llm] = await Promise.all([
      startStandIn(openMeteo),
      startStandIn(braveSearch),
      startStandIn(chatCompletions),
    ]);
    const ws = makeWorkspace(
      [
        '[tools.weather]',
        `base_url = "${weather.origin}/v1/forecast"`,
        '[tools.web_search]',
        `base_url = "${search.origin}/res/v1/web/search"`,
        '[tools.shell]',
        'preset = "reference"',
        '[llm.local]',
        'type = "http"',
        `api_base = "${llm.origin}/v1"`,
        'model = "stand-in"',
        'api_key = "${LOOM_TEST_LLM_KEY}"',
        '',
      ].join('\n'),
    );
    writeFileSync(join(ws, 'README.md'), '# A reference app\n');
    rt = await startRuntime(ws, [], { env: { BRAVE_API_KEY: BRAVE_TEST_KEY, LOOM_TEST_LLM_KEY: 'sk-stand-in' } });
    c = connect(rt.discovery().address, { token: rt.discovery().token });
  });
  after(async () => {
    c?.close();
    await stopAllRuntimes();
    removeWorkspaces();
    await Promise.all([weather, search, llm].map((s) => s?.close()));
  });

  it('lists web:search and llm:generate among the native tools', async () => {
    const names = (await call(c.tools, 'ListTools', {})).tools
      .filter((t) => t.provider === 'PROVIDER_NATIVE')
      .map((t) => t.name);
    for (const name of [
      'weather:get',
      'web:search',
      'llm:generate',
      'system:shell',
      'fs:read_file',
      'fs:write_file',
      'fs:list_dir',
      'fs:delete',
    ])
      assert.ok(names.includes(name), name);
  });

  it('weather:get {"location": "Tokyo"} answers the reference\'s keys beside Loom\'s, from the configured base_url', async () => {
    const out = ok(await tool('weather:get', { location: 'Tokyo' }));
    assert.deepEqual(
      [out.location, out.temperature, out.conditions, out.humidity, out.wind_speed, out.units],
      ['Tokyo', 12.5, 'overcast', 60, 9.4, 'metric'],
    );
    assert.deepEqual([out.place.country, out.current.weather_code, out.description], ['Japan', 3, 'overcast']);
    assert.deepEqual(
      weather.requests.slice(-2).map((r) => r.url.pathname),
      ['/v1/search', '/v1/forecast'],
    );
  });

  it('web:search asks the stand-in with the key from BRAVE_API_KEY and answers {query, results, count}', async () => {
    const out = ok(await tool('web:search', { query: 'AI agents', limit: 3 }));
    assert.deepEqual([out.query, out.count, out.results.length], ['AI agents', 3, 3]);
    assert.deepEqual(Object.keys(out.results[0]).sort(), ['snippet', 'title', 'url']);
    assert.equal(search.requests.at(-1)!.headers['x-subscription-token'], BRAVE_TEST_KEY);
  });

  it('llm:generate posts to [llm.local] (its key from ${VAR}) and answers {text, model, provider, usage}', async () => {
    const out = ok(await tool('llm:generate', { input: 'Say hi', budget: { max_output_tokens: 32 } }));
    assert.deepEqual(
      [out.text, out.model, out.provider, out.llm, out.usage.total_tokens],
      ['echo: Say hi', 'stand-in-served', 'chat.completions', 'local', 10],
    );
    const asked = llm.requests.at(-1)!;
    assert.deepEqual([asked.headers.authorization, asked.body.max_tokens], ['Bearer sk-stand-in', 32]);
  });

  it("llm:generate honours the call's timeout: TOOL_TIMEOUT, and the request to the provider is aborted", async () => {
    const answer = llm.answer;
    llm.answer = () => {}; // never answers
    try {
      const hungUp = llm.hungUp();
      const r = await tool('llm:generate', { input: 'slow' }, 400);
      assert.equal(r.status, 'TOOL_TIMEOUT');
      await hungUp;
    } finally {
      llm.answer = answer;
    }
  });

  it("fs: the reference's names answer its keys (success, name/is_dir, was_directory) beside Loom's", async () => {
    const wrote = ok(await tool('fs:write_file', { path: 'reports/today.md', content: 'four' }));
    assert.deepEqual(wrote, { success: true, path: 'reports/today.md', bytes_written: 4, appended: false });
    const listed = ok(await tool('fs:list_dir', { path: 'reports' }));
    assert.deepEqual(listed.entries, [{ path: 'today.md', type: 'file', size: 4, name: 'today.md', is_dir: false }]);
    assert.equal(ok(await tool('fs:read_file', { path: 'reports/today.md' })).content, 'four');
    const file = ok(await tool('fs:delete', { path: 'reports/today.md' }));
    const dir = ok(await tool('fs:delete', { path: 'reports' }));
    assert.deepEqual([file.success, file.was_directory, dir.success, dir.was_directory], [true, false, true, true]);
  });

  it('system:shell with preset = "reference": its programs run isolated; a program it leaves out is refused with the reason', async () => {
    mkdirSync(join(rt.workspace, 'data'), { recursive: true });
    writeFileSync(join(rt.workspace, 'data', 'n.txt'), 'b\na\na\n');
    const stat = ok(await tool('system:shell', { command: 'stat', args: ['-c', '%s', 'README.md'] }));
    assert.deepEqual([stat.stdout, stat.isolated], ['18\n', true]);
    assert.equal(
      ok(await tool('system:shell', { command: 'uniq', args: ['-c', 'data/n.txt'] })).stdout.replace(/ +/g, ' '),
      ' 1 b\n 2 a\n',
    );
    const python = await tool('system:shell', { command: 'python3', args: ['-c', 'print(1)'] });
    assert.equal(python.error?.code, 'denied');
    assert.match(python.error!.message, /tools\.shell\.preset = "reference" leaves it out: an interpreter/);
  });

  it("a Python agent makes the reference test's calls (Agent(...)._ctx.tool) and gets what that test expects", async () => {
    const { stdout } = await new Promise<{ stdout: string }>((resolve, reject) =>
      execFile(
        PYTHON,
        ['-c', REFERENCE_STYLE_AGENT],
        {
          cwd: rt.workspace,
          timeout: 60_000,
          env: { ...process.env, LOOM_BRIDGE_ADDR: rt.discovery().address, LOOM_TOKEN: rt.discovery().token },
        },
        (err, out, errOut) => (err ? reject(new Error(`${err.message}\n${errOut}`)) : resolve({ stdout: out })),
      ),
    );
    const line = stdout.split('\n').find((l) => l.startsWith('RESULT '));
    assert.ok(line, stdout);
    const out = JSON.parse(line.slice('RESULT '.length));
    assert.ok('temperature' in out.weather && out.weather.location === 'Tokyo');
    assert.ok(Array.isArray(out.search.results) && out.search.results.length === 5);
    assert.equal(out.shell.stdout, 'Hello from Loom\n');
    assert.equal(out.read.content, '# A reference app\n');
    assert.equal(out.llm.text, 'echo: Say hi');
    assert.match(out.missing.toLowerCase(), /not found/);
  });
});

describe('built-in tools unconfigured, offline, or without isolation (real runtime)', function () {
  this.timeout(120_000);
  let rt: RuntimeProcess;
  let c: Clients;
  let port: number;

  before(async () => {
    port = await closedPort();
    const ws = makeWorkspace(
      [
        '[tools.shell]',
        'preset = "reference"',
        'isolation = "off"',
        '[tools.llm]',
        'provider = "gone"',
        '[llm.gone]',
        'type = "http"',
        `api_base = "http://127.0.0.1:${port}/v1"`,
        'model = "m"',
        '',
      ].join('\n'),
    );
    rt = await startRuntime(ws, [], { env: { BRAVE_API_KEY: '' } });
    c = connect(rt.discovery().address, { token: rt.discovery().token });
  });
  after(async () => {
    c?.close();
    await stopAllRuntimes();
    removeWorkspaces();
  });

  const tool = (name: string, args: object) => call(c.tools, 'CallTool', { name, arguments: JSON.stringify(args) });

  it('web:search without a key fails "unavailable", naming BRAVE_API_KEY and [tools.web_search] api_key', async () => {
    const r = await tool('web:search', { query: 'x' });
    assert.equal(r.error?.code, 'unavailable');
    assert.match(r.error!.message, /needs a Brave Search API key.*BRAVE_API_KEY.*\[tools\.web_search\]/);
  });

  it('llm:generate to an unreachable provider fails "unavailable", naming the provider and the host', async () => {
    const r = await tool('llm:generate', { input: 'x' });
    assert.equal(r.error?.code, 'unavailable');
    assert.match(r.error!.message, new RegExp(`LLM provider "gone" .*cannot reach 127\\.0\\.0\\.1:${port}`));
  });

  it('the preset widens nothing with isolation "off": its programs are refused (the runtime warned at start); allow still works', async () => {
    await rt.waitForLog('the preset warning', (l) => /tools\.shell\.preset = "reference" adds nothing/.test(l.msg));
    const r = await tool('system:shell', { command: 'stat', args: ['README.md'] });
    assert.equal(r.error?.code, 'denied');
    assert.match(r.error!.message, /run only under OS isolation/);
    const echo = await tool('system:shell', { command: 'echo', args: ['still here'] });
    assert.equal(JSON.parse(echo.output).stdout, 'still here\n');
  });
});
