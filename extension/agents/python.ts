// The agents' interpreter: does it import a compatible Loom SDK (said once per interpreter, with
// the way out), and installing the SDK the extension carries into it.
import * as vscode from 'vscode';
import { notify } from '../notify';
import type { RuntimeConnection } from '../bridge/client';
import { bundledSdk, checkSdk, installSdk } from '../python/sdk';
import { resolvePython, type LoomSettings } from '../settings';
import { agentFailed } from './lifecycle';

const INSTALL_SDK = 'Install Loom SDK into this interpreter';

export interface AgentsPythonHost {
  readonly settings: LoomSettings;
  readonly extensionPath: string;
  readonly log: vscode.LogOutputChannel;
  /** The window's failure notifications, oldest first. */
  readonly notices: string[];
  readonly connection: RuntimeConnection | undefined;
  /** Re-reads the agents for the views. */
  refresh(): Promise<void>;
}

export class AgentsPython {
  /** Interpreters whose missing SDK was already said: once each. */
  private readonly said = new Set<string>();

  constructor(private readonly host: AgentsPythonHost) {}

  /** The agents' interpreter, as the runtime is told it (LOOM_PYTHON). */
  interpreter(): Promise<string> {
    return resolvePython(this.host.settings, vscode.workspace.workspaceFolders?.[0]?.uri);
  }

  /**
   * Before agents need it: does their interpreter import a compatible Loom SDK? If not, one
   * notification per interpreter, with the way out. Resolves to whether it does.
   */
  async check(): Promise<boolean> {
    const python = await this.interpreter();
    const sdk = bundledSdk(this.host.extensionPath);
    const check = await checkSdk(python, sdk?.version);
    if (check.ok) {
      this.said.delete(python);
      return true;
    }
    this.host.log.warn(`agents cannot start: ${check.problem}`);
    if (this.said.has(python)) return false;
    this.said.add(python);
    const message = `Loom: agents cannot start: ${check.problem}.`;
    this.host.notices.push(message);
    const install = sdk ? [INSTALL_SDK] : [];
    void notify('warning', message, ...install, 'Select Interpreter', 'Open Settings').then((choice) => {
      if (choice === INSTALL_SDK) void vscode.commands.executeCommand('loom.installSdk', { python });
      if (choice === 'Select Interpreter') {
        const selector = vscode.extensions.getExtension('ms-python.python')
          ? 'python.setInterpreter'
          : 'workbench.action.openSettings';
        void vscode.commands.executeCommand(
          selector,
          ...(selector === 'workbench.action.openSettings' ? ['loom.pythonPath'] : []),
        );
      }
      if (choice === 'Open Settings')
        void vscode.commands.executeCommand('workbench.action.openSettings', 'loom.pythonPath');
    });
    return false;
  }

  /**
   * Installs the bundled SDK into `python` (default: the agents' interpreter), then restarts the
   * agents that could not run.
   */
  async install(python?: string): Promise<{ python: string; version: string }> {
    const target = python ?? (await this.interpreter());
    const sdk = bundledSdk(this.host.extensionPath);
    if (!sdk)
      throw new Error(
        'this build of the extension carries no Loom SDK wheel (dist/sdk); install sdk/python with pip instead',
      );
    const title = `Loom: installing the Loom SDK ${sdk.version} into ${target}`;
    await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title, cancellable: false },
      () => installSdk(target, sdk),
    );
    const check = await checkSdk(target, sdk.version);
    if (!check.ok) throw new Error(`installed, but ${check.problem}`);
    this.said.delete(target);
    this.host.log.info(`installed the Loom SDK ${check.version} into ${target}`);
    void notify('info', `Loom: the Loom SDK ${check.version} is installed into ${target}.`);
    await this.restartStuck();
    return { python: target, version: check.version };
  }

  /** Supervised agents that crashed or failed for want of the SDK get another go. */
  private async restartStuck(): Promise<void> {
    const conn = this.host.connection;
    if (!conn) return;
    for (const a of await conn.listAgents().catch(() => [])) {
      if (!a.supervised || !(agentFailed(a) || a.state === 'crashed' || a.state === 'backoff')) continue;
      await conn
        .controlAgent(a.agentId, 'restart')
        .catch((err: Error) => this.host.log.warn(`cannot restart agent ${a.agentId}: ${err.message}`));
    }
    await this.host.refresh();
  }
}
