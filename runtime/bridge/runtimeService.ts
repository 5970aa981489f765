// loom.v1.Runtime: run-time subscriptions for any agent, stats, the agent list and control,
// one-shot publish, the live feed for the dashboard, and the MCP servers' states and restart.
import * as grpc from '@grpc/grpc-js';
import { describeAgents, type AgentDirectory, type Supervisor } from '../agents';
import type { Bus } from '../bus';
import type { Logger } from '../log';
import { mcpStateToWire, type McpManager } from '../mcp';
import type { RuntimeHandlers } from '../proto/gen/loom/v1/Runtime';
import { skipWhileBlocked, type Feed } from '../telemetry';
import { eventFromWire, qosFromWire, refusalMessage } from './convert';
import { agentIdFrom, invalidArgument, StatusError, unary } from './unary';

export interface RuntimeServiceDeps {
  bus: Bus;
  directory: AgentDirectory;
  /** Absent until the supervisor exists (it needs the bridge's address). */
  supervisor: () => Supervisor | undefined;
  feed: Feed;
  log: Logger;
  /** The MCP servers' states; absent until MCP has started (and in runtimes without it). */
  mcp?: () => Pick<McpManager, 'states' | 'state' | 'restart'> | undefined;
}

const ACTIONS = ['start', 'stop', 'restart'] as const;

export function runtimeService(deps: RuntimeServiceDeps): RuntimeHandlers {
  const { bus, directory, feed, log } = deps;
  const agents = () => describeAgents(directory, deps.supervisor());
  const agentOf = (given: string, call: grpc.ServerUnaryCall<unknown, unknown>) => {
    const id = given || agentIdFrom(call.metadata);
    if (!id) throw invalidArgument('agent_id is required (or gRPC metadata x-loom-agent-id)');
    return id;
  };

  return {
    Subscribe: unary(log, 'Subscribe', (req, call) => {
      try {
        const { subscriptionId } = directory.subscribe(agentOf(req.agentId, call), req.pattern, qosFromWire(req.qos));
        return { requestId: req.requestId, subscriptionId, success: true };
      } catch (err) {
        if (err instanceof StatusError) throw err;
        return { requestId: req.requestId, success: false, errorMessage: (err as Error).message };
      }
    }),
    Unsubscribe: unary(log, 'Unsubscribe', (req, call) => {
      if (!req.pattern && !req.subscriptionId) throw invalidArgument('give a pattern or a subscription_id');
      try {
        const removed = directory.unsubscribe(agentOf(req.agentId, call), { pattern: req.pattern || undefined, subscriptionId: req.subscriptionId || undefined });
        return { requestId: req.requestId, success: true, removed };
      } catch (err) {
        if (err instanceof StatusError) throw err;
        return { requestId: req.requestId, success: false, errorMessage: (err as Error).message };
      }
    }),
    GetStats: unary(log, 'GetStats', () => feed.stats(10_000)),
    ListAgents: unary(log, 'ListAgents', () => ({ agents: agents() })),
    ControlAgent: unary(log, 'ControlAgent', async (req) => {
      const supervisor = deps.supervisor();
      const action = req.action as (typeof ACTIONS)[number];
      if (!ACTIONS.includes(action)) throw invalidArgument(`action must be one of ${ACTIONS.join(', ')} (got "${req.action}")`);
      try {
        if (!supervisor?.has(req.agentId)) throw new Error(`no agent "${req.agentId}" is declared in loom.toml ([agents.${req.agentId}]); only supervised agents can be controlled`);
        if (action === 'start') supervisor.start(req.agentId);
        else if (action === 'stop') await supervisor.stop(req.agentId);
        else await supervisor.restart(req.agentId);
        return { success: true, agent: agents().find((a) => a.agentId === req.agentId) };
      } catch (err) {
        return { success: false, errorMessage: (err as Error).message, agent: agents().find((a) => a.agentId === req.agentId) };
      }
    }),
    Publish: unary(log, 'Publish', async (req, call) => {
      const event = eventFromWire(req.event, agentIdFrom(call.metadata) || 'runtime-client');
      let refused: 'ttl_expired' | 'hop_limit' | undefined;
      try {
        refused = (await bus.publish(req.topic, event)).refused;
      } catch (err) {
        throw invalidArgument(`publish to "${req.topic}" refused: ${(err as Error).message}`);
      }
      if (refused) throw new StatusError(grpc.status.FAILED_PRECONDITION, refusalMessage(req.topic, event.id, refused));
      return { messageId: event.id };
    }),
    ListMcpServers: unary(log, 'ListMcpServers', () => ({ servers: (deps.mcp?.()?.states() ?? []).map(mcpStateToWire) })),
    ControlMcpServer: unary(log, 'ControlMcpServer', async (req) => {
      if (req.action !== 'restart') throw invalidArgument(`action must be "restart" (got "${req.action}")`);
      const mcp = deps.mcp?.();
      const current = () => {
        const state = mcp?.state(req.name);
        return state ? mcpStateToWire(state) : undefined;
      };
      try {
        if (!mcp) throw new Error('MCP has not started yet');
        await mcp.restart(req.name);
        return { success: true, server: current() };
      } catch (err) {
        return { success: false, errorMessage: (err as Error).message, server: current() };
      }
    }),
    Feed: (call) => {
      const listening = feed.listen(
        skipWhileBlocked((update) => call.write(update), (resume) => call.once('drain', resume)),
        { maxEvents: call.request.maxEventsPerUpdate || undefined, intervalMs: call.request.intervalMs || undefined, topicFilter: call.request.topicFilter || undefined },
      );
      const stop = () => listening.dispose();
      call.on('cancelled', stop);
      call.on('close', stop);
      call.on('error', stop);
    },
  };
}
