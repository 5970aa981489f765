// The bus across runtimes, through the bus's public API only. Outbound: one local subscription per
// shared pattern hands each event published here to NATS (realtime patterns over core NATS, the
// others over the JetStream stream). Inbound: events from other runtimes are published into the
// local bus, so each local subscriber gets them once, with its own QoS. An event that came in is
// marked (its id) and never goes out again, so nothing echoes back to its origin.
import type { JetStreamClient, JetStreamManager, ConsumerMessages } from '@nats-io/jetstream';
import { AckPolicy, DeliverPolicy, RetentionPolicy, StorageType, DiscardPolicy } from '@nats-io/jetstream';
import { nanos, type NatsConnection, type Subscription as NatsSubscription } from '@nats-io/transport-node';
import {
  INBOX_PREFIX,
  isValidTopic,
  matchesSegments,
  parsePattern,
  replyTo,
  sender,
  type Bus,
  type Subscription,
} from '../bus';
import { isRuntimeOwnTopic } from '../contract/topics';
import type { Logger } from '../log';
import { messageOf } from '../contract/errors';
import type { ClusterConfig, Names } from './subjects';
import { decodeEvent, encodeEvent, RecentIds } from './wire';
import { MAX_INBOUND_BYTES, MAX_INBOUND_EVENTS, RefusalLog } from './limits';

export interface EventCounters {
  sent: number;
  received: number;
  /**
   * By reason: buffer_full (NATS unreachable and the byte budget spent), realtime_disconnected,
   * decode (not a Loom event, or a field longer than the wire allows), backpressure (an arrival
   * over core NATS while MAX_INBOUND_EVENTS or MAX_INBOUND_BYTES wait for the local bus).
   */
  dropped: Record<string, number>;
}

interface Pending {
  subject: string;
  data: Uint8Array;
  id: string;
}

/** JetStream publishes in flight at once: enough to fill the pipe, few enough to retry cheaply. */
const WINDOW = 256;
const RETRY_MS = 250;
/** How often a lost stream or consumer is made again, at most. */
const REPAIR_MS = 2000;
/**
 * How long a stream or consumer found deleted is left before it is made again: nats-server 2.9
 * removes a deleted one's files after it stops answering for it, and one made in between (by the
 * runtimes that noticed at once) lost its files with them (a stream then failed every publish
 * after) or kept the deletion from finishing ("directory not empty").
 */
const REMAKE_AFTER_MS = 1000;
/** How far before a broken pull a consumer made again starts (events seen are dropped by id). */
const REPLAY_MS = 30_000;
/** How long a remote request's inbox is remembered (a reply after that has no one waiting). */
const INBOX_MEMORY_MS = 120_000;

/**
 * Whether an event on `topic` crosses between runtimes, either way (when shared): never the
 * runtime's own topics (agent lifecycle and output, runtime.*, mcp.<name>.state, cluster.*),
 * which each runtime states about itself and its window acts on, nor request inboxes.
 */
const crosses = (topic: string) => !isRuntimeOwnTopic(topic) && !topic.startsWith(INBOX_PREFIX);

/**
 * The reply topic answers to a request may travel on between runtimes: a request inbox, or the
 * reply inbox of the agent that asked (`agent.<sender>.replies`). Anything else would let a
 * request name a topic that is not shared ("private.notes", ">", "runtime.config") and have what
 * is published on it cross. `local`: whether an agent id is one of this runtime's, whose inbox a
 * request from elsewhere never names (its sender is the other runtime's word, so it may claim one).
 */
function replyRoute(event: Parameters<typeof encodeEvent>[2], local: (agentId: string) => boolean): string | undefined {
  const topic = replyTo(event);
  if (!topic || !isValidTopic(topic)) return undefined;
  if (topic.startsWith(INBOX_PREFIX)) return topic;
  const from = sender(event);
  return from && topic === `agent.${from}.replies` && !local(from) ? topic : undefined;
}

/** The agent whose reply inbox `topic` is, if it is one. */
const inboxOwner = (topic: string) => /^agent\.(.+)\.replies$/.exec(topic)?.[1];

export class EventBridge {
  readonly counters: EventCounters = { sent: 0, received: 0, dropped: {} };
  // About 40 characters an id on average at full count (a uuid is 36): long ids shorten the memory, not grow it.
  private readonly injected = new RecentIds(100_000, 4_000_000);
  private readonly seen = new RecentIds(200_000, 8_000_000);
  /**
   * Arrivals over core NATS whose publish into the local bus has not settled: nothing else holds
   * them back (JetStream's are pulled one at a time), so a slow batched subscriber here and a
   * flood of large events took a runtime from 81 MB to 1.1 GB.
   */
  private readonly inbound = { events: 0, bytes: 0 };
  private readonly refusals: RefusalLog;
  /** Reply topics of requests that came from another runtime: what is published on one here goes back there. */
  private readonly replyRoutes = new Map<string, { node: string; until: number; sub: Subscription }>();
  /** Reply topics of requests sent from here: the only topics another runtime may answer on. */
  private readonly awaitingReplies = new Map<string, number>();
  private readonly localSubs: Subscription[] = [];
  private natsSubs: NatsSubscription[] = [];
  private consumer?: ConsumerMessages;
  private nc?: NatsConnection;
  private js?: JetStreamClient;
  private jsm?: JetStreamManager;
  /** When repair may next ask JetStream; what failed while the stream or consumer cannot be made again; one repair at a time. */
  private nextRepairMs = 0;
  private lostWhile: string | undefined;
  private repairing = false;
  /** When the durable consumer's pull broke, until it runs again. */
  private pullBrokeMs: number | undefined;
  private queue: Pending[] = [];
  private queueBytes = 0;
  private inflight = 0;
  private retryTimer?: NodeJS.Timeout;
  private roomWaiters: (() => void)[] = [];
  private closed = false;
  private droppedSinceReport = 0;
  /** The share lists, parsed once: matched against every event going out and coming in. */
  private readonly realtimePatterns: string[][];
  private readonly durablePatterns: string[][];

  constructor(
    private readonly bus: Bus,
    private readonly cfg: ClusterConfig,
    private readonly n: Names,
    private readonly log: Logger,
    private readonly connected: () => boolean,
    /** Resolves when this runtime's own agents are back (or gave up): the backlog is not delivered to nobody. */
    private readonly agentsBack: () => Promise<void>,
    /** Whether an agent id is one of this runtime's (declared or connected). */
    private readonly isLocalAgent: (agentId: string) => boolean,
  ) {
    this.refusals = new RefusalLog(log);
    this.realtimePatterns = cfg.shareRealtime.map((p) => parsePattern(p));
    this.durablePatterns = cfg.share.map((p) => parsePattern(p));
    for (const pattern of cfg.shareRealtime) {
      this.localSubs.push(
        bus.subscribe(
          pattern,
          ({ topic, event }) => {
            if (!crosses(topic) || this.injected.has(event.id)) return;
            this.expectReply(event);
            this.sendRealtime(topic, event);
          },
          { qos: 'realtime', subscriber: 'cluster' },
        ),
      );
    }
    for (const pattern of cfg.share) {
      this.localSubs.push(
        bus.subscribe(
          pattern,
          ({ topic, event }) => {
            if (!crosses(topic) || this.injected.has(event.id)) return undefined;
            if (this.matches(this.realtimePatterns, topic)) return undefined; // the realtime pattern carries it
            this.expectReply(event);
            return this.enqueue({ subject: n.durable(topic), data: encodeEvent(cfg.node, topic, event), id: event.id });
          },
          { qos: 'batched', subscriber: 'cluster' },
        ),
      );
    }
  }

  private matches(patterns: string[][], topic: string): boolean {
    if (patterns.length === 0) return false;
    const segments = topic.split('.');
    return patterns.some((p) => matchesSegments(p, segments));
  }

  private isShared(topic: string): boolean {
    return this.matches(this.realtimePatterns, topic) || this.matches(this.durablePatterns, topic);
  }

  /** An event going out that asks for a reply on an unshared topic: the answer may come back on it. */
  private expectReply(event: Parameters<typeof encodeEvent>[2]): void {
    // The sender here is this runtime's word (from the credential): its own agents' inboxes count.
    const topic = replyRoute(event, () => false);
    if (!topic || this.isShared(topic)) return;
    const now = Date.now();
    this.awaitingReplies.set(topic, now + INBOX_MEMORY_MS);
    if (this.awaitingReplies.size > 10_000)
      for (const [k, until] of this.awaitingReplies)
        if (until < now || this.awaitingReplies.size > 10_000) this.awaitingReplies.delete(k);
  }

  /** Core NATS, once per connection (its subscriptions survive the client's reconnects). */
  attachCore(nc: NatsConnection): void {
    this.nc = nc;
    this.natsSubs.push(
      nc.subscribe(this.n.realtimeAll, {
        callback: (err, msg) => {
          if (err) return;
          let arrival;
          try {
            arrival = this.accept(msg.data);
          } catch (e) {
            return this.refuse(e);
          }
          if (arrival) this.inject(arrival, msg.data.byteLength);
        },
      }),
    );
    this.natsSubs.push(
      nc.subscribe(this.n.replies(this.cfg.node), {
        callback: (err, msg) => {
          if (err) return;
          let topic, event;
          try {
            ({ topic, event } = decodeEvent(msg.data));
          } catch (e) {
            return this.refuse(e);
          }
          if (isRuntimeOwnTopic(topic)) return;
          const until = this.awaitingReplies.get(topic);
          if (until === undefined || until < Date.now()) return; // an answer nobody here asked for
          if (this.backedUp(msg.data.byteLength)) return;
          this.injected.add(event.id);
          this.counters.received++;
          this.hold(this.bus.publish(topic, event), msg.data.byteLength);
        },
      }),
    );
  }

  /**
   * JetStream: the stream, this runtime's durable consumer, then pulling and the outbound pump.
   * Throws while JetStream cannot answer (a leader being elected); the caller tries again.
   */
  async attachJetStream(js: JetStreamClient, jsm: JetStreamManager): Promise<void> {
    if (!(await this.ensureStream(jsm))) await this.sayIfStreamDiffers(jsm);
    await this.ensureConsumer(jsm);
    this.jsm = jsm;
    this.js = js;
    void this.agentsBack().then(() =>
      this.consume(js, (data) => {
        const arrival = this.accept(data);
        return arrival && this.publishHere(arrival);
      }),
    );
    this.pump();
  }

  /**
   * An event from another runtime, from either engine, if it is to be published here: not ours,
   * not seen before, shared here too. Throws when the data is not an event this runtime accepts.
   */
  private accept(data: Uint8Array): ReturnType<typeof decodeEvent> | undefined {
    const arrival = decodeEvent(data);
    const { node, topic, event } = arrival;
    if (node === this.cfg.node || this.seen.has(event.id)) return undefined;
    // Nothing is shared unless this runtime lists it too.
    if (!isValidTopic(topic) || !crosses(topic) || !this.isShared(topic)) return undefined;
    return arrival;
  }

  /** A realtime arrival: published here, unless too many wait for the local bus already (then dropped, as realtime may be). */
  private inject(arrival: ReturnType<typeof decodeEvent>, bytes: number): void {
    if (this.backedUp(bytes)) return;
    this.hold(this.publishHere(arrival), bytes);
  }

  // Async: a publish that throws becomes a rejection, which the NATS callback never sees.
  private async publishHere({ node, topic, event }: ReturnType<typeof decodeEvent>): Promise<unknown> {
    this.seen.add(event.id);
    this.injected.add(event.id);
    const reply = replyRoute(event, this.isLocalAgent);
    if (reply && !this.isShared(reply)) this.routeReplies(reply, node);
    this.counters.received++;
    return this.bus.publish(topic, event);
  }

  /** Whether an arrival of `bytes` would take the inbound publishes past their limits: then it is dropped and counted. */
  private backedUp(bytes: number): boolean {
    if (this.inbound.events < MAX_INBOUND_EVENTS && this.inbound.bytes + bytes <= MAX_INBOUND_BYTES) return false;
    this.drop('backpressure');
    this.refusals.warn(
      'backpressure',
      'events from other runtimes are dropped: the local bus is not taking them as fast as they arrive',
      {
        reason: 'backpressure',
        waiting: this.inbound.events,
        waitingBytes: this.inbound.bytes,
        maxEvents: MAX_INBOUND_EVENTS,
        maxBytes: MAX_INBOUND_BYTES,
      },
    );
    return true;
  }

  /** Counts an inbound publish until it settles. */
  private hold(publish: Promise<unknown>, bytes: number): void {
    this.inbound.events++;
    this.inbound.bytes += bytes;
    void publish
      .catch((e: Error) => this.log.debug('an event from another runtime was not published here', { error: e.message }))
      .finally(() => {
        this.inbound.events--;
        this.inbound.bytes -= bytes;
      });
  }

  /** Data on the wire that is not an event this runtime accepts: counted, and said now and then. */
  private refuse(err: unknown): void {
    this.drop('decode');
    this.refusals.warn('decode', 'a message from the cluster that is not a Loom event was dropped', {
      reason: 'decode',
      error: messageOf(err),
    });
  }

  /** Pulls this runtime's durable consumer for as long as the bridge lives; a broken pull starts again. */
  private async consume(
    js: JetStreamClient,
    onEvent: (data: Uint8Array) => Promise<unknown> | undefined,
  ): Promise<void> {
    while (!this.closed) {
      try {
        const consumer = await js.consumers.get(this.n.stream, this.cfg.node);
        // Short pulls: a pull lost with a dying server is noticed (missed heartbeats) in seconds, not 30 s.
        // abort_on_missing_resource: a deleted consumer or stream ends the pull, and is made again
        // below (the client would otherwise wait, pulling nothing, for someone else to make it).
        this.consumer = await consumer.consume({ max_messages: 1000, expires: 5000, abort_on_missing_resource: true });
        this.pullBrokeMs = undefined;
        for await (const m of this.consumer) {
          try {
            await onEvent(m.data);
          } catch (err) {
            this.refuse(err);
          }
          m.ack();
        }
        this.pullBrokeMs ??= Date.now();
        if (!this.closed) await this.repair('consuming', new Error('the consumer ended'));
      } catch (err) {
        if (this.closed) return;
        this.log.debug('cluster consumer restarts', { error: messageOf(err) });
        this.pullBrokeMs ??= Date.now();
        if (/not found|deleted|no responders/i.test(messageOf(err))) await this.repair('consuming', err);
      }
      if (!this.closed) await new Promise((r) => setTimeout(r, 500));
    }
  }

  /**
   * This runtime's durable consumer, made when it is missing: from now on at the first start, and
   * when made again, from REPLAY_MS before its pull broke (the client notices a deletion within a
   * few heartbeats), so that what reached the stream meanwhile (all of a stream made again) is not
   * missed; what comes twice is dropped by id.
   */
  private async ensureConsumer(jsm: JetStreamManager, repairing = false): Promise<boolean> {
    const durable = this.cfg.node;
    const broke = this.pullBrokeMs ?? (repairing ? Date.now() : undefined);
    const since = broke === undefined ? undefined : broke - REPLAY_MS;
    if (await this.missing(() => jsm.consumers.info(this.n.stream, durable), repairing)) {
      await jsm.consumers.add(this.n.stream, {
        durable_name: durable,
        ack_policy: AckPolicy.Explicit,
        ...(since === undefined
          ? { deliver_policy: DeliverPolicy.New }
          : { deliver_policy: DeliverPolicy.StartTime, opt_start_time: new Date(since).toISOString() }),
        filter_subject: this.n.durableAll,
        // A delivery lost with a dying server comes again after ack_wait; an early one is a duplicate, dropped by id.
        max_ack_pending: 20_000,
        ack_wait: nanos(10_000),
      });
      return true;
    }
    return false;
  }

  /** Whether `info` fails; when `lost`, asked again after REMAKE_AFTER_MS (see there). */
  private async missing(info: () => Promise<unknown>, lost: boolean): Promise<boolean> {
    const exists = () =>
      info().then(
        () => true,
        () => false,
      );
    if (await exists()) return false;
    if (!lost) return true;
    await new Promise((r) => setTimeout(r, REMAKE_AFTER_MS));
    return !this.closed && !(await exists());
  }

  /**
   * The stream and this runtime's consumer made again where something (an operator, a peer holding
   * the deployment's credentials) deleted them: without this, a deleted consumer left the runtime
   * receiving nothing, and a deleted stream held every publisher of a shared batched topic once the
   * buffer filled, both while health said "connected". At most once per REPAIR_MS; said once per loss.
   */
  private async repair(what: string, err: unknown): Promise<void> {
    const jsm = this.jsm;
    if (!jsm || this.closed || this.repairing || !this.connected() || Date.now() < this.nextRepairMs) return;
    this.repairing = true;
    this.nextRepairMs = Date.now() + REPAIR_MS;
    try {
      const made = [
        ...((await this.ensureStream(jsm, true)) ? [this.n.stream] : []),
        ...((await this.ensureConsumer(jsm, true)) ? [`consumer ${this.cfg.node}`] : []),
      ];
      if (made.length)
        this.log.warn(`cluster ${what}: ${made.join(' and ')} had been deleted and were made again`, {
          error: messageOf(err),
        });
      this.lostWhile = undefined;
    } catch (e) {
      if (this.lostWhile === undefined)
        this.log.warn(`cluster ${what} failed and the stream or consumer cannot be made again`, {
          error: messageOf(err),
          repair: messageOf(e),
        });
      this.lostWhile = what;
    } finally {
      this.repairing = false;
    }
  }

  /** The event stream, made when it is missing (`lost`: found so by a repair); true when this call made it. */
  private async ensureStream(jsm: JetStreamManager, lost = false): Promise<boolean> {
    const info = () => jsm.streams.info(this.n.stream);
    if (!(await this.missing(info, lost))) return false;
    try {
      await jsm.streams.add(this.streamConfig());
      return true;
    } catch (err) {
      // Another runtime may have created it a moment ago.
      if (await this.missing(info, false)) throw err;
      return false;
    }
  }

  /** The stream as this runtime's [cluster] asks for it. */
  private streamConfig() {
    return {
      name: this.n.stream,
      subjects: [this.n.durableAll],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      max_age: nanos(this.cfg.retentionMs),
      max_bytes: this.cfg.streamMaxBytes,
      num_replicas: this.cfg.replicas,
      discard: DiscardPolicy.Old,
      duplicate_window: nanos(Math.min(120_000, this.cfg.retentionMs)),
    };
  }

  /**
   * A stream found at start is used as it is, whoever made it (another runtime, this one under an
   * earlier loom.toml, an operator): said once when its settings are not the ones [cluster] gives
   * here, which would otherwise be ignored without a word (subjects that leave this namespace's
   * events out are not stored at all).
   */
  private async sayIfStreamDiffers(jsm: JetStreamManager): Promise<void> {
    const have = (await jsm.streams.info(this.n.stream).catch(() => undefined))?.config;
    if (!have) return;
    const want = this.streamConfig();
    const differing: Record<string, { stream: unknown; here: unknown }> = {};
    const compare = (setting: string, stream: unknown, here: unknown) => {
      if (JSON.stringify(stream) !== JSON.stringify(here)) differing[setting] = { stream, here };
    };
    compare('retention_ms', Number(have.max_age) / 1e6, this.cfg.retentionMs);
    compare('stream_max_bytes', have.max_bytes, want.max_bytes);
    compare('replicas', have.num_replicas, want.num_replicas);
    compare('subjects', have.subjects, want.subjects);
    compare('retention', have.retention, want.retention);
    compare('storage', have.storage, want.storage);
    compare('discard', have.discard, want.discard);
    if (Object.keys(differing).length)
      this.log.warn(
        `cluster stream ${this.n.stream} has other settings than [cluster] gives here (${Object.keys(differing).join(', ')}); it is used as it is: give every runtime of the namespace the same settings, or delete the stream (its events with it) for the next runtime to make`,
        { differing },
      );
  }

  /** Follows a remote request's reply topic for a while: what is published on it here goes to `node` alone. */
  private routeReplies(topic: string, node: string): void {
    const now = Date.now();
    const known = this.replyRoutes.get(topic);
    if (known) {
      known.node = node;
      known.until = now + INBOX_MEMORY_MS;
      return;
    }
    for (const [k, v] of this.replyRoutes)
      if (v.until < now || this.replyRoutes.size >= 10_000) {
        v.sub.unsubscribe();
        this.replyRoutes.delete(k);
      }
    const sub = this.bus.subscribe(
      topic,
      ({ topic: t, event }) => {
        const route = this.replyRoutes.get(t);
        if (!route || this.injected.has(event.id)) return;
        // An agent of this runtime with that id since: its replies are its own.
        const owner = inboxOwner(t);
        if (owner !== undefined && this.isLocalAgent(owner)) return;
        if (!this.nc || !this.connected()) return this.drop('realtime_disconnected');
        this.nc.publish(this.n.replies(route.node), encodeEvent(this.cfg.node, t, event));
        this.counters.sent++;
      },
      { qos: 'batched', subscriber: 'cluster' },
    );
    this.replyRoutes.set(topic, { node, until: now + INBOX_MEMORY_MS, sub });
  }

  private sendRealtime(topic: string, event: Parameters<typeof encodeEvent>[2]): void {
    // At most once: a realtime event with NATS away is dropped and counted, not kept.
    if (!this.nc || !this.connected()) return this.drop('realtime_disconnected');
    this.nc.publish(this.n.realtime(topic), encodeEvent(this.cfg.node, topic, event));
    this.counters.sent++;
  }

  /** Batched/background: kept within the byte budget while NATS is away; the publisher waits while it is slow. */
  private async enqueue(item: Pending): Promise<void> {
    while (this.queueBytes + item.data.byteLength > this.cfg.bufferBytes && this.queue.length > 0) {
      if (!this.connected()) {
        this.drop('buffer_full');
        if (this.droppedSinceReport++ === 0)
          this.log.warn('NATS is unreachable and the cluster buffer is full: batched events are being dropped', {
            bufferBytes: this.cfg.bufferBytes,
          });
        return;
      }
      await new Promise<void>((r) => this.roomWaiters.push(r));
      if (this.closed) return;
    }
    this.queue.push(item);
    this.queueBytes += item.data.byteLength;
    this.pump();
  }

  /** Called when the connection comes back: what was buffered goes out, and the drops are reported once. */
  resume(): void {
    if (this.droppedSinceReport > 0) {
      this.log.warn('batched events dropped while NATS was unreachable', { dropped: this.droppedSinceReport });
      this.droppedSinceReport = 0;
    }
    this.pump();
  }

  private pump(): void {
    const js = this.js;
    if (!js || this.closed || !this.connected()) return;
    while (this.inflight < WINDOW && this.queue.length > 0) {
      const item = this.queue.shift()!;
      this.inflight++;
      js.publish(item.subject, item.data, { msgID: item.id, timeout: 5000 }).then(
        () => {
          this.inflight--;
          this.queueBytes -= item.data.byteLength;
          this.counters.sent++;
          this.wakeWriters();
          this.pump();
        },
        (err: Error) => {
          // Not stored (a node died, a leader is being elected): again, with the same id, so
          // JetStream keeps it once even if the first try did land.
          this.inflight--;
          this.queue.unshift(item);
          this.log.debug('cluster publish retried', { error: err.message });
          if (/not found|no responders|503/i.test(err.message)) void this.repair('publishing', err);
          this.retryTimer ??= setTimeout(() => {
            this.retryTimer = undefined;
            this.pump();
          }, RETRY_MS);
        },
      );
    }
  }

  private wakeWriters(): void {
    for (const w of this.roomWaiters.splice(0)) w();
  }

  private drop(reason: string): void {
    this.counters.dropped[reason] = (this.counters.dropped[reason] ?? 0) + 1;
  }

  get buffered(): { events: number; bytes: number } {
    return { events: this.queue.length + this.inflight, bytes: this.queueBytes };
  }

  /** Waits (bounded) for the buffered batched events to reach JetStream, so a clean stop loses none. */
  async flush(timeoutMs: number): Promise<void> {
    const until = Date.now() + timeoutMs;
    while ((this.queue.length > 0 || this.inflight > 0) && Date.now() < until && this.connected())
      await new Promise((r) => setTimeout(r, 20));
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.retryTimer);
    for (const s of this.localSubs.splice(0)) s.unsubscribe();
    for (const r of this.replyRoutes.values()) r.sub.unsubscribe();
    this.replyRoutes.clear();
    for (const s of this.natsSubs.splice(0)) s.unsubscribe();
    void this.consumer?.close();
    this.wakeWriters();
  }
}
