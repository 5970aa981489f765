// The agents part: the directory of connected agents and the supervisor of spawned ones,
// seen together as one list (loom.v1.AgentInfo).
import type { AgentDirectory } from './directory';
import type { Supervisor } from './supervisor';
import type { AgentInfoView, AgentState } from './types';

export { AgentDirectory, clientOwnId, validateAgentId, type AgentRegistration, type ProviderAnswer } from './directory';
export { Supervisor, SupervisorError, UNTRUSTED_REASON, resolveCommand } from './supervisor';
export { LogRing, type LogLine } from './logRing';
export { adHocConfig, AdHocRequestError, type AdHocRequest } from './adhoc';
export { registerAgentTools } from './tools';
export { reapOrphans, runtimeMark } from './orphans';
export type * from './types';

/** One entry per agent id, connected or supervised or both; a live process reports the link's state. */
export function describeAgents(directory: AgentDirectory, supervisor: Supervisor | undefined): AgentInfoView[] {
  const byId = new Map(directory.list().map((a) => [a.agentId, a]));
  for (const proc of supervisor?.list() ?? []) {
    const linked = byId.get(proc.agentId);
    // A running process is "starting" until it links up; a link it has not made cannot show.
    const state: AgentState =
      proc.state !== 'running' ? proc.state : !linked || linked.state === 'disconnected' ? 'starting' : linked.state;
    byId.set(proc.agentId, {
      agentId: proc.agentId,
      topics: linked?.topics ?? [],
      tools: linked?.tools ?? [],
      metadata: linked?.metadata ?? {},
      lastHeartbeatMs: linked?.lastHeartbeatMs ?? 0,
      state,
      pid: proc.pid,
      restarts: proc.restarts,
      supervised: true,
      lastError: proc.lastError,
      adHoc: proc.adHoc,
      isolated: proc.isolated,
    });
  }
  return [...byId.values()].sort((a, b) => a.agentId.localeCompare(b.agentId));
}
