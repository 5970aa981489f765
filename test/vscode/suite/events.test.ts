// @vscode-suite main 30
// Editor events reach a subscriber: a probe agent subscribed through the real runtime.
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { TEST_CHANNEL_COMMAND } from '../../../extension/loom';
import { EXTENSION_ID, Probe, eventually, workspaceDir } from './helpers';

type RuntimeInfo = { address: string; token: string; pid: number };

describe('editor events on the bus', () => {
  let probe: Probe;
  let editor: vscode.TextEditor;

  before(async () => {
    const info = await vscode.commands.executeCommand<RuntimeInfo>('loom.startRuntime');
    probe = await new Probe(info).subscribe(['editor.>', 'hotkey.>', 'diagnostics.changed']);
    // The subscription is live once one of our own hotkeys comes back.
    let n = 0;
    await eventually('the probe to receive a first event', async () => {
      await vscode.commands.executeCommand('loom.emitHotkey', { name: `ready${++n}` });
      await new Promise((r) => setTimeout(r, 200));
      return probe.received.find((r) => r.topic.startsWith('hotkey.ready')) ? true : undefined;
    });
    const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(join(workspaceDir(), 'notes.txt')));
    editor = await vscode.window.showTextDocument(doc);
  });

  after(async () => {
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
    probe?.close();
    await vscode.commands.executeCommand('loom.stopRuntime');
  });

  it('publishes editor.opened and editor.active for a workspace file, sent by agent vscode', async () => {
    const opened = await probe.next('editor.opened', (r) => r.payload.file === 'notes.txt');
    assert.equal(opened.payload.language, 'plaintext');
    assert.equal(opened.sender, 'vscode');
    await probe.next('editor.active', (r) => r.payload.file === 'notes.txt');
  });

  it('publishes one debounced editor.changed summary for a burst of edits, without the text', async () => {
    await editor.edit((b) => b.insert(new vscode.Position(0, 0), 'a'));
    await editor.edit((b) => b.insert(new vscode.Position(0, 0), 'b'));
    await editor.edit((b) => b.insert(new vscode.Position(0, 0), 'c'));
    const changed = await probe.next('editor.changed', (r) => r.payload.file === 'notes.txt');
    assert.equal(changed.payload.edits, 3);
    assert.equal(changed.payload.text, undefined);
    assert.equal(changed.payload.length, editor.document.getText().length);
  });

  it('publishes editor.saved when the file is saved', async () => {
    assert.equal(await editor.document.save(), true);
    const saved = await probe.next('editor.saved', (r) => r.payload.file === 'notes.txt');
    assert.equal(saved.payload.isDirty, false);
  });

  it('publishes editor.selection with the selected text', async () => {
    editor.selection = new vscode.Selection(1, 0, 1, 6);
    const sel = await probe.next('editor.selection', (r) => r.payload.text === 'second');
    assert.deepEqual(sel.payload.start, { line: 1, character: 0 });
  });

  it('publishes one editor.selection, the last, for a burst of selections', async () => {
    const from = probe.received.length;
    editor.selection = new vscode.Selection(0, 0, 0, 5);
    editor.selection = new vscode.Selection(0, 0, 0, 10);
    editor.selection = new vscode.Selection(1, 0, 1, 11);
    await probe.next('editor.selection', (r) => r.payload.text === 'second line');
    const published = probe.received.slice(from).filter((r) => r.topic === 'editor.selection');
    assert.deepEqual(
      published.map((r) => r.payload.text),
      ['second line'],
    );
  });

  it('publishes editor.closed when a document is closed', async () => {
    const scratch = await vscode.workspace.openTextDocument({ content: 'scratch', language: 'plaintext' });
    await vscode.window.showTextDocument(scratch);
    const uri = scratch.uri.toString();
    await probe.next('editor.opened', (r) => r.payload.uri === uri);
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
    const closed = await probe.next('editor.closed', (r) => r.payload.uri === uri);
    assert.equal(closed.payload.language, 'plaintext');
    editor = await vscode.window.showTextDocument(editor.document);
  });

  it('publishes nothing of a file outside the workspace the person opens: not its path, not its selection', async () => {
    const outside = join(mkdtempSync(join(tmpdir(), 'loom-outside-')), 'secret.txt');
    writeFileSync(outside, 'top secret outside the workspace\n');
    const from = probe.received.length;
    const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(outside));
    const shown = await vscode.window.showTextDocument(doc);
    shown.selection = new vscode.Selection(0, 0, 0, 10);
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
    // An untitled document after it: once its editor.opened is here, anything of the file would be too.
    const scratch = await vscode.workspace.openTextDocument({ content: 'marker', language: 'plaintext' });
    await vscode.window.showTextDocument(scratch);
    await probe.next('editor.opened', (r) => r.payload.uri === scratch.uri.toString());
    await new Promise((r) => setTimeout(r, 500)); // past the selection debounce
    const leaked = probe.received.slice(from).filter((r) => JSON.stringify(r.payload).includes('secret'));
    assert.deepEqual(
      leaked.map((r) => r.topic),
      [],
    );
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
    editor = await vscode.window.showTextDocument(editor.document);
  });

  it('the hotkey command publishes hotkey.<name> with the editor context', async () => {
    editor.selection = new vscode.Selection(1, 0, 1, 6);
    await vscode.commands.executeCommand('loom.hotkey', { name: 'default' });
    const hot = await probe.next('hotkey.default');
    assert.equal(hot.payload.file, 'notes.txt');
    assert.equal(hot.payload.language, 'plaintext');
    assert.equal(hot.payload.selection.text, 'second');
  });

  it('a hotkey pressed over a file outside the workspace carries neither its path nor its selection', async () => {
    const outside = join(mkdtempSync(join(tmpdir(), 'loom-outside-')), 'credentials');
    writeFileSync(outside, 'aws_secret_access_key = SECRET123\n');
    const shown = await vscode.window.showTextDocument(
      await vscode.workspace.openTextDocument(vscode.Uri.file(outside)),
    );
    shown.selection = new vscode.Selection(0, 0, 0, 30);
    try {
      await vscode.commands.executeCommand('loom.hotkey', { name: 'outside' });
      const hot = await probe.next('hotkey.outside');
      assert.deepEqual(hot.payload, { name: 'outside', file: null, language: null, selection: null });
    } finally {
      await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
      editor = await vscode.window.showTextDocument(editor.document);
    }
  });

  it('refuses a hotkey name that is not a topic segment, naming the problem', async () => {
    await assert.rejects(
      Promise.resolve(vscode.commands.executeCommand('loom.hotkey', { name: 'a.b' })),
      /hotkey name "a\.b"/,
    );
  });

  it('Send Selection to Agents publishes editor.selection.sent', async () => {
    editor.selection = new vscode.Selection(0, 0, 0, 3);
    await vscode.commands.executeCommand('loom.sendSelection');
    const sent = await probe.next('editor.selection.sent');
    assert.equal(sent.payload.text, editor.document.getText(editor.selection));
  });

  it('publishes diagnostics.changed with counts when another extension reports problems', async () => {
    const collection = vscode.languages.createDiagnosticCollection('loom-test');
    try {
      collection.set(editor.document.uri, [
        new vscode.Diagnostic(new vscode.Range(0, 0, 0, 1), 'a planted error', vscode.DiagnosticSeverity.Error),
      ]);
      const diag = await probe.next('diagnostics.changed', (r) =>
        r.payload.files.some((f: { file: string; errors: number }) => f.file === 'notes.txt' && f.errors === 1),
      );
      const file = diag.payload.files.find((f: { file: string }) => f.file === 'notes.txt');
      assert.equal(file.messages[0].message, 'a planted error');
    } finally {
      collection.dispose();
    }
  });
});

describe('editor events with loom.editor.sendFullText', () => {
  let probe: Probe | undefined;
  const config = () => vscode.workspace.getConfiguration('loom');

  after(async () => {
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
    probe?.close();
    await config().update('editor.sendFullText', undefined, vscode.ConfigurationTarget.Workspace);
    await vscode.commands.executeCommand('loom.stopRuntime');
  });

  it('editor.changed carries the full text', async () => {
    await config().update('editor.sendFullText', true, vscode.ConfigurationTarget.Workspace);
    const info = await vscode.commands.executeCommand<RuntimeInfo>('loom.restartRuntime');
    probe = await (await new Probe(info).subscribe(['editor.changed'])).connected();
    const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(join(workspaceDir(), 'notes.txt')));
    const editor = await vscode.window.showTextDocument(doc);
    await editor.edit((b) => b.insert(new vscode.Position(0, 0), 'full text: '));
    const changed = await probe.next('editor.changed', (r) => r.payload.file === 'notes.txt');
    assert.equal(changed.payload.text, doc.getText());
    assert.ok(changed.payload.text.startsWith('full text: '));
    assert.equal(changed.payload.text.length, changed.payload.length);
  });
});

describe('a runtime another process started', () => {
  it('gets workspace.trust when the window attaches, and the runtime channel says where its output goes', async () => {
    const script = join(vscode.extensions.getExtension(EXTENSION_ID)!.extensionPath, 'dist', 'runtime.js');
    // Piped to this test, like a runtime another window started: its output is not readable here.
    const external = spawn(process.execPath, [script, '--workspace', workspaceDir()], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
    });
    external.stdout!.resume();
    external.stderr!.resume();
    const probe = await (async () => {
      const discovery = join(workspaceDir(), '.loom', 'runtime.json');
      const info = await eventually('the external runtime to write its discovery file', () => {
        if (!existsSync(discovery)) return undefined;
        const d = JSON.parse(readFileSync(discovery, 'utf8')) as { pid: number; address: string; token: string };
        return d.pid === external.pid ? d : undefined;
      });
      return (await new Probe(info).subscribe(['workspace.trust'])).connected();
    })();
    try {
      const info = await vscode.commands.executeCommand<RuntimeInfo & { owned: boolean }>('loom.startRuntime');
      assert.equal(info.owned, false);
      const trust = await probe.next('workspace.trust');
      assert.deepEqual(trust.payload, { trusted: true });
      assert.equal(trust.sender, 'vscode');
      const lines =
        (await vscode.commands.executeCommand<{ level: string; text: string }[]>(
          TEST_CHANNEL_COMMAND,
          'Loom Runtime',
        )) ?? [];
      assert.ok(
        lines.some(
          (l) =>
            l.level === 'warn' && l.text.includes(`attached to runtime pid ${external.pid}, started by another window`),
        ),
        `the channel says the output is not readable here: ${JSON.stringify(lines.slice(-3))}`,
      );
    } finally {
      probe.close();
      await vscode.commands.executeCommand('loom.stopRuntime');
      if (external.exitCode === null) external.kill('SIGKILL');
    }
  });
});
