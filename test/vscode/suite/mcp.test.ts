// @vscode-suite main 100
// MCP inside VS Code: ui:confirm (only the runtime may ask), `${input:id}` secrets from
// SecretStorage into the runtime's environment, Loom's own MCP endpoint for VS Code's agent mode
// (the API is absent in this VS Code: the guard holds), and the MCP Servers view.
// The MCP server here is the SDK fixture server (test/fixtures/mcp/fixture-server.ts) run on the
// extension host's Node; the questions a test cannot click are answered by the scripted UI that
// exists only in a test run (loom.test.mcpUi).
import * as assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as vscode from 'vscode';
import { runProvidedTool, type ProvidedTool } from '../../../extension/bridge/client';
import { ALLOW, ALLOW_SESSION, CONFIRM_TOOL, ConfirmTool, DENY, formatArguments } from '../../../extension/mcp/confirm';
import { inputEnvName } from '../../../extension/mcp/inputs';
import {
  loomMcpDefinition,
  mcpProviderApiAvailable,
  registerLoomMcpProvider,
  servedMcpUrl,
} from '../../../extension/mcp/provider';
import { TEST_TREE_COMMAND } from '../../../extension/mcp';
import { ScriptedUi, TEST_UI_COMMAND, vscodeUi, type AskedQuestion } from '../../../extension/mcp/ui';
import { EXTENSION_ID, Probe, eventually, loomApi, workspaceDir } from './helpers';

type RuntimeInfo = { address: string; token: string; pid: number; version: string };

function environOf(pid: number): Map<string, string> {
  const entries = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter(Boolean);
  return new Map(entries.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
}

/** The repository the staged extension links its node_modules from (fixtures and tsx live there). */
function repoRoot(): string {
  const ext = vscode.extensions.getExtension(EXTENSION_ID)!;
  return dirname(realpathSync(join(ext.extensionPath, 'node_modules')));
}

function scriptUi(arg: { answers?: (string | null)[]; reset?: boolean }): Promise<AskedQuestion[]> {
  return Promise.resolve(vscode.commands.executeCommand<AskedQuestion[]>(TEST_UI_COMMAND, arg));
}

/** A stdio [mcp.<name>] table that runs the SDK fixture server through tsx. */
function fixtureServerToml(name: string, extra: string): string {
  const root = repoRoot();
  const args = [
    '--import',
    pathToFileURL(join(root, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href,
    join(root, 'test', 'fixtures', 'mcp', 'fixture-server.ts'),
    'stdio',
  ];
  return `\n[mcp.${name}]\ncommand = ${JSON.stringify(process.execPath)}\nargs = ${JSON.stringify(args)}\n${extra}\n`;
}

/** ui:confirm as the runtime routes it: a wire ToolCall with the caller in headers["loom.caller"]. */
async function callConfirm(
  tool: ProvidedTool,
  caller: string,
  body: unknown,
): Promise<{ status: string; output: any; error?: { code: string; message: string } }> {
  const res = await runProvidedTool(tool, {
    id: randomUUID(),
    name: CONFIRM_TOOL,
    arguments: JSON.stringify(body),
    headers: { 'loom.caller': caller },
    timeoutMs: 5000,
    correlationId: '',
    qos: 'QOS_REALTIME',
  } as never);
  return {
    status: String(res.status),
    output: res.output ? JSON.parse(res.output) : undefined,
    error: res.error ? { code: String(res.error.code), message: String(res.error.message) } : undefined,
  };
}

describe('MCP: ui:confirm', () => {
  before(() => loomApi());

  it('refuses every caller but the runtime, before asking anything', async () => {
    const ui = new ScriptedUi(vscodeUi);
    ui.script([ALLOW]);
    const tool = new ConfirmTool(ui).tool;
    for (const caller of ['some-agent', '', 'Runtime']) {
      const res = await callConfirm(tool, caller, { tool: 'github:delete_repo', arguments: { repo: 'x' } });
      assert.equal(res.status, 'TOOL_ERROR', `caller ${JSON.stringify(caller)} is refused`);
      assert.equal(res.error?.code, 'denied');
      assert.match(res.error!.message, /only the runtime/);
    }
    assert.equal(ui.asked.length, 0, 'nothing was shown to the person');
  });

  it('names the tool and its arguments in a modal, and remembers "Allow for this Session" per agent, tool and reason', async () => {
    const ui = new ScriptedUi(vscodeUi);
    const tool = new ConfirmTool(ui).tool;
    const call = async (name: string, args: unknown) => {
      const res = await callConfirm(tool, 'runtime', {
        tool: name,
        arguments: args,
        server: 'github',
        reason: 'mcp.github.policy = "ask"',
      });
      assert.equal(res.status, 'TOOL_OK', res.error?.message);
      return res.output;
    };
    ui.script([DENY, ALLOW, ALLOW_SESSION]);
    assert.deepEqual(await call('github:delete_repo', { repo: 'loom' }), { allowed: false, remembered: false });
    assert.deepEqual(await call('github:delete_repo', { repo: 'loom' }), { allowed: true, remembered: false });
    assert.deepEqual(await call('github:create_issue', { title: 't' }), { allowed: true, remembered: true });
    // Remembered: answered without a question (no scripted answer is left; a real one would block).
    assert.deepEqual(await call('github:create_issue', { title: 'again' }), { allowed: true, remembered: true });
    assert.equal(ui.asked.length, 3);
    const first = ui.asked[0] as Extract<AskedQuestion, { kind: 'modal' }>;
    assert.equal(first.kind, 'modal');
    assert.match(first.message, /"github:delete_repo"/);
    assert.match(first.message, /MCP server "github"/);
    assert.match(first.detail, /"repo": "loom"/);
    assert.match(first.detail, /mcp\.github\.policy = "ask"/);
    // Deny first: the first button has the focus, and the person may be typing when it shows.
    assert.deepEqual(first.choices, [DENY, ALLOW, ALLOW_SESSION]);
  });

  it('shows long arguments pretty-printed and cut, saying how much is left out', () => {
    const text = formatArguments({ content: 'x'.repeat(5000) });
    assert.ok(text.length < 1700);
    assert.match(text, /^\{\n {2}"content": "xxx/);
    assert.match(text, /… \(\d+ more characters not shown\)$/);
    assert.equal(formatArguments('{"a":1}'), '{\n  "a": 1\n}');
    assert.equal(formatArguments('not json\nsecond line'), '"not json\\nsecond line"');
  });

  it('is provided by the extension to the runtime, and refuses an agent calling it over the bridge', async () => {
    const info = await vscode.commands.executeCommand<RuntimeInfo>('loom.startRuntime');
    const probe = await new Probe(info).subscribe([]);
    try {
      await scriptUi({ reset: true, answers: [ALLOW] });
      await eventually('ui:confirm registered', async () =>
        (await probe.listAgents()).find((a) => a.agentId === 'vscode')?.tools.includes(CONFIRM_TOOL) ? true : undefined,
      );
      const res = await probe.callTool(CONFIRM_TOOL, { tool: 'fixture:echo', arguments: { text: 'hi' } });
      assert.equal(res.status, 'TOOL_ERROR');
      assert.equal(res.error?.code, 'denied');
      assert.match(res.error!.message, new RegExp(`not "${probe.id}"`));
      assert.deepEqual(await scriptUi({}), [], 'no dialog for an agent');
    } finally {
      await scriptUi({ reset: true });
      probe.close();
      await vscode.commands.executeCommand('loom.stopRuntime');
    }
  });
});

describe('MCP: inputs and the MCP endpoint', () => {
  let toml: string;
  let original: string;
  const mcpJson = () => join(workspaceDir(), '.vscode', 'mcp.json');

  before(async () => {
    await loomApi();
    await vscode.commands.executeCommand('loom.stopRuntime');
    toml = join(workspaceDir(), 'loom.toml');
    original = readFileSync(toml, 'utf8');
    writeFileSync(
      toml,
      original +
        '\n[mcp.settings]\nimport_vscode = true\n\n[mcp.serve]\nhttp = true\n' +
        fixtureServerToml('fixture', 'env = { FIXTURE_SECRET = "${input:fixture-token}" }'),
    );
    mkdirSync(dirname(mcpJson()), { recursive: true });
    writeFileSync(
      mcpJson(),
      `// VS Code's format, comments allowed
{
  "inputs": [
    { "type": "promptString", "id": "fixture-token", "description": "Token for the fixture server", "password": true },
    { "type": "promptString", "id": "other.key", "description": "Another value" },
  ],
  "servers": {
    "imported": { "type": "stdio", "command": "node", "args": ["--version"], "env": { "OTHER": "\${input:other.key}" } },
    "fixture": { "type": "stdio", "command": "node", "env": { "SHADOWED": "\${input:never-asked}" } },
  },
}
`,
    );
    await vscode.commands.executeCommand('loom.clearMcpInputs');
    await scriptUi({ reset: true });
  });

  after(async () => {
    await scriptUi({ reset: true });
    await vscode.commands.executeCommand('loom.stopRuntime');
    await vscode.commands.executeCommand('loom.clearMcpInputs');
    writeFileSync(toml, original);
    rmSync(mcpJson(), { force: true });
  });

  it('asks once for each input the servers reference, keeps it in secret storage, and hands it to the runtime', async () => {
    await scriptUi({ answers: ['s3cret-token', 'other-value'] });
    const info = await vscode.commands.executeCommand<RuntimeInfo>('loom.startRuntime');
    const asked = (await scriptUi({})) as Extract<AskedQuestion, { kind: 'input' }>[];
    assert.deepEqual(
      asked.map((q) => [q.kind, q.password]),
      [
        ['input', true],
        ['input', false],
      ],
    );
    assert.match(asked[0].prompt, /Token for the fixture server/);
    assert.match(asked[0].prompt, /mcp\.fixture\.env\.FIXTURE_SECRET/);
    assert.match(asked[1].prompt, /mcp\.imported\.env\.OTHER/);
    assert.equal(inputEnvName('other.key'), 'LOOM_INPUT_OTHER_KEY');
    const env = environOf(info.pid);
    assert.equal(env.get('LOOM_INPUT_FIXTURE_TOKEN'), 's3cret-token');
    assert.equal(env.get('LOOM_INPUT_OTHER_KEY'), 'other-value');
    assert.equal(
      env.has('LOOM_INPUT_NEVER_ASKED'),
      false,
      "the loom.toml server wins over mcp.json's of the same name",
    );
    assert.ok(!vscode.workspace.getConfiguration().inspect('LOOM_INPUT_FIXTURE_TOKEN')?.globalValue, 'not in settings');
    // And through the runtime's expansion of ${input:fixture-token} into the server's environment.
    const probe = await new Probe(info).subscribe([]);
    try {
      const secret = await eventually('fixture:getenv answers', async () => {
        const res = await probe.callTool('fixture:getenv', { name: 'FIXTURE_SECRET' });
        return res.status === 'TOOL_OK' ? mcpText(JSON.parse(res.output)) : undefined;
      });
      assert.equal(secret, 's3cret-token');
    } finally {
      probe.close();
    }

    // The next start takes them from secret storage without asking.
    await vscode.commands.executeCommand('loom.stopRuntime');
    await scriptUi({ reset: true });
    const again = await vscode.commands.executeCommand<RuntimeInfo>('loom.startRuntime');
    assert.deepEqual(await scriptUi({}), []);
    assert.equal(environOf(again.pid).get('LOOM_INPUT_FIXTURE_TOKEN'), 's3cret-token');
  });

  it("offers the runtime's own MCP endpoint with the bearer token (where VS Code lacks or refuses the provider API, activation is unharmed)", async () => {
    const api = await loomApi();
    const info = api.runtime!;
    const url = servedMcpUrl(join(workspaceDir(), '.loom', 'runtime.json'), info);
    assert.ok(url, 'the discovery file names the MCP endpoint');
    const def = loomMcpDefinition(info, url, 'ws')!;
    assert.equal(def.headers.Authorization, `Bearer ${info.token}`);
    const init = {
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-03-26', capabilities: {}, clientInfo: { name: 'vscode-test', version: '0' } },
    };
    const post = (headers: Record<string, string>) =>
      fetch(def.uri, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
        body: JSON.stringify(init),
      });
    const ok = await post(def.headers);
    assert.equal(ok.status, 200, 'the definition reaches the endpoint');
    await ok.body?.cancel();
    const refused = await post({});
    assert.equal(refused.status, 401, 'and the token is what lets it in');
    await refused.body?.cancel();
    assert.equal(
      loomMcpDefinition(info, 'http://example.com:1/mcp', 'ws'),
      undefined,
      'the token never goes to a non-loopback URL',
    );

    // VS Code 1.100 has the function as a proposal that refuses this manifest (it wants the
    // proposal's own contribution key): the registration says so instead of failing activation.
    const registration = registerLoomMcpProvider(() => def, new vscode.EventEmitter<void>().event);
    registration.dispose();
    const [major, minor] = vscode.version.split('.').map(Number);
    if (major === 1 && minor < 101) {
      assert.equal(registration.registered, false);
      assert.match(
        registration.reason!,
        mcpProviderApiAvailable()
          ? /refused the MCP server definition provider/
          : /has no vscode\.lm\.registerMcpServerDefinitionProvider/,
      );
    }
    assert.equal(vscode.extensions.getExtension(EXTENSION_ID)!.isActive, true);
    const manifest = vscode.extensions.getExtension(EXTENSION_ID)!.packageJSON as {
      contributes: { mcpServerDefinitionProviders: unknown };
    };
    assert.deepEqual(manifest.contributes.mcpServerDefinitionProviders, [{ id: 'loom', label: 'Loom' }]);
  });

  it('"Loom: Clear MCP Inputs" forgets them: the next start asks again, and a dismissed input is left out', async () => {
    await vscode.commands.executeCommand('loom.stopRuntime');
    assert.equal(await vscode.commands.executeCommand<number>('loom.clearMcpInputs'), 2);
    await scriptUi({ reset: true, answers: [null, null] });
    const info = await vscode.commands.executeCommand<RuntimeInfo>('loom.startRuntime');
    assert.equal((await scriptUi({})).length, 2, 'asked again');
    const env = environOf(info.pid);
    assert.equal(env.has('LOOM_INPUT_FIXTURE_TOKEN'), false);
    assert.equal(env.has('LOOM_INPUT_OTHER_KEY'), false);
  });
});

type TreeRow = { label: string; description: string; tooltip: string; contextValue: string; tools: string[] };

function treeRows(): Promise<TreeRow[]> {
  return Promise.resolve(vscode.commands.executeCommand<TreeRow[]>(TEST_TREE_COMMAND));
}

function mcpText(out: { content: { type: string; text: string }[] }): string {
  return out.content.map((c) => c.text).join('\n');
}

describe('MCP: the MCP Servers view', () => {
  let toml: string;
  let original: string;
  let probe: Probe;

  before(async () => {
    await loomApi();
    await vscode.commands.executeCommand('loom.stopRuntime');
    toml = join(workspaceDir(), 'loom.toml');
    original = readFileSync(toml, 'utf8');
    writeFileSync(
      toml,
      original +
        fixtureServerToml('fixture', '') +
        '\n[mcp.broken]\ncommand = "/nonexistent/loom-test-server"\nrestart = false\n',
    );
    const info = await vscode.commands.executeCommand<RuntimeInfo>('loom.startRuntime');
    probe = await new Probe(info).subscribe([]);
  });

  after(async () => {
    probe?.close();
    await vscode.commands.executeCommand('loom.stopRuntime');
    writeFileSync(toml, original);
  });

  it('shows the fixture server ready with its tools, and a server that cannot start as failed with its error', async () => {
    const rows = await eventually('fixture ready and broken failed in the view', async () => {
      const r = await treeRows();
      const fixture = r.find((x) => x.label === 'fixture');
      const broken = r.find((x) => x.label === 'broken');
      return fixture?.description.startsWith('ready') && broken?.description.startsWith('failed')
        ? { fixture, broken }
        : undefined;
    });
    assert.ok(rows.fixture.tools.includes('fixture:echo') && rows.fixture.tools.includes('fixture:getenv'));
    assert.match(rows.fixture.description, new RegExp(`^ready · ${rows.fixture.tools.length} tools$`));
    assert.equal(rows.fixture.contextValue, 'loomMcpServer', 'the inline Restart applies');
    assert.match(rows.fixture.tooltip, /stdio · from loom\\\.toml/);
    assert.match(rows.broken.tooltip, /last error/);
    assert.match(rows.broken.tooltip, /nonexistent\/loom-test-server|ENOENT/);
  });

  it('follows a crash through the state events (restarting, then ready with one restart)', async () => {
    const before = (await treeRows()).find((x) => x.label === 'fixture')!;
    assert.doesNotMatch(before.description, /restart/);
    await probe.callTool('fixture:crash', {}, 10_000); // fails: the server dies mid-call
    const after = await eventually('the fixture back with a restart', async () => {
      const row = (await treeRows()).find((x) => x.label === 'fixture');
      return row?.description.startsWith('ready') && /1 restart$/.test(row.description) ? row : undefined;
    });
    assert.match(after.tooltip, /· 1 restart/);
  });

  it('"Restart MCP Server" (the inline action) restarts it: a new process serves the tools', async () => {
    const pidOf = async () => Number(mcpText(JSON.parse((await probe.callTool('fixture:pid', {})).output)));
    const first = await eventually('fixture:pid answers', async () =>
      (await probe.callTool('fixture:pid', {})).status === 'TOOL_OK' ? pidOf() : undefined,
    );
    // The view's inline action passes the tree node ({ kind, info }).
    const info = await vscode.commands.executeCommand<{ name: string; state: string }>('loom.restartMcpServer', {
      kind: 'server',
      info: { name: 'fixture' },
    });
    assert.equal(info.name, 'fixture');
    const second = await eventually('fixture:pid answers from a new process', async () => {
      const res = await probe.callTool('fixture:pid', {});
      if (res.status !== 'TOOL_OK') return undefined;
      const pid = Number(mcpText(JSON.parse(res.output)));
      return pid !== first ? pid : undefined;
    });
    assert.notEqual(second, first);
    await eventually('the view shows it ready', async () =>
      (await treeRows()).find((x) => x.label === 'fixture')?.description.startsWith('ready') ? true : undefined,
    );
    await assert.rejects(
      Promise.resolve(vscode.commands.executeCommand('loom.restartMcpServer', 'no-such-server')),
      /no-such-server/,
    );
  });
});
