// loom.toml's problems in the Problems panel, each at its line, with the runtime's own words
// (the contract's checkLoomToml, which the runtime's loader runs too), and a quick fix where the problem names the fix
// ("unknown key (did you mean "log_level"?)").
import * as vscode from 'vscode';
import { join } from 'node:path';
import { CONFIG_FILE, checkLoomToml, type ConfigProblem } from '../../runtime/contract';

const SOURCE = 'loom';
const DID_YOU_MEAN = /did you mean "([^"]+)"\?/;

function diagnosticOf(
  problem: ConfigProblem,
  doc: vscode.TextDocument | undefined,
  severity = vscode.DiagnosticSeverity.Error,
): vscode.Diagnostic {
  const line = Math.max(0, (problem.line ?? 1) - 1);
  const text = doc && line < doc.lineCount ? doc.lineAt(line).text : '';
  const start = Math.max(0, (problem.column ?? 1) - 1);
  const range = new vscode.Range(line, start, line, Math.max(start, text.length));
  const d = new vscode.Diagnostic(
    range,
    problem.key ? `${problem.key}: ${problem.message}` : problem.message,
    severity,
  );
  d.source = SOURCE;
  return d;
}

export class ConfigDiagnostics implements vscode.Disposable {
  private readonly collection = vscode.languages.createDiagnosticCollection(SOURCE);
  private readonly fixes: vscode.Disposable;

  constructor() {
    this.fixes = vscode.languages.registerCodeActionsProvider(
      { pattern: `**/${CONFIG_FILE}` },
      { provideCodeActions: (doc, _range, ctx) => quickFixes(doc, ctx.diagnostics) },
      {
        providedCodeActionKinds: [vscode.CodeActionKind.QuickFix],
      },
    );
  }

  /**
   * Validates the workspace's loom.toml and shows what is wrong; true when the runtime can start
   * with it. A bad [mcp.<name>] server is a warning: the runtime starts without that server.
   */
  async check(workspace: string): Promise<boolean> {
    const uri = vscode.Uri.file(join(workspace, CONFIG_FILE));
    const { problems, mcpServerProblems } = await checkLoomToml(workspace);
    if (!problems.length && !mcpServerProblems.length) {
      this.collection.delete(uri);
      return true;
    }
    const doc = vscode.workspace.textDocuments.find((d) => d.uri.fsPath === uri.fsPath);
    const warnings = mcpServerProblems.map((p) => diagnosticOf(p, doc, vscode.DiagnosticSeverity.Warning));
    this.collection.set(uri, [...problems.map((p) => diagnosticOf(p, doc)), ...warnings]);
    return problems.length === 0;
  }

  problems(workspace: string): readonly vscode.Diagnostic[] {
    return this.collection.get(vscode.Uri.file(join(workspace, CONFIG_FILE))) ?? [];
  }

  dispose(): void {
    this.fixes.dispose();
    this.collection.dispose();
  }
}

/** "unknown key (did you mean X?)": replace the key as written on its line by X. */
function quickFixes(doc: vscode.TextDocument, diagnostics: readonly vscode.Diagnostic[]): vscode.CodeAction[] {
  const out: vscode.CodeAction[] = [];
  for (const d of diagnostics) {
    if (d.source !== SOURCE) continue;
    const suggestion = DID_YOU_MEAN.exec(d.message)?.[1];
    const key = /^([^:]+):/.exec(d.message)?.[1]?.split('.').pop();
    if (!suggestion || !key) continue;
    const line = doc.lineAt(d.range.start.line).text;
    const start = line.search(
      new RegExp(`(?<![A-Za-z0-9_-])${key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![A-Za-z0-9_-])`),
    );
    if (start < 0) continue;
    const action = new vscode.CodeAction(`Change to ${suggestion}`, vscode.CodeActionKind.QuickFix);
    action.edit = new vscode.WorkspaceEdit();
    action.edit.replace(
      doc.uri,
      new vscode.Range(d.range.start.line, start, d.range.start.line, start + key.length),
      suggestion,
    );
    action.diagnostics = [d];
    action.isPreferred = true;
    out.push(action);
  }
  return out;
}
