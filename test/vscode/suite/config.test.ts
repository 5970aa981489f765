// @vscode-suite main 130
// loom.toml's problems in the Problems panel: a typo stops the start with its line and the
// runtime's did-you-mean; the quick fix and a save bring the runtime up.
import * as assert from 'node:assert/strict';
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { TEST_AGENTS_TREE_COMMAND, TEST_CONTEXT_COMMAND } from '../../../extension/loom';
import { Probe, eventually, loomApi, workspaceDir, screenshot } from './helpers';

describe('loom.toml problems', () => {
  let original: string;
  const file = () => join(workspaceDir(), 'loom.toml');

  before(async () => {
    await vscode.commands.executeCommand('loom.stopRuntime');
    original = readFileSync(file(), 'utf8');
  });

  after(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    writeFileSync(file(), original);
    await vscode.commands.executeCommand('loom.stopRuntime');
  });

  it('shows a typo at its line with the did-you-mean, and the quick fix plus a save starts the runtime', async () => {
    await vscode.commands.executeCommand('notifications.clearAll'); // the screenshot shows this test's own
    const broken = original.replace('log_level = "debug"', 'log_levle = "debug"');
    assert.notEqual(broken, original, 'the fixture sets runtime.log_level');
    writeFileSync(file(), broken);
    const typoLine = broken.split('\n').findIndex((l) => l.startsWith('log_levle'));

    const api = await loomApi();
    const shown = api.notices.length;
    await assert.rejects(
      Promise.resolve(vscode.commands.executeCommand('loom.startRuntime')),
      /loom\.toml has problems \(see Problems\)/,
    );
    const notices = api.notices.slice(shown);
    assert.equal(notices.length, 1, `one notification, not one per layer: ${notices.join(' | ')}`);
    assert.match(notices[0]!, /^Loom: cannot start the runtime: loom\.toml has problems/);
    assert.equal(api.state, 'failed');
    const uri = vscode.Uri.file(file());
    const diagnostics = await eventually('the problem in the Problems panel', () => {
      const found = vscode.languages.getDiagnostics(uri).filter((d) => d.source === 'loom');
      return found.length ? found : undefined;
    });
    assert.equal(diagnostics.length, 1);
    assert.equal(diagnostics[0]!.range.start.line, typoLine);
    assert.match(diagnostics[0]!.message, /runtime\.log_levle: unknown key \(did you mean "log_level"\?\)/);
    await vscode.commands.executeCommand('workbench.actions.view.problems');
    await screenshot('loom-toml-problems');

    const doc = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(doc);
    const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>(
      'vscode.executeCodeActionProvider',
      uri,
      diagnostics[0]!.range,
    );
    const fix = actions.find((a) => a.title === 'Change to log_level');
    assert.ok(fix?.edit, `quick fixes: ${actions.map((a) => a.title).join(', ')}`);
    assert.ok(await vscode.workspace.applyEdit(fix.edit));
    assert.equal(doc.lineAt(typoLine).text, 'log_level = "debug"');
    await doc.save();

    await eventually('the runtime to start after the save', () => (api.state === 'running' ? true : undefined), 60_000);
    await eventually('the problem to be gone', () =>
      vscode.languages.getDiagnostics(uri).some((d) => d.source === 'loom') ? undefined : true,
    );
    await screenshot('loom-toml-fixed-running');
  });

  it('in a folder without loom.toml: no status item; Initialize Workspace makes loom.toml and a sample agent that runs', async () => {
    await vscode.commands.executeCommand('loom.stopRuntime');
    const api = await loomApi();
    const aside = `${file()}.aside`;
    renameSync(file(), aside);
    const script = join(workspaceDir(), 'agents', 'hello.py');
    try {
      await eventually('the status item to go with loom.toml', () => (api.statusVisible ? undefined : true));
      const made = await vscode.commands.executeCommand<{ created: string[]; agent: string }>('loom.initWorkspace');
      assert.deepEqual(made.created, ['loom.toml', join('agents', 'hello.py')]);
      assert.equal(made.agent, 'hello');
      assert.match(
        readFileSync(file(), 'utf8'),
        /\[agents\.hello\]\ncommand = "python"\nargs = \["agents\/hello\.py"\]\nrestart = "on-failure"\nautostart = true/,
      );
      assert.equal(api.state, 'running');
      assert.ok(api.statusVisible, 'the status item is back with loom.toml');
      const probe = new Probe(api.runtime!);
      try {
        await eventually(
          'the sample agent to connect',
          async () =>
            (await probe.listAgents()).some((a) => a.agentId === 'hello' && a.state === 'connected') ? true : undefined,
          60_000,
        );
      } finally {
        probe.close();
      }
      await screenshot('initialized-workspace');
      const again = await vscode.commands.executeCommand<{ created: string[] }>('loom.initWorkspace');
      assert.deepEqual(again.created, [], 'a second run leaves the workspace as it is');
    } finally {
      await vscode.commands.executeCommand('loom.stopRuntime');
      if (existsSync(script)) rmSync(script);
      renameSync(aside, file());
    }
  });
});

describe('loom.toml, watched', () => {
  let original: string;
  const file = () => join(workspaceDir(), 'loom.toml');
  const context = () => vscode.commands.executeCommand<{ hasConfig: boolean }>(TEST_CONTEXT_COMMAND);
  const rows = () => vscode.commands.executeCommand<{ label: string }[]>(TEST_AGENTS_TREE_COMMAND);

  before(async () => {
    await vscode.commands.executeCommand('loom.stopRuntime');
    original = readFileSync(file(), 'utf8');
  });

  after(async () => {
    if (!existsSync(file()) && existsSync(`${file()}.aside`)) renameSync(`${file()}.aside`, file());
    writeFileSync(file(), original);
    await vscode.commands.executeCommand('loom.stopRuntime');
  });

  it('without loom.toml: no status item and no views (loom.hasConfig is off); both come with a new loom.toml', async () => {
    const api = await loomApi();
    const seen = async () =>
      `state ${api.state}, status item ${api.statusVisible ? 'shown' : 'hidden'}, loom.hasConfig ${(await context()).hasConfig}`;
    renameSync(file(), `${file()}.aside`);
    try {
      await eventually(
        'the status item and views to go',
        async () => (!api.statusVisible && !(await context()).hasConfig ? true : undefined),
        10_000,
      ).catch(async (err: Error) => {
        throw new Error(`${err.message}: ${await seen()}`);
      });
      await screenshot('no-loom-toml');
    } finally {
      writeFileSync(file(), original); // created anew
      rmSync(`${file()}.aside`);
    }
    await eventually(
      'the status item and views to come back',
      async () => (api.statusVisible && (await context()).hasConfig ? true : undefined),
      10_000,
    ).catch(async (err: Error) => {
      throw new Error(`${err.message}: ${await seen()}`);
    });
    assert.equal(api.state, 'stopped');
  });

  it('an edit refreshes the Agents view; a section the runtime applies only after a restart gets an offer', async () => {
    const api = await loomApi();
    const info = await vscode.commands.executeCommand<{ pid: number }>('loom.startRuntime');
    const before = api.restartOffers.length;
    writeFileSync(
      file(),
      `${original}\n[agents.later]\ncommand = "python"\nargs = ["agents/later.py"]\nautostart = false\n`,
    );
    await eventually('the new agent in the Agents view', async () =>
      (await rows()).some((r) => r.label === 'later') ? true : undefined,
    );
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(api.restartOffers.length, before, 'the runtime follows [agents] itself: no restart offered');
    writeFileSync(
      file(),
      readFileSync(file(), 'utf8').replace('enabled = false', 'enabled = false\ninclude = ["**/*.md"]'),
    );
    const offer = await eventually('the restart offer', () => api.restartOffers[before]);
    assert.equal(offer, 'Restart the Loom runtime to apply loom.toml [watcher]?');
    writeFileSync(file(), original);
    await eventually('the agent to leave the view', async () =>
      (await rows()).some((r) => r.label === 'later') ? undefined : true,
    );
    assert.equal(api.runtime?.pid, info.pid, 'nothing restarts until asked');
  });
});
