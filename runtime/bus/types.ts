// The bus contract. Other runtime parts (bridge, agents, sources, tools) depend on these types
// only, never on the bus's internals.

import type { QoS } from '../qos';

export type { QoS } from '../qos';

/** Same shape as loom.v1.Event (generated Event__Output), so the bridge passes events through without copying. */
export interface LoomEvent {
  id: string;
  type: string;
  timestampMs: number;
  source: string;
  /** Envelope keys live here; see envelope.ts. */
  metadata: Record<string, string>;
  payload: Buffer;
  confidence: number;
  tags: string[];
  priority: number;
}

export interface Delivery {
  /** The concrete topic the event was published on, never the pattern that matched. */
  topic: string;
  event: LoomEvent;
  subscriptionId: string;
  qos: QoS;
}

/** A handler may return a promise; the subscription's next delivery waits for it (ordering per subscriber). */
export type DeliveryHandler = (delivery: Delivery) => void | Promise<void>;

export interface SubscribeOptions {
  /** Default "batched": nothing is lost unless the subscriber asks for realtime or background. */
  qos?: QoS;
  /** Overrides the bus default for this QoS. */
  queueSize?: number;
  /** Byte budget of the queue (events queued plus the one being delivered); overrides the bus default for this QoS. */
  queueBytes?: number;
  /** Who holds the subscription (an agent id, "runtime", "dashboard"); used in stats. */
  subscriber?: string;
}

export interface Subscription {
  readonly id: string;
  readonly pattern: string;
  readonly qos: QoS;
  readonly subscriber: string;
  /** Removes the subscription and frees its queue; pending deliveries are dropped (reason "closed"). Idempotent. */
  unsubscribe(): void;
}

export interface PublishResult {
  /** Subscriptions the event was queued for. */
  queued: number;
  /** Subscriptions that dropped it (realtime/background queue full or over its byte budget, larger than a queue's whole budget, or unsubscribed while a batched publish waited). */
  dropped: number;
  /** Set when the bus refused the event as a whole (nothing queued); the drop is counted under this reason. */
  refused?: 'ttl_expired' | 'hop_limit';
}

/**
 * Why a delivery did not happen. queue_full: the queue holds its count of events; queue_bytes:
 * the event does not fit in what is left of the queue's byte budget (realtime, background);
 * too_large: the event is larger than the queue's whole byte budget, or the subscriber's
 * transport cannot carry it (a bridge stream's max message size; a handler reports that by
 * throwing DeliveryDropped).
 */
export type DropReason =
  'queue_full' | 'queue_bytes' | 'ttl_expired' | 'hop_limit' | 'closed' | 'handler_error' | 'too_large';

export interface TopicStats {
  topic: string;
  published: number;
  delivered: number;
  dropped: Partial<Record<DropReason, number>>;
}

export interface SubscriptionStats {
  id: string;
  pattern: string;
  subscriber: string;
  qos: QoS;
  queueDepth: number;
  queueCapacity: number;
  /** Bytes of the events queued plus the one being delivered (estimated: payload, strings, metadata). */
  queueBytes: number;
  queueBytesCapacity: number;
  /** Batched publishers waiting for room in this queue. */
  waitingPublishers?: number;
  delivered: number;
  dropped: Partial<Record<DropReason, number>>;
}

export interface BusStats {
  topics: TopicStats[];
  subscriptions: SubscriptionStats[];
  published: number;
  delivered: number;
  dropped: Partial<Record<DropReason, number>>;
}

export interface BusOptions {
  queueSizes?: Partial<Record<QoS, number>>;
  /** Byte budget of each subscription's queue, per QoS (see DEFAULT_QUEUE_BYTES). */
  queueBytes?: Partial<Record<QoS, number>>;
  /** Events whose hop count reaches this are dropped (reason hop_limit). */
  maxHops?: number;
  /** Default for request() when no timeout is given. */
  requestTimeoutMs?: number;
  /** How many topics stats() keeps counters for (least recently published evicted first). Default 10 000. */
  maxTopicStats?: number;
}

export interface Bus {
  /**
   * Queues the event for every matching subscription. Resolves once it is queued everywhere:
   * immediately for realtime/background (realtime drops when full), after waiting for room for
   * batched (backpressure). Rejects with a BusError for an invalid topic (wildcards, empty segments).
   * Increments the hop count and enforces ttl/hop limits.
   */
  publish(topic: string, event: LoomEvent): Promise<PublishResult>;
  subscribe(pattern: string, handler: DeliveryHandler, options?: SubscribeOptions): Subscription;
  /** Publishes with a fresh correlation id and reply-to inbox, resolves with the first reply; rejects on timeout. */
  request(topic: string, event: LoomEvent, options?: { timeoutMs?: number }): Promise<LoomEvent>;
  stats(): BusStats;
  /** Drains nothing: stops delivery and frees every subscription. */
  close(): Promise<void>;
}
