// Start, stop, restart and attach, against the real runtime (dist/runtime.js) on VS Code's Node.
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { processAlive as isAlive } from '../../../runtime/agents/orphans';
import { EXTENSION_ID, Probe, eventually, loomApi, workspaceDir } from './helpers';

type RuntimeInfo = { address: string; token: string; pid: number; owned: boolean };

const discovery = () => join(workspaceDir(), '.loom', 'runtime.json');

describe('runtime lifecycle', () => {
  afterEach(async () => {
    await vscode.commands.executeCommand('loom.stopRuntime');
  });

  it('Start Runtime runs dist/runtime.js and connects as agent "vscode" with its tools', async () => {
    const info = await vscode.commands.executeCommand<RuntimeInfo>('loom.startRuntime');
    const api = await loomApi();
    assert.equal(api.state, 'running');
    assert.equal(info.owned, true);
    assert.ok(isAlive(info.pid));
    const onDisk = JSON.parse(readFileSync(discovery(), 'utf8')) as { pid: number; address: string };
    assert.equal(onDisk.pid, info.pid);
    assert.match(onDisk.address, /^127\.0\.0\.1:\d+$/);
    const probe = new Probe(info);
    try {
      const vscodeAgent = await eventually('agent vscode connected', async () => (await probe.listAgents()).find((a) => a.agentId === 'vscode' && a.state === 'connected'));
      for (const tool of ['editor:open', 'editor:selection', 'editor:insert', 'editor:replace', 'ui:notify', 'ui:ask', 'ui:status', 'clipboard:read', 'clipboard:write']) {
        assert.ok(vscodeAgent.tools.includes(tool), `the runtime lists ${tool} for agent vscode`);
      }
    } finally {
      probe.close();
    }
    assert.match(api.statusText, /Loom: \d+ agents?/);
  });

  it('Stop Runtime ends the process and the runtime removes its discovery file', async () => {
    const info = await vscode.commands.executeCommand<RuntimeInfo>('loom.startRuntime');
    await vscode.commands.executeCommand('loom.stopRuntime');
    assert.equal((await loomApi()).state, 'stopped');
    await eventually('the runtime process to end', () => (isAlive(info.pid) ? undefined : true));
    assert.equal(existsSync(discovery()), false);
  });

  it('Restart Runtime replaces the process', async () => {
    const first = await vscode.commands.executeCommand<RuntimeInfo>('loom.startRuntime');
    const second = await vscode.commands.executeCommand<RuntimeInfo>('loom.restartRuntime');
    assert.notEqual(second.pid, first.pid);
    assert.equal(isAlive(second.pid), true);
    await eventually('the first runtime to end', () => (isAlive(first.pid) ? undefined : true));
  });

  it('attaches to a runtime already running for the workspace instead of starting another', async () => {
    const script = join(vscode.extensions.getExtension(EXTENSION_ID)!.extensionPath, 'dist', 'runtime.js');
    const external = spawn(process.execPath, [script, '--workspace', workspaceDir()], { stdio: 'ignore', env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' } });
    try {
      await eventually('the external runtime to write its discovery file', () => {
        if (!existsSync(discovery())) return undefined;
        const d = JSON.parse(readFileSync(discovery(), 'utf8')) as { pid: number };
        return d.pid === external.pid ? d : undefined;
      });
      const info = await vscode.commands.executeCommand<RuntimeInfo>('loom.startRuntime');
      assert.equal(info.owned, false);
      assert.equal(info.pid, external.pid);
      // Stop Runtime is an explicit request: it stops the attached runtime too.
      await vscode.commands.executeCommand('loom.stopRuntime');
      await eventually('the external runtime to end', () => (external.exitCode !== null || external.signalCode !== null ? true : undefined));
    } finally {
      if (external.exitCode === null) external.kill('SIGKILL');
    }
  });

  it('notices a runtime that dies, says so in the status bar, and starts a new one on request', async () => {
    const first = await vscode.commands.executeCommand<RuntimeInfo>('loom.startRuntime');
    process.kill(first.pid, 'SIGKILL');
    const api = await loomApi();
    await eventually('the extension to notice', () => (api.state === 'failed' ? true : undefined));
    assert.match(api.statusText, /Loom failed/);
    assert.equal(api.runtime, undefined);
    const second = await vscode.commands.executeCommand<RuntimeInfo>('loom.startRuntime');
    assert.notEqual(second.pid, first.pid);
    assert.equal((await loomApi()).state, 'running');
  });

  it('ignores a stale discovery file whose process is gone, and starts its own runtime', async () => {
    const first = await vscode.commands.executeCommand<RuntimeInfo>('loom.startRuntime');
    const stale = readFileSync(discovery(), 'utf8');
    await vscode.commands.executeCommand('loom.stopRuntime');
    await eventually('the runtime to end', () => (isAlive(first.pid) ? undefined : true));
    // A runtime killed hard leaves its file behind: put one back, naming the dead process.
    const { writeFileSync } = await import('node:fs');
    writeFileSync(discovery(), stale, { mode: 0o600 });
    const info = await vscode.commands.executeCommand<RuntimeInfo>('loom.startRuntime');
    assert.equal(info.owned, true);
    assert.notEqual(info.pid, first.pid);
  });
});
