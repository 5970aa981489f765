// @vscode-suite main 80
// Loom's language model tools, as VS Code's agent mode sees them (vscode.lm.tools / invokeTool).
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { TEST_CALL_CONFIRMATION_COMMAND } from '../../../extension/lmTools';
import { EXTENSION_ID, Probe, loomApi } from './helpers';

function textOf(result: vscode.LanguageModelToolResult): string {
  return result.content.map((p) => (p instanceof vscode.LanguageModelTextPart ? p.value : '')).join('');
}

async function invoke(name: string, input: object): Promise<unknown> {
  const result = await vscode.lm.invokeTool(
    name,
    { input, toolInvocationToken: undefined },
    new vscode.CancellationTokenSource().token,
  );
  return JSON.parse(textOf(result));
}

describe('language model tools', () => {
  before(async () => {
    await loomApi();
  });

  after(async () => {
    await vscode.commands.executeCommand('loom.stopRuntime');
  });

  it('registers every tool it declares under contributes.languageModelTools', () => {
    const declared = (
      vscode.extensions.getExtension(EXTENSION_ID)!.packageJSON as {
        contributes: { languageModelTools: { name: string }[] };
      }
    ).contributes.languageModelTools.map((t) => t.name);
    const registered = new Set(vscode.lm.tools.map((t) => t.name));
    assert.deepEqual(
      declared.filter((n) => !registered.has(n)),
      [],
    );
    assert.deepEqual(declared.sort(), ['loom_call_tool', 'loom_list_agents', 'loom_list_tools', 'loom_publish']);
  });

  it('loom_list_tools starts the runtime when needed and lists its tools with their schemas', async () => {
    const tools = (await invoke('loom_list_tools', { prefix: 'editor:' })) as {
      name: string;
      parameters: { type: string };
    }[];
    assert.deepEqual(tools.map((t) => t.name).sort(), [
      'editor:insert',
      'editor:open',
      'editor:replace',
      'editor:selection',
    ]);
    assert.ok(tools.every((t) => t.parameters.type === 'object'));
    assert.equal((await loomApi()).state, 'running');
  });

  it('loom_call_tool calls a runtime tool and returns its output', async () => {
    const out = (await invoke('loom_call_tool', { name: 'fs:list', arguments: { path: '.' } })) as unknown;
    assert.match(JSON.stringify(out), /loom\.toml/);
  });

  it('loom_call_tool asks first for a tool that writes or executes (aliases too), not for one the runtime knows only reads', async () => {
    await vscode.commands.executeCommand('loom.startRuntime');
    const title = (name: string) =>
      vscode.commands.executeCommand<string | null>(TEST_CALL_CONFIRMATION_COMMAND, {
        name,
        arguments: { path: 'x.txt' },
      });
    for (const name of ['fs:read', 'fs:read_file', 'fs:list', 'editor:selection'])
      assert.equal(await title(name), null, `${name} runs without asking`);
    for (const name of ['fs:write', 'fs:write_file', 'fs:delete', 'system:shell', 'editor:insert', 'nope:nothing']) {
      assert.equal(await title(name), `Run Loom tool ${name}?`, `${name} asks first`);
    }
  });

  it('loom_call_tool reports a failing tool as an error naming it', async () => {
    await assert.rejects(
      invoke('loom_call_tool', { name: 'nope:nothing', arguments: {} }),
      /nope:nothing failed \(TOOL_NOT_FOUND\)/,
    );
  });

  it('loom_publish publishes an event that a subscribed agent receives', async () => {
    const runtime = (await loomApi()).runtime!;
    const probe = await (await new Probe(runtime).subscribe(['copilot.test.>'])).connected();
    try {
      const out = (await invoke('loom_publish', { topic: 'copilot.test.ping', payload: { n: 7 } })) as {
        published: string;
      };
      assert.deepEqual(out, { published: 'copilot.test.ping' });
      const got = await probe.next('copilot.test.ping');
      assert.deepEqual(got.payload, { n: 7 });
      assert.equal(got.type, 'copilot.test.ping');
      // Sent by the window (the runtime states the sender from its credential), from agent mode.
      assert.equal(got.sender, 'vscode');
      assert.equal(got.source, 'copilot', 'marked as coming from agent mode');
    } finally {
      probe.close();
    }
  });

  it('loom_list_agents lists the agents the runtime knows', async () => {
    const agents = (await invoke('loom_list_agents', {})) as { id: string; state: string }[];
    assert.ok(agents.some((a) => a.id === 'vscode' && a.state === 'connected'));
  });
});
