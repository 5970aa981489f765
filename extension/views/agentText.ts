// The words of an Agents tree row, apart from the tree: no vscode here, so they are unit-tested.

export interface AgentFacts {
  state?: string;
  pid?: number;
  restarts?: number;
  lastHeartbeatMs?: number;
  /** Run by the runtime's supervisor without a loom.toml table (a script started from the window). */
  adHoc?: boolean;
  /** With [cluster]: the runtime (node) the agent runs on. */
  node?: string;
  /** Its running process is confined by the OS ([agents.<id>] or [adhoc_agents] isolation). */
  isolated?: boolean;
}

/** "heartbeat 4s ago" (seconds, then minutes, then hours); "no heartbeat" before the first. */
export function heartbeatText(lastMs: number, now: number): string {
  if (!lastMs) return 'no heartbeat';
  const s = Math.max(0, Math.round((now - lastMs) / 1000));
  if (s < 120) return `heartbeat ${s}s ago`;
  const m = Math.round(s / 60);
  return m < 120 ? `heartbeat ${m}m ago` : `heartbeat ${Math.round(m / 60)}h ago`;
}

/**
 * "connected · pid 123 · 1 restart · heartbeat 4s ago", "connected · ad-hoc · isolated · pid 123 · …"
 * for an ad-hoc agent whose process the OS confines; the heartbeat only while the agent is up.
 */
export function agentDescription(info: AgentFacts | undefined, now: number): string {
  const state = info?.state || 'not started';
  const parts = [state];
  if (info?.adHoc) parts.push('ad-hoc');
  if (info?.isolated) parts.push('isolated');
  if (info?.node) parts.push(`on ${info.node}`);
  if (info?.pid) parts.push(`pid ${info.pid}`);
  if (info?.restarts) parts.push(`${info.restarts} restart${info.restarts === 1 ? '' : 's'}`);
  if (state === 'connected') parts.push(heartbeatText(Number(info?.lastHeartbeatMs ?? 0), now));
  return parts.join(' · ');
}
