// Entry points. activate() is cheap: it loads nothing but this file and the command ids, and
// registers a placeholder for every command; the rest of the extension (core.ts, its own bundle:
// gRPC, protobuf, the views) loads right after activation returns, or at once when a command or
// the API needs it. Nothing starts a runtime here: core does on first need, or right after
// loading when loom.runtime.autoStart is on and the workspace has a loom.toml.
import * as vscode from 'vscode';
import { join } from 'node:path';
import { COMMANDS, DASHBOARD_VIEW_TYPE } from './ids';
import type { Core, LoomExports } from './core';

export type { LoomExports } from './core';

declare const globalThis: { __loomLoadStart?: number };
const loadMs = performance.now() - (globalThis.__loomLoadStart ?? performance.now());

let core: Core | undefined;
let exported: LoomExports | undefined;

export function activate(context: vscode.ExtensionContext): LoomExports {
  const started = performance.now();
  const placeholders = COMMANDS.map((id) =>
    vscode.commands.registerCommand(id, (...args: unknown[]) => {
      load();
      return vscode.commands.executeCommand(id, ...args); // now the real one
    }),
  );
  let coreLoadMs = 0;
  /** Loads core once: the placeholders make way for the real commands first. */
  const load = (): Core => {
    if (core) return core;
    const t0 = performance.now();
    for (const p of placeholders) p.dispose();
    // A separate bundle beside this one (dist/core.js): required by path so esbuild leaves it out of this one.
    const { start } = require(join(__dirname, 'core.js')) as typeof import('./core');
    core = start(context);
    coreLoadMs = performance.now() - t0;
    return core;
  };
  context.subscriptions.push(
    { dispose: () => placeholders.forEach((p) => p.dispose()) },
    vscode.window.registerWebviewPanelSerializer(DASHBOARD_VIEW_TYPE, {
      deserializeWebviewPanel: async (panel) => load().restoreDashboard(panel),
    }),
  );
  setImmediate(load);
  const activation = {
    loadMs,
    activateMs: performance.now() - started,
    get coreLoadMs() {
      return coreLoadMs;
    },
  };
  // The API loads core on first use: its getters then read the live state. (`then` is asked by
  // whoever awaits activate's result, VS Code included: the API is not a promise, and asking must not load core.)
  return new Proxy({} as LoomExports, {
    get: (_target, key) => (key === 'then' ? undefined : Reflect.get((exported ??= load().exports(activation)), key)),
    has: (_target, key) => Reflect.has((exported ??= load().exports(activation)), key),
  });
}

export async function deactivate(): Promise<void> {
  const current = core;
  core = undefined;
  exported = undefined;
  await current?.stop();
}
