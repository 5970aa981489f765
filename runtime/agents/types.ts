// What the agents part shares with the bridge and the composition root.
import type { DeliveryHandler, QoS } from '../bus';
import type { LifecycleKind } from '../contract/topics';

/** starting, connected, disconnected (from the directory); crashed, backoff, stopped, failed (from the supervisor). */
export type AgentState = 'starting' | 'connected' | 'disconnected' | 'crashed' | 'backoff' | 'stopped' | 'failed';

/** A call the runtime routes to the agent that provides a tool (loom.v1.ToolCall, as plain data). */
export interface OutgoingToolCall {
  id: string;
  name: string;
  arguments: string;
  headers: Record<string, string>;
  timeoutMs: number;
  correlationId: string;
}

/**
 * How a client speaks. Loom's own clients declare "loom" (NATS topic rules, the concrete topic
 * on each delivery, one live stream per id: a newer one replaces the older). Everyone else gets
 * the reference's: a trailing ".*" matches any depth, a delivery names the pattern it matched,
 * several streams may share an id, and tool errors read as the reference words them.
 */
export type Dialect = 'loom' | 'reference';

/** The live link to a connected agent (the bridge's event stream implements it). */
export interface AgentConnection {
  readonly agentId: string;
  readonly dialect: Dialect;
  /** The client's address and port: calls on the same gRPC channel share it. */
  readonly peer: string;
  /**
   * A bus handler that writes deliveries of this QoS to the agent, waiting while the link is
   * full; `pattern` is the subscription as the agent wrote it (the reference names it on deliveries).
   */
  handlerFor(qos: QoS, pattern: string): DeliveryHandler;
  /** Sends a call to the agent; throws a ToolError when the agent is not taking calls (it has not read those sent). */
  sendToolCall(call: OutgoingToolCall): void;
  /** The call of `id` sent by sendToolCall is over unanswered: the agent may stop working on it. */
  cancelToolCall(id: string): void;
  /** Ends the link, telling the agent why. */
  close(code: string, message: string): void;
}

export interface AgentInfoView {
  agentId: string;
  state: AgentState;
  topics: string[];
  tools: string[];
  metadata: Record<string, string>;
  lastHeartbeatMs: number;
  pid: number;
  restarts: number;
  supervised: boolean;
  lastError: string;
  /** Run by the supervisor without a loom.toml table (Runtime.StartAgent). */
  adHoc?: boolean;
  /** With [cluster]: the runtime (node) the agent belongs to. */
  node?: string;
  /** Its running process is confined by the OS ([agents.<id>] or [adhoc_agents] isolation). */
  isolated?: boolean;
}

/**
 * Lifecycle events published on the bus, topic `agent.<id>.<kind>`, JSON payload
 * `{agent_id, state, reason?, pid?, ...}`:
 *   registered, connected, disconnected (stream ended or heartbeat timeout), replaced (a newer stream took the id)
 *   started (process spawned), crashed, restarting, stopped, failed (restarts given up), log (one line of output)
 */
export type { LifecycleKind };

export type LifecycleEmitter = (agentId: string, kind: LifecycleKind, payload: Record<string, unknown>) => void;
