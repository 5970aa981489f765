// @vscode-suite main 40
// The extension's tools answer when an agent calls them through the runtime.
import * as assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { Probe, eventually, loomApi, outputOf, workspaceDir } from './helpers';

type RuntimeInfo = { address: string; token: string; pid: number };

describe('tools the extension provides', () => {
  let probe: Probe;

  before(async () => {
    // A file of its own, so that what other suites saved does not matter here.
    writeFileSync(join(workspaceDir(), 'tools.txt'), 'first line of the notes\nsecond line\n');
    const info = await vscode.commands.executeCommand<RuntimeInfo>('loom.startRuntime');
    probe = await new Probe(info).subscribe([]);
    await eventually('agent vscode to be connected', async () =>
      (await probe.listAgents()).some((a) => a.agentId === 'vscode' && a.state === 'connected') ? true : undefined,
    );
  });

  /** Asks through ui:ask and accepts the highlighted (first) option once the quick pick is up: the call's output. */
  async function askAndAccept(prompt: string, options: string[]): Promise<unknown> {
    const pending = probe.callTool('ui:ask', { prompt, options });
    let settled = false;
    void pending.finally(() => (settled = true));
    await eventually(`the quick pick "${prompt}" to take the answer`, async () => {
      await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
      await new Promise((r) => setTimeout(r, 200));
      return settled ? true : undefined;
    });
    return outputOf(await pending);
  }

  after(async () => {
    await vscode.commands.executeCommand('workbench.action.files.revert');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    probe?.close();
    await vscode.commands.executeCommand('loom.stopRuntime');
  });

  it('editor:open opens a workspace file at a line', async () => {
    const out = outputOf(await probe.callTool('editor:open', { path: 'tools.txt', line: 1, character: 2 }));
    assert.deepEqual(out, { file: 'tools.txt', language: 'plaintext', lines: 3 });
    const active = vscode.window.activeTextEditor!;
    assert.equal(active.document.uri.fsPath, join(workspaceDir(), 'tools.txt'));
    assert.deepEqual([active.selection.active.line, active.selection.active.character], [1, 2]);
  });

  it('editor:selection returns the selected text and its range', async () => {
    const editor = vscode.window.activeTextEditor!;
    const wanted = new vscode.Selection(0, 0, 0, 5);
    // The window echoes every selection it is given, in order: once ours comes back, the echo of
    // the one editor:open set can no longer overwrite it.
    const echoed = new Promise<void>((resolve) => {
      const sub = vscode.window.onDidChangeTextEditorSelection((e) => {
        if (e.textEditor === editor && e.selections[0]?.isEqual(wanted)) {
          sub.dispose();
          resolve();
        }
      });
    });
    editor.selection = wanted;
    await echoed;
    const out = outputOf(await probe.callTool('editor:selection', {}));
    assert.equal(out.text, 'first');
    assert.equal(out.file, 'tools.txt');
    assert.deepEqual(out.end, { line: 0, character: 5 });
  });

  it('editor:insert and editor:replace change the document', async () => {
    const doc = vscode.window.activeTextEditor!.document;
    outputOf(await probe.callTool('editor:insert', { text: '>> ', position: { line: 0, character: 0 } }));
    assert.equal(doc.lineAt(0).text, '>> first line of the notes');
    const out = outputOf(
      await probe.callTool('editor:replace', {
        text: 'FIRST',
        range: { start: { line: 0, character: 3 }, end: { line: 0, character: 8 } },
      }),
    );
    assert.equal(out.replaced, 'first');
    assert.equal(doc.lineAt(0).text, '>> FIRST line of the notes');
  });

  it('refuses bad arguments with INVALID_ARGUMENTS naming the argument', async () => {
    const res = await probe.callTool('editor:open', { line: 1 });
    assert.equal(res.status, 'TOOL_INVALID_ARGUMENTS');
    assert.match(res.error!.message, /path/);
  });

  it('refuses a path outside the workspace folders', async () => {
    const res = await probe.callTool('editor:open', { path: '../../../etc/passwd' });
    assert.equal(res.status, 'TOOL_ERROR');
    assert.equal(res.error!.code, 'denied');
    assert.match(res.error!.message, /outside the workspace/);
  });

  it('refuses a write through a dangling symlink that leads outside the workspace (the runtime sandbox follows it)', async () => {
    const outside = mkdtempSync(join(tmpdir(), 'loom-outside-'));
    const link = join(workspaceDir(), 'escape.txt');
    symlinkSync(join(outside, 'created.txt'), link);
    try {
      const res = await probe.callTool('editor:insert', { path: 'escape.txt', text: 'escaped' });
      assert.equal(res.status, 'TOOL_ERROR');
      assert.equal(res.error!.code, 'denied');
      assert.match(res.error!.message, /^editor:insert: .*outside the workspace roots/);
      assert.equal(existsSync(join(outside, 'created.txt')), false);
    } finally {
      rmSync(link, { force: true });
      rmSync(outside, { recursive: true, force: true });
    }
  });

  it("refuses to change or even open a file in the runtime's data folder (it holds the token)", async () => {
    const res = await probe.callTool('editor:replace', {
      path: '.loom/runtime.json',
      text: '{}',
      range: { start: { line: 0, character: 0 }, end: { line: 0, character: 1 } },
    });
    assert.equal(res.status, 'TOOL_ERROR');
    assert.equal(res.error!.code, 'denied');
    assert.match(res.error!.message, /data folder/);
    const opened = await probe.callTool('editor:open', { path: '.loom/runtime.json' });
    assert.equal(opened.status, 'TOOL_ERROR');
    assert.equal(opened.error!.code, 'denied');
    assert.match(opened.error!.message, /data folder/);
  });

  it('a file swapped for a symlink after editor:open: VS Code reloads the tab from the target, and editor:replace neither hands it out nor edits it', async () => {
    // An agent (isolated too: the workspace is writable in its sandbox) renames a symlink over a
    // file it opened; VS Code reloads the tab through it; the agent renames a plain file back and
    // calls at once, before VS Code reloads the tab again. Attempts that VS Code wins are harmless
    // (the tab holds the file again); the test needs one it does not.
    const ws = workspaceDir();
    const outside = mkdtempSync(join(tmpdir(), 'loom-outside-'));
    const secret = join(outside, 'id_rsa');
    writeFileSync(secret, 'PRIVATE KEY TOP SECRET\n');
    const swap = (make: (tmp: string) => void) => {
      const tmp = join(ws, `.swap-${Date.now()}`);
      make(tmp);
      renameSync(tmp, join(ws, 'swapped.txt'));
    };
    const whole = { start: { line: 0, character: 0 }, end: { line: 5, character: 0 } };
    const before = vscode.window.activeTextEditor?.document; // later tests work on it
    const close = async () => {
      const doc = vscode.workspace.textDocuments.find((d) => d.uri.fsPath === join(ws, 'swapped.txt'));
      if (!doc) return;
      await vscode.window.showTextDocument(doc);
      await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
    };
    let refused = 0;
    try {
      for (let attempt = 1; attempt <= 5 && refused === 0; attempt++) {
        swap((tmp) => writeFileSync(tmp, 'decoy\n'));
        outputOf(await probe.callTool('editor:open', { path: 'swapped.txt' }));
        const doc = vscode.workspace.textDocuments.find((d) => d.uri.fsPath === join(ws, 'swapped.txt'))!;
        swap((tmp) => symlinkSync(secret, tmp));
        await eventually('VS Code to reload the tab through the link', () =>
          doc.getText().includes('TOP SECRET') ? true : undefined,
        );
        swap((tmp) => writeFileSync(tmp, 'decoy\n'));
        const res = await probe.callTool('editor:replace', { path: 'swapped.txt', text: '', range: whole });
        if (res.status === 'TOOL_OK') assert.doesNotMatch(res.output, /TOP SECRET/, 'the target was handed out');
        else {
          assert.match(res.error!.message, /does not hold what the file holds on disk/);
          refused++;
        }
        await close();
      }
      assert.equal(refused, 1, 'VS Code reloaded the tab first in every attempt: the check was never reached');
      assert.equal(readFileSync(secret, 'utf8'), 'PRIVATE KEY TOP SECRET\n');
    } finally {
      await close();
      if (before) await vscode.window.showTextDocument(before);
      rmSync(join(ws, 'swapped.txt'), { force: true });
      rmSync(outside, { recursive: true, force: true });
    }
  });

  it("ui:status shows the agent text in the status bar, named as that agent's", async () => {
    outputOf(await probe.callTool('ui:status', { text: 'indexing 3 files' }));
    assert.equal((await loomApi()).agentStatusText, `${probe.id}: indexing 3 files`);
    outputOf(await probe.callTool('ui:status', { text: '' }));
    assert.equal((await loomApi()).agentStatusText, '');
  });

  it("ui:status draws no icon of the agent's: $(check) stays as written", async () => {
    outputOf(await probe.callTool('ui:status', { text: '$(check) Loom: trusted' }));
    assert.equal((await loomApi()).agentStatusText, `${probe.id}: \\$(check) Loom: trusted`);
    outputOf(await probe.callTool('ui:status', { text: '' }));
  });

  it('ui:notify shows a notification', async () => {
    assert.deepEqual(outputOf(await probe.callTool('ui:notify', { message: 'hello from a probe', level: 'warning' })), {
      shown: true,
    });
  });

  it('ui:ask returns the option the human accepts', async () => {
    assert.deepEqual(await askAndAccept('Which one?', ['alpha', 'beta']), { answer: 'alpha', dismissed: false });
  });

  it('ui:ask answers TIMEOUT when nobody answers in time, and the next question still works', async () => {
    const res = await probe.callTool('ui:ask', { prompt: 'Nobody answers this', options: ['never'] }, 1500);
    assert.equal(res.status, 'TOOL_TIMEOUT');
    // The next question is the one the human sees and answers.
    assert.deepEqual(await askAndAccept('And this one?', ['second question']), {
      answer: 'second question',
      dismissed: false,
    });
  });

  it('ui:ask is taken down as soon as its caller gives up, long before its timeout', async () => {
    const running = () => vscode.commands.executeCommand<string[]>('loom.test.toolCalls');
    const asking = probe.startToolCall('ui:ask', { prompt: 'Will the caller wait?', options: ['no'] }, 300_000);
    await eventually('the window to run the question', async () => ((await running()).length === 1 ? true : undefined));
    asking.cancel();
    // The runtime tells the window (ServerEvent.cancel_tool_call), which takes the quick pick down.
    await eventually('the question to end', async () => ((await running()).length === 0 ? true : undefined), 10_000);
    assert.equal((await asking.done)?.code, 1 /* grpc.status.CANCELLED */);
    // The next question is the one the human sees and answers.
    assert.deepEqual(await askAndAccept('And now?', ['after the cancel']), {
      answer: 'after the cancel',
      dismissed: false,
    });
  });

  /** Calls clipboard:read and answers its question with the item `down` places below the first. */
  async function readClipboardAnswering(down: number) {
    const pending = probe.callTool('clipboard:read', {});
    let settled = false;
    void pending.finally(() => (settled = true));
    // The question is up (its call runs in the window, and the quick pick had time to show) before
    // moving down it: a move before it shows, then an accept after, would answer Deny.
    const running = () => vscode.commands.executeCommand<string[]>('loom.test.toolCalls');
    await eventually('the window to ask', async () => ((await running()).length === 1 ? true : undefined));
    await new Promise((r) => setTimeout(r, 500));
    await eventually('the clipboard question to take the answer', async () => {
      for (let i = 0; i < down; i++) await vscode.commands.executeCommand('workbench.action.quickOpenSelectNext');
      await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
      await new Promise((r) => setTimeout(r, 200));
      return settled ? true : undefined;
    });
    return pending;
  }

  it('clipboard:read asks the person first: Enter alone denies, "Allow once" reads', async () => {
    outputOf(await probe.callTool('clipboard:write', { text: 'copied by an agent' }));
    const denied = await readClipboardAnswering(0);
    assert.equal(denied.status, 'TOOL_ERROR');
    assert.equal(denied.error!.code, 'denied');
    assert.match(denied.error!.message, /the person did not allow .* to read the clipboard/);
    assert.deepEqual(outputOf(await readClipboardAnswering(1)), { text: 'copied by an agent' });
  });

  it('the Call Tool command calls a tool with scripted arguments and returns its result', async () => {
    const editor = vscode.window.activeTextEditor!;
    editor.selection = new vscode.Selection(1, 0, 1, 6);
    const res = await vscode.commands.executeCommand<{ status: string; output: { text: string } }>('loom.callTool', {
      name: 'editor:selection',
      arguments: {},
    });
    assert.equal(res.status, 'TOOL_OK');
    assert.equal(res.output.text, 'second');
    const missing = await vscode.commands.executeCommand<{ status: string; error: { message: string } }>(
      'loom.callTool',
      { name: 'nope:nothing', arguments: {} },
    );
    assert.equal(missing.status, 'TOOL_NOT_FOUND');
  });

  it('without a path, refuses the active editor when it shows a file outside the workspace, naming it; an untitled document and a workspace file are fine', async () => {
    const outsideDir = mkdtempSync(join(tmpdir(), 'loom-outside-'));
    const outside = join(outsideDir, 'elsewhere.txt');
    writeFileSync(outside, "not the agent's\n");
    try {
      const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(outside));
      await vscode.window.showTextDocument(doc);
      const calls: [string, object][] = [
        ['editor:insert', { text: 'x' }],
        ['editor:insert', { text: 'x', position: { line: 0, character: 0 } }],
        ['editor:replace', { text: 'x' }],
        ['editor:selection', {}],
      ];
      for (const [tool, args] of calls) {
        const res = await probe.callTool(tool, args);
        assert.equal(res.status, 'TOOL_ERROR', `${tool} ${JSON.stringify(args)}`);
        assert.equal(res.error!.code, 'denied');
        assert.ok(
          res.error!.message.startsWith(
            `${tool}: the active editor shows ${outside}, which lies outside the workspace folders`,
          ),
          res.error!.message,
        );
      }
      assert.equal(doc.getText(), "not the agent's\n");
      assert.equal(doc.isDirty, false);

      const untitled = await vscode.workspace.openTextDocument({ content: 'draft\n' });
      await vscode.window.showTextDocument(untitled);
      outputOf(await probe.callTool('editor:insert', { text: '>> ', position: { line: 0, character: 0 } }));
      assert.equal(untitled.lineAt(0).text, '>> draft');
      await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');

      const inside = await vscode.workspace.openTextDocument(vscode.Uri.file(join(workspaceDir(), 'tools.txt')));
      await vscode.window.showTextDocument(inside);
      const out = outputOf(await probe.callTool('editor:insert', { text: 'ok ', position: { line: 1, character: 0 } }));
      assert.deepEqual(out, { file: 'tools.txt', inserted: 1 });
      assert.equal(inside.lineAt(1).text, 'ok second line');
    } finally {
      rmSync(outsideDir, { recursive: true, force: true });
    }
  });
});
