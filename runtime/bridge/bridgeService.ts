// loom.v1.Bridge: the reference service, wire-compatible.
import type { Bus } from '../bus';
import type { AgentDirectory } from '../agents';
import type { Logger } from '../log';
import type { BridgeHandlers } from '../proto/gen/loom/v1/Bridge';
import type { ToolRegistry } from '../tools';
import { qosFromWire, toolFromWire } from './convert';
import { serveEventStream } from './eventStream';
import { callTool } from './toolsService';
import { holderOf, type Access } from './identity';
import { agentIdFrom, errorMessageOf, unary } from './unary';
import { messageOf } from '../contract/errors';
import type { RefusalBudget } from './refusalBudget';

/** AgentRegisterResponse.features: what a newer client may use (loom.proto says what each means). */
export const RUNTIME_FEATURES = ['stream_tool_calls'] as const;

export interface BridgeServiceDeps {
  bus: Bus;
  directory: AgentDirectory;
  tools: ToolRegistry;
  access: Access;
  /** Refusals on EventStream are counted against their caller as the interceptor counts statuses (auth.ts). */
  budget: RefusalBudget;
  log: Logger;
  maxBatch: number;
  maxMessageBytes: number;
}

export function bridgeService(deps: BridgeServiceDeps): BridgeHandlers {
  const { directory, access, log } = deps;
  return {
    RegisterAgent: unary(log, 'RegisterAgent', (req, call) => {
      const who = access.identify(call.metadata);
      try {
        const refused = access.refuseRegistration(who, req.agentId);
        if (refused) throw new Error(refused);
        directory.register(
          {
            agentId: req.agentId,
            topics: req.subscribedTopics,
            qos: qosFromWire(req.qos),
            tools: req.tools.map(toolFromWire),
            metadata: req.metadata,
          },
          holderOf(who),
        );
        return { success: true, errorMessage: '', features: [...RUNTIME_FEATURES] };
      } catch (err) {
        log.warn('registration refused', { agent: req.agentId, error: messageOf(err) });
        return { success: false, errorMessage: errorMessageOf(err) };
      }
    }),
    EventStream: (call) => serveEventStream(call, deps),
    ForwardToolCall: unary(log, 'ForwardToolCall', (req, call) => callTool(deps.tools, access, req, call)),
    Heartbeat: unary(log, 'Heartbeat', (req, call) => {
      const id = access.actingAs(
        access.identify(call.metadata),
        req.agentId || agentIdFrom(call.metadata),
        'Heartbeat',
      );
      if (!id) {
        directory.touchPeer(call.getPeer());
        return { timestampMs: Date.now(), status: 'ok' };
      }
      return { timestampMs: Date.now(), status: directory.touch(id) ? 'ok' : 'unknown_agent' };
    }),
  };
}
