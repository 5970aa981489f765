// The live feed behind the dashboard: one aggregator per runtime that watches the bus, the tool
// registry and the agents, and hands its listeners a FeedUpdate (loom.v1) every interval.
//
// Why batched and rate-limited here, at the source: a bus can carry tens of thousands of events
// a second; a UI can show a few hundred. Each update carries at most `maxEvents` recent events
// (the newest; the rest are counted in eventsOmitted), cumulative counters from which the client
// derives rates, and the tool calls and spans finished since the last update, each capped too.
// The work per update is bounded whatever the bus does, and so is the memory: rings, not lists.
import type { Bus, LoomEvent, QoS, Subscription } from '../bus';
import type { ToolCallRequest, ToolOutcome, ToolRegistry, Disposable } from '../tools';
import type { AgentInfo } from '../proto/gen/loom/v1/AgentInfo';
import type { McpServerInfo } from '../proto/gen/loom/v1/McpServerInfo';
import type { FeedEvent } from '../proto/gen/loom/v1/FeedEvent';
import type { FeedUpdate } from '../proto/gen/loom/v1/FeedUpdate';
import type { IsolationInfo } from '../proto/gen/loom/v1/IsolationInfo';
import type { ClusterInfo } from '../proto/gen/loom/v1/ClusterInfo';
import type { SpanRecord } from '../proto/gen/loom/v1/SpanRecord';
import type { StatsResponse } from '../proto/gen/loom/v1/StatsResponse';
import type { ToolCallRecord } from '../proto/gen/loom/v1/ToolCallRecord';
import { matchesSegments, parsePattern, Ring, sender, traceparent } from '../bus';
import { randomBytes } from 'node:crypto';
import { LoomError, messageOf } from '../contract/errors';

export interface FeedSources {
  bus: Bus;
  tools: ToolRegistry;
  agents: () => AgentInfo[];
  storeBytes?: () => Promise<number>;
  /** The MCP servers the runtime hosts, as their wire form. */
  mcpServers?: () => McpServerInfo[];
  /** How system:shell confines its programs ([tools.shell] isolation, whether bubblewrap works here) and whether the workspace is trusted. */
  isolation?: () => IsolationInfo;
  /** [cluster]: the NATS link's health. */
  cluster?: () => ClusterInfo;
  startedAtMs?: number;
}

export interface FeedOptions {
  /** Newest events kept for each update: 1–5000, 0 or absent = 200. */
  maxEvents?: number;
  /** Update period in ms: 50–60000, 0 or absent = 250 (4 updates/s). */
  intervalMs?: number;
  /** Only events whose topic matches (a subscription pattern). Default: every topic. */
  topicFilter?: string;
  /** Payload bytes kept per event in the feed: 0–1 MiB, absent = 2048. */
  maxPayloadBytes?: number;
  /** Topics listed in the stats of an update, the busiest first: 1–10000, absent = 200. */
  maxTopics?: number;
  /** Events from before listening to put in the first update (the newest kept, after afterSeq): 0–500, absent = 0. */
  backlog?: number;
  /** Resuming: only events after this FeedEvent.seq; later ones no longer kept are counted in eventsMissed. Absent or 0 = no resumption. */
  afterSeq?: number;
}

type NumericOption = 'maxEvents' | 'intervalMs' | 'maxPayloadBytes' | 'maxTopics' | 'backlog' | 'afterSeq';

/**
 * Where each number of a feed request may lie. `zeroIsDefault` where loom.v1.FeedRequest documents
 * 0 = default (proto3 cannot tell 0 from unset); any other number outside the range is refused,
 * never clamped: a NaN or a 1 ms interval that became 50 ms silently hid the caller's mistake.
 */
/**
 * The newest events the feed keeps whoever listens, with their payloads cut like a listener's:
 * a dashboard that opens (or shows again) starts from them instead of from nothing.
 */
export const BACKLOG_KEPT = 500;
/** A kept event's strings beside its payload: each cut to this, metadata to KEPT_METADATA_BYTES in all. */
const KEPT_STRING_BYTES = 1024;
const KEPT_METADATA_BYTES = 8 * 1024;
const KEPT_TAGS = 32;

/**
 * Bytes of topic rows, and of subscription rows, in a stats answer (GetStats, a feed update); the
 * rest are counted as omitted. 10 000 topics of 1 KiB names made GetStats 10 MB, past the
 * message limit: refused for everyone until other topics pushed them out.
 */
const STATS_LIST_BYTES = 1024 * 1024;

/** About what a stats row takes on the wire: its strings, its drop counters, a little for each number. */
function rowBytes(strings: string[], dropped: Record<string, number>): number {
  let bytes = 64;
  for (const s of strings) bytes += Buffer.byteLength(s) + 4;
  for (const reason of Object.keys(dropped)) bytes += Buffer.byteLength(reason) + 16;
  return bytes;
}

/** The first of `rows` that fit in `budget` bytes. */
function takeWithin<T>(rows: T[], budget: number, bytesOf: (row: T) => number): T[] {
  let used = 0;
  for (let i = 0; i < rows.length; i++) {
    used += bytesOf(rows[i]);
    if (used > budget) return rows.slice(0, i);
  }
  return rows;
}

/** A buffer past this size is not kept alive by a small view into it: the view is copied. */
const PINNED_BUFFER_BYTES = 64 * 1024;
/** What one listener keeps between two updates, events' payloads and metadata together; past it the oldest go (counted as omitted). */
const LISTENER_KEPT_BYTES = 16 * 1024 * 1024;

/**
 * `payload` as a buffer of its own where it is a view into a larger one: a payload decoded from a
 * gRPC message is a view into the whole message, so a 1-byte payload kept beside a 3.9 MB
 * metadata value kept all 3.9 MB (500 kept events: 2 GB, with nobody watching).
 */
function unpinned(payload: Buffer): Buffer {
  return payload.buffer.byteLength > PINNED_BUFFER_BYTES && payload.byteLength < payload.buffer.byteLength
    ? Buffer.from(payload)
    : payload;
}

/**
 * The event as the backlog or a listener keeps it beyond this moment: its payload cut to
 * `cutPayload` and copied (a copy pins nothing else), and its metadata, tags, id, type and source
 * cut too (700 events with a 3.9 MB metadata value kept 2 GB that nobody was watching). The same
 * event when nothing is large.
 */
function keptEvent(event: LoomEvent, cutPayload: number = FEED_LIMITS.maxPayloadBytes.default): LoomEvent {
  const long = (text: string) => text.length > KEPT_STRING_BYTES;
  const metadataBytes = Object.entries(event.metadata).reduce((n, [k, v]) => n + k.length + v.length, 0);
  if (
    event.payload.length <= cutPayload &&
    metadataBytes <= KEPT_METADATA_BYTES &&
    event.tags.length <= KEPT_TAGS &&
    !event.tags.some(long) &&
    !long(event.id) &&
    !long(event.type) &&
    !long(event.source)
  ) {
    const payload = unpinned(event.payload);
    return payload === event.payload ? event : { ...event, payload };
  }
  // Copied through a Buffer: a slice of a long string may be a view that pins all of it.
  const cut = (text: string) =>
    long(text) ? `${Buffer.from(text.slice(0, KEPT_STRING_BYTES)).toString('utf8')}…` : text;
  const metadata: Record<string, string> = {};
  let room = KEPT_METADATA_BYTES;
  for (const [k, v] of Object.entries(event.metadata)) {
    const entry = [cut(k), cut(v)] as const;
    room -= entry[0].length + entry[1].length;
    if (room < 0) break;
    metadata[entry[0]] = entry[1];
  }
  return {
    ...event,
    id: cut(event.id),
    type: cut(event.type),
    source: cut(event.source),
    metadata,
    tags: event.tags.slice(0, KEPT_TAGS).map(cut),
    payload:
      event.payload.length > cutPayload ? Buffer.from(event.payload.subarray(0, cutPayload)) : unpinned(event.payload),
  };
}

/** What a kept event holds, about: its payload and metadata. */
function keptSize(record: FeedEvent): number {
  const event = record.event!;
  let n = (event.payload as Buffer).length;
  for (const [k, v] of Object.entries(event.metadata ?? {})) n += k.length + v.length;
  return n;
}

export const FEED_LIMITS: Record<
  NumericOption,
  { min: number; max: number; default: number; zeroIsDefault?: boolean }
> = {
  maxEvents: { min: 1, max: 5000, default: 200, zeroIsDefault: true },
  intervalMs: { min: 50, max: 60_000, default: 250, zeroIsDefault: true },
  maxPayloadBytes: { min: 0, max: 1 << 20, default: 2048 },
  maxTopics: { min: 1, max: 10_000, default: 200 },
  backlog: { min: 0, max: BACKLOG_KEPT, default: 0 },
  afterSeq: { min: 0, max: Number.MAX_SAFE_INTEGER, default: 0 },
};

/** A feed option out of its range; the message names the option as the caller spelled it and the range. */
export class FeedOptionError extends LoomError {
  constructor(
    readonly option: string,
    message: string,
  ) {
    super('invalid_feed_option', message);
  }
}

export interface ResolvedFeedOptions {
  maxEvents: number;
  intervalMs: number;
  maxPayloadBytes: number;
  maxTopics: number;
  backlog: number;
  afterSeq: number;
  /** The parsed topic filter, absent for every topic. */
  filter?: string[];
}

/**
 * Checks a feed request's options and fills in the defaults. `names` spells the options as the
 * caller's protocol does (interval_ms, max_events_per_update, ...), for the error message.
 * Throws FeedOptionError for a number that is not an integer (NaN, Infinity, 1.5) or lies
 * outside FEED_LIMITS, and for a topic filter that is not a valid pattern.
 */
export function resolveFeedOptions(
  o: FeedOptions,
  names: Partial<Record<keyof FeedOptions, string>> = {},
): ResolvedFeedOptions {
  const resolve = (key: NumericOption): number => {
    const value = o[key];
    const limit = FEED_LIMITS[key];
    if (value === undefined || (value === 0 && limit.zeroIsDefault)) return limit.default;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < limit.min || value > limit.max) {
      const name = names[key] ?? key;
      const zero = limit.zeroIsDefault ? ` (or 0 for the default, ${limit.default})` : '';
      throw new FeedOptionError(
        name,
        `${name} must be an integer from ${limit.min} to ${limit.max}${zero}, got ${typeof value === 'number' ? String(value) : JSON.stringify(value)}`,
      );
    }
    return value;
  };
  let filter: string[] | undefined;
  if (o.topicFilter) {
    try {
      filter = parsePattern(o.topicFilter);
    } catch (err) {
      const name = names.topicFilter ?? 'topicFilter';
      throw new FeedOptionError(name, `${name} is not a valid topic pattern: ${messageOf(err)}`);
    }
  }
  return {
    maxEvents: resolve('maxEvents'),
    intervalMs: resolve('intervalMs'),
    maxPayloadBytes: resolve('maxPayloadBytes'),
    maxTopics: resolve('maxTopics'),
    backlog: resolve('backlog'),
    afterSeq: resolve('afterSeq'),
    filter,
  };
}

const QOS_PROTO: Record<QoS, FeedEvent['qos']> = {
  realtime: 'QOS_REALTIME',
  batched: 'QOS_BATCHED',
  background: 'QOS_BACKGROUND',
};
const STATUS_PROTO: Record<string, ToolCallRecord['status']> = {
  ok: 'TOOL_OK',
  not_found: 'TOOL_NOT_FOUND',
  invalid_arguments: 'TOOL_INVALID_ARGUMENTS',
  timeout: 'TOOL_TIMEOUT',
};
const TRACEPARENT = /^[0-9a-f]{2}-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$/;

/** The feed: it taps the bus and the registry, keeps the newest events, and serves its listeners. */
export class Feed {
  private readonly listeners = new Set<Listener>();
  private readonly tap: Subscription;
  private readonly toolTap: Disposable;
  private totalToolCalls = 0;
  private totalToolErrors = 0;
  /** Events seen, the last one's FeedEvent.seq. */
  private seq = 0;
  private readonly recent = new Ring<{ segments: string[]; record: FeedEvent }>();

  constructor(private readonly sources: FeedSources) {
    // The runtime's stats count every tool call, listened to or not.
    this.toolTap = sources.tools.onDidCall((req, out) => this.recordToolCall(req, out));
    // A realtime subscription: if the feed cannot keep up it drops (counted under the "dashboard"
    // subscriber), and publishers never wait for a UI. Always on, for the backlog.
    this.tap = sources.bus.subscribe('>', (d) => this.recordEvent(d.topic, d.event, d.qos), {
      qos: 'realtime',
      subscriber: 'dashboard',
    });
  }

  /** The kept events after `afterSeq` (the newest `max`), and how many after it are no longer kept. */
  backlog(afterSeq: number, max: number, filter?: string[]): { events: FeedEvent[]; missed: number } {
    const kept = this.recent.toArray();
    const oldest = kept[0] ? Number(kept[0].record.seq) : this.seq + 1;
    const missed = afterSeq > 0 && afterSeq < this.seq ? Math.max(0, oldest - afterSeq - 1) : 0;
    const events = kept
      .filter((e) => Number(e.record.seq) > afterSeq && (!filter || matchesSegments(filter, e.segments)))
      .map((e) => e.record);
    return { events: max > 0 ? events.slice(-max) : [], missed };
  }

  /**
   * Calls `send` with an update every interval (and once at once) until the returned disposable
   * is disposed. Throws FeedOptionError for options out of range (see resolveFeedOptions).
   */
  listen(send: (update: FeedUpdate) => void, options: FeedOptions = {}): Disposable {
    const resolved = resolveFeedOptions(options);
    const listener = new Listener(this, send, resolved);
    const { events, missed } = this.backlog(resolved.afterSeq, resolved.backlog, resolved.filter);
    listener.seed(events, missed);
    this.listeners.add(listener);
    listener.start();
    return {
      dispose: () => {
        listener.stop();
        this.listeners.delete(listener);
      },
    };
  }

  close(): void {
    for (const l of this.listeners) l.stop();
    this.listeners.clear();
    this.tap.unsubscribe();
    this.toolTap.dispose();
  }

  /** @internal */
  async stats(maxTopics: number): Promise<StatsResponse> {
    const s = this.sources.bus.stats();
    const sorted = [...s.topics].sort((a, b) => b.published - a.published).slice(0, maxTopics);
    const topics = takeWithin(sorted, STATS_LIST_BYTES, (t) => rowBytes([t.topic], t.dropped));
    const subscriptions = takeWithin(s.subscriptions, STATS_LIST_BYTES, (x) =>
      rowBytes([x.id, x.pattern, x.subscriber], x.dropped),
    );
    const now = Date.now();
    return {
      timestampMs: now,
      uptimeMs: now - (this.sources.startedAtMs ?? now),
      topics: topics.map((t) => ({
        topic: t.topic,
        published: t.published,
        delivered: t.delivered,
        dropped: t.dropped as Record<string, number>,
      })),
      topicsOmitted: s.topics.length - topics.length,
      subscriptionsOmitted: s.subscriptions.length - subscriptions.length,
      subscriptions: subscriptions.map((x) => ({
        id: x.id,
        pattern: x.pattern,
        subscriber: x.subscriber,
        qos: QOS_PROTO[x.qos],
        queueDepth: x.queueDepth,
        queueCapacity: x.queueCapacity,
        delivered: x.delivered,
        dropped: x.dropped as Record<string, number>,
        queueBytes: x.queueBytes,
        queueBytesCapacity: x.queueBytesCapacity,
        waitingPublishers: x.waitingPublishers ?? 0,
      })),
      agents: this.sources.agents(),
      toolCalls: this.totalToolCalls,
      toolErrors: this.totalToolErrors,
      storeBytes: this.sources.storeBytes ? await this.sources.storeBytes().catch(() => 0) : 0,
      mcpServers: this.sources.mcpServers?.() ?? [],
      isolation: this.sources.isolation?.() ?? null,
      cluster: this.sources.cluster?.() ?? null,
    };
  }

  private recordEvent(topic: string, event: LoomEvent, qos: QoS): void {
    const segments = topic.split('.');
    const record: FeedEvent = { topic, qos: QOS_PROTO[qos], size: event.payload.length, event, seq: ++this.seq };
    const kept = keptEvent(event);
    keepNewest(this.recent, { segments, record: kept === event ? record : { ...record, event: kept } }, BACKLOG_KEPT);
    const tp = TRACEPARENT.exec(traceparent(event) ?? '');
    const span: SpanRecord | undefined = tp
      ? {
          traceId: tp[1],
          spanId: tp[2],
          parentSpanId: '',
          name: `publish ${topic}`,
          agent: sender(event) ?? event.source,
          startMs: event.timestampMs,
          durationMs: 0,
          attributes: { topic, type: event.type },
        }
      : undefined;
    for (const l of this.listeners) l.addEvent(segments, record, span);
  }

  private recordToolCall(req: ToolCallRequest, out: ToolOutcome): void {
    const status = out.status === 'ok' ? 'TOOL_OK' : (STATUS_PROTO[out.error.code] ?? 'TOOL_ERROR');
    this.totalToolCalls++;
    if (status !== 'TOOL_OK') this.totalToolErrors++;
    if (this.listeners.size === 0) return;
    const caller = req.caller ?? 'runtime';
    const startedMs = Date.now() - out.durationMs;
    const record: ToolCallRecord = {
      id: out.id,
      name: req.name,
      caller,
      startedMs,
      durationMs: out.durationMs,
      status,
      errorCode: out.status === 'ok' ? '' : out.error.code,
    };
    const tp = TRACEPARENT.exec(req.headers?.['traceparent'] ?? '');
    const span: SpanRecord | undefined = tp
      ? {
          traceId: tp[1],
          spanId: randomBytes(8).toString('hex'),
          parentSpanId: tp[2],
          name: `tool ${req.name}`,
          agent: caller,
          startMs: startedMs,
          durationMs: out.durationMs,
          attributes: { status: String(status) },
        }
      : undefined;
    for (const l of this.listeners) l.addToolCall(record, span);
  }
}

/** One listener's bounded buffers: the newest N of each kind, the rest counted or forgotten. */
class Listener {
  private timer?: NodeJS.Timeout;
  private stopped = false;
  private busy = false;
  private readonly events = new Ring<FeedEvent>();
  private readonly toolCalls = new Ring<ToolCallRecord>();
  private readonly spans = new Ring<SpanRecord>();
  private omitted = 0;
  private missed = 0;
  /** keptSize() of the events kept until the next update. */
  private keptBytes = 0;
  private readonly maxEvents: number;
  private readonly intervalMs: number;
  private readonly maxTopics: number;
  private readonly maxPayload: number;
  private readonly filter?: string[];

  constructor(
    private readonly feed: Feed,
    private readonly send: (u: FeedUpdate) => void,
    o: ResolvedFeedOptions,
  ) {
    this.maxEvents = o.maxEvents;
    this.intervalMs = o.intervalMs;
    this.maxTopics = o.maxTopics;
    this.maxPayload = o.maxPayloadBytes;
    this.filter = o.filter;
  }

  /** What the first update carries from before listening: the backlog, and how many events were missed. */
  seed(events: FeedEvent[], missed: number): void {
    // Already cut as the backlog keeps them (keptEvent), and as many as `backlog` asked for.
    for (const e of events) {
      this.events.push(e);
      this.keptBytes += keptSize(e);
    }
    this.missed = missed;
  }

  start(): void {
    void this.tick(); // a first snapshot at once, so a fresh view has agents and stats to show
    this.timer = setInterval(() => void this.tick(), this.intervalMs);
    this.timer.unref?.();
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
  }

  addEvent(segments: string[], record: FeedEvent, span: SpanRecord | undefined): void {
    if (this.filter && !matchesSegments(this.filter, segments)) return;
    const event = keptEvent(record.event as LoomEvent, this.maxPayload);
    this.keep(event === record.event ? record : { ...record, event });
    if (span) keepNewest(this.spans, span, MAX_SPANS);
  }

  /** Keeps `record` until the next update, within maxEvents and LISTENER_KEPT_BYTES: the oldest go first. */
  private keep(record: FeedEvent): void {
    this.events.push(record);
    this.keptBytes += keptSize(record);
    while (this.events.length > this.maxEvents || (this.keptBytes > LISTENER_KEPT_BYTES && this.events.length > 1)) {
      this.keptBytes -= keptSize(this.events.shift()!);
      this.omitted++;
    }
  }

  private drainEvents(): FeedEvent[] {
    this.keptBytes = 0;
    return this.events.drain();
  }

  addToolCall(record: ToolCallRecord, span: SpanRecord | undefined): void {
    keepNewest(this.toolCalls, record, MAX_TOOL_CALLS);
    if (span) keepNewest(this.spans, span, MAX_SPANS);
  }

  private async tick(): Promise<void> {
    if (this.busy) return; // a slow stats read never piles ticks up
    this.busy = true;
    try {
      const update: FeedUpdate = {
        timestampMs: Date.now(),
        events: this.drainEvents(),
        eventsOmitted: this.omitted,
        stats: await this.feed.stats(this.maxTopics),
        toolCalls: this.toolCalls.drain(),
        spans: this.spans.drain(),
        eventsMissed: this.missed,
      };
      this.omitted = 0;
      this.missed = 0;
      if (!this.stopped) this.send(update);
    } finally {
      this.busy = false;
    }
  }
}

/**
 * For a stream whose reader may fall behind: while the last write has not drained, updates are
 * skipped rather than buffered (each update is a full picture of the totals), and the events a
 * skipped update carried are added to the next one's eventsOmitted, so nothing goes uncounted.
 */
export function skipWhileBlocked(
  write: (update: FeedUpdate) => boolean,
  onDrain: (resume: () => void) => void,
): (update: FeedUpdate) => void {
  let blocked = false;
  let skipped = 0;
  return (update) => {
    if (blocked) {
      skipped += (update.events?.length ?? 0) + Number(update.eventsOmitted ?? 0);
      return;
    }
    const out = skipped ? { ...update, eventsOmitted: Number(update.eventsOmitted ?? 0) + skipped } : update;
    skipped = 0;
    if (!write(out)) {
      blocked = true;
      onDrain(() => (blocked = false));
    }
  };
}

const MAX_TOOL_CALLS = 500;
const MAX_SPANS = 1000;

function keepNewest<T>(ring: Ring<T>, value: T, max: number): void {
  ring.push(value);
  if (ring.length > max) ring.shift();
}
