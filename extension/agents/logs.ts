// One "Loom Agent: <id>" channel per agent, fed by the runtime: every agent it supervises
// (declared in loom.toml, or ad-hoc from this window) writes to its log ring, which the channel
// reads once (agents:logs) and then follows line by line (agent.<id>.log on the window's stream).
import type * as vscode from 'vscode';
import type { RuntimeConnection } from '../bridge/client';
import { KeptLog } from '../runtime/runtimeLog';
import { readLifecycle, ringLine } from './lifecycle';

/** What the channels need of the window. */
export interface AgentLogsHost {
  readonly connection: RuntimeConnection | undefined;
  /** An agent stopped for good: the person is told (once per agent, see AgentFailureNotices). */
  agentFailed(agentId: string, kind: string, reason: string): void;
  /** Agent states changed: the views re-read them soon. */
  refreshSoon(): void;
}

export class AgentLogs implements vscode.Disposable {
  private readonly channels = new Map<string, KeptLog>();

  constructor(private readonly host: AgentLogsHost) {}

  /** Whether this window already has an output channel for the agent. */
  has(agentId: string): boolean {
    return this.channels.has(agentId);
  }

  channel(agentId: string): KeptLog {
    let channel = this.channels.get(agentId);
    if (!channel) {
      channel = new KeptLog(`Loom Agent: ${agentId}`);
      this.channels.set(agentId, channel);
    }
    return channel;
  }

  /** The channel of that name, for the test hooks. */
  named(name: string): KeptLog | undefined {
    return [...this.channels.values()].find((c) => c.name === name);
  }

  /** Fills a new channel with what the supervisor kept of the agent's output (agents:logs). */
  async backfill(agentId: string): Promise<void> {
    const conn = this.host.connection;
    if (!conn) return;
    const res = await conn.callTool('agents:logs', { agent_id: agentId, limit: 1000 });
    if (res.status !== 'TOOL_OK') return; // not supervised by the runtime (an agent run by hand)
    const { lines } = JSON.parse(res.output) as { lines: { stream: string; line: string }[] };
    const channel = this.channel(agentId);
    for (const l of lines) channel.info(ringLine(l));
  }

  /** An event on agent.<id>.<kind>: a line for the agent's channel, and a failure said once. */
  onLifecycle(topic: string, payload: Buffer): void {
    const note = readLifecycle(topic, payload);
    if (!note) return;
    this.channel(note.agentId).info(note.line);
    if (note.kind === 'log') return;
    if ('failure' in note && note.failure) this.host.agentFailed(note.agentId, note.kind, note.reason);
    this.host.refreshSoon();
  }

  dispose(): void {
    for (const c of this.channels.values()) c.dispose();
    this.channels.clear();
  }
}
