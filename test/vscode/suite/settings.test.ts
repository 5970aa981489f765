// @vscode-suite main 70
// Settings reach the runtime: loom.shell.allow and loom.bus.queueSizes are handed to a runtime the
// window starts (as --overrides) and change what it does.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { join } from 'node:path';
import { Probe, eventually, loomApi, outputOf, screenshot, workspaceDir } from './helpers';

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
    await config().update(
      'bus.queueSizes',
      { realtime: 77, batched: 333, background: 999 },
      vscode.ConfigurationTarget.Workspace,
    );
    const info = await vscode.commands.executeCommand<RuntimeInfo>('loom.restartRuntime');
    probe = new Probe(info);

    const shell = outputOf(
      await probe.callTool('system:shell', { command: 'echo', args: ['settings', 'reached'] }),
    ) as { exit_code: number; stdout: string };
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

describe('settings changed while the runtime runs', () => {
  const config = () => vscode.workspace.getConfiguration('loom');
  let probe: Probe | undefined;

  after(async () => {
    probe?.close();
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
    for (const key of ['shell.allow', 'watcher.include', 'editor.changeDebounceMs'])
      await config().update(key, undefined, vscode.ConfigurationTarget.Workspace);
    await vscode.commands.executeCommand('loom.stopRuntime');
  });

  it('a setting the runtime gets at launch offers a restart, once for a burst of changes', async () => {
    const info = await vscode.commands.executeCommand<RuntimeInfo>('loom.startRuntime');
    const api = await loomApi();
    const before = api.restartOffers.length;
    await config().update('shell.allow', ['echo'], vscode.ConfigurationTarget.Workspace);
    await config().update('watcher.include', ['**/*.md'], vscode.ConfigurationTarget.Workspace);
    const offer = await eventually('the restart offer', () => api.restartOffers[before]);
    assert.equal(offer, 'Restart the Loom runtime to apply loom.shell.allow, loom.watcher.include?');
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(
      api.restartOffers.length,
      before + 1,
      `one offer for the burst: ${api.restartOffers.slice(before).join(' | ')}`,
    );
    assert.equal(api.runtime?.pid, info.pid, 'nothing restarts until asked');
    await screenshot('settings-restart-offer');
  });

  it('loom.editor.changeDebounceMs applies at once, without a restart', async () => {
    const info = await vscode.commands.executeCommand<RuntimeInfo>('loom.startRuntime');
    const api = await loomApi();
    const before = api.restartOffers.length;
    probe = await (await new Probe(info).subscribe(['editor.changed'])).connected();
    await config().update('editor.changeDebounceMs', 3000, vscode.ConfigurationTarget.Workspace);
    await new Promise((r) => setTimeout(r, 300));
    const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(join(workspaceDir(), 'notes.txt')));
    const editor = await vscode.window.showTextDocument(doc);
    const edited = Date.now();
    await editor.edit((b) => b.insert(new vscode.Position(0, 0), 'slow debounce '));
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(
      probe.received.filter((r) => r.payload.file === 'notes.txt').length,
      0,
      'no editor.changed before the new quiet time (the default is 500 ms)',
    );
    await probe.next('editor.changed', (r) => r.payload.file === 'notes.txt', 10_000);
    assert.ok(Date.now() - edited >= 2900, `editor.changed after ${Date.now() - edited} ms`);
    assert.equal(api.runtime?.pid, info.pid, 'the same runtime');
    await new Promise((r) => setTimeout(r, 700));
    assert.equal(api.restartOffers.length, before, 'no restart offered');
  });
});
