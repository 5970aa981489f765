import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { inputVariable } from '../../../runtime/contract/mcpInputs';
import {
  expandServer,
  expandValue,
  parseMcpConfig,
  type McpHttpServerConfig,
  type McpStdioServerConfig,
} from '../../../runtime/mcp/config';
import { shouldFallBackToSse } from '../../../runtime/mcp/connection';
import { annotationMetadata } from '../../../runtime/mcp/kinds';
import { toolKind } from '../../../runtime/contract/toolKinds';
import { enforce, enforcePolicy, policyFor, servedToolPolicy } from '../../../runtime/mcp/policy';
import { exposedName, toCallToolResult } from '../../../runtime/mcp/server';
import { ToolError } from '../../../runtime/tools/errors';
import { createLogger } from '../../../runtime/log';

const WS = path.resolve(os.tmpdir(), 'loom-mcp-unit-ws');

function problemsOf(raw: Record<string, unknown>): string[] {
  return parseMcpConfig(raw, WS).problems.map((p) => p.message);
}

describe('mcp config', () => {
  it('reads a stdio server with defaults', () => {
    const { config, problems } = parseMcpConfig(
      { files: { command: 'npx', args: ['-y', 'x'], env: { A: '1' }, cwd: 'tools' } },
      WS,
    );
    assert.deepEqual(problems, []);
    const s = config.servers[0] as McpStdioServerConfig;
    assert.equal(s.transport, 'stdio');
    assert.equal(s.cwd, path.join(WS, 'tools'));
    assert.deepEqual(s.args, ['-y', 'x']);
    assert.equal(s.enabled, true);
    assert.equal(s.policy, 'allow');
    assert.deepEqual(s.restart, {
      enabled: true,
      backoffInitialMs: 500,
      backoffMaxMs: 30_000,
      maxRestarts: 10,
      windowMs: 300_000,
    });
    assert.deepEqual(config.settings, { importVscode: false, defaultPolicy: 'allow', headlessAsk: 'deny' });
    assert.deepEqual(config.serve, {
      http: false,
      host: '127.0.0.1',
      port: 0,
      include: [],
      exclude: [],
      toolPolicy: {},
    });
  });

  it('reads an HTTP server, settings, serve and per-tool policy', () => {
    const { config, problems } = parseMcpConfig(
      {
        settings: { default_policy: 'ask', headless_ask: 'allow' },
        serve: { http: true, port: 7777, include: ['fs:*'] },
        github: {
          url: 'https://api.example/mcp',
          headers: { Authorization: 'Bearer ${GH}' },
          tool_policy: { delete_repo: 'deny' },
          timeout_ms: 5000,
        },
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
      j: { url: 'http://127.0.0.1:1/mcp', args: ['x'] },
      'bad.name': { command: 'x' },
      editor: { command: 'x' },
    };
    const { config, problems } = parseMcpConfig(raw, WS);
    assert.deepEqual(
      config.servers.map((s) => s.name),
      ['good'],
    );
    const byServer = Object.fromEntries(problems.map((p) => [p.server, p.message]));
    assert.match(byServer.a, /^mcp\.a\.url: must be an http:\/\/ or https:\/\/ URL \(got "ftp:\/\/nope"\)/);
    assert.match(byServer.b, /^mcp\.b: give either command \(stdio\) or url \(HTTP\), not both/);
    assert.match(byServer.c, /^mcp\.c: needs command/);
    // Worded by loom.toml's schema, as loadConfig words the same tables.
    assert.match(byServer.d, /^mcp\.d\.args: must be an array \(got "not-a-list"\)/);
    assert.match(byServer.e, /^mcp\.e\.policy: must be one of "allow", "ask", "deny" \(got "maybe"\)/);
    assert.match(byServer.f, /^mcp\.f\.comand: unknown key \(did you mean "command"\?\)/);
    assert.match(byServer.g, /^mcp\.g\.transport: "stdio" does not fit url/);
    assert.match(byServer.h, /^mcp\.h\.tool_policy\.h:t: name the tool as the server lists it/);
    assert.match(byServer.i, /^mcp\.i\.backoff_max_ms: must be at least backoff_initial_ms/);
    assert.match(byServer.j, /^mcp\.j\.args: only for stdio servers \(command\)/);
    assert.match(byServer['bad.name'], /^mcp\.bad\.name: a server name must be/);
    assert.match(byServer.editor, /^mcp\.editor: "editor" is a built-in Loom tool namespace/);
  });

  it('throws for bad settings tables, naming the key', () => {
    assert.throws(
      () => parseMcpConfig({ settings: { headless_ask: 'ask' } }, WS),
      /mcp\.settings\.headless_ask: must be one of "allow", "deny" \(got "ask"\)/,
    );
    assert.throws(
      () => parseMcpConfig({ serve: { host: '0.0.0.0' } }, WS),
      /mcp\.serve\.host: must be one of "127\.0\.0\.1", "::1" \(got "0\.0\.0\.0"\)/,
    );
    assert.throws(
      () => parseMcpConfig({ serve: { port: 70000 } }, WS),
      /mcp\.serve\.port: must be <= 65535 \(got 70000\)/,
    );
  });

  it('expands ${VAR}, ${env:VAR}, ${workspaceFolder} and resolver answers; a missing one names the key', async () => {
    const env = { TOKEN: 't0k' };
    assert.equal(await expandValue('Bearer ${TOKEN}', 'k', { workspace: WS, env }), 'Bearer t0k');
    assert.equal(await expandValue('${env:TOKEN}/${workspaceFolder}', 'k', { workspace: WS, env }), `t0k/${WS}`);
    assert.equal(
      await expandValue('${input:pat}', 'k', {
        workspace: WS,
        env,
        resolve: (r) => (r === 'input:pat' ? 'secret' : undefined),
      }),
      'secret',
    );
    assert.equal(await expandValue('${TOKEN}', 'k', { workspace: WS, env, resolve: () => 'from-hook' }), 'from-hook');
    await assert.rejects(
      expandValue('${input:pat}', 'mcp.gh.headers.Authorization', { workspace: WS, env }),
      /mcp\.gh\.headers\.Authorization: \$\{input:pat\} has no value \(inputs come from the VS Code extension \(SecretStorage\) or the environment variable LOOM_INPUT_PAT\)/,
    );
    const server = parseMcpConfig({ gh: { url: '${BASE}/mcp', headers: { Authorization: 'Bearer ${TOKEN}' } } }, WS)
      .config.servers[0];
    const expanded = (await expandServer(server, {
      workspace: WS,
      env: { ...env, BASE: 'https://h.example' },
    })) as McpHttpServerConfig;
    assert.equal(expanded.url, 'https://h.example/mcp');
    assert.deepEqual(expanded.headers, { Authorization: 'Bearer t0k' });
    await assert.rejects(
      expandServer(server, { workspace: WS, env: { BASE: 'nope' } }),
      /mcp\.gh\.url: must be a valid URL \(got "nope\/mcp"\)/,
    );
  });

  it("reads ${VAR:-default} and $$ as the config part's expandEnv does", async () => {
    const env = { SET: 'v', EMPTY: '' };
    assert.equal(await expandValue('${UNSET_X:-fallback}', 'k', { workspace: WS, env }), 'fallback');
    assert.equal(await expandValue('${SET:-fallback}', 'k', { workspace: WS, env }), 'v');
    assert.equal(await expandValue('${EMPTY:-fallback}', 'k', { workspace: WS, env }), 'fallback');
    assert.equal(await expandValue('${env:UNSET_X:-http://h:1/mcp}', 'k', { workspace: WS, env }), 'http://h:1/mcp');
    assert.equal(await expandValue('${UNSET_X:-}', 'k', { workspace: WS, env }), '');
    assert.equal(await expandValue('cost $$5 ${SET}', 'k', { workspace: WS, env }), 'cost $5 v');
    // The resolver is asked for the name alone, and its answer wins over the default.
    const asked: string[] = [];
    assert.equal(
      await expandValue('${TOKEN:-d}', 'k', { workspace: WS, env, resolve: (r) => (asked.push(r), 'hook') }),
      'hook',
    );
    assert.deepEqual(asked, ['TOKEN']);
    await assert.rejects(
      expandValue('${UNSET_X}', 'mcp.a.env.X', { workspace: WS, env }),
      /mcp\.a\.env\.X: \$\{UNSET_X\} has no value \(set UNSET_X in the runtime's environment, or write \$\{UNSET_X:-default\}\)/,
    );
  });

  it('maps ${input:id} to LOOM_INPUT_<ID> (upper-cased, other characters to _)', async () => {
    assert.equal(inputVariable('github-token'), 'LOOM_INPUT_GITHUB_TOKEN');
    assert.equal(inputVariable('api.key2'), 'LOOM_INPUT_API_KEY2');
    const env = { LOOM_INPUT_GITHUB_TOKEN: 'ghp_x' };
    assert.equal(await expandValue('Bearer ${input:github-token}', 'k', { workspace: WS, env }), 'Bearer ghp_x');
    assert.equal(await expandValue('${input:other:-none}', 'k', { workspace: WS, env }), 'none');
  });

  it('reads [mcp.serve] policy and tool_policy by registry name or glob', () => {
    const { config } = parseMcpConfig(
      { serve: { policy: 'deny', tool_policy: { 'fs:*': 'allow', 'system:shell': 'ask' } } },
      WS,
    );
    assert.equal(config.serve.policy, 'deny');
    assert.deepEqual(config.serve.toolPolicy, { 'fs:*': 'allow', 'system:shell': 'ask' });
    assert.throws(
      () => parseMcpConfig({ serve: { tool_policy: { shell: 'allow' } } }, WS),
      /mcp\.serve\.tool_policy\.shell: name a registry tool \("fs:write"\) or a glob/,
    );
    assert.throws(
      () => parseMcpConfig({ serve: { policy: 'sometimes' } }, WS),
      /mcp\.serve\.policy: must be one of "allow", "ask", "deny" \(got "sometimes"\)/,
    );
  });

  it('a failed entry keeps the transport it asked for', () => {
    const { problems } = parseMcpConfig({ remote: { url: 'ftp://x' }, local: { command: 'x', bogus: 1 } }, WS);
    const byServer = Object.fromEntries(problems.map((p) => [p.server, p.transport]));
    assert.deepEqual(byServer, { remote: 'http', local: 'stdio' });
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
      const { config, problems } = parseMcpConfig(
        { settings: { import_vscode: true }, dup: { command: 'from-toml' } },
        ws,
      );
      const byName = Object.fromEntries(config.servers.map((s) => [s.name, s]));
      assert.deepEqual(Object.keys(byName).sort(), ['dup', 'memory', 'old', 'remote']);
      assert.equal((byName.dup as McpStdioServerConfig).command, 'from-toml');
      assert.equal(byName.memory.source, '.vscode/mcp.json');
      assert.deepEqual((byName.memory as McpStdioServerConfig).env, { X: '${input:pat}' });
      assert.equal(byName.remote.transport, 'http');
      assert.equal(byName.old.transport, 'sse');
      const messages = problems.map((p) => p.message);
      assert.ok(
        messages.some((m) => /^\.vscode\/mcp\.json: mcp\.fs: "fs" is a built-in Loom tool namespace/.test(m)),
        messages.join('\n'),
      );
      assert.ok(messages.some((m) => /server "dup" is also in loom\.toml; the loom\.toml entry is used/.test(m)));
    });

    it('reports a broken mcp.json without failing the rest', () => {
      fs.writeFileSync(path.join(ws, '.vscode', 'mcp.json'), '{ "servers": { ');
      const { config, problems } = parseMcpConfig({ settings: { import_vscode: true }, ok: { command: 'x' } }, ws);
      assert.deepEqual(
        config.servers.map((s) => s.name),
        ['ok'],
      );
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
    const err = await enforcePolicy(server, 'nuke', {}, { headlessAsk: 'allow', log }).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(err instanceof ToolError);
    assert.equal(err.code, 'denied');
    assert.equal(err.message, 'gh:nuke is denied by policy (mcp.gh.tool_policy.nuke = "deny")');
  });

  it('headless ask follows the setting and logs that it did', async () => {
    lines.length = 0;
    await enforcePolicy(server, 'search', { q: 1 }, { headlessAsk: 'allow', log });
    await assert.rejects(
      enforcePolicy(server, 'search', {}, { headlessAsk: 'deny', log }),
      /gh:search needs confirmation \(mcp\.gh\.policy = "ask"\)/,
    );
    const logged = lines.map((l) => JSON.parse(l) as { msg: string; answer: string; tool: string });
    assert.deepEqual(
      logged.map((l) => [l.msg, l.tool, l.answer]),
      [
        ['mcp: ask policy answered headless', 'gh:search', 'allow'],
        ['mcp: ask policy answered headless', 'gh:search', 'deny'],
      ],
    );
  });

  it('a confirm that throws counts as a refusal', async () => {
    await assert.rejects(
      enforcePolicy(
        server,
        'search',
        {},
        {
          headlessAsk: 'allow',
          log,
          confirm: async () => {
            throw new Error('dialog closed');
          },
        },
      ),
      /asking failed: dialog closed/,
    );
  });
});

describe('mcp served-tool policy and tool kinds', () => {
  const log = createLogger({ sink: () => {} });
  const def = (name: string, metadata?: Record<string, string>) => ({ name, metadata });

  it('by default read tools are allowed and write/execute tools ask (headless: denied, saying why)', async () => {
    const policyOf = servedToolPolicy({ toolPolicy: {} });
    assert.deepEqual(policyOf(def('fs:read')), { policy: 'allow', source: 'the mcp.serve default for read tools' });
    for (const name of ['fs:write', 'fs:delete', 'editor:insert', 'editor:replace'])
      assert.equal(policyOf(def(name)).policy, 'ask', name);
    assert.deepEqual(policyOf(def('system:shell')), {
      policy: 'ask',
      source: 'the mcp.serve default for execute tools',
    });
    assert.equal(policyOf(def('agent7:wipe', { 'loom.kind': 'execute' })).policy, 'ask');
    assert.equal(policyOf(def('gh:delete_repo', { 'mcp.destructive': 'true' })).policy, 'ask');
    assert.equal(policyOf(def('gh:search', { 'loom.kind': 'read' })).policy, 'allow');
    await assert.rejects(
      enforce('system:shell', policyOf(def('system:shell')), {}, { headlessAsk: 'deny', log }),
      /^ToolError: system:shell needs confirmation \(the mcp\.serve default for execute tools: "ask"\) and no one can be asked; mcp\.settings\.headless_ask = "deny"$/,
    );
  });

  it('tool_policy (exact, then globs in order) wins over policy, which wins over the kind', () => {
    const policyOf = servedToolPolicy({ policy: 'deny', toolPolicy: { 'fs:*': 'allow', 'fs:delete': 'ask' } });
    assert.deepEqual(policyOf(def('fs:delete')), { policy: 'ask', source: 'mcp.serve.tool_policy."fs:delete"' });
    assert.deepEqual(policyOf(def('fs:write')), { policy: 'allow', source: 'mcp.serve.tool_policy."fs:*"' });
    assert.deepEqual(policyOf(def('weather:get')), { policy: 'deny', source: 'mcp.serve.policy' });
  });

  it('turns MCP annotations into metadata and a kind', () => {
    assert.deepEqual(annotationMetadata({ readOnlyHint: true, openWorldHint: false }), {
      'mcp.read_only': 'true',
      'mcp.open_world': 'false',
      'loom.kind': 'read',
    });
    assert.deepEqual(annotationMetadata({ destructiveHint: true }), {
      'mcp.destructive': 'true',
      'loom.kind': 'write',
    });
    assert.deepEqual(annotationMetadata({ readOnlyHint: false, destructiveHint: false }), {
      'mcp.read_only': 'false',
      'mcp.destructive': 'false',
      'loom.kind': 'write',
    });
    assert.deepEqual(annotationMetadata(undefined), {});
    assert.equal(toolKind({ name: 'x:y', metadata: annotationMetadata({ destructiveHint: true }) }), 'write');
  });

  it('falls back to SSE only when the streamable POST says 400, 404 or 405', () => {
    for (const code of [400, 404, 405])
      assert.equal(shouldFallBackToSse(new StreamableHTTPError(code, 'x')), true, String(code));
    for (const code of [401, 403, 500, -1])
      assert.equal(shouldFallBackToSse(new StreamableHTTPError(code, 'x')), false, String(code));
    assert.equal(shouldFallBackToSse(new Error('fetch failed')), false);
  });
});

describe('mcp server mapping', () => {
  it('maps registry names to MCP-safe names', () => {
    assert.equal(exposedName('fs:read'), 'fs__read');
    assert.equal(exposedName('github:search.repos'), 'github__search.repos');
  });

  it('renders outcomes as CallToolResults', () => {
    assert.deepEqual(toCallToolResult({ id: '1', status: 'ok', output: { a: 1 }, durationMs: 1 }), {
      content: [{ type: 'text', text: '{"a":1}' }],
      structuredContent: { a: 1 },
    });
    assert.deepEqual(toCallToolResult({ id: '1', status: 'ok', output: 'plain', durationMs: 1 }), {
      content: [{ type: 'text', text: 'plain' }],
    });
    const mcpShaped = { content: [{ type: 'text', text: 'x' }], structuredContent: { n: 2 } };
    assert.deepEqual(toCallToolResult({ id: '1', status: 'ok', output: mcpShaped, durationMs: 1 }), mcpShaped);
    const failed = toCallToolResult({
      id: '1',
      status: 'error',
      error: { code: 'timeout', message: 'too slow' },
      durationMs: 1,
    });
    assert.equal(failed.isError, true);
    assert.deepEqual(failed.content, [{ type: 'text', text: 'timeout: too slow' }]);
  });
});
