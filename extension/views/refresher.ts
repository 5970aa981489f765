// Keeps the Agents and Tools views (and the status bar's agent count) in step with the runtime:
// a refresh soon after each change the window hears of (several changes make one), and every
// few seconds while the Agents view shows, because heartbeats age by the second.
import type * as vscode from 'vscode';
import type { RuntimeConnection } from '../bridge/client';
import { AGENT_ID } from '../bridge/client';
import { listAgentEntries, type AgentEntry } from '../agents/catalog';
import { messageOf } from '../../runtime/contract';
import type { AgentRow, AgentsTree, ToolsTree } from './trees';

const AGENTS_POLL_MS = 5000;
/** Changes this close together make one refresh. */
const REFRESH_DEBOUNCE_MS = 250;

export interface RefresherHost {
  readonly connection: RuntimeConnection | undefined;
  readonly workspace: string | undefined;
  readonly log: vscode.LogOutputChannel;
  readonly agents: AgentsTree;
  readonly tools: ToolsTree;
  /** With [cluster]: this runtime's node name, to tell its agents from other runtimes'. */
  readonly localNode: string | undefined;
  /** The views were re-read from a live runtime (the status bar counts agents again). */
  refreshed(): void;
}

export class Refresher implements vscode.Disposable {
  private timer: NodeJS.Timeout | undefined;
  private poll: NodeJS.Timeout | undefined;

  constructor(private readonly host: RefresherHost) {}

  soon(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.refresh(), REFRESH_DEBOUNCE_MS);
  }

  /** Polls while `visible` (the Agents view shows) and a runtime is connected. */
  pollWhile(visible: boolean): void {
    clearInterval(this.poll);
    this.poll = visible ? setInterval(() => this.host.connection && void this.refresh(), AGENTS_POLL_MS) : undefined;
  }

  /** Re-reads agents and tools from the runtime for the views and the status bar. */
  async refresh(): Promise<void> {
    const { connection: conn, workspace: ws, log } = this.host;
    const entries = ws
      ? await listAgentEntries(ws).catch((err: Error) => (log.warn(`loom.toml: ${err.message}`), [] as AgentEntry[]))
      : [];
    if (!conn) {
      this.host.agents.set(entries.map((entry) => ({ id: entry.id, entry })));
      return;
    }
    try {
      const [infos, tools] = await Promise.all([conn.listAgents(), conn.listTools()]);
      const rows = new Map<string, AgentRow>();
      for (const entry of entries) rows.set(entry.id, { id: entry.id, entry });
      for (const info of infos) {
        if (info.agentId === AGENT_ID) continue;
        // Another runtime may run an agent of the same id: its own row, never in place of ours.
        if (info.node && this.host.localNode && info.node !== this.host.localNode)
          rows.set(`${info.agentId}@${info.node}`, { id: info.agentId, info, remote: true });
        else rows.set(info.agentId, { ...rows.get(info.agentId), id: info.agentId, info });
      }
      this.host.agents.set([...rows.values()]);
      this.host.tools.set(tools);
      this.host.refreshed();
    } catch (err) {
      log.warn(`refresh failed: ${messageOf(err)}`);
    }
  }

  /** The runtime is gone: the views show nothing of it. */
  clear(): void {
    this.host.agents.set([]);
    this.host.tools.set([]);
  }

  dispose(): void {
    clearTimeout(this.timer);
    clearInterval(this.poll);
  }
}
