// Scripts under agents/ that loom.toml does not declare, started from this window: the runtime
// runs them as ad-hoc agents (Runtime.StartAgent) with the same supervisor as declared ones —
// restarts, log ring, their own credential. With loom.runtime.keepAlive they outlive the window
// as the runtime does; without it the runtime stops them when this window's link ends.
import type * as grpc from '@grpc/grpc-js';
import type { AgentControlResponse__Output } from '../../runtime/proto/gen/loom/v1/AgentControlResponse';
import type { StartAgentRequest } from '../../runtime/proto/gen/loom/v1/StartAgentRequest';
import type { AgentInfo__Output } from '../../runtime/proto/types';
import type { RuntimeConnection } from '../bridge/client';
import { UntrustedError } from '../errors';
import type { AgentEntry } from './catalog';

const START_TIMEOUT_MS = 30_000;

/** What starting and stopping scripts needs of the window. */
export interface ScriptAgentsHost {
  readonly trusted: boolean;
  /** loom.runtime.keepAlive: the scripts live as long as the runtime does. */
  readonly keepAlive: boolean;
  /** The window's link, starting (or attaching to) the runtime first when needed. */
  ensureConnection(): Promise<RuntimeConnection>;
  /** The API keys from secret storage, as environment variables. */
  apiKeys(): Promise<Record<string, string>>;
  /** Says (once) when the agents' interpreter cannot run the SDK. */
  checkPython(): void;
}

/** The StartAgent request for a script entry of the catalog. */
export function startRequest(entry: AgentEntry, keepAlive: boolean, env: Record<string, string>): StartAgentRequest {
  if (!entry.script) throw new Error(`agent "${entry.id}" has no script to run`);
  return { agentId: entry.id, script: entry.script, args: [], cwd: '', env, keepAlive, restart: '' };
}

/** Starts, stops or restarts a script agent through the runtime; resolves to its state after. */
export async function controlScriptAgent(
  host: ScriptAgentsHost,
  entry: AgentEntry,
  action: 'start' | 'stop' | 'restart',
): Promise<AgentInfo__Output | null> {
  if (action !== 'stop' && !host.trusted) throw new UntrustedError(`agent "${entry.id}" is not started`);
  const conn = await host.ensureConnection();
  const known = (await conn.listAgents()).find((a) => a.agentId === entry.id && a.supervised);
  if (action === 'stop') return known ? conn.controlAgent(entry.id, 'stop') : null;
  if (action === 'restart' && known) return conn.controlAgent(entry.id, 'restart');
  host.checkPython();
  const request = startRequest(entry, host.keepAlive, await host.apiKeys());
  const res = await new Promise<AgentControlResponse__Output>((resolve, reject) =>
    conn.runtime.StartAgent(
      request,
      { deadline: Date.now() + START_TIMEOUT_MS },
      (err: grpc.ServiceError | null, out?: AgentControlResponse__Output) =>
        err ? reject(new Error(err.details || err.message)) : resolve(out!),
    ),
  );
  if (!res.success) throw new Error(res.errorMessage || `could not start agent "${entry.id}"`);
  return res.agent;
}
