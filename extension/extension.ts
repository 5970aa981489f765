import * as vscode from 'vscode';
export function activate(context: vscode.ExtensionContext) {
  context.subscriptions.push(vscode.commands.registerCommand('loom.startRuntime', () => undefined));
  console.log('loom activated');
  return { ok: true };
}
export function deactivate() {}
