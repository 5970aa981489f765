// Editor events reach a subscriber: a probe agent subscribed through the real runtime.
import * as assert from 'node:assert/strict';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { Probe, eventually, workspaceDir } from './helpers';

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

  it('the hotkey command publishes hotkey.<name> with the editor context', async () => {
    editor.selection = new vscode.Selection(1, 0, 1, 6);
    await vscode.commands.executeCommand('loom.hotkey', { name: 'default' });
    const hot = await probe.next('hotkey.default');
    assert.equal(hot.payload.file, 'notes.txt');
    assert.equal(hot.payload.language, 'plaintext');
    assert.equal(hot.payload.selection.text, 'second');
  });

  it('refuses a hotkey name that is not a topic segment, naming the problem', async () => {
    await assert.rejects(Promise.resolve(vscode.commands.executeCommand('loom.hotkey', { name: 'a.b' })), /hotkey name "a\.b"/);
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
      collection.set(editor.document.uri, [new vscode.Diagnostic(new vscode.Range(0, 0, 0, 1), 'a planted error', vscode.DiagnosticSeverity.Error)]);
      const diag = await probe.next('diagnostics.changed', (r) => r.payload.files.some((f: { file: string; errors: number }) => f.file === 'notes.txt' && f.errors === 1));
      const file = diag.payload.files.find((f: { file: string }) => f.file === 'notes.txt');
      assert.equal(file.messages[0].message, 'a planted error');
    } finally {
      collection.dispose();
    }
  });
});
