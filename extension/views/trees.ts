// The Loom view container's trees: Agents (state, pid, restarts, last heartbeat; inline
// start/stop/restart/logs) and Tools (grouped by namespace).
import * as vscode from 'vscode';
import type { AgentInfo__Output, ToolDescriptor__Output } from '../../runtime/proto/types';
import type { AgentEntry } from '../agents/catalog';
import { agentDescription } from './agentText';

export interface AgentRow {
  id: string;
  /** From the runtime when it knows the agent; else "not started". */
  info?: AgentInfo__Output;
  entry?: AgentEntry;
  /** An agent of another runtime of the cluster: shown, but this window cannot start or stop it. */
  remote?: boolean;
}

const RUNNING_STATES = new Set(['starting', 'connected', 'backoff']);

export class AgentItem extends vscode.TreeItem {
  constructor(
    readonly row: AgentRow,
    now = Date.now(),
  ) {
    super(row.id, vscode.TreeItemCollapsibleState.None);
    const info = row.info;
    const state = info?.state || 'not started';
    this.description = agentDescription(info, now);
    const heartbeat = info?.lastHeartbeatMs ? new Date(Number(info.lastHeartbeatMs)).toLocaleTimeString() : 'never';
    this.tooltip = new vscode.MarkdownString(
      [
        `**${row.id}** — ${state}`,
        `last heartbeat: ${heartbeat}`,
        info?.lastError ? `last error: ${info.lastError}` : '',
        info?.tools.length ? `tools: ${info.tools.join(', ')}` : '',
        row.entry?.script ? `script: ${row.entry.script}` : '',
      ]
        .filter(Boolean)
        .join('\n\n'),
    );
    // Menus in package.json key on this: loomAgent.running / loomAgent.stopped (a remote one has none).
    this.contextValue = row.remote
      ? 'loomAgent.remote'
      : RUNNING_STATES.has(state)
        ? 'loomAgent.running'
        : 'loomAgent.stopped';
    this.iconPath = new vscode.ThemeIcon(
      state === 'connected'
        ? 'vm-running'
        : state === 'failed' || state === 'crashed'
          ? 'error'
          : RUNNING_STATES.has(state)
            ? 'loading~spin'
            : 'vm-outline',
    );
  }
}

export class AgentsTree implements vscode.TreeDataProvider<AgentItem> {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;
  private rows: AgentRow[] = [];

  set(rows: AgentRow[]): void {
    this.rows = rows;
    this.changed.fire();
  }

  get current(): readonly AgentRow[] {
    return this.rows;
  }

  getTreeItem(item: AgentItem): vscode.TreeItem {
    return item;
  }

  getChildren(): AgentItem[] {
    const now = Date.now();
    return this.rows.map((r) => new AgentItem(r, now));
  }

  dispose(): void {
    this.changed.dispose();
  }
}

type ToolNode =
  { kind: 'namespace'; name: string; tools: ToolDescriptor__Output[] } | { kind: 'tool'; tool: ToolDescriptor__Output };

export class ToolsTree implements vscode.TreeDataProvider<ToolNode> {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;
  private tools: ToolDescriptor__Output[] = [];

  set(tools: ToolDescriptor__Output[]): void {
    this.tools = [...tools].sort((a, b) => a.name.localeCompare(b.name));
    this.changed.fire();
  }

  get current(): readonly ToolDescriptor__Output[] {
    return this.tools;
  }

  getTreeItem(node: ToolNode): vscode.TreeItem {
    if (node.kind === 'namespace') {
      const item = new vscode.TreeItem(node.name, vscode.TreeItemCollapsibleState.Expanded);
      item.description = `${node.tools.length}`;
      item.iconPath = new vscode.ThemeIcon('symbol-namespace');
      return item;
    }
    const item = new vscode.TreeItem(node.tool.name, vscode.TreeItemCollapsibleState.None);
    item.description = node.tool.description;
    item.tooltip = `${node.tool.description}\n\n${node.tool.parametersSchema}`;
    item.iconPath = new vscode.ThemeIcon('tools');
    item.contextValue = 'loomTool';
    item.command = { command: 'loom.callTool', title: 'Call Tool', arguments: [{ name: node.tool.name }] };
    return item;
  }

  getChildren(node?: ToolNode): ToolNode[] {
    if (node?.kind === 'namespace') return node.tools.map((tool) => ({ kind: 'tool', tool }));
    if (node) return [];
    const groups = new Map<string, ToolDescriptor__Output[]>();
    for (const tool of this.tools) {
      const ns = tool.name.includes(':') ? tool.name.slice(0, tool.name.indexOf(':')) : '(none)';
      groups.set(ns, [...(groups.get(ns) ?? []), tool]);
    }
    return [...groups].map(([name, tools]) => ({ kind: 'namespace', name, tools }));
  }

  dispose(): void {
    this.changed.dispose();
  }
}
