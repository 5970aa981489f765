// The in-process event bus: topic index (segment trie), per-subscription bounded queues with
// QoS policies, envelope enforcement (ttl, hops) at publish and delivery, request/reply over
// private inbox topics, stats and telemetry.
//
// One caution for handlers: a batched subscription's handler that publishes to its own topic
// and awaits the publish can wait forever once its queue is full (room only appears when that
// same handler returns). Publish without awaiting there, or subscribe with realtime/background.
import { randomUUID } from 'node:crypto';
import { silentLogger, type Logger } from '../log';
import * as telemetry from '../telemetry';
import { INVALID_TRACEID, isSpanContextValid } from '@opentelemetry/api';
import * as envelope from './envelope';
import { BusError } from './errors';
import { DeliveryScheduler } from './scheduler';
import { countDrop, type DropCounts, TopicStatsTable } from './stats';
import { BusSubscription, type Published, type SubscriptionHost } from './subscription';
import { recordDrop, tracingActive } from './tracing';
import * as topics from '../contract/topics';
import { SegmentTrie } from './trie';
import type {
  Bus,
  BusOptions,
  BusStats,
  DeliveryHandler,
  DropReason,
  LoomEvent,
  PublishResult,
  QoS,
  Subscription,
  SubscribeOptions,
} from './types';

export const DEFAULT_QUEUE_SIZES: Readonly<Record<QoS, number>> = { realtime: 1024, batched: 4096, background: 65536 };
const MiB = 1024 * 1024;
/**
 * Byte budget of each subscription's queue. Counts alone let one stalled subscriber hold
 * 1024 x 4 MiB; these keep it to a few maximum-size messages (the bridge's default limit is
 * 4 MiB): realtime 16 MiB (four full messages, more than a second of typical traffic; beyond it
 * dropping is the promise), batched 64 MiB (the publisher waits beyond it, so more only adds
 * latency), background 256 MiB (its queue is the large one, for bulk work delivered later).
 */
export const DEFAULT_QUEUE_BYTES: Readonly<Record<QoS, number>> = {
  realtime: 16 * MiB,
  batched: 64 * MiB,
  background: 256 * MiB,
};
/** Fixed cost of a queued event beside its payload and strings (object headers, numbers). */
const EVENT_OVERHEAD_BYTES = 128;
export const DEFAULT_MAX_HOPS = 16;
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
export const DEFAULT_MAX_TOPIC_STATS = 10_000;

const QOS_LEVELS: readonly QoS[] = ['realtime', 'batched', 'background'];
const MAX_QUEUE_SIZE = 10_000_000;
const MAX_QUEUE_BYTES = 2 ** 40;

// Imported bindings copied into locals: under a CommonJS transform (tsx, mocha) every access to
// an imported name is a getter call, which showed up in the publish profile.
const { context, contextFrom, counters, injectInto, instruments, rootTraceparent, SpanKind, trace, tracer } = telemetry;
const { correlationId, expiresAtMs, hop, replyTo, threadId, writeEnvelope, writeField } = envelope;
const { INBOX_PREFIX, parsePattern } = topics;
const assertTopic: typeof topics.assertTopic = topics.assertTopic;

// Telemetry attribute objects built once: the hot path must not allocate them per event.
const QOS_ATTRS = Object.fromEntries(QOS_LEVELS.map((q) => [q, { qos: q }])) as Record<QoS, { qos: QoS }>;
const REASON_ATTRS: Record<DropReason, { reason: DropReason }> = {
  queue_full: { reason: 'queue_full' },
  queue_bytes: { reason: 'queue_bytes' },
  ttl_expired: { reason: 'ttl_expired' },
  hop_limit: { reason: 'hop_limit' },
  closed: { reason: 'closed' },
  handler_error: { reason: 'handler_error' },
  too_large: { reason: 'too_large' },
};

/** The active context carries a valid span context (a no-op span would pass that trace on). */
function activeTraced(): boolean {
  const active = trace.getSpanContext(context.active());
  return active !== undefined && isSpanContextValid(active);
}

function positiveInteger(value: unknown, name: string, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    throw new BusError('invalid_options', `${name} must be an integer between 1 and ${max}, got ${String(value)}`);
  }
  return value;
}

/** What a queued event costs, estimated once per publish: payload, strings (one byte a character), metadata. */
export function eventBytes(topic: string, event: LoomEvent, metadata: Record<string, string>): number {
  let bytes = EVENT_OVERHEAD_BYTES + topic.length + (event.payload?.length ?? 0);
  if (typeof event.id === 'string') bytes += event.id.length;
  if (typeof event.type === 'string') bytes += event.type.length;
  if (typeof event.source === 'string') bytes += event.source.length;
  for (const k in metadata) bytes += k.length + metadata[k].length + 16;
  if (Array.isArray(event.tags)) for (const t of event.tags) bytes += String(t).length + 16;
  return bytes;
}

// Object spread of a string map measured ten times slower than a for-in copy on Node 20.
function copyMetadata(source: Record<string, string>): Record<string, string> {
  const copy: Record<string, string> = {};
  for (const k in source) copy[k] = source[k];
  return copy;
}

/**
 * Topics published recently, with the subscriptions each matches. Validating and matching a topic
 * costs more than the rest of a publish; most programs publish on few topics. The cache is emptied
 * whenever a subscription comes or goes (so a match is never stale) and when it is full.
 */
const MATCH_CACHE_TOPICS = 4096;
const NO_MATCH: readonly BusSubscription[] = [];

export class EventBus implements Bus {
  private readonly trie = new SegmentTrie<BusSubscription>();
  private matchCache = new Map<string, readonly BusSubscription[]>();
  private readonly subscriptions = new Map<string, BusSubscription>();
  private readonly scheduler = new DeliveryScheduler();
  private readonly topics: TopicStatsTable;
  private readonly totals = { published: 0, delivered: 0, dropped: {} as DropCounts };
  private readonly queueSizes: Record<QoS, number>;
  private readonly queueBytes: Record<QoS, number>;
  private readonly maxHops: number;
  private readonly requestTimeoutMs: number;
  private readonly openRequests = new Set<(err: BusError) => void>();
  private readonly host: SubscriptionHost;
  private closed = false;

  constructor(options: BusOptions = {}, log: Logger = silentLogger) {
    const sizes = options.queueSizes ?? {};
    this.queueSizes = { ...DEFAULT_QUEUE_SIZES };
    for (const q of QOS_LEVELS)
      if (sizes[q] !== undefined) this.queueSizes[q] = positiveInteger(sizes[q], `queueSizes.${q}`, MAX_QUEUE_SIZE);
    const budgets = options.queueBytes ?? {};
    this.queueBytes = { ...DEFAULT_QUEUE_BYTES };
    for (const q of QOS_LEVELS)
      if (budgets[q] !== undefined)
        this.queueBytes[q] = positiveInteger(budgets[q], `queueBytes.${q}`, MAX_QUEUE_BYTES);
    this.maxHops = positiveInteger(options.maxHops ?? DEFAULT_MAX_HOPS, 'maxHops');
    this.requestTimeoutMs = positiveInteger(options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS, 'requestTimeoutMs');
    this.topics = new TopicStatsTable(
      positiveInteger(options.maxTopicStats ?? DEFAULT_MAX_TOPIC_STATS, 'maxTopicStats'),
    );
    const totals = this.totals;
    this.host = {
      log,
      ready: (sub) => this.scheduler.ready(sub),
      detach: (sub) => {
        this.trie.remove(sub.segments, sub);
        this.subscriptions.delete(sub.id);
        this.matchCache = new Map();
      },
      delivered: (item, qos) => {
        item.counters.delivered++;
        totals.delivered++;
        item.meters.delivered.add(1, QOS_ATTRS[qos]);
      },
      dropped: (item, reason, n = 1) => this.countDropped(item.counters.dropped, reason, n),
    };
  }

  private countDropped(topicDrops: DropCounts, reason: DropReason, n = 1): void {
    countDrop(topicDrops, reason, n);
    countDrop(this.totals.dropped, reason, n);
    counters.dropped.add(n, REASON_ATTRS[reason]);
  }

  async publish(topic: string, event: LoomEvent): Promise<PublishResult> {
    if (this.closed) throw new BusError('closed', `cannot publish on "${topic}": the bus is closed`);
    let matched = this.matchCache.get(topic);
    if (matched === undefined) {
      assertTopic(topic);
      matched = this.matchTopic(topic);
    }
    if (!event || typeof event !== 'object')
      throw new BusError('invalid_event', `event published on "${topic}" must be an object`);
    const hops = hop(event) + 1;
    const expiresAt = expiresAtMs(event);
    const stats = this.topics.touch(topic);
    stats.published++;
    this.totals.published++;
    const meters = instruments();
    meters.published.add(1);
    if (expiresAt !== Infinity && expiresAt <= Date.now())
      return this.refuse(topic, event, stats.dropped, 'ttl_expired');
    if (hops >= this.maxHops) return this.refuse(topic, event, stats.dropped, 'hop_limit');

    const original = event.metadata ?? {};
    const metadata = copyMetadata(original);
    writeField(metadata, 'hop', hops);
    const untraced = metadata['traceparent'] === undefined && metadata['loom.traceparent'] === undefined;
    // Without an SDK no span records: the no-op one would only carry the active context's trace
    // (if any) into an untraced event, which is done here directly, without making the span.
    const traced = tracingActive();
    const span = traced
      ? tracer.startSpan('loom.bus.publish', { kind: SpanKind.PRODUCER }, contextFrom(original))
      : undefined;
    // An event with no trace starts one: the SDK's span when one records, else a root traceparent,
    // so agents and tools downstream continue it and the dashboard's timeline can follow it.
    if (untraced) {
      if (span) {
        if (span.spanContext().traceId !== INVALID_TRACEID) injectInto(metadata, trace.setSpan(context.active(), span));
        else metadata['traceparent'] = rootTraceparent();
      } else if (activeTraced()) injectInto(metadata);
      else metadata['traceparent'] = rootTraceparent();
    }
    const item: Published = {
      topic,
      event: { ...event, metadata },
      expiresAt,
      counters: stats,
      bytes: eventBytes(topic, event, metadata),
      traced,
      meters,
    };

    let queued = 0;
    let dropped = 0;
    let waits: Promise<boolean>[] | undefined;
    for (let i = 0; i < matched.length; i++) {
      const r = matched[i].offer(item);
      if (r === true) queued++;
      else if (r === false) dropped++;
      else (waits ??= []).push(r);
    }
    // Waiters settle true (room found) or false (subscription ended); they never reject.
    if (waits) for (const ok of await Promise.all(waits)) ok ? queued++ : dropped++;
    if (span) {
      if (span.isRecording())
        span.setAttributes({
          'messaging.destination.name': topic,
          'loom.bus.queued': queued,
          'loom.bus.dropped': dropped,
        });
      span.end();
    }
    return { queued, dropped };
  }

  /** The subscriptions a (valid) topic matches, remembered until the subscriptions change. */
  private matchTopic(topic: string): readonly BusSubscription[] {
    const found = this.trie.match(topic.split('.'));
    const matched = found.length ? found : NO_MATCH;
    if (this.matchCache.size >= MATCH_CACHE_TOPICS) this.matchCache = new Map();
    this.matchCache.set(topic, matched);
    return matched;
  }

  private refuse(
    topic: string,
    event: LoomEvent,
    topicDrops: DropCounts,
    reason: 'ttl_expired' | 'hop_limit',
  ): PublishResult {
    this.countDropped(topicDrops, reason);
    if (tracingActive()) recordDrop(topic, event, reason);
    return { queued: 0, dropped: 0, refused: reason };
  }

  subscribe(pattern: string, handler: DeliveryHandler, options: SubscribeOptions = {}): Subscription {
    if (this.closed) throw new BusError('closed', `cannot subscribe to "${pattern}": the bus is closed`);
    const segments = parsePattern(pattern);
    if (typeof handler !== 'function')
      throw new BusError('invalid_options', `handler for "${pattern}" must be a function`);
    const qos = options.qos ?? 'batched';
    if (!QOS_LEVELS.includes(qos))
      throw new BusError('invalid_options', `qos must be one of ${QOS_LEVELS.join(', ')}, got "${String(qos)}"`);
    const capacity =
      options.queueSize === undefined
        ? this.queueSizes[qos]
        : positiveInteger(options.queueSize, 'queueSize', MAX_QUEUE_SIZE);
    const budget =
      options.queueBytes === undefined
        ? this.queueBytes[qos]
        : positiveInteger(options.queueBytes, 'queueBytes', MAX_QUEUE_BYTES);
    const subscriber = options.subscriber ?? 'anonymous';
    const sub = new BusSubscription(pattern, segments, qos, subscriber, capacity, budget, handler, this.host);
    this.trie.add(segments, sub);
    this.subscriptions.set(sub.id, sub);
    this.matchCache = new Map();
    return sub;
  }

  async request(topic: string, event: LoomEvent, options: { timeoutMs?: number } = {}): Promise<LoomEvent> {
    if (this.closed) throw new BusError('closed', `cannot send a request on "${topic}": the bus is closed`);
    assertTopic(topic);
    if (!event || typeof event !== 'object')
      throw new BusError('invalid_event', `request on "${topic}" must carry an event object`);
    const timeoutMs = positiveInteger(options.timeoutMs ?? this.requestTimeoutMs, 'timeoutMs');
    const correlation = randomUUID();
    const inbox = INBOX_PREFIX + randomUUID();
    return new Promise<LoomEvent>((resolve, reject) => {
      let done = false;
      let timer: NodeJS.Timeout | undefined;
      let inboxSub: Subscription | undefined;
      const finish = (err: Error | undefined, answer?: LoomEvent): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        inboxSub?.unsubscribe();
        this.openRequests.delete(finish);
        if (err) reject(err);
        else resolve(answer!);
      };
      inboxSub = this.subscribe(
        inbox,
        ({ event: answer }) => {
          // The inbox is private, but a stray event with another correlation id is not our answer.
          const c = correlationId(answer);
          if (c === undefined || c === correlation) finish(undefined, answer);
        },
        { qos: 'realtime', queueSize: 16, subscriber: `request:${topic}` },
      );
      timer = setTimeout(
        () => finish(new BusError('timeout', `no reply to the request on "${topic}" within ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.openRequests.add(finish);
      const metadata = writeEnvelope(copyMetadata(event.metadata ?? {}), {
        correlationId: correlation,
        replyTo: inbox,
      });
      this.publish(topic, { ...event, metadata }).then((r) => {
        if (r.refused)
          finish(
            new BusError(
              r.refused,
              `request on "${topic}" refused: ${r.refused === 'ttl_expired' ? 'its ttl has expired' : 'hop limit reached'}`,
            ),
          );
        else if (r.queued === 0 && r.dropped === 0)
          finish(new BusError('no_responders', `no subscriber for the request on "${topic}"`));
      }, finish);
    });
  }

  stats(): BusStats {
    return {
      topics: this.topics.snapshot(),
      subscriptions: [...this.subscriptions.values()].map((s) => s.stats()),
      published: this.totals.published,
      delivered: this.totals.delivered,
      dropped: { ...this.totals.dropped },
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const abort of [...this.openRequests]) abort(new BusError('closed', 'the bus closed before a reply arrived'));
    for (const sub of [...this.subscriptions.values()]) sub.unsubscribe();
  }
}

/** Publishes `event` to the reply-to topic of `original`, carrying its correlation and thread ids. */
export function reply(bus: Bus, original: LoomEvent, event: LoomEvent): Promise<PublishResult> {
  const to = replyTo(original);
  if (!to)
    return Promise.reject(
      new BusError('no_reply_to', `event ${original.id} ("${original.type}") carries no reply-to topic`),
    );
  const metadata = copyMetadata(event.metadata ?? {});
  const c = correlationId(original);
  if (c !== undefined) writeField(metadata, 'correlationId', c);
  const t = threadId(original);
  if (t !== undefined) writeField(metadata, 'threadId', t);
  return bus.publish(to, { ...event, metadata });
}
