// loom.v1.MemoryService (the reference's wire, memory.proto): agent memory by session, kept in
// the runtime's store. The semantics are runtime/memory/'s; here, who may reach which session
// (Access.memorySession) and who wrote what (the caller's identity, stored with each record).
import type * as grpc from '@grpc/grpc-js';
import type { Logger } from '../log';
import { validSessionId, type Memory } from '../memory';
import type { MemoryServiceHandlers } from '../proto/gen/loom/v1/MemoryService';
import { holderOf, type Access } from './identity';
import { codedUnary as unary } from './unary';

export function memoryService(memory: Memory, access: Access, log: Logger): MemoryServiceHandlers {
  /** The session a call names, if its credential reaches it, and the writer to record. */
  const reach = (sessionId: string, call: { metadata: grpc.Metadata }) => {
    const who = access.identify(call.metadata);
    return { session: access.memorySession(who, validSessionId(sessionId)), by: holderOf(who) };
  };
  return {
    SavePlan: unary(log, 'SavePlan', async (req, call) => {
      const { session, by } = reach(req.sessionId, call);
      const plan = await memory.savePlan(session, req.plan, by);
      return { success: true, planHash: plan.planHash };
    }),
    GetRecentPlans: unary(log, 'GetRecentPlans', async (req, call) => ({
      plans: await memory.recentPlans(reach(req.sessionId, call).session, req.symbol, req.limit),
      success: true,
    })),
    CheckDuplicate: unary(log, 'CheckDuplicate', async (req, call) => {
      const { session, by } = reach(req.sessionId, call);
      const found = await memory.checkDuplicate(session, req.plan, req.timeWindowSec, by);
      return found
        ? { isDuplicate: true, duplicatePlan: found.plan, timeSinceDuplicateMs: found.sinceMs }
        : { isDuplicate: false };
    }),
    MarkExecuted: unary(log, 'MarkExecuted', async (req, call) => {
      const { session, by } = reach(req.sessionId, call);
      await memory.markExecuted(session, req.planHash, req.execution, by);
      return { success: true };
    }),
    CheckExecuted: unary(log, 'CheckExecuted', async (req, call) => {
      const { session, by } = reach(req.sessionId, call);
      const execution = await memory.checkExecuted(session, req.planHash, by);
      return execution ? { isExecuted: true, execution } : { isExecuted: false };
    }),
    GetExecutionStats: unary(log, 'GetExecutionStats', async (req, call) =>
      memory.executionStats(reach(req.sessionId, call).session, req.symbol),
    ),
    AppendEvent: unary(log, 'AppendEvent', async (req, call) => {
      const { session, by } = reach(req.sessionId, call);
      await memory.appendEvent(session, req.event, req.metadata, by);
      return { success: true };
    }),
    // No session named: an agent's credential searches its own, the others every session.
    Retrieve: unary(log, 'Retrieve', async (req, call) => {
      const who = access.identify(call.metadata);
      const session = req.sessionId
        ? access.memorySession(who, validSessionId(req.sessionId))
        : who.kind === 'agent'
          ? who.agentId
          : undefined;
      return { results: await memory.retrieve(session, req.query, req.k, req.filters), success: true };
    }),
    SummarizeEpisode: unary(log, 'SummarizeEpisode', async (req, call) => {
      const { summary, eventCount } = await memory.summarize(reach(req.sessionId, call).session, req.maxEvents);
      return { summary, eventCount, success: true };
    }),
  };
}
