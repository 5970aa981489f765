// @vscode-suite main 20
// Start, stop, restart and attach, against the real runtime (dist/runtime.js) on VS Code's Node.
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { processAlive as isAlive } from '../../../runtime/contract/process';
import { EXTENSION_ID, Probe, eventually, loomApi, workspaceDir, screenshot } from './helpers';

type RuntimeInfo = { address: string; token: string; pid: number; owned: boolean };

const discovery = () => join(workspaceDir(), '.loom', 'runtime.json');

/** The agent `vscode` as the runtime of `info` lists it (its own bridge client). */
async function windowAgent(info: RuntimeInfo) {
  const probe = new Probe(info);
  try {
    return (await probe.listAgents()).find((a) => a.agentId === 'vscode');
  } finally {
    probe.close();
  }
}

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
      const vscodeAgent = await eventually('agent vscode connected', async () =>
        (await probe.listAgents()).find((a) => a.agentId === 'vscode' && a.state === 'connected'),
      );
      for (const tool of [
        'editor:open',
        'editor:selection',
        'editor:insert',
        'editor:replace',
        'ui:notify',
        'ui:ask',
        'ui:status',
        'clipboard:read',
        'clipboard:write',
      ]) {
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
    const external = spawn(process.execPath, [script, '--workspace', workspaceDir()], {
      stdio: 'ignore',
      env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
    });
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
      await eventually('the external runtime to end', () =>
        external.exitCode !== null || external.signalCode !== null ? true : undefined,
      );
    } finally {
      if (external.exitCode === null) external.kill('SIGKILL');
    }
  });

  it('notices a runtime that dies, says so in the status bar, and starts a new one by itself', async () => {
    const first = await vscode.commands.executeCommand<RuntimeInfo>('loom.startRuntime');
    const api = await loomApi();
    const states: string[] = [];
    const texts: string[] = [];
    const listener = api.onDidChangeState((s) => {
      states.push(s);
      texts.push(api.statusText);
    });
    try {
      process.kill(first.pid, 'SIGKILL');
      const second = await eventually(
        'a new runtime',
        () => (api.state === 'running' && api.runtime && api.runtime.pid !== first.pid ? api.runtime : undefined),
        30_000,
      );
      assert.equal(second.owned, true, "the new runtime is this window's");
      assert.ok(states.includes('reconnecting'), `states: ${states.join(' → ')}`);
      assert.ok(
        texts.some((t) => /Loom reconnecting/.test(t)),
        `status texts: ${texts.join(' | ')}`,
      );
      assert.ok(!states.includes('failed'), `states: ${states.join(' → ')}`);
      await screenshot('runtime-replaced-by-itself');
      await eventually('vscode connected to the new runtime', async () =>
        (await windowAgent(second))?.state === 'connected' ? true : undefined,
      );
    } finally {
      listener.dispose();
    }
  });

  it('restarts a runtime it started that keeps crashing 5 times in 3 minutes; at the 6th crash it stops and says so', async function () {
    this.timeout(120_000);
    const api = await loomApi();
    let current = await vscode.commands.executeCommand<RuntimeInfo>('loom.startRuntime');
    const pids = [current.pid];
    for (let crash = 1; crash <= 5; crash++) {
      process.kill(current.pid, 'SIGKILL');
      const previous = current.pid;
      current = await eventually(
        `the runtime restarted after crash ${crash}`,
        () => (api.state === 'running' && api.runtime && api.runtime.pid !== previous ? api.runtime : undefined),
        30_000,
      );
      assert.equal(current.owned, true);
      pids.push(current.pid);
    }
    process.kill(current.pid, 'SIGKILL');
    const notice = await eventually(
      'the window to give up',
      () =>
        api.state === 'failed' ? api.notices.find((n) => /crashed 6 times in the last 3 minutes/.test(n)) : undefined,
      30_000,
    );
    assert.match(notice, /will not be restarted/);
    await screenshot('runtime-crashed-too-often');
    await new Promise((r) => setTimeout(r, 2000));
    assert.equal(api.state, 'failed', 'no restart after giving up');
    assert.equal(api.runtime, undefined);
    for (const pid of pids) assert.equal(isAlive(pid), false, `runtime ${pid} is gone`);
    // Asked for, it starts again with a fresh count.
    const again = await vscode.commands.executeCommand<RuntimeInfo>('loom.startRuntime');
    assert.equal(again.owned, true);
  });

  it('stays connected while the window idles longer than the heartbeat timeout (8 s here)', async function () {
    this.timeout(60_000);
    const info = await vscode.commands.executeCommand<RuntimeInfo>('loom.startRuntime');
    const api = await loomApi();
    const states: string[] = [];
    const listener = api.onDidChangeState((s) => states.push(s));
    try {
      await new Promise((r) => setTimeout(r, 20_000));
      // (running is announced again when the agent count is refreshed)
      assert.deepEqual(
        states.filter((s) => s !== 'running'),
        [],
        'the state never left running',
      );
      assert.equal(api.state, 'running');
      assert.equal(api.runtime?.pid, info.pid);
      await screenshot('idle-still-connected');
      const window = await windowAgent(info);
      assert.equal(window?.state, 'connected');
      assert.ok(
        Date.now() - Number(window!.lastHeartbeatMs) < 8000,
        `last heard ${Date.now() - Number(window!.lastHeartbeatMs)} ms ago`,
      );
    } finally {
      listener.dispose();
    }
  });

  it('Stop Runtime stops the runtime this window started even while its link is down', async function () {
    this.timeout(90_000);
    const info = await vscode.commands.executeCommand<RuntimeInfo>('loom.startRuntime');
    const api = await loomApi();
    // A frozen runtime answers nothing: the window gives up on the link and tries to reconnect.
    process.kill(info.pid, 'SIGSTOP');
    try {
      await eventually(
        'the window to notice the silence',
        () => (api.state === 'reconnecting' ? true : undefined),
        40_000,
      );
      await screenshot('reconnecting');
      await vscode.commands.executeCommand('loom.stopRuntime');
      assert.equal(api.state, 'stopped');
      await eventually('the frozen runtime to be ended', () => (isAlive(info.pid) ? undefined : true), 20_000);
    } finally {
      if (isAlive(info.pid)) process.kill(info.pid, 'SIGKILL');
    }
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
