// Everything the extension does, loaded just after activation (extension.ts keeps activation to
// registering command placeholders): the Loom object with its views, status bar and commands,
// the language model tools and the dashboard.
import type * as vscode from 'vscode';
import { registerCommands } from './commands';
import { DashboardPanel, dashboardApi, type DashboardApi } from './dashboard/panel';
import { registerLanguageModelTools } from './lmTools';
import { Loom, type LoomApi } from './loom';

/** The extension's exports: the API, and what the dashboard shows (for tests). */
export interface LoomExports extends LoomApi {
  readonly dashboard: DashboardApi;
  /** Loading the entry bundle and the activate call, in ms (VS Code's "Load Code" and "Activation Call"). */
  readonly activation: { loadMs: number; activateMs: number; coreLoadMs: number };
}

export interface Core {
  readonly loom: Loom;
  exports(activation: LoomExports['activation']): LoomExports;
  restoreDashboard(panel: vscode.WebviewPanel): void;
  stop(): Promise<void>;
}

export function start(context: vscode.ExtensionContext): Core {
  const loom = new Loom(context);
  context.subscriptions.push(...registerCommands(loom), ...registerLanguageModelTools(loom));
  setImmediate(() => {
    loom.autoStart();
    void loom.refresh();
  });
  return {
    loom,
    // loom.api's getters read through `self`, so an object inheriting them stays live.
    exports: (activation) =>
      Object.create(loom.api, {
        dashboard: { value: dashboardApi, enumerable: true },
        activation: { value: activation, enumerable: true },
      }) as LoomExports,
    restoreDashboard: (panel) => DashboardPanel.restore(panel, loom),
    stop: () => loom.shutdown(),
  };
}
