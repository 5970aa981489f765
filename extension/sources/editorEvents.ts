// Editor events onto the bus. Topics: editor.active, editor.opened, editor.closed, editor.saved,
// editor.changed (debounced per document: a summary, the full text only when configured),
// editor.selection (debounced), diagnostics.changed, workspace.trust.
import { realpathSync } from 'node:fs';
import { join, relative } from 'node:path';
import * as vscode from 'vscode';
import { dataDirOf, isOutside } from '../../runtime/contract';
import { workspaceRelative } from '../tools/paths';

export type Publish = (topic: string, type: string, payload: unknown) => void;

export interface EditorEventOptions {
  changeDebounceMs: number;
  selectionDebounceMs: number;
  sendFullText: boolean;
}

/**
 * Documents agents may hear of: unsaved buffers, and files of a workspace folder (by real path)
 * outside its data folder, as the editor tools may read them. Not output panes or settings views,
 * and not a file outside the workspace the person happens to open: its path and selected text
 * went to every subscriber.
 */
export function relevant(doc: vscode.TextDocument): boolean {
  return doc.uri.scheme === 'untitled' || (doc.uri.scheme === 'file' && inWorkspace(doc.uri));
}

/**
 * How long a verdict, and a folder's real path and data folder, are kept: relevant() runs on
 * every keystroke and cursor move, and for every file a language server reports on.
 */
const KEEP_MS = 5000;
const verdicts = new Map<string, { atMs: number; inside: boolean }>();
const folders = new Map<string, { atMs: number; root: string; data: string }>();

function inWorkspace(uri: vscode.Uri): boolean {
  const now = Date.now();
  const key = uri.toString();
  const known = verdicts.get(key);
  if (known && now - known.atMs < KEEP_MS) return known.inside;
  const folder = vscode.workspace.getWorkspaceFolder(uri);
  let inside = false;
  if (folder) {
    let f = folders.get(folder.uri.fsPath);
    if (!f || now - f.atMs >= KEEP_MS) {
      const root = real(folder.uri.fsPath);
      f = { atMs: now, root, data: join(root, dataDirOf(root)) };
      folders.set(folder.uri.fsPath, f);
    }
    const file = real(uri.fsPath);
    inside = !isOutside(relative(f.root, file)) && isOutside(relative(f.data, file));
  }
  if (verdicts.size >= 1000) verdicts.clear(); // a language server's whole project, once
  verdicts.set(key, { atMs: now, inside });
  return inside;
}

/** The real path, or the path itself for a file that is gone (a closed, deleted document). */
function real(p: string): string {
  try {
    return realpathSync.native(p);
  } catch {
    return p;
  }
}

export function describeDocument(doc: vscode.TextDocument): Record<string, unknown> {
  return {
    file: workspaceRelative(doc.uri),
    uri: doc.uri.toString(),
    language: doc.languageId,
    version: doc.version,
    lineCount: doc.lineCount,
    isDirty: doc.isDirty,
  };
}

/** Calls `fire(key)` once per key after `ms` of quiet. */
class Debouncer implements vscode.Disposable {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  constructor(private readonly ms: number) {}
  schedule(key: string, fire: () => void): void {
    clearTimeout(this.timers.get(key));
    this.timers.set(
      key,
      setTimeout(() => {
        this.timers.delete(key);
        fire();
      }, this.ms),
    );
  }
  dispose(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }
}

export function watchEditorEvents(publish: Publish, opts: EditorEventOptions): vscode.Disposable {
  const changes = new Debouncer(opts.changeDebounceMs);
  const selections = new Debouncer(opts.selectionDebounceMs);
  const pendingEdits = new Map<string, number>();

  const disposables: vscode.Disposable[] = [
    changes,
    selections,
    vscode.window.onDidChangeActiveTextEditor((editor) => {
      if (editor && relevant(editor.document))
        publish('editor.active', 'editor.active', describeDocument(editor.document));
    }),
    vscode.workspace.onDidOpenTextDocument(
      (doc) => relevant(doc) && publish('editor.opened', 'editor.opened', describeDocument(doc)),
    ),
    vscode.workspace.onDidCloseTextDocument(
      (doc) => relevant(doc) && publish('editor.closed', 'editor.closed', describeDocument(doc)),
    ),
    vscode.workspace.onDidSaveTextDocument(
      (doc) => relevant(doc) && publish('editor.saved', 'editor.saved', describeDocument(doc)),
    ),
    vscode.workspace.onDidChangeTextDocument((e) => {
      if (!relevant(e.document) || e.contentChanges.length === 0) return;
      const key = e.document.uri.toString();
      pendingEdits.set(key, (pendingEdits.get(key) ?? 0) + e.contentChanges.length);
      changes.schedule(key, () => {
        const edits = pendingEdits.get(key) ?? 0;
        pendingEdits.delete(key);
        const doc = e.document;
        publish('editor.changed', 'editor.changed', {
          ...describeDocument(doc),
          edits,
          length: doc.getText().length,
          ...(opts.sendFullText ? { text: doc.getText() } : {}),
        });
      });
    }),
    vscode.window.onDidChangeTextEditorSelection((e) => {
      if (!relevant(e.textEditor.document)) return;
      selections.schedule('selection', () => {
        const s = e.textEditor.selection;
        publish('editor.selection', 'editor.selection', {
          ...describeDocument(e.textEditor.document),
          start: { line: s.start.line, character: s.start.character },
          end: { line: s.end.line, character: s.end.character },
          text: e.textEditor.document.getText(s),
        });
      });
    }),
    vscode.languages.onDidChangeDiagnostics((e) => {
      const files = e.uris
        .filter((u) => u.scheme === 'file' && inWorkspace(u))
        .map((uri) => {
          const diags = vscode.languages.getDiagnostics(uri);
          return {
            file: workspaceRelative(uri),
            uri: uri.toString(),
            errors: diags.filter((d) => d.severity === vscode.DiagnosticSeverity.Error).length,
            warnings: diags.filter((d) => d.severity === vscode.DiagnosticSeverity.Warning).length,
            messages: diags.slice(0, 20).map((d) => ({
              line: d.range.start.line,
              severity: vscode.DiagnosticSeverity[d.severity],
              message: d.message,
              source: d.source ?? '',
            })),
          };
        });
      if (files.length) publish('diagnostics.changed', 'diagnostics.changed', { files });
    }),
    vscode.workspace.onDidGrantWorkspaceTrust(() => publish('workspace.trust', 'workspace.trust', { trusted: true })),
  ];
  return vscode.Disposable.from(...disposables);
}
