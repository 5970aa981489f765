// @vscode-suite main 50
// Python agents from the palette: started through the runtime's supervisor (declared in loom.toml)
// or from this window (a script under agents/, which the runtime supervises as an ad-hoc agent),
// reacting to the editor through the extension.
import * as assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { TEST_CHANNEL_COMMAND } from '../../../extension/loom';
import { Probe, eventually, loomApi, workspaceDir, screenshot } from './helpers';

type RuntimeInfo = { address: string; token: string; pid: number };

async function agentState(probe: Probe, id: string): Promise<string | undefined> {
  return (await probe.listAgents()).find((a) => a.agentId === id)?.state;
}

describe('agents from the command palette', () => {
  let probe: Probe;

  before(async () => {
    const info = await vscode.commands.executeCommand<RuntimeInfo>('loom.startRuntime');
    probe = new Probe(info);
  });

  after(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    probe?.close();
    await vscode.commands.executeCommand('loom.stopRuntime');
  });

  it('Start Agent starts a declared Python agent that reacts to a saved file and to the hotkey', async () => {
    await vscode.commands.executeCommand('loom.startAgent', 'watcher');
    await eventually(
      'agent watcher to connect',
      async () => ((await agentState(probe, 'watcher')) === 'connected' ? true : undefined),
      60_000,
    );
    const api = await loomApi();

    const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(join(workspaceDir(), 'notes.txt')));
    const editor = await vscode.window.showTextDocument(doc);
    await editor.edit((b) => b.insert(new vscode.Position(2, 0), 'saved by the test\n'));
    await doc.save();
    await eventually('the agent to set the status bar after the save', () =>
      api.agentStatusText === 'watcher: watcher saw notes.txt saved' ? true : undefined,
    );

    const sent = await vscode.commands.executeCommand<{ listeners: string[]; message: string }>('loom.hotkey', {
      name: 'default',
    });
    await eventually('the agent to answer the hotkey', () =>
      api.agentStatusText === 'watcher: watcher got hotkey.default in notes.txt' ? true : undefined,
    );
    assert.ok(sent.listeners.includes('watcher'), `listeners: ${sent.listeners.join(', ')}`);
    assert.match(sent.message, /^Loom: sent hotkey\.default to .*watcher/);
  });

  it('Stop Agent stops it through the supervisor', async () => {
    await vscode.commands.executeCommand('loom.stopAgent', 'watcher');
    await eventually('agent watcher to stop', async () =>
      (await agentState(probe, 'watcher')) === 'stopped' ? true : undefined,
    );
  });

  it('a hotkey nobody listens to says so in the status bar (the watcher, which hears every hotkey, is stopped)', async () => {
    const sent = await vscode.commands.executeCommand<{ listeners: string[]; message: string }>('loom.hotkey', {
      name: 'review',
    });
    assert.deepEqual(sent.listeners, []);
    assert.equal(sent.message, 'Loom: no agent listens to hotkey.review — see Loom: New Agent');
    await screenshot('hotkey-nobody-listens');
  });

  it('runs a script under agents/ that loom.toml does not declare, through the runtime supervisor, and stops it', async () => {
    await vscode.commands.executeCommand('loom.startAgent', 'solo');
    await eventually(
      'agent solo to connect',
      async () => ((await agentState(probe, 'solo')) === 'connected' ? true : undefined),
      60_000,
    );
    // The window runs no process of its own: the runtime supervises the script as an ad-hoc agent.
    const solo = (await probe.listAgents()).find((a) => a.agentId === 'solo')!;
    assert.equal(solo.supervised, true);
    assert.equal(solo.adHoc, true);
    const channel = async () =>
      (await vscode.commands.executeCommand<{ text: string }[] | undefined>(
        TEST_CHANNEL_COMMAND,
        'Loom Agent: solo',
      )) ?? [];
    await eventually("solo's channel to hold what the supervisor said of it", async () =>
      (await channel()).some((l) => l.text === '— started') ? true : undefined,
    );
    await vscode.commands.executeCommand('loom.hotkey', { name: 'solo' });
    const api = await loomApi();
    await eventually('agent solo to answer', () =>
      api.agentStatusText === 'solo: solo got hotkey.solo' ? true : undefined,
    );
    await vscode.commands.executeCommand('loom.stopAgent', 'solo');
    await eventually('agent solo to disconnect', async () =>
      (await agentState(probe, 'solo')) !== 'connected' ? true : undefined,
    );
  });

  it('New Agent scaffolds a working agent and its loom.toml entry; Start Agent runs it with no runtime restart', async () => {
    const runtimeBefore = (await loomApi()).runtime!.pid;
    const made = await vscode.commands.executeCommand<{ id: string; script: string }>('loom.newAgent', {
      name: 'fresh',
      open: false,
    });
    assert.equal(made.script, join('agents', 'fresh.py'));
    assert.ok(existsSync(join(workspaceDir(), 'agents', 'fresh.py')));
    assert.match(
      readFileSync(join(workspaceDir(), 'loom.toml'), 'utf8'),
      /\[agents\.fresh\]\ncommand = "python"\nargs = \["agents\/fresh\.py"\]/,
    );
    await assert.rejects(
      Promise.resolve(vscode.commands.executeCommand('loom.newAgent', { name: 'fresh', open: false })),
      /already exists/,
    );
    await assert.rejects(
      Promise.resolve(vscode.commands.executeCommand('loom.newAgent', { name: 'Bad Name', open: false })),
      /must match/,
    );
    // The runtime follows loom.toml: the new table is known without a restart.
    await vscode.commands.executeCommand('loom.startAgent', 'fresh');
    await eventually(
      'agent fresh to connect',
      async () => ((await agentState(probe, 'fresh')) === 'connected' ? true : undefined),
      60_000,
    );
    await vscode.commands.executeCommand('loom.hotkey', { name: 'default' });
    const api = await loomApi();
    await eventually('the scaffolded agent to answer the hotkey', () =>
      api.agentStatusText === 'fresh: got hotkey.default' ? true : undefined,
    );
    assert.equal(api.runtime?.pid, runtimeBefore, 'the same runtime throughout');
    await screenshot('new-agent-started-without-restart');
  });

  it('an agent that fails says so once, with why, in a notification, its own log and the status bar', async () => {
    await vscode.commands.executeCommand('notifications.clearAll'); // the screenshot shows this test's own
    const file = join(workspaceDir(), 'loom.toml');
    const before = readFileSync(file, 'utf8');
    const api = await loomApi();
    const shown = api.notices.length;
    try {
      writeFileSync(
        file,
        `${before}\n[agents.broken]\ncommand = "python"\nargs = ["-c", "import sys; sys.exit(3)"]\nrestart = "never"\n`,
      );
      const notice = await eventually(
        'the failure notification',
        () => api.notices.slice(shown).find((n) => n.includes('broken')),
        60_000,
      );
      assert.equal(notice, 'Loom: agent broken stopped: exited with code 3');
      await eventually('the failed agent in the status bar', () =>
        /Loom: \d+ agents? · 1 failed/.test(api.statusText) ? true : undefined,
      );
      const log =
        (await vscode.commands.executeCommand<{ text: string }[] | undefined>(
          TEST_CHANNEL_COMMAND,
          'Loom Agent: broken',
        )) ?? [];
      assert.ok(
        log.some((l) => l.text.endsWith('— stopped: exited with code 3')),
        log.map((l) => l.text).join('\n'),
      );
      assert.equal(api.notices.slice(shown).filter((n) => n.includes('broken')).length, 1, 'one notification');
      await screenshot('agent-failed');
    } finally {
      writeFileSync(file, before);
    }
  });
});
