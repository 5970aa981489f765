// Settings reach the runtime: loom.shell.allow and loom.bus.queueSizes are handed to a runtime the
// window starts (as --overrides) and change what it does.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { Probe, outputOf } from './helpers';

type RuntimeInfo = { address: string; token: string; pid: number };

describe('settings reach the runtime', () => {
  const config = () => vscode.workspace.getConfiguration('loom');
  let probe: Probe | undefined;

  after(async () => {
    probe?.close();
    await config().update('shell.allow', undefined, vscode.ConfigurationTarget.Workspace);
    await config().update('bus.queueSizes', undefined, vscode.ConfigurationTarget.Workspace);
    await vscode.commands.executeCommand('loom.stopRuntime');
  });

  it('loom.shell.allow lets system:shell run echo and nothing else; loom.bus.queueSizes sizes a new subscription', async () => {
    await config().update('shell.allow', ['echo'], vscode.ConfigurationTarget.Workspace);
    await config().update('bus.queueSizes', { realtime: 77, batched: 333, background: 999 }, vscode.ConfigurationTarget.Workspace);
    const info = await vscode.commands.executeCommand<RuntimeInfo>('loom.restartRuntime');
    probe = new Probe(info);

    const shell = outputOf(await probe.callTool('system:shell', { command: 'echo', args: ['settings', 'reached'] })) as { exit_code: number; stdout: string };
    assert.equal(shell.exit_code, 0);
    assert.equal(shell.stdout.trim(), 'settings reached');
    // The setting replaces the default list, which has ls: ls is refused now.
    const ls = await probe.callTool('system:shell', { command: 'ls', args: [] });
    assert.notEqual(ls.status, 'TOOL_OK');
    assert.match(ls.error?.message ?? '', /ls/);

    await probe.subscribe(['settings.test.>']); // a realtime subscription, made after the restart
    const mine = (await probe.stats()).subscriptions.filter((s) => s.subscriber === probe!.id);
    assert.ok(mine.length, 'the probe has a subscription');
    for (const s of mine) assert.equal(s.queueCapacity, 77, `subscription ${s.pattern}`);
  });
});
