// Entry points. activate() is cheap: it registers commands, views and the status bar and starts
// nothing; the runtime starts on first need, or right after activation when
// loom.runtime.autoStart is on and the workspace has a loom.toml.
import * as vscode from 'vscode';
import { registerCommands } from './commands';
import { registerLanguageModelTools } from './lmTools';
import { Loom, type LoomApi } from './loom';

let loom: Loom | undefined;

export function activate(context: vscode.ExtensionContext): LoomApi {
  loom = new Loom(context);
  context.subscriptions.push(...registerCommands(loom), ...registerLanguageModelTools(loom));
  setImmediate(() => {
    loom?.autoStart();
    void loom?.refresh();
  });
  return loom.api;
}

export async function deactivate(): Promise<void> {
  const current = loom;
  loom = undefined;
  await current?.shutdown();
}
