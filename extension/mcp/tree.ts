// The MCP Servers view: each server the runtime hosts with its state, tool count and restarts, the
// last error in its tooltip, its tools as children, and an inline Restart. Fed by
// Runtime.ListMcpServers when the runtime (re)connects, on every `mcp.<name>.state` event the
// extension's bridge registration receives, and by a slow poll while the view is visible.
import * as vscode from 'vscode';
import type { McpServerInfo__Output } from '../../runtime/proto/gen/loom/v1/McpServerInfo';
import { messageOf } from '../../runtime/contract';

export const MCP_VIEW = 'loom.mcp';
export const SERVER_CONTEXT = 'loomMcpServer';

type Node = { kind: 'server'; info: McpServerInfo__Output } | { kind: 'tool'; name: string };

const ICONS: Record<string, string> = {
  ready: 'pass',
  starting: 'loading~spin',
  restarting: 'sync~spin',
  failed: 'error',
  stopped: 'circle-slash',
  disabled: 'circle-slash',
};

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** A failed entry keeps the name it was given, valid or not: shown literally. */
function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>~]/g, '\\$&');
}

/** How one server shows in the view (exported for the tests, which read what is rendered). */
export function serverItem(info: McpServerInfo__Output): vscode.TreeItem {
  const item = new vscode.TreeItem(
    info.name,
    info.tools.length ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None,
  );
  const parts = [info.state, plural(info.tools.length, 'tool')];
  if (info.restarts) parts.push(plural(info.restarts, 'restart'));
  item.description = parts.join(' · ');
  const next =
    Number(info.nextRestartAtMs) > 0
      ? `next restart at ${new Date(Number(info.nextRestartAtMs)).toLocaleTimeString()}`
      : '';
  const tooltip = new vscode.MarkdownString(undefined, false);
  tooltip.appendMarkdown(`**${escapeMarkdown(info.name)}** — ${escapeMarkdown(info.state)}\n\n`);
  tooltip.appendMarkdown(
    escapeMarkdown(
      `${info.transport} · from ${info.source} · ${plural(info.restarts, 'restart')}${next ? ` · ${next}` : ''}`,
    ),
  );
  if (info.lastError) {
    tooltip.appendMarkdown('\n\nlast error:\n\n');
    tooltip.appendCodeblock(info.lastError, 'text'); // the server's own words: shown as text, never as markdown
  }
  item.tooltip = tooltip;
  item.iconPath = new vscode.ThemeIcon(ICONS[info.state] ?? 'circle-outline');
  item.contextValue = SERVER_CONTEXT;
  item.id = `mcp-server:${info.name}`;
  return item;
}

export class McpServersTree implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;
  private servers: McpServerInfo__Output[] = [];

  set(servers: McpServerInfo__Output[]): void {
    this.servers = [...servers].sort((a, b) => a.name.localeCompare(b.name));
    this.changed.fire();
  }

  get current(): readonly McpServerInfo__Output[] {
    return this.servers;
  }

  getTreeItem(node: Node): vscode.TreeItem {
    if (node.kind === 'server') return serverItem(node.info);
    const item = new vscode.TreeItem(node.name, vscode.TreeItemCollapsibleState.None);
    item.iconPath = new vscode.ThemeIcon('tools');
    item.command = { command: 'loom.callTool', title: 'Call Tool', arguments: [{ name: node.name }] };
    return item;
  }

  getChildren(node?: Node): Node[] {
    if (!node) return this.servers.map((info) => ({ kind: 'server', info }));
    return node.kind === 'server' ? node.info.tools.map((name) => ({ kind: 'tool', name })) : [];
  }

  dispose(): void {
    this.changed.dispose();
  }
}

const POLL_MS = 5000;
const EVENT_DEBOUNCE_MS = 150;

/** The view and what keeps it current; `load` reads the runtime's list (undefined: no runtime). */
export class McpServersView implements vscode.Disposable {
  readonly tree = new McpServersTree();
  private readonly view: vscode.TreeView<Node>;
  private readonly disposables: vscode.Disposable[] = [];
  private poll: NodeJS.Timeout | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private loading: Promise<void> | undefined;
  private again = false;

  constructor(
    private readonly load: () => Promise<McpServerInfo__Output[] | undefined>,
    private readonly log: (message: string) => void,
  ) {
    this.view = vscode.window.createTreeView(MCP_VIEW, { treeDataProvider: this.tree, showCollapseAll: true });
    this.disposables.push(
      this.view,
      this.tree,
      this.view.onDidChangeVisibility(() => this.setPolling()),
    );
    this.setPolling();
  }

  private setPolling(): void {
    clearInterval(this.poll);
    this.poll = undefined;
    if (this.view.visible) {
      void this.refresh();
      this.poll = setInterval(() => void this.refresh(), POLL_MS);
    }
  }

  /** An `mcp.<name>.state` event: a burst of them (a restart) becomes one reload. */
  onStateEvent(): void {
    clearTimeout(this.debounce);
    this.debounce = setTimeout(() => void this.refresh(), EVENT_DEBOUNCE_MS);
  }

  /** Reloads the list; a request while one is under way runs once more after it. */
  refresh(): Promise<void> {
    if (this.loading) {
      this.again = true;
      return this.loading;
    }
    this.loading = (async () => {
      do {
        this.again = false;
        try {
          this.tree.set((await this.load()) ?? []);
        } catch (err) {
          this.log(`MCP servers: ${messageOf(err)}`);
        }
      } while (this.again);
    })().finally(() => (this.loading = undefined));
    return this.loading;
  }

  dispose(): void {
    clearInterval(this.poll);
    clearTimeout(this.debounce);
    for (const d of this.disposables.splice(0).reverse()) d.dispose();
  }
}
