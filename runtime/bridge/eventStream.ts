// One agent's EventStream: the reference protocol (Ack{message_id = agent_id} first, then
// publishes, pings, tool results) plus Loom's additions (batches, subscribe/unsubscribe, tool
// calls the agent makes, answered on the stream).
//
// Flow control: every write goes through `send`, which resolves only once the stream can take
// more: the writable side has drained and the deliveries written but not yet handed to HTTP/2
// stay within one message limit (grpc-js buffers up to 16 messages otherwise, 64 MiB at 4 MiB
// each, beyond any queue's byte budget). Bus handlers await it, so a slow client stalls its own
// subscriptions: batched queues fill and the publisher waits, realtime queues fill and drop
// (counted by the bus). Inbound,
// publishes run one after another and the stream is paused while too many wait for the bus,
// after a refusal its caller's budget does not cover (refusalBudget.ts), and while the client
// does not read what is sent to it: otherwise a client that asks and never reads (pings,
// unsubscribes, tool calls) has the answers pile up in the runtime until it runs out of memory.
import * as grpc from '@grpc/grpc-js';
import { DeliveryDropped, type Bus, type Delivery, type DeliveryHandler, type QoS } from '../bus';
import type { Logger } from '../log';
import {
  validateAgentId,
  type AgentConnection,
  type AgentDirectory,
  type Dialect,
  type OutgoingToolCall,
} from '../agents';
import type { ClientEvent__Output, ServerEvent, ToolCall__Output, ToolResult } from '../proto/types';
import { CallCancel, ToolError, type ToolRegistry } from '../tools';
import type { Delivery as WireDelivery } from '../proto/gen/loom/v1/Delivery';
import type { Publish__Output } from '../proto/gen/loom/v1/Publish';
import { eventFromWire, qosFromWire, refusalMessage } from './convert';
import { assertClientTopic } from '../contract/topics';
import { TOOL_CANCEL_METADATA_KEY } from '../contract/toolCancel';
import { dialectOf } from './dialect';
import { holderOf, type Access, type Identity } from './identity';
import { errorMessageOf, statusDetails } from './unary';
import { messageOf } from '../contract/errors';
import { Undecodable } from './lenientDecoding';
import { REFUSAL_ERROR_CODES, type RefusalBudget } from './refusalBudget';
import { callToolAs } from './toolsService';

export type EventStreamCall = grpc.ServerDuplexStream<ClientEvent__Output, ServerEvent>;

export interface EventStreamDeps {
  bus: Bus;
  directory: AgentDirectory;
  tools: ToolRegistry;
  access: Access;
  budget: RefusalBudget;
  log: Logger;
  maxBatch: number;
  maxMessageBytes: number;
}

/** Registration metadata by which a client says it understands ServerEvent.delivery_batch. */
export const BATCH_METADATA_KEY = 'loom.batch';
const MAX_PUBLISHES_IN_FLIGHT = 64;
/**
 * Tool calls an agent's stream runs at once (the Python SDK sends no more at once there, and the
 * rest as ForwardToolCall). More wait, up to MAX_QUEUED_STREAM_CALLS and one message's worth of
 * arguments, and past that are refused: the stream is not paused for them, which would also hold
 * back the tool results that calls of the agent's own tools wait for.
 */
export const MAX_STREAM_CALLS_IN_FLIGHT = 32;
const MAX_QUEUED_STREAM_CALLS = 256;
/**
 * Tool calls sent to a provider's stream that it has not read yet (written to the call, not yet
 * handed on by it), in count and in bytes. A call its caller gave up on no longer holds a place
 * among anyone's calls in flight, but its message stays buffered until the provider reads: a
 * provider that stopped reading took the runtime to 3.4 GB with 3 000 cancelled 1 MiB calls. Past
 * either limit a call to it is refused at once, as its provider is not taking calls.
 */
const MAX_UNREAD_CALLS = 1024;
const MAX_UNREAD_CALL_BYTES = 16 * 1024 * 1024;
/** The gRPC status a stream ends with after Error{code}. */
const CLOSE_STATUS: Record<string, grpc.status> = {
  replaced: grpc.status.OK,
  disconnected: grpc.status.UNAVAILABLE,
  heartbeat_timeout: grpc.status.UNAVAILABLE,
  shutdown: grpc.status.UNAVAILABLE,
  protocol: grpc.status.FAILED_PRECONDITION,
  permission_denied: grpc.status.PERMISSION_DENIED,
  invalid_agent: grpc.status.INVALID_ARGUMENT,
  invalid_topic: grpc.status.INVALID_ARGUMENT,
};
/** The longest request_id a subscribe or unsubscribe may carry (the SDK's are UUIDs). */
const MAX_REQUEST_ID = 256;
/** Room left for the envelope of a message beside the events it carries. */
const MESSAGE_OVERHEAD = 1024;

const utf8 = (text: string) => Buffer.byteLength(text, 'utf8');

/** A ToolResult's strings in UTF-8, plus room for field tags and lengths. */
function toolResultBytes(r: ToolResult): number {
  let bytes = MESSAGE_OVERHEAD + utf8(r.id ?? '') + utf8(r.output ?? '');
  if (r.error) {
    bytes += utf8(r.error.code ?? '') + utf8(r.error.message ?? '');
    for (const k in r.error.details ?? {}) bytes += utf8(k) + utf8(r.error.details![k]) + 8;
  }
  return bytes;
}

/** Payload, topic, metadata and the event's other strings in UTF-8, plus room for field tags and lengths. */
function estimateBytes(d: Delivery): number {
  const e = d.event;
  let bytes = MESSAGE_OVERHEAD + e.payload.length + utf8(d.topic) + utf8(e.id) + utf8(e.type) + utf8(e.source);
  for (const k in e.metadata) bytes += utf8(k) + utf8(e.metadata[k]) + 8;
  for (const t of e.tags) bytes += utf8(t) + 2;
  return bytes;
}

export function serveEventStream(call: EventStreamCall, deps: EventStreamDeps): void {
  const fromMetadata = call.metadata.get('x-loom-agent-id')[0];
  const stream = new AgentStream(call, deps, deps.access.identify(call.metadata));
  if (typeof fromMetadata === 'string' && fromMetadata) stream.bind(fromMetadata);
}

class AgentStream implements AgentConnection {
  agentId = '';
  readonly peer: string;
  readonly dialect: Dialect;
  private closed = false;
  private drainWait: Promise<void> | undefined;
  private releaseDrain: (() => void) | undefined;
  /** The writable side asked for 'drain'. */
  private needsDrain = false;
  /** Bytes of deliveries written to the call and not yet handed on by it. */
  private unflushedBytes = 0;
  /** Tool calls sent to the client that it has not read yet (MAX_UNREAD_CALLS), and their bytes. */
  private unreadCalls = 0;
  private unreadCallBytes = 0;
  private batching = false;
  /** The client understands ServerEvent.cancel_tool_call (the reference's does not). */
  private takesToolCancels = false;
  private pendingBatch: WireDelivery[] = [];
  private pendingBatchBytes = 0;
  private flushScheduled = false;
  private publishChain: Promise<void> = Promise.resolve();
  private publishesInFlight = 0;
  private callsInFlight = 0;
  /** The stream's tool calls running, with their ids: cancelled once it ends, as nobody is left to take their answers. */
  private readonly callsRunning = new Map<CallCancel, string>();
  private readonly callQueue: Array<{ req: ToolCall__Output; bytes: number }> = [];
  private queuedCallBytes = 0;
  /** Waits running after refusals its caller's budget did not cover (refusalBudget.ts): reading is held meanwhile. */
  private holds = 0;
  /** Reading is held until what was written drains (see the top of this file). */
  private heldForDrain = false;

  /** `who`: the identity the stream's credential proves; the id it binds to must be one it may take. */
  constructor(
    private readonly call: EventStreamCall,
    private readonly deps: EventStreamDeps,
    private readonly who: Identity,
  ) {
    this.peer = call.getPeer();
    this.dialect = dialectOf(call.metadata);
    call.on('data', (msg: ClientEvent__Output) => this.onMessage(msg));
    call.on('end', () => {
      this.finish('the client closed the stream');
      call.end();
    });
    call.on('error', (err) => this.finish(`stream error: ${err.message}`));
    call.on('cancelled', () => this.finish('the client cancelled the stream'));
    call.on('close', () => this.finish('stream closed'));
  }

  bind(agentId: string): void {
    const invalid = validateAgentId(agentId);
    if (invalid) return this.close('invalid_agent', invalid);
    const refused = this.deps.access.refuseRegistration(this.who, agentId);
    if (refused) {
      this.deps.log.warn('event stream refused', { agent: agentId, peer: this.peer, error: refused });
      this.close('permission_denied', refused);
      return;
    }
    try {
      this.agentId = agentId;
      // Known before attach, which asks for the delivery handlers.
      const metadata = this.deps.directory.get(agentId)?.metadata ?? {};
      this.batching = metadata[BATCH_METADATA_KEY] === '1';
      this.takesToolCancels = metadata[TOOL_CANCEL_METADATA_KEY] === '1';
      this.deps.directory.attach(agentId, this, holderOf(this.who));
    } catch (err) {
      this.close('invalid_agent', messageOf(err));
    }
  }

  handlerFor(qos: QoS, pattern: string): DeliveryHandler {
    // The reference names the subscription a delivery came through, not the event's topic.
    const named = this.dialect === 'reference' ? pattern : undefined;
    const deliver =
      qos === 'realtime' || !this.batching
        ? (d: Delivery) => this.deliverOne(d, named)
        : (d: Delivery) => this.deliverBatched(d, named);
    if (this.who.kind !== 'agent') return deliver;
    // A wildcard reaches other agents' inboxes and output too: those deliveries stop here.
    const who = this.who;
    return (d) => (this.deps.access.mayReceive(who, d.topic) ? deliver(d) : undefined);
  }

  sendToolCall(call: OutgoingToolCall): void {
    if (this.closed) return; // its calls are failed as it closes (the directory)
    let bytes = call.name.length + Buffer.byteLength(call.arguments) + call.id.length + call.correlationId.length;
    for (const [k, v] of Object.entries(call.headers)) bytes += k.length + v.length;
    if (
      this.unreadCalls > 0 &&
      (this.unreadCalls >= MAX_UNREAD_CALLS || this.unreadCallBytes + bytes > MAX_UNREAD_CALL_BYTES)
    )
      throw new ToolError(
        'unavailable',
        `agent ${this.agentId}, which provides ${call.name}, is not reading its stream: ${this.unreadCalls} tool calls sent to it (${this.unreadCallBytes} bytes) wait to be read, at most ${MAX_UNREAD_CALLS} and ${MAX_UNREAD_CALL_BYTES} bytes; try again when it reads`,
        { agent: this.agentId, reason: 'provider_not_reading' },
      );
    this.unreadCalls++;
    this.unreadCallBytes += bytes;
    void this.send({ toolCall: { ...call, qos: 'QOS_REALTIME' } }, 0, () => {
      this.unreadCalls--;
      this.unreadCallBytes -= bytes;
    });
  }

  cancelToolCall(id: string): void {
    if (this.takesToolCancels && !this.closed) void this.send({ cancelToolCall: { id } });
  }

  close(code: string, text: string): void {
    if (this.closed) return;
    const message = statusDetails(text);
    try {
      this.call.write({ err: { code, message } });
      const status = CLOSE_STATUS[code] ?? grpc.status.INTERNAL;
      // An error status makes every client (the reference one too) notice and reconnect; a
      // replaced stream ends OK so that two processes sharing an id do not take turns forever.
      if (status === grpc.status.OK) this.call.end();
      else this.call.emit('error', { code: status, details: message });
    } catch {
      // the transport is already gone; nothing left to tell the client
    }
    this.markClosed();
  }

  private onMessage(msg: ClientEvent__Output): void {
    if (this.closed) return;
    if ((msg as unknown) instanceof Undecodable) {
      const what = (msg as unknown as Undecodable).describe('a message that');
      if (!this.agentId)
        return this.close('protocol', `${what}; the first message on EventStream must be Ack{message_id = <agent id>}`);
      void this.send({ err: { code: 'invalid_message', message: what } });
      return;
    }
    try {
      if (!this.agentId) return this.expectAck(msg);
      this.deps.directory.touch(this.agentId);
      switch (msg.msg) {
        case 'publish':
          return this.enqueuePublishes([msg.publish!]);
        case 'publishBatch':
          return this.enqueuePublishes(msg.publishBatch?.publishes ?? []);
        case 'ping':
          void this.send({ pong: { timestampMs: Number(msg.ping?.timestampMs) || Date.now(), status: 'ok' } });
          return;
        case 'toolResult':
          return this.onToolResult(msg);
        case 'subscribe':
          return this.onSubscribe(msg);
        case 'unsubscribe':
          return this.onUnsubscribe(msg);
        case 'callTool':
          return this.onCallTool(msg.callTool!);
        case 'cancelTool':
          return this.onCancelTool(msg.cancelTool!.id);
        case 'ack':
          return; // acknowledgements of deliveries: nothing is redelivered, so nothing to do
        default:
          void this.send({
            err: { code: 'invalid_message', message: 'empty ClientEvent (no field of the msg oneof set)' },
          });
      }
    } catch (err) {
      this.deps.log.warn('stream message failed', { agent: this.agentId, error: messageOf(err) });
      void this.send({ err: { code: 'failed', message: messageOf(err) } });
    }
  }

  private expectAck(msg: ClientEvent__Output): void {
    const id = msg.msg === 'ack' ? msg.ack?.messageId : undefined;
    if (!id) {
      this.close(
        'protocol',
        'the first message on EventStream must be Ack{message_id = <agent id>} (or send gRPC metadata x-loom-agent-id)',
      );
      return;
    }
    this.bind(id);
  }

  private enqueuePublishes(publishes: Publish__Output[]): void {
    for (const p of publishes) {
      this.publishesInFlight++;
      if (this.publishesInFlight > MAX_PUBLISHES_IN_FLIGHT) this.call.pause();
      this.publishChain = this.publishChain
        .then(() => this.publishOne(p))
        .finally(() => {
          this.publishesInFlight--;
          if (this.publishesInFlight <= MAX_PUBLISHES_IN_FLIGHT / 2) this.maybeResume();
        });
    }
  }

  private async publishOne(p: Publish__Output): Promise<void> {
    try {
      assertClientTopic(p.topic);
      const event = eventFromWire(p.event, this.agentId, this.who.kind === 'open');
      const result = await this.deps.bus.publish(p.topic, event);
      if (result.refused)
        void this.send({ err: { code: result.refused, message: refusalMessage(p.topic, event.id, result.refused) } });
    } catch (err) {
      const named = (err as { code?: unknown }).code;
      const code = named === 'sender_mismatch' || named === 'reserved_topic' ? named : 'publish_failed';
      void this.send({ err: { code, message: `publish to "${p.topic}" refused: ${messageOf(err)}` } });
    }
  }

  /** The caller's next message is read only after the wait its refusals have earned. */
  private chargeRefusal(): void {
    const wait = this.deps.budget.charge(holderOf(this.who));
    if (wait === 0) return;
    this.holds++;
    this.call.pause();
    setTimeout(() => {
      this.holds--;
      this.maybeResume();
    }, wait).unref();
  }

  private maybeResume(): void {
    if (this.closed || this.holds > 0 || this.heldForDrain || this.publishesInFlight > MAX_PUBLISHES_IN_FLIGHT / 2)
      return;
    this.call.resume();
  }

  /** A tool call the agent makes on its stream: run as ForwardToolCall runs it, answered on the stream. */
  private onCallTool(req: ToolCall__Output): void {
    if (!req.id) {
      void this.send({
        err: {
          code: 'invalid_message',
          message: `call_tool of ${JSON.stringify(req.name)} has no id: its answer (call_tool_result) is matched by it`,
        },
      });
      return;
    }
    const bytes = utf8(req.arguments ?? '') + utf8(req.name ?? '') + MESSAGE_OVERHEAD;
    const full =
      this.callQueue.length >= MAX_QUEUED_STREAM_CALLS ||
      (this.callQueue.length > 0 && this.queuedCallBytes + bytes > this.deps.maxMessageBytes);
    if (full) {
      void this.send({
        callToolResult: {
          id: req.id,
          status: 'TOOL_ERROR',
          output: '',
          error: {
            code: 'unavailable',
            message: statusDetails(
              `${req.name} was not run: ${this.callQueue.length} tool calls of ${this.agentId} already wait on its stream behind the ${MAX_STREAM_CALLS_IN_FLIGHT} it runs at once; wait for answers, or call ForwardToolCall`,
            ),
            details: { reason: 'too_many_calls' },
          },
        },
      });
      return;
    }
    this.callQueue.push({ req, bytes });
    this.queuedCallBytes += bytes;
    this.startCalls();
  }

  /**
   * Starts waiting calls while fewer than MAX_STREAM_CALLS_IN_FLIGHT run and the client reads
   * what is sent: a call holds its place until its answer has drained, so a client that stops
   * reading has at most that many answers in the runtime's memory.
   */
  private startCalls(): void {
    while (
      this.callQueue.length &&
      this.callsInFlight < MAX_STREAM_CALLS_IN_FLIGHT &&
      !this.blocked() &&
      !this.closed
    ) {
      const { req, bytes } = this.callQueue.shift()!;
      this.queuedCallBytes -= bytes;
      this.callsInFlight++;
      void this.answerToolCall(req)
        .catch((err: unknown) =>
          this.deps.log.warn('stream tool call failed', { agent: this.agentId, error: messageOf(err) }),
        )
        .finally(() => {
          this.callsInFlight--;
          this.startCalls();
        });
    }
  }

  /** The agent gave up on a call: cancelled where it runs, answered at once (as cancelled) where it waits. */
  private onCancelTool(id: string): void {
    for (const [running, runningId] of this.callsRunning) if (runningId === id) running.cancel();
    for (let i = this.callQueue.length - 1; i >= 0; i--) {
      const { req, bytes } = this.callQueue[i]!;
      if (req.id !== id) continue;
      this.callQueue.splice(i, 1);
      this.queuedCallBytes -= bytes;
      void this.answerToolCall(req, true).catch((err: unknown) =>
        this.deps.log.warn('stream tool call failed', { agent: this.agentId, error: messageOf(err) }),
      );
    }
  }

  private async answerToolCall(req: ToolCall__Output, cancelled = false): Promise<void> {
    const running = new CallCancel();
    if (cancelled) running.cancel();
    this.callsRunning.set(running, req.id);
    let result: ToolResult;
    try {
      result = await callToolAs(
        this.deps.tools,
        () => this.deps.access.toolCaller(this.who, this.agentId),
        req,
        {},
        running,
      );
    } finally {
      this.callsRunning.delete(running);
    }
    const bytes = toolResultBytes(result);
    if (bytes <= this.deps.maxMessageBytes) return this.send({ callToolResult: result }, bytes);
    this.deps.log.warn('tool result over bridge.max_message_bytes refused', { tool: req.name, bytes });
    await this.send({
      callToolResult: {
        id: req.id,
        status: 'TOOL_ERROR',
        output: '',
        error: {
          code: 'too_large',
          // Bounded: the name is the caller's, and may be most of a message itself.
          message: statusDetails(
            `the answer of ${req.name} is about ${bytes} bytes, more than one message may carry ` +
              `(bridge.max_message_bytes = ${this.deps.maxMessageBytes}); the call itself ran. Ask for less ` +
              `(a tool's own size argument, a narrower range) or raise bridge.max_message_bytes`,
          ),
          details: { bytes: String(bytes), max_message_bytes: String(this.deps.maxMessageBytes) },
        },
      },
    });
  }

  private onToolResult(msg: ClientEvent__Output): void {
    const result = msg.toolResult!;
    if (!this.deps.directory.resolveToolCall(this.agentId, result.id, result)) {
      this.deps.log.debug('tool result for no waiting call (late or unknown id)', {
        agent: this.agentId,
        id: result.id,
      });
    }
  }

  /** A request id longer than any a client needs: refused without being echoed (a 1 MiB id came back in every answer). */
  private refusedRequestId(kind: string, requestId: string): boolean {
    if (requestId.length <= MAX_REQUEST_ID) return false;
    void this.send({
      err: {
        code: 'invalid_message',
        message: `${kind}: request_id is ${requestId.length} characters; at most ${MAX_REQUEST_ID} (it comes back in the answer)`,
      },
    });
    return true;
  }

  private onSubscribe(msg: ClientEvent__Output): void {
    const req = msg.subscribe!;
    if (this.refusedRequestId('subscribe', req.requestId)) return;
    try {
      const { subscriptionId } = this.deps.directory.subscribe(this.agentId, req.pattern, qosFromWire(req.qos));
      void this.send({ subscribed: { requestId: req.requestId, subscriptionId, success: true } });
    } catch (err) {
      void this.send({ subscribed: { requestId: req.requestId, success: false, errorMessage: errorMessageOf(err) } });
    }
  }

  private onUnsubscribe(msg: ClientEvent__Output): void {
    const req = msg.unsubscribe!;
    if (this.refusedRequestId('unsubscribe', req.requestId)) return;
    if (!req.pattern && !req.subscriptionId) {
      void this.send({
        unsubscribed: { requestId: req.requestId, success: false, errorMessage: 'give a pattern or a subscription_id' },
      });
      return;
    }
    const removed = this.deps.directory.unsubscribe(this.agentId, {
      pattern: req.pattern || undefined,
      subscriptionId: req.subscriptionId || undefined,
    });
    void this.send({ unsubscribed: { requestId: req.requestId, success: true, removed } });
  }

  /**
   * The delivery as sent, with an upper estimate of its encoded size. One the stream cannot
   * carry is refused: the client is told, and the bus counts it dropped (too_large), not delivered.
   */
  private toWire(d: Delivery, topic = d.topic): { wire: WireDelivery; bytes: number } {
    const bytes = estimateBytes(d);
    if (bytes > this.deps.maxMessageBytes) {
      const message = `event ${d.event.id} on ${d.topic} (${bytes} bytes) exceeds max message size ${this.deps.maxMessageBytes}`;
      this.deps.log.warn('delivery larger than the message limit skipped', {
        agent: this.agentId,
        topic: d.topic,
        bytes,
      });
      void this.send({ err: { code: 'too_large', message } });
      throw new DeliveryDropped('too_large', message);
    }
    return { wire: { topic, event: d.event, subscriptionId: d.subscriptionId }, bytes };
  }

  private deliverOne(d: Delivery, topic?: string): Promise<void> {
    const { wire, bytes } = this.toWire(d, topic);
    return this.send({ delivery: wire }, bytes);
  }

  private async deliverBatched(d: Delivery, topic?: string): Promise<void> {
    const { wire, bytes } = this.toWire(d, topic);
    if (this.pendingBatchBytes + bytes > this.deps.maxMessageBytes) await this.flush();
    this.pendingBatch.push(wire);
    this.pendingBatchBytes += bytes;
    if (this.pendingBatch.length >= this.deps.maxBatch) await this.flush();
    else if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => {
        this.flushScheduled = false;
        void this.flush();
      });
    }
    if (this.drainWait) await this.drainWait;
  }

  private flush(): Promise<void> {
    const batch = this.pendingBatch;
    if (batch.length === 0) return Promise.resolve();
    const bytes = this.pendingBatchBytes;
    this.pendingBatch = [];
    this.pendingBatchBytes = 0;
    return batch.length === 1
      ? this.send({ delivery: batch[0] }, bytes)
      : this.send({ deliveryBatch: { deliveries: batch } }, bytes);
  }

  /**
   * Writes one message of about `bytes` (deliveries; 0 for the rest); resolves when the stream has
   * room for more. `written` runs once the call has handed the message on (or failed it).
   */
  private send(msg: ServerEvent, bytes = 0, written?: () => void): Promise<void> {
    if (this.closed) return Promise.resolve();
    // An error may quote what the client sent (a topic, a pattern): bounded as a status message is.
    if (msg.err?.message) msg = { ...msg, err: { ...msg.err, message: statusDetails(msg.err.message) } };
    if (msg.err && REFUSAL_ERROR_CODES.has(msg.err.code ?? '')) this.chargeRefusal();
    let ok: boolean;
    try {
      if (bytes > 0 || written) {
        this.unflushedBytes += bytes;
        ok = this.call.write(msg, () => {
          written?.();
          this.unflushedBytes -= bytes;
          this.maybeRelease();
        });
      } else ok = this.call.write(msg);
    } catch (err) {
      this.finish(`write failed: ${messageOf(err)}`);
      return Promise.resolve();
    }
    if (!ok && !this.needsDrain) {
      this.needsDrain = true;
      this.call.once('drain', () => {
        this.needsDrain = false;
        this.maybeRelease();
      });
    }
    if (!this.blocked()) return Promise.resolve();
    if (!this.heldForDrain) {
      this.heldForDrain = true;
      this.call.pause();
    }
    this.drainWait ??= new Promise((resolve) => (this.releaseDrain = resolve));
    return this.drainWait;
  }

  private blocked(): boolean {
    return this.needsDrain || this.unflushedBytes > this.deps.maxMessageBytes;
  }

  private maybeRelease(): void {
    if (!this.blocked()) this.markDrained();
  }

  private markDrained(): void {
    const release = this.releaseDrain;
    this.drainWait = undefined;
    this.releaseDrain = undefined;
    if (this.heldForDrain) {
      this.heldForDrain = false;
      this.maybeResume();
    }
    release?.();
    if (this.callQueue.length) this.startCalls();
  }

  private markClosed(): void {
    this.closed = true;
    for (const running of this.callsRunning.keys()) running.cancel();
    this.pendingBatch = [];
    this.markDrained();
  }

  private finish(reason: string): void {
    if (!this.closed) this.markClosed();
    if (this.agentId) this.deps.directory.detach(this.agentId, this, reason);
  }
}
