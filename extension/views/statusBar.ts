// Two status bar items: the runtime's state and agent count (click: the dashboard), and the text
// an agent sets with the ui:status tool.
import * as vscode from 'vscode';
import type { RuntimeState } from '../loom';

const ICONS: Record<RuntimeState, string> = {
  stopped: '$(circle-slash)',
  starting: '$(sync~spin)',
  running: '$(pulse)',
  stopping: '$(sync~spin)',
  failed: '$(error)',
};

export class StatusBar implements vscode.Disposable {
  private readonly runtime = vscode.window.createStatusBarItem('loom.runtime', vscode.StatusBarAlignment.Left, 10);
  private readonly agent = vscode.window.createStatusBarItem('loom.agentStatus', vscode.StatusBarAlignment.Left, 9);

  constructor() {
    this.runtime.name = 'Loom Runtime';
    this.runtime.command = 'loom.openDashboard';
    this.agent.name = 'Loom Agent Status';
    this.update('stopped', 0);
    this.runtime.show();
  }

  update(state: RuntimeState, agents: number, detail = '', trusted = true): void {
    const restricted = trusted ? '' : ' (restricted)';
    this.runtime.text = `${ICONS[state]} Loom${state === 'running' ? `: ${agents} agent${agents === 1 ? '' : 's'}` : ` ${state}`}${restricted}`;
    this.runtime.tooltip = [
      `Loom runtime ${state}${detail ? ` — ${detail}` : ''}.`,
      trusted ? '' : 'This workspace is not trusted: Loom spawns no agents and runs no shell commands here.',
      'Click to open the dashboard.',
    ]
      .filter(Boolean)
      .join('\n');
    this.runtime.backgroundColor = state === 'failed' ? new vscode.ThemeColor('statusBarItem.errorBackground') : undefined;
  }

  get text(): string {
    return this.runtime.text;
  }

  get command(): string | undefined {
    const c = this.runtime.command;
    return typeof c === 'string' ? c : c?.command;
  }

  get agentText(): string {
    return this.agent.text;
  }

  setAgentStatus(text: string, tooltip?: string): void {
    this.agent.text = text;
    this.agent.tooltip = tooltip;
    if (text) this.agent.show();
    else this.agent.hide();
  }

  dispose(): void {
    this.runtime.dispose();
    this.agent.dispose();
  }
}
