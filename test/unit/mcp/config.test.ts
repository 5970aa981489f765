import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { expandServer, expandValue, parseMcpConfig, type McpHttpServerConfig, type McpStdioServerConfig } from '../../../runtime/mcp/config';
import { enforcePolicy, policyFor } from '../../../runtime/mcp/policy';
import { exposedName, toCallToolResult } from '../../../runtime/mcp/server';
import { ToolError } from '../../../runtime/tools/errors';
import { createLogger } from '../../../runtime/log';

const WS = path.resolve(os.tmpdir(), 'loom-mcp-unit-ws');

function problemsOf(raw: Record<string, unknown>): string[] {
  return parseMcpConfig(raw, WS).problems.map((p) => p.message);
}

describe('mcp config', () => {
  it('reads a stdio server with defaults', () => {
    const { config, problems } = parseMcpConfig({ files: { command: 'npx', args: ['-y', 'x'], env: { A: '1' }, cwd: 'tools' } }, WS);
    assert.deepEqual(problems, []);
    const s = config.servers[0] as McpStdioServerConfig;
    assert.equal(s.transport, 'stdio');
    assert.equal(s.cwd, path.join(WS, 'tools'));
    assert.deepEqual(s.args, ['-y', 'x']);
    assert.equal(s.enabled, true);
    assert.equal(s.policy, 'allow');
    assert.deepEqual(s.restart, { enabled: true, backoffInitialMs: 500, backoffMaxMs: 30_000, maxRestarts: 10, windowMs: 300_000 });
    assert.deepEqual(config.settings, { importVscode: false, defaultPolicy: 'allow', headlessAsk: 'deny' });
    assert.deepEqual(config.serve, { http: false, host: '127.0.0.1', port: 0, include: [], exclude: [] });
  });

  it('reads an HTTP server, settings, serve and per-tool policy', () => {
    const { config, problems } = parseMcpConfig(
      {
        settings: { default_policy: 'ask', headless_ask: 'allow' },
        serve: { http: true, port: 7777, include: ['fs:*'] },
        github: { url: 'https://api.example/mcp', headers: { Authorization: 'Bearer ${GH}' }, tool_policy: { delete_repo: 'deny' }, timeout_ms: 5000 },
      },
      WS,
    );
    assert.deepEqual(problems, []);
    const s = config.servers[0] as McpHttpServerConfig;
    assert.equal(s.transport, 'http');
    assert.equal(s.policy, 'ask');
    assert.equal(s.timeoutMs, 5000);
    assert.equal(policyFor(s, 'delete_repo'), 'deny');
    assert.equal(policyFor(s, 'search'), 'ask');
    assert.equal(config.serve.port, 7777);
    assert.equal(config.settings.headlessAsk, 'allow');
  });

  it('names the key of every problem and keeps the good servers', () => {
    const raw = {
      good: { command: 'x' },
      a: { url: 'ftp://nope' },
      b: { command: 'x', url: 'http://127.0.0.1:1/mcp' },
      c: {},
      d: { command: 'x', args: 'not-a-list' },
      e: { command: 'x', policy: 'maybe' },
      f: { command: 'x', comand: 'typo' },
      g: { url: 'http://x/mcp', transport: 'stdio' },
      h: { command: 'x', tool_policy: { 'h:t': 'deny' } },
      i: { command: 'x', backoff_initial_ms: 1000, backoff_max_ms: 10 },
      'bad.name': { command: 'x' },
      editor: { command: 'x' },
    };
    const { config, problems } = parseMcpConfig(raw, WS);
    assert.deepEqual(config.servers.map((s) => s.name), ['good']);
    const byServer = Object.fromEntries(problems.map((p) => [p.server, p.message]));
    assert.match(byServer.a, /^mcp\.a\.url: expected an http:\/\/ or https:\/\/ URL/);
    assert.match(byServer.b, /^mcp\.b: give either command \(stdio\) or url \(HTTP\), not both/);
    assert.match(byServer.c, /^mcp\.c: needs command/);
    assert.match(byServer.d, /^mcp\.d\.args: expected a list of strings, got "not-a-list"/);
    assert.match(byServer.e, /^mcp\.e\.policy: expected one of "allow", "ask", "deny", got "maybe"/);
    assert.match(byServer.f, /^mcp\.f\.comand: unknown key/);
    assert.match(byServer.g, /^mcp\.g\.transport: "stdio" does not fit url/);
    assert.match(byServer.h, /^mcp\.h\.tool_policy\.h:t: name the tool as the server lists it/);
    assert.match(byServer.i, /^mcp\.i\.backoff_max_ms: must be at least backoff_initial_ms/);
    assert.match(byServer['bad.name'], /^mcp\.bad\.name: a server name must be/);
    assert.match(byServer.editor, /^mcp\.editor: "editor" is a built-in Loom tool namespace/);
  });

  it('throws for bad settings tables, naming the key', () => {
    assert.throws(() => parseMcpConfig({ settings: { headless_ask: 'ask' } }, WS), /mcp\.settings\.headless_ask: expected one of "allow", "deny"/);
    assert.throws(() => parseMcpConfig({ serve: { host: '0.0.0.0' } }, WS), /mcp\.serve\.host: expected one of "127\.0\.0\.1", "::1"/);
    assert.throws(() => parseMcpConfig({ serve: { port: 70000 } }, WS), /mcp\.serve\.port: expected a whole number from 0 to 65535/);
  });

  it('expands ${VAR}, ${env:VAR}, ${workspaceFolder} and resolver answers; a missing one names the key', async () => {
    const env = { TOKEN: 't0k' };
    assert.equal(await expandValue('Bearer ${TOKEN}', 'k', { workspace: WS, env }), 'Bearer t0k');
    assert.equal(await expandValue('${env:TOKEN}/${workspaceFolder}', 'k', { workspace: WS, env }), `t0k/${WS}`);
    assert.equal(await expandValue('${input:pat}', 'k', { workspace: WS, env, resolve: (r) => (r === 'input:pat' ? 'secret' : undefined) }), 'secret');
    assert.equal(await expandValue('${TOKEN}', 'k', { workspace: WS, env, resolve: () => 'from-hook' }), 'from-hook');
    await assert.rejects(expandValue('${input:pat}', 'mcp.gh.headers.Authorization', { workspace: WS, env }), /mcp\.gh\.headers\.Authorization: \$\{input:pat\} has no value \(inputs are answered by the VS Code extension/);
    const server = parseMcpConfig({ gh: { url: '${BASE}/mcp', headers: { Authorization: 'Bearer ${TOKEN}' } } }, WS).config.servers[0];
    const expanded = (await expandServer(server, { workspace: WS, env: { ...env, BASE: 'https://h.example' } })) as McpHttpServerConfig;
    assert.equal(expanded.url, 'https://h.example/mcp');
    assert.deepEqual(expanded.headers, { Authorization: 'Bearer t0k' });
    await assert.rejects(expandServer(server, { workspace: WS, env: { BASE: 'nope' } }), /mcp\.gh\.url: not a valid URL/);
  });

  describe('.vscode/mcp.json import', () => {
    let ws: string;
    beforeEach(() => {
      ws = fs.mkdtempSync(path.join(os.tmpdir(), 'loom-mcp-vscode-'));
      fs.mkdirSync(path.join(ws, '.vscode'));
    });
    afterEach(() => fs.rmSync(ws, { recursive: true, force: true }));

    it('imports VS Code servers (comments allowed) only when mcp.settings.import_vscode is on', () => {
      fs.writeFileSync(
        path.join(ws, '.vscode', 'mcp.json'),
        `{
          // VS Code's own format
          "inputs": [{ "type": "promptString", "id": "pat", "password": true }],
          "servers": {
            "memory": { "type": "stdio", "command": "npx", "args": ["-y", "@modelcontextprotocol/server-memory"], "env": { "X": "\${input:pat}" } },
            "remote": { "type": "http", "url": "https://example.com/mcp", "headers": { "Authorization": "Bearer \${input:pat}" } },
            "old": { "type": "sse", "url": "https://example.com/sse" },
            "fs": { "command": "x" },
            "dup": { "command": "from-vscode" },
          },
        }`,
      );
      assert.deepEqual(parseMcpConfig({}, ws).config.servers, []);
      const { config, problems } = parseMcpConfig({ settings: { import_vscode: true }, dup: { command: 'from-toml' } }, ws);
      const byName = Object.fromEntries(config.servers.map((s) => [s.name, s]));
      assert.deepEqual(Object.keys(byName).sort(), ['dup', 'memory', 'old', 'remote']);
      assert.equal((byName.dup as McpStdioServerConfig).command, 'from-toml');
      assert.equal(byName.memory.source, '.vscode/mcp.json');
      assert.deepEqual((byName.memory as McpStdioServerConfig).env, { X: '${input:pat}' });
      assert.equal(byName.remote.transport, 'http');
      assert.equal(byName.old.transport, 'sse');
      const messages = problems.map((p) => p.message);
      assert.ok(messages.some((m) => /^\.vscode\/mcp\.json: mcp\.fs: "fs" is a built-in Loom tool namespace/.test(m)), messages.join('\n'));
      assert.ok(messages.some((m) => /server "dup" is also in loom\.toml; the loom\.toml entry is used/.test(m)));
    });

    it('reports a broken mcp.json without failing the rest', () => {
      fs.writeFileSync(path.join(ws, '.vscode', 'mcp.json'), '{ "servers": { ');
      const { config, problems } = parseMcpConfig({ settings: { import_vscode: true }, ok: { command: 'x' } }, ws);
      assert.deepEqual(config.servers.map((s) => s.name), ['ok']);
      assert.match(problems[0].message, /^\.vscode\/mcp\.json: /);
    });
  });
});

describe('mcp policy', () => {
  const lines: string[] = [];
  const log = createLogger({ sink: (l) => lines.push(l) });
  const server = { name: 'gh', policy: 'ask' as const, toolPolicy: { nuke: 'deny' as const, read: 'allow' as const } };

  it('allow passes, deny throws ToolError denied naming the tool and the setting', async () => {
    await enforcePolicy(server, 'read', {}, { headlessAsk: 'deny', log });
    const err = await enforcePolicy(server, 'nuke', {}, { headlessAsk: 'allow', log }).then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof ToolError);
    assert.equal(err.code, 'denied');
    assert.equal(err.message, 'gh:nuke is denied by policy (mcp.gh.tool_policy.nuke = "deny")');
  });

  it('headless ask follows the setting and logs that it did', async () => {
    lines.length = 0;
    await enforcePolicy(server, 'search', { q: 1 }, { headlessAsk: 'allow', log });
    await assert.rejects(enforcePolicy(server, 'search', {}, { headlessAsk: 'deny', log }), /gh:search needs confirmation \(mcp\.gh\.policy = "ask"\)/);
    const logged = lines.map((l) => JSON.parse(l) as { msg: string; answer: string; tool: string });
    assert.deepEqual(logged.map((l) => [l.msg, l.tool, l.answer]), [
      ['mcp: ask policy answered headless', 'gh:search', 'allow'],
      ['mcp: ask policy answered headless', 'gh:search', 'deny'],
    ]);
  });

  it('a confirm that throws counts as a refusal', async () => {
    await assert.rejects(
      enforcePolicy(server, 'search', {}, { headlessAsk: 'allow', log, confirm: async () => { throw new Error('dialog closed'); } }),
      /asking failed: dialog closed/,
    );
  });
});

describe('mcp server mapping', () => {
  it('maps registry names to MCP-safe names', () => {
    assert.equal(exposedName('fs:read'), 'fs__read');
    assert.equal(exposedName('github:search.repos'), 'github__search.repos');
  });

  it('renders outcomes as CallToolResults', () => {
    assert.deepEqual(toCallToolResult({ id: '1', status: 'ok', output: { a: 1 }, durationMs: 1 }), { content: [{ type: 'text', text: '{"a":1}' }], structuredContent: { a: 1 } });
    assert.deepEqual(toCallToolResult({ id: '1', status: 'ok', output: 'plain', durationMs: 1 }), { content: [{ type: 'text', text: 'plain' }] });
    const mcpShaped = { content: [{ type: 'text', text: 'x' }], structuredContent: { n: 2 } };
    assert.deepEqual(toCallToolResult({ id: '1', status: 'ok', output: mcpShaped, durationMs: 1 }), mcpShaped);
    const failed = toCallToolResult({ id: '1', status: 'error', error: { code: 'timeout', message: 'too slow' }, durationMs: 1 });
    assert.equal(failed.isError, true);
    assert.deepEqual(failed.content, [{ type: 'text', text: 'timeout: too slow' }]);
  });
});
