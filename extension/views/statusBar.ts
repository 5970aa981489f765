// Two status bar items: the runtime's state and agent count (click: the dashboard), with what the
// runtime says about the isolation of system:shell (a warning look when it refuses every command)
// and about its NATS cluster (a warning look while it is cut off), and the text an agent sets with
// the ui:status tool.
import * as vscode from 'vscode';
import { plainLabel } from '../plainText';
import type { RuntimeState } from '../loom';
import { clusterNotice, type ClusterFacts } from './clusterText';
import { isolationNotice, type IsolationFacts } from './isolationText';

const ICONS: Record<RuntimeState, string> = {
  stopped: '$(circle-slash)',
  starting: '$(sync~spin)',
  running: '$(pulse)',
  reconnecting: '$(sync~spin)',
  stopping: '$(sync~spin)',
  failed: '$(error)',
};

export interface StatusFacts {
  /** Connected agents. */
  agents: number;
  /** Agents that stopped for good (shown beside the count). */
  failed?: number;
  detail?: string;
  trusted?: boolean;
  /** The running runtime's isolation of system:shell (GetStats), shown while it runs. */
  isolation?: IsolationFacts | null;
  /** The running runtime's cluster health, with [cluster] (GetStats, then cluster.health events). */
  cluster?: ClusterFacts | null;
}

export class StatusBar implements vscode.Disposable {
  private readonly runtime = vscode.window.createStatusBarItem('loom.runtime', vscode.StatusBarAlignment.Left, 10);
  private readonly agent = vscode.window.createStatusBarItem('loom.agentStatus', vscode.StatusBarAlignment.Left, 9);

  constructor() {
    this.runtime.name = 'Loom Runtime';
    this.runtime.command = 'loom.openDashboard';
    this.agent.name = 'Loom Agent Status';
    this.update('stopped', { agents: 0 });
  }

  private shown = false;

  setVisible(show: boolean): void {
    if (show === this.shown) return;
    this.shown = show;
    if (show) this.runtime.show();
    else this.runtime.hide();
  }

  get visible(): boolean {
    return this.shown;
  }

  update(state: RuntimeState, s: StatusFacts): void {
    const { agents, failed = 0, detail = '', trusted = true } = s;
    const restricted = trusted ? '' : ' (restricted)';
    const running = state === 'running';
    const notice = running ? isolationNotice(s.isolation) : undefined;
    const cluster = running ? clusterNotice(s.cluster) : undefined;
    const warn = notice?.warning ? ' $(warning)' : '';
    const count = `: ${agents} agent${agents === 1 ? '' : 's'}${failed ? ` · ${failed} failed` : ''}`;
    this.runtime.text = `${ICONS[state]} Loom${running ? count : ` ${state}`}${restricted}${cluster?.suffix ?? ''}${warn}`;
    this.runtime.tooltip = [
      `Loom runtime ${state}${detail ? ` — ${detail}` : ''}.`,
      trusted ? '' : 'This workspace is not trusted: Loom spawns no agents and runs no shell commands here.',
      notice?.text ?? '',
      cluster?.text ?? '',
      'Click to open the dashboard.',
    ]
      .filter(Boolean)
      .join('\n');
    this.runtime.backgroundColor =
      state === 'failed'
        ? new vscode.ThemeColor('statusBarItem.errorBackground')
        : notice?.warning || cluster?.warning
          ? new vscode.ThemeColor('statusBarItem.warningBackground')
          : undefined;
  }

  get text(): string {
    return this.runtime.text;
  }

  get tooltip(): string {
    const t = this.runtime.tooltip;
    return typeof t === 'string' ? t : (t?.value ?? '');
  }

  /** The theme color id of the item's background: an error or warning look, or undefined. */
  get background(): string | undefined {
    return this.runtime.backgroundColor?.id;
  }

  get command(): string | undefined {
    const c = this.runtime.command;
    return typeof c === 'string' ? c : c?.command;
  }

  get agentText(): string {
    return this.agent.text;
  }

  /** An agent's text (ui:status), named as the agent's: it must not pass for Loom's own item. */
  setAgentStatus(agent: string, text: string, tooltip?: string): void {
    this.agent.text = text ? `${agent}: ${plainLabel(text)}` : '';
    this.agent.tooltip = text ? `Set by agent ${JSON.stringify(agent)}${tooltip ? `\n\n${tooltip}` : ''}` : undefined;
    if (text) this.agent.show();
    else this.agent.hide();
  }

  dispose(): void {
    this.runtime.dispose();
    this.agent.dispose();
  }
}
