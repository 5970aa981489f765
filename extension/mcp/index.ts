// The extension's side of MCP: ui:confirm for tools under an `ask` policy, `${input:id}` secrets
// for the runtime's environment, Loom's own MCP endpoint offered to VS Code's agent mode, and the
// MCP Servers view. Made once per extension lifetime by the Loom owner object.
import * as vscode from 'vscode';
import { notify } from '../notify';
import type { RuntimeState } from '../api';
import type { McpServerInfo__Output } from '../../runtime/proto/gen/loom/v1/McpServerInfo';
import type { RuntimeConnection, ProvidedTool } from '../bridge/client';
import { discoveryFile } from '../runtime/launcher';
import { ConfirmTool } from './confirm';
import { McpInputs } from './inputs';
import { loomMcpDefinition, registerLoomMcpProvider, servedMcpUrl, type LoomMcpDefinition } from './provider';
import { McpServersView, serverItem } from './tree';
import { mcpUi } from './ui';

/** Contributed commands (package.json and the palette test agree with extension/commands.ts's list). */
export { MCP_COMMANDS } from '../ids';

/** Test runs only: the MCP Servers view as rendered (label, description, tooltip, context). */
export const TEST_TREE_COMMAND = 'loom.test.mcpTree';

/** The bus topics the extension's bridge registration subscribes to for the view. */
export const MCP_TOPICS = ['mcp.*.state'];

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
  readonly servers: McpServersView;

  constructor(
    context: vscode.ExtensionContext,
    private readonly host: McpHost,
    runtimeChanged: vscode.Event<RuntimeState>,
  ) {
    const ui = mcpUi(context, this.disposables);
    this.confirm = new ConfirmTool(ui);
    this.inputs = new McpInputs(context.secrets, context.workspaceState, ui, (m) => host.log.info(m));
    const provider = registerLoomMcpProvider(() => this.definition(), runtimeChanged);
    if (!provider.registered)
      host.log.info(`Loom's MCP endpoint is not offered to VS Code's agent mode: ${provider.reason}`);
    this.servers = new McpServersView(
      () => this.loadServers(),
      (m) => host.log.warn(m),
    );
    this.disposables.push(
      provider,
      this.servers,
      runtimeChanged(() => void this.servers.refresh()),
      // What was allowed for a session ends with the runtime it was allowed in.
      runtimeChanged((state) => (state === 'stopped' || state === 'starting') && this.confirm.forget()),
      vscode.commands.registerCommand('loom.clearMcpInputs', () => this.clearInputs()),
      vscode.commands.registerCommand('loom.restartMcpServer', (arg?: string | { info?: { name: string } }) =>
        this.restartServer(arg),
      ),
    );
    if (context.extensionMode === vscode.ExtensionMode.Test) {
      this.disposables.push(
        vscode.commands.registerCommand(TEST_TREE_COMMAND, () =>
          this.servers.tree.current.map((info) => {
            const item = serverItem(info);
            return {
              label: item.label,
              description: item.description,
              tooltip: (item.tooltip as vscode.MarkdownString).value,
              contextValue: item.contextValue,
              tools: info.tools,
            };
          }),
        ),
      );
    }
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

  /** An event the bridge delivered on one of MCP_TOPICS. */
  onDelivery(topic: string): void {
    if (topic.startsWith('mcp.') && topic.endsWith('.state')) this.servers.onStateEvent();
  }

  private async loadServers(): Promise<McpServerInfo__Output[] | undefined> {
    const conn = this.host.connection;
    return conn?.isOpen ? conn.listMcpServers() : undefined;
  }

  /** Restarts a server (the view's inline action passes its node; the palette asks which). */
  private async restartServer(arg?: string | { info?: { name: string } }): Promise<McpServerInfo__Output | null> {
    const conn = this.host.connection;
    if (!conn?.isOpen) throw new Error('the runtime is not running');
    let name = typeof arg === 'string' ? arg : arg?.info?.name;
    if (!name) {
      const servers = await conn.listMcpServers();
      if (!servers.length) throw new Error('the runtime hosts no MCP servers (add [mcp.<name>] to loom.toml)');
      name = (
        await vscode.window.showQuickPick(
          servers.map((s) => ({ label: s.name, description: s.state })),
          { placeHolder: 'MCP server to restart' },
        )
      )?.label;
      if (!name) return null;
    }
    const info = await conn.controlMcpServer(name, 'restart');
    this.host.log.info(`restarted MCP server "${name}"`);
    await this.servers.refresh();
    return info;
  }

  /** Loom's MCP endpoint for VS Code's agent mode, while the connected runtime serves one. */
  definition(): LoomMcpDefinition | undefined {
    const conn = this.host.connection;
    const ws = this.host.workspace;
    if (!conn?.isOpen || !ws) return undefined;
    return loomMcpDefinition(
      conn.info,
      servedMcpUrl(discoveryFile(ws), conn.info),
      vscode.workspace.name ?? 'workspace',
    );
  }

  private async clearInputs(): Promise<number> {
    const ws = this.host.workspace;
    if (!ws) throw new Error('open a folder first');
    const n = await this.inputs.clear(ws);
    this.host.log.info(`forgot ${n} MCP input${n === 1 ? '' : 's'} of this workspace`);
    void notify('info', `Loom: forgot ${n} MCP input${n === 1 ? '' : 's'}; the next runtime start asks again.`);
    return n;
  }

  dispose(): void {
    for (const d of this.disposables.splice(0).reverse()) d.dispose();
  }
}
