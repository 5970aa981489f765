// The extension's side of MCP: ui:confirm for tools under an `ask` policy, `${input:id}` secrets
// for the runtime's environment, Loom's own MCP endpoint offered to VS Code's agent mode, and the
// MCP Servers view. Made once per extension lifetime by the Loom owner object.
import * as vscode from 'vscode';
import type { RuntimeConnection, ProvidedTool } from '../bridge/client';
import { discoveryFile } from '../runtime/launcher';
import { ConfirmTool } from './confirm';
import { McpInputs } from './inputs';
import { loomMcpDefinition, registerLoomMcpProvider, servedMcpUrl, type LoomMcpDefinition } from './provider';
import { mcpUi } from './ui';

/** Contributed commands (package.json and the palette test agree with extension/commands.ts's list). */
export const MCP_COMMANDS = ['loom.clearMcpInputs'] as const;

/** What the MCP features need of the Loom owner object. */
export interface McpHost {
  readonly workspace: string | undefined;
  readonly connection: RuntimeConnection | undefined;
  readonly trusted: boolean;
  readonly log: vscode.LogOutputChannel;
}

export class McpFeatures implements vscode.Disposable {
  private readonly disposables: vscode.Disposable[] = [];
  readonly confirm: ConfirmTool;
  readonly inputs: McpInputs;

  constructor(context: vscode.ExtensionContext, private readonly host: McpHost, runtimeChanged: vscode.Event<unknown>) {
    const ui = mcpUi(context, this.disposables);
    this.confirm = new ConfirmTool(ui);
    this.inputs = new McpInputs(context.secrets, context.workspaceState, ui, (m) => host.log.info(m));
    const provider = registerLoomMcpProvider(() => this.definition(), runtimeChanged);
    if (!provider.registered) host.log.info(`Loom's MCP endpoint is not offered to VS Code's agent mode: ${provider.reason}`);
    this.disposables.push(provider, vscode.commands.registerCommand('loom.clearMcpInputs', () => this.clearInputs()));
  }

  /** The tools the extension provides to the runtime for MCP. */
  get tools(): ProvidedTool[] {
    return [this.confirm.tool];
  }

  /**
   * LOOM_INPUT_* for a runtime about to be launched. An untrusted workspace's config could ask
   * for any secret under any description, so there nothing is asked and nothing is handed over.
   */
  async environment(workspace: string): Promise<Record<string, string>> {
    if (!this.host.trusted) return {};
    return this.inputs.environment(workspace);
  }

  /** Loom's MCP endpoint for VS Code's agent mode, while the connected runtime serves one. */
  definition(): LoomMcpDefinition | undefined {
    const conn = this.host.connection;
    const ws = this.host.workspace;
    if (!conn?.isOpen || !ws) return undefined;
    return loomMcpDefinition(conn.info, servedMcpUrl(discoveryFile(ws), conn.info), vscode.workspace.name ?? 'workspace');
  }

  private async clearInputs(): Promise<number> {
    const ws = this.host.workspace;
    if (!ws) throw new Error('open a folder first');
    const n = await this.inputs.clear(ws);
    this.host.log.info(`forgot ${n} MCP input${n === 1 ? '' : 's'} of this workspace`);
    void vscode.window.showInformationMessage(`Loom: forgot ${n} MCP input${n === 1 ? '' : 's'}; the next runtime start asks again.`);
    return n;
  }

  dispose(): void {
    for (const d of this.disposables.splice(0).reverse()) d.dispose();
  }
}
