// The runtime's agent lifecycle events (topic agent.<id>.<kind>, runtime/agents/types.ts) as the
// window reads them: a line of the agent's output, or a change of state worth a line in the
// agent's channel and, for a failure, a notification. No vscode here, so it is unit-tested.
import { lifecycleTopic } from '../../runtime/contract/topics';

export type LifecycleNote =
  | { agentId: string; kind: 'log'; line: string }
  | { agentId: string; kind: string; reason: string; line: string; failure: boolean };

/**
 * What an event on agent.<id>.<kind> says; undefined for a topic that is not one. Only the runtime
 * publishes on these kinds (contract/topics.ts isRuntimeOwnTopic); an agent's other topics there,
 * its reply inbox among them, are not the runtime's word and not shown.
 */
export function readLifecycle(topic: string, payload: Buffer): LifecycleNote | undefined {
  const lifecycle = lifecycleTopic(topic);
  if (!lifecycle) return undefined;
  const { agentId, kind } = lifecycle;
  const text = payload.toString('utf8');
  if (kind === 'log') {
    try {
      const parsed = JSON.parse(text) as { line?: string; stream?: string };
      return { agentId, kind, line: parsed.stream === 'stderr' ? `[stderr] ${parsed.line}` : String(parsed.line) };
    } catch {
      return { agentId, kind, line: text }; // not JSON: shown as it came
    }
  }
  let reason = '';
  try {
    reason = String((JSON.parse(text) as { reason?: unknown }).reason ?? '');
  } catch {
    // no reason given
  }
  // The agent's own log says why it stopped, not only that it did.
  return { agentId, kind, reason, line: `— ${kind}${reason ? `: ${reason}` : ''}`, failure: isFailure(kind, reason) };
}

/** A stop the person did not ask for and that was not a clean exit, or restarts given up. */
function isFailure(kind: string, reason: string): boolean {
  return (
    kind === 'failed' ||
    (kind === 'stopped' && !!reason && !reason.startsWith('stop requested') && !/ code 0$/.test(reason))
  );
}

/** A supervised agent that stopped for good: restarts exhausted, or ended with an error and no restart. */
export function agentFailed(info: { state: string; lastError: string; supervised: boolean }): boolean {
  return info.state === 'failed' || (info.supervised && info.state === 'stopped' && info.lastError !== '');
}

/** A line of an agent's log ring (the agents:logs tool) as its channel shows it. */
export function ringLine(l: { stream: string; line: string }): string {
  return l.stream === 'stderr' ? `[stderr] ${l.line}` : l.line;
}
