// @vscode-suite main 140
// The agents' interpreter without the Loom SDK: said once, with the way out; the install action
// puts the wheel the extension carries into that interpreter (dependencies from the index).
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { eventually, loomApi, screenshot } from './helpers';

describe("the agents' Python and the Loom SDK", () => {
  let dir: string;
  let python: string;

  before(async function () {
    this.timeout(120_000);
    await vscode.commands.executeCommand('loom.stopRuntime');
    // A fresh virtual environment from the suite's own interpreter: Python, pip, and no loom.
    const base = vscode.workspace.getConfiguration('loom').get<string>('pythonPath') || 'python3';
    dir = mkdtempSync(join(tmpdir(), 'loom-nosdk-'));
    const made = spawnSync(base, ['-m', 'venv', join(dir, 'venv')], { encoding: 'utf8' });
    assert.equal(made.status, 0, made.stderr);
    python = join(dir, 'venv', 'bin', 'python');
    await vscode.workspace.getConfiguration('loom').update('pythonPath', python, vscode.ConfigurationTarget.Workspace);
  });

  after(async () => {
    await vscode.commands.executeCommand('loom.stopRuntime');
    await vscode.workspace
      .getConfiguration('loom')
      .update('pythonPath', undefined, vscode.ConfigurationTarget.Workspace);
    rmSync(dir, { recursive: true, force: true });
  });

  it('says once that agents cannot start, and Install Loom SDK makes the interpreter import it', async function () {
    this.timeout(600_000);
    const api = await loomApi();
    const before = api.notices.length;
    await vscode.commands.executeCommand('notifications.clearAll'); // the screenshot shows this test's own
    const expected = `Loom: agents cannot start: ${python} has no Loom SDK (the "loom" package).`;
    await vscode.commands.executeCommand('loom.startRuntime');
    await eventually(
      'the notification',
      () => (api.notices.slice(before).includes(expected) ? true : undefined),
      60_000,
    );
    await screenshot('sdk-missing');
    await vscode.commands.executeCommand('loom.restartRuntime');
    await new Promise((r) => setTimeout(r, 3000));
    assert.equal(
      api.notices.slice(before).filter((n) => n === expected).length,
      1,
      `once per interpreter: ${api.notices.slice(before).join(' | ')}`,
    );

    const installed = await vscode.commands.executeCommand<{ python: string; version: string }>('loom.installSdk', {
      python,
    });
    assert.equal(installed.python, python);
    assert.match(installed.version, /^\d+\.\d+\.\d+/);
    const imported = spawnSync(python, ['-c', 'import loom; print(loom.__version__)'], { encoding: 'utf8' });
    assert.equal(imported.status, 0, imported.stderr);
    assert.equal(imported.stdout.trim(), installed.version);
    await screenshot('sdk-installed');
  });
});
