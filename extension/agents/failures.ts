// "Loom: agent X failed: why", with the ways out: one notification per agent at a time (none
// again until the person dismisses it), so a crash loop does not pile them up.
import { join } from 'node:path';
import * as vscode from 'vscode';
import { notify } from '../notify';
import { plainText } from '../plainText';

export interface FailureNoticesHost {
  /** The window's failure notifications, oldest first (the API shows them to the tests). */
  readonly notices: string[];
  readonly workspace: string | undefined;
}

export class AgentFailureNotices {
  /** Agents with a failure notification on screen. */
  private readonly shown = new Set<string>();

  constructor(private readonly host: FailureNoticesHost) {}

  notify(agentId: string, kind: string, reason: string): void {
    if (this.shown.has(agentId)) return;
    this.shown.add(agentId);
    const message = plainText(`Loom: agent ${agentId} ${kind === 'failed' ? 'failed' : 'stopped'}: ${reason}`);
    this.host.notices.push(message);
    void notify('error', message, 'Show Logs', 'Restart Agent', 'Open loom.toml').then((choice) => {
      this.shown.delete(agentId);
      const ws = this.host.workspace;
      if (choice === 'Show Logs') void vscode.commands.executeCommand('loom.showAgentLogs', agentId);
      if (choice === 'Restart Agent') void vscode.commands.executeCommand('loom.restartAgent', agentId);
      if (choice === 'Open loom.toml' && ws)
        void vscode.window.showTextDocument(vscode.Uri.file(join(ws, 'loom.toml')));
    });
  }
}
