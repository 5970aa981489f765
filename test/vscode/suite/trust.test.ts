// Workspace Trust: in an untrusted workspace no agent is spawned and no shell command runs, and the
// UI says why. Runs in the "untrusted" suite only.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { EXTENSION_ID, Probe, loomApi } from './helpers';

type RuntimeInfo = { address: string; token: string; pid: number };

function runtimeSupportsUntrusted(): boolean {
  const script = join(vscode.extensions.getExtension(EXTENSION_ID)!.extensionPath, 'dist', 'runtime.js');
  const help = spawnSync(process.execPath, [script, '--help'], { encoding: 'utf8', env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' } });
  return help.stdout.includes('--untrusted');
}

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

  it('the runtime runs restricted: the supervisor spawns no agent and system:shell is denied', async function () {
    if (!runtimeSupportsUntrusted()) {
      // The extension passes --untrusted; a runtime without the flag refuses to start (safe).
      await assert.rejects(Promise.resolve(vscode.commands.executeCommand('loom.startRuntime')), /--untrusted/);
      this.skip();
    }
    const info = await vscode.commands.executeCommand<RuntimeInfo>('loom.startRuntime');
    const probe = new Probe(info);
    try {
      const shell = await probe.callTool('system:shell', { command: 'echo', args: ['hi'] });
      assert.equal(shell.error?.code, 'denied');
      assert.match(shell.error!.message, /untrusted/);
      const watcher = (await probe.listAgents()).find((a) => a.agentId === 'watcher');
      assert.notEqual(watcher?.state, 'connected');
    } finally {
      probe.close();
    }
  });
});
