// loom.v1.Runtime: run-time subscriptions for any agent, stats, the agent list and control,
// ad-hoc agents (StartAgent: run by the same supervisor, bound to the caller's stream unless kept
// alive), one-shot publish, the live feed for the dashboard, and the MCP servers' states and restart.
import * as grpc from '@grpc/grpc-js';
import {
  adHocConfig,
  AdHocRequestError,
  describeAgents,
  type AgentDirectory,
  type AgentInfoView,
  type Supervisor,
} from '../agents';
import type { Bus } from '../bus';
import type { Logger } from '../log';
import { mcpStateToWire, type McpManager } from '../mcp';
import type { RuntimeHandlers } from '../proto/gen/loom/v1/Runtime';
import { resolveFeedOptions, skipWhileBlocked, type Feed, type ResolvedFeedOptions } from '../feed';
import { eventBytes, readField } from '../bus';
import { eventFromWire, qosFromWire, refusalMessage, SenderMismatch } from './convert';
import { assertClientTopic } from '../contract/topics';
import { holderOf, type Access } from './identity';
import { Undecodable } from './lenientDecoding';
import { agentIdFrom, errorMessageOf, invalidArgument, StatusError, statusDetails, unary } from './unary';
import { messageOf } from '../contract/errors';

export interface RuntimeServiceDeps {
  bus: Bus;
  directory: AgentDirectory;
  /** Absent until the supervisor exists (it needs the bridge's address). */
  supervisor: () => Supervisor | undefined;
  feed: Feed;
  access: Access;
  log: Logger;
  /** Re-reads loom.toml (an agent declared a moment ago is known before it is refused). */
  reloadConfig?: () => Promise<unknown> | undefined;
  /** The MCP servers' states; absent until MCP has started (and in runtimes without it). */
  mcp?: () => Pick<McpManager, 'states' | 'state' | 'restart'> | undefined;
  /** The agent list when it is more than this runtime's (with [cluster]: every runtime's). */
  listAgents?: () => AgentInfoView[];
}

const ACTIONS = ['start', 'stop', 'restart'] as const;
/** loom.v1.FeedRequest's field names, for the errors resolveFeedOptions throws. */
const FEED_REQUEST_FIELDS = {
  maxEvents: 'max_events_per_update',
  intervalMs: 'interval_ms',
  topicFilter: 'topic_filter',
  backlog: 'backlog',
  afterSeq: 'after_seq',
};

/**
 * Publish calls of one credential that have not been taken by the bus yet. A batched subscriber
 * that is full holds its publishers (that is its QoS), and unary calls have no stream to pause:
 * 1 500 concurrent 3.9 MB publishes to a subscription nobody read took the heap to 9 GB. Past
 * MAX_WAITING_PUBLISHES, or MAX_WAITING_PUBLISH_BYTES of events (payload, metadata and the
 * other strings, as the bus counts them), one caller's are refused.
 */
export const MAX_WAITING_PUBLISHES = 256;
export const MAX_WAITING_PUBLISH_BYTES = 16 * 1024 * 1024;

class WaitingPublishes {
  private readonly byHolder = new Map<string, { count: number; bytes: number }>();

  /** Counts one publish of `holder` until the returned function is called; throws RESOURCE_EXHAUSTED past the limits. */
  enter(holder: string, bytes: number, topic: string): () => void {
    const now = this.byHolder.get(holder) ?? { count: 0, bytes: 0 };
    if (now.count > 0 && (now.count >= MAX_WAITING_PUBLISHES || now.bytes + bytes > MAX_WAITING_PUBLISH_BYTES))
      throw new StatusError(
        grpc.status.RESOURCE_EXHAUSTED,
        statusDetails(
          `Publish to "${topic}" refused: ${now.count} publishes of this caller (${now.bytes} bytes of events) already wait for a full batched subscriber; at most ${MAX_WAITING_PUBLISHES} and ${MAX_WAITING_PUBLISH_BYTES} bytes wait at once. Wait for them to be taken`,
        ),
      );
    now.count++;
    now.bytes += bytes;
    this.byHolder.set(holder, now);
    return () => {
      now.count--;
      now.bytes -= bytes;
      if (now.count === 0) this.byHolder.delete(holder);
    };
  }
}

export function runtimeService(deps: RuntimeServiceDeps): RuntimeHandlers {
  const { bus, directory, feed, access, log } = deps;
  const waiting = new WaitingPublishes();
  const agents = () => deps.listAgents?.() ?? describeAgents(directory, deps.supervisor());
  const agentOf = (given: string, call: grpc.ServerUnaryCall<unknown, unknown>) =>
    access.subscriber(access.identify(call.metadata), given || agentIdFrom(call.metadata));
  const ownerOnly = (call: { metadata: grpc.Metadata }, what: string) =>
    access.requireOwner(access.identify(call.metadata), what);
  // What an MCP server said on stderr is shown to the person's credentials only (McpServerState.stderr);
  // a caller without one may be an agent that left its credential out.
  const mcpServersFor = (call: { metadata: grpc.Metadata }) => {
    const kind = access.identify(call.metadata).kind;
    const audience = kind === 'owner' || kind === 'window' ? 'person' : 'agent';
    return (deps.mcp?.()?.states() ?? []).map((state) => mcpStateToWire(state, audience));
  };
  // An ad-hoc agent's id is its process's alone; one started without keep_alive ends with the
  // link of the caller that started it.
  access.supervisedBy((id) => !!deps.supervisor()?.isAdHoc(id));
  directory.onLinkEnded((id) => {
    deps
      .supervisor()
      ?.linkEnded(id)
      .catch((err: unknown) => log.warn('ad-hoc agents not stopped', { link: id, error: messageOf(err) }));
  });

  return {
    Subscribe: unary(log, 'Subscribe', (req, call) => {
      checkQos(req.qos);
      try {
        const { subscriptionId } = directory.subscribe(agentOf(req.agentId, call), req.pattern, qosFromWire(req.qos));
        return { requestId: req.requestId, subscriptionId, success: true };
      } catch (err) {
        if (err instanceof StatusError) throw err;
        return { requestId: req.requestId, success: false, errorMessage: errorMessageOf(err) };
      }
    }),
    Unsubscribe: unary(log, 'Unsubscribe', (req, call) => {
      if (!req.pattern && !req.subscriptionId) throw invalidArgument('give a pattern or a subscription_id');
      try {
        const removed = directory.unsubscribe(agentOf(req.agentId, call), {
          pattern: req.pattern || undefined,
          subscriptionId: req.subscriptionId || undefined,
        });
        return { requestId: req.requestId, success: true, removed };
      } catch (err) {
        if (err instanceof StatusError) throw err;
        return { requestId: req.requestId, success: false, errorMessage: errorMessageOf(err) };
      }
    }),
    GetStats: unary(log, 'GetStats', async (_req, call) => ({
      ...(await feed.stats(10_000)),
      mcpServers: mcpServersFor(call),
    })),
    ListAgents: unary(log, 'ListAgents', () => ({ agents: agents() })),
    ControlAgent: unary(log, 'ControlAgent', async (req, call) => {
      ownerOnly(call, 'ControlAgent');
      const supervisor = deps.supervisor();
      const action = req.action as (typeof ACTIONS)[number];
      if (!ACTIONS.includes(action))
        throw invalidArgument(`action must be one of ${ACTIONS.join(', ')} (got "${req.action}")`);
      try {
        if (supervisor && !supervisor.has(req.agentId)) await deps.reloadConfig?.();
        if (!supervisor?.has(req.agentId))
          throw new Error(
            `no agent "${req.agentId}" is declared in loom.toml ([agents.${req.agentId}]) or was started with StartAgent; only supervised agents can be controlled`,
          );
        if (action === 'start') supervisor.start(req.agentId);
        else if (action === 'stop') await supervisor.stop(req.agentId);
        else await supervisor.restart(req.agentId);
        return { success: true, agent: agents().find((a) => a.agentId === req.agentId) };
      } catch (err) {
        return {
          success: false,
          errorMessage: errorMessageOf(err),
          agent: agents().find((a) => a.agentId === req.agentId),
        };
      }
    }),
    StartAgent: unary(log, 'StartAgent', async (req, call) => {
      const who = access.identify(call.metadata);
      access.requireAgentStarter(who, 'StartAgent');
      const supervisor = deps.supervisor();
      if (!supervisor)
        throw new StatusError(
          grpc.status.UNAVAILABLE,
          'StartAgent: the runtime is still starting its supervisor; try again',
        );
      let config;
      try {
        config = await adHocConfig(
          {
            agentId: req.agentId,
            script: req.script,
            args: req.args,
            cwd: req.cwd,
            env: req.env,
            restart: req.restart,
          },
          supervisor.workspace,
        );
      } catch (err) {
        throw err instanceof AdHocRequestError ? invalidArgument(err.message) : err;
      }
      // Without keep_alive the agent is bound to the caller's live link: the window's `vscode`,
      // or the id the workspace token states in x-loom-agent-id.
      let boundTo: string | undefined;
      if (!req.keepAlive) {
        boundTo = access.actingAs(who, agentIdFrom(call.metadata), 'StartAgent');
        if (!boundTo)
          throw new StatusError(
            grpc.status.FAILED_PRECONDITION,
            "StartAgent without keep_alive stops the agent when the caller's event stream ends, and this call names none: state its agent id in x-loom-agent-id, or set keep_alive",
          );
        if (directory.liveHolder(boundTo) !== holderOf(who))
          throw new StatusError(
            grpc.status.FAILED_PRECONDITION,
            `StartAgent without keep_alive stops the agent when the stream of "${boundTo}" ends, and "${boundTo}" has no live stream of this caller: open it first, or set keep_alive`,
          );
      }
      const holder = directory.liveHolder(req.agentId);
      try {
        if (holder !== undefined && holder !== `agent:${req.agentId}`)
          throw new Error(
            `agent id "${req.agentId}" is live, registered by another client: stop that one or choose another id`,
          );
        supervisor.startAdHoc(req.agentId, config, boundTo);
        log.info('ad-hoc agent started', {
          agent: req.agentId,
          script: config.args[0],
          boundTo: boundTo ?? '(kept alive)',
        });
        return { success: true, agent: agents().find((a) => a.agentId === req.agentId) };
      } catch (err) {
        return {
          success: false,
          errorMessage: errorMessageOf(err),
          agent: agents().find((a) => a.agentId === req.agentId),
        };
      }
    }),
    Publish: unary(log, 'Publish', async (req, call) => {
      checkEventNumbers(req.event);
      const who = access.identify(call.metadata);
      const stated = agentIdFrom(call.metadata);
      const named = readField({ metadata: req.event?.metadata ?? {} }, 'sender') ?? '';
      if (stated && named && stated !== named)
        throw invalidArgument(
          `Publish: the event names sender "${named}" but the call's x-loom-agent-id is "${stated}"`,
        );
      try {
        assertClientTopic(req.topic);
      } catch (err) {
        throw new StatusError(grpc.status.PERMISSION_DENIED, `Publish: ${messageOf(err)}`);
      }
      let event;
      try {
        event = eventFromWire(
          req.event,
          access.actingAs(who, stated || named, 'Publish') || 'runtime-client',
          who.kind === 'open',
        );
      } catch (err) {
        throw err instanceof SenderMismatch
          ? new StatusError(grpc.status.PERMISSION_DENIED, `Publish: ${err.message}`)
          : err;
      }
      let refused: 'ttl_expired' | 'hop_limit' | undefined;
      const release = waiting.enter(holderOf(who), eventBytes(req.topic, event, event.metadata), req.topic);
      try {
        refused = (await bus.publish(req.topic, event)).refused;
      } catch (err) {
        throw invalidArgument(`publish to "${req.topic}" refused: ${messageOf(err)}`);
      } finally {
        release();
      }
      if (refused) throw new StatusError(grpc.status.FAILED_PRECONDITION, refusalMessage(req.topic, event.id, refused));
      return { messageId: event.id };
    }),
    ListMcpServers: unary(log, 'ListMcpServers', (_req, call) => ({ servers: mcpServersFor(call) })),
    ControlMcpServer: unary(log, 'ControlMcpServer', async (req, call) => {
      ownerOnly(call, 'ControlMcpServer');
      if (req.action !== 'restart') throw invalidArgument(`action must be "restart" (got "${req.action}")`);
      const mcp = deps.mcp?.();
      const current = () => {
        const state = mcp?.state(req.name);
        return state ? mcpStateToWire(state, 'person') : undefined; // ControlMcpServer is the person's
      };
      try {
        if (!mcp) throw new Error('MCP has not started yet');
        await mcp.restart(req.name);
        return { success: true, server: current() };
      } catch (err) {
        return { success: false, errorMessage: errorMessageOf(err), server: current() };
      }
    }),
    Feed: (call) => {
      // Validated before the stream starts; 0 = default for the two numbers the proto says so of.
      // The feed shows every event and tool call on the bus: the person's view, not an agent's.
      let options: ResolvedFeedOptions;
      try {
        ownerOnly(call, 'Feed');
        const request: unknown = call.request;
        if (request instanceof Undecodable) throw invalidArgument(request.describe());
        options = resolveFeedOptions(
          {
            maxEvents: call.request.maxEventsPerUpdate,
            intervalMs: call.request.intervalMs,
            topicFilter: call.request.topicFilter || undefined,
            backlog: call.request.backlog,
            afterSeq: Number(call.request.afterSeq),
          },
          FEED_REQUEST_FIELDS,
        );
      } catch (err) {
        call.emit('error', {
          code: err instanceof StatusError ? err.status : grpc.status.INVALID_ARGUMENT,
          details: statusDetails(messageOf(err)),
        });
        return;
      }
      const listening = feed.listen(
        skipWhileBlocked(
          (update) => call.write(update),
          (resume) => call.once('drain', resume),
        ),
        {
          maxEvents: options.maxEvents,
          intervalMs: options.intervalMs,
          topicFilter: call.request.topicFilter || undefined,
          backlog: options.backlog,
          afterSeq: options.afterSeq,
        },
      );
      const stop = () => listening.dispose();
      call.on('cancelled', stop);
      call.on('close', stop);
      call.on('error', stop);
    },
  };
}

const QOS_NAMES = ['QOS_REALTIME', 'QOS_BATCHED', 'QOS_BACKGROUND'];

/** A QoSLevel the proto does not define (a number past the enum arrives as the number) is refused, not read as realtime. */
function checkQos(qos: string | number | null | undefined): void {
  if (qos === undefined || qos === null) return;
  const known =
    typeof qos === 'number' ? Number.isInteger(qos) && qos >= 0 && qos < QOS_NAMES.length : QOS_NAMES.includes(qos);
  if (!known)
    throw invalidArgument(
      `qos must be QOS_REALTIME (0), QOS_BATCHED (1) or QOS_BACKGROUND (2), got ${JSON.stringify(qos)}`,
    );
}

/** How far ahead of this clock an event's timestamp_ms may be (a later one would stretch its ttl). */
const MAX_FUTURE_MS = 24 * 3600_000;

/**
 * The numbers of a published event: confidence is a float, so NaN and ±Infinity do arrive over
 * protobuf; timestamp_ms is 0 (now) or ms since the epoch, not before it and at most a day ahead.
 */
function checkEventNumbers(
  event: { confidence?: number | null; timestampMs?: number | string | null } | null | undefined,
): void {
  if (!event) return;
  const confidence = event.confidence ?? 0;
  if (!Number.isFinite(confidence))
    throw invalidArgument(`event.confidence must be a finite number, got ${confidence}`);
  const ts = Number(event.timestampMs ?? 0);
  if (!Number.isSafeInteger(ts) || ts < 0 || ts > Date.now() + MAX_FUTURE_MS) {
    throw invalidArgument(
      `event.timestamp_ms must be 0 (now) or ms since the epoch from 0 to a day from now, got ${String(event.timestampMs)}`,
    );
  }
}
