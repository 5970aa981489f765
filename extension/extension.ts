// Entry points. activate() is cheap: it registers commands, views and the status bar and starts
// nothing; the runtime starts on first need, or right after activation when
// loom.runtime.autoStart is on and the workspace has a loom.toml.
import * as vscode from 'vscode';
import { registerCommands } from './commands';
import { dashboardApi, registerDashboardSerializer, type DashboardApi } from './dashboard/panel';
import { registerLanguageModelTools } from './lmTools';
import { Loom, type LoomApi } from './loom';

let loom: Loom | undefined;

/** The extension's exports: the API, and what the dashboard shows (for tests). */
export interface LoomExports extends LoomApi {
  readonly dashboard: DashboardApi;
}

export function activate(context: vscode.ExtensionContext): LoomExports {
  loom = new Loom(context);
  context.subscriptions.push(...registerCommands(loom), ...registerLanguageModelTools(loom), registerDashboardSerializer(loom));
  setImmediate(() => {
    loom?.autoStart();
    void loom?.refresh();
  });
  // loom.api's getters read through `self`, so an object inheriting them stays live.
  return Object.create(loom.api, { dashboard: { value: dashboardApi, enumerable: true } }) as LoomExports;
}

export async function deactivate(): Promise<void> {
  const current = loom;
  loom = undefined;
  await current?.shutdown();
}
