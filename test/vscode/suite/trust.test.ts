// @vscode-suite untrusted 10
// Workspace Trust: in an untrusted workspace no agent is spawned and no shell command runs, and the
// UI says why. Runs in the "untrusted" suite only.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { Probe, loomApi } from './helpers';

type RuntimeInfo = { address: string; token: string; pid: number };

describe('an untrusted workspace', () => {
  after(async () => {
    await vscode.commands.executeCommand('loom.stopRuntime');
  });

  it('activates in restricted mode', async () => {
    const api = await loomApi();
    assert.equal(vscode.workspace.isTrusted, false);
    assert.equal(api.trusted, false);
    assert.match(api.statusText, /\(restricted\)/);
  });

  for (const command of ['loom.startAgent', 'loom.restartAgent']) {
    it(`${command} refuses, saying the workspace is not trusted, and starts nothing`, async () => {
      for (const agent of ['watcher', 'solo']) {
        await assert.rejects(Promise.resolve(vscode.commands.executeCommand(command, agent)), /not trusted.*no agents/);
      }
      assert.equal((await loomApi()).state, 'stopped', 'not even the runtime was started for it');
    });
  }

  it('the runtime runs restricted: its supervisor refuses to start an agent and system:shell is denied', async () => {
    const info = await vscode.commands.executeCommand<RuntimeInfo>('loom.startRuntime');
    const probe = new Probe(info);
    try {
      const shell = await probe.callTool('system:shell', { command: 'echo', args: ['hi'] });
      assert.equal(shell.error?.code, 'denied');
      assert.match(shell.error!.message, /untrusted/);
      // The status bar says the workspace runs no shell, not how a shell would be confined.
      assert.doesNotMatch((await loomApi()).statusTooltip, /isolation|bubblewrap/);
      // Asked directly (not through the extension's commands, which refuse first), the runtime's
      // supervisor refuses too, and says why.
      const started = await probe.controlAgent('watcher', 'start');
      assert.equal(started.success, false);
      assert.match(started.errorMessage, /not trusted.*does not spawn agents/);
      const watcher = (await probe.listAgents()).find((a) => a.agentId === 'watcher')!;
      assert.equal(watcher.pid, 0, 'no process was spawned');
      assert.notEqual(watcher.state, 'connected');
      assert.match(watcher.lastError, /not trusted/);
    } finally {
      probe.close();
    }
  });
});
