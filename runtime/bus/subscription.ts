// One subscription: its bounded queue, its QoS policy when the queue is full, and the
// publishers of batched events waiting for room. Deliveries to one subscription happen one at
// a time in publish order; an async handler holds back only its own subscription.
import { randomUUID } from 'node:crypto';
import type { Logger } from '../log';
import { DeliveryDropped } from './errors';
import { Ring } from './ring';
import type { Pump } from './scheduler';
import { countDrop, type DropCounts, type TopicCounters } from './stats';
import type { DeliveryHandler, DropReason, LoomEvent, QoS, Subscription, SubscriptionStats } from './types';

/** One publish, shared by every subscription it is queued on. */
export interface Published {
  topic: string;
  event: LoomEvent;
  /** ms since the epoch; Infinity when the event has no ttl. */
  expiresAt: number;
  counters: TopicCounters;
}

/** What a subscription reports back to its bus. */
export interface SubscriptionHost {
  readonly log: Logger;
  ready(sub: BusSubscription): void;
  detach(sub: BusSubscription): void;
  delivered(item: Published, qos: QoS): void;
  dropped(item: Published, reason: DropReason, n?: number): void;
}

interface Waiter {
  item: Published;
  resolve(queued: boolean): void;
}

// A handler that fails on every event would otherwise write one log line per event.
const LOGGED_FAILURES = 10;
const LOG_EVERY_NTH_FAILURE = 1000;

export class BusSubscription implements Subscription, Pump {
  readonly id = randomUUID();
  readonly background: boolean;
  scheduled = false;
  busy = false;
  closed = false;
  private delivered = 0;
  private readonly drops: DropCounts = {};
  private failures = 0;
  private readonly queue = new Ring<Published>();
  private readonly waiters = new Ring<Waiter>();

  constructor(
    readonly pattern: string,
    readonly segments: readonly string[],
    readonly qos: QoS,
    readonly subscriber: string,
    private readonly capacity: number,
    private readonly handler: DeliveryHandler,
    private readonly host: SubscriptionHost,
  ) {
    this.background = qos === 'background';
  }

  /**
   * Queues an event: true when queued, false when dropped (queue full, realtime/background),
   * or for batched a promise that settles once there is room (true) or the subscription ends (false).
   */
  offer(item: Published): boolean | Promise<boolean> {
    if (this.queue.length < this.capacity && this.waiters.length === 0) {
      this.queue.push(item);
      if (!this.scheduled && !this.busy) this.host.ready(this);
      return true;
    }
    if (this.qos !== 'batched') {
      this.drop(item, 'queue_full');
      return false;
    }
    return new Promise<boolean>((resolve) => this.waiters.push({ item, resolve }));
  }

  hasWork(): boolean {
    return this.queue.length > 0;
  }

  deliverNext(): void {
    const item = this.queue.shift();
    if (!item) return;
    const waiter = this.waiters.shift();
    if (waiter) {
      this.queue.push(waiter.item);
      waiter.resolve(true);
    }
    if (item.expiresAt !== Infinity && item.expiresAt <= Date.now()) {
      this.drop(item, 'ttl_expired');
      return;
    }
    let result: void | Promise<void>;
    try {
      result = this.handler({ topic: item.topic, event: item.event, subscriptionId: this.id, qos: this.qos });
    } catch (err) {
      this.fail(item, err);
      return;
    }
    if (result && typeof (result as Promise<void>).then === 'function') {
      this.busy = true;
      (result as Promise<void>).then(
        () => this.settle(item),
        (err: unknown) => this.settle(item, err ?? new Error('handler rejected without a reason')),
      );
    } else {
      this.succeed(item);
    }
  }

  private settle(item: Published, err?: unknown): void {
    this.busy = false;
    if (err === undefined) this.succeed(item);
    else this.fail(item, err);
    if (!this.closed && this.queue.length > 0) this.host.ready(this);
  }

  private succeed(item: Published): void {
    this.delivered++;
    this.host.delivered(item, this.qos);
  }

  private fail(item: Published, err: unknown): void {
    if (err instanceof DeliveryDropped) {
      this.drop(item, err.reason);
      return;
    }
    this.failures++;
    if (this.failures <= LOGGED_FAILURES || this.failures % LOG_EVERY_NTH_FAILURE === 0) {
      this.host.log.warn('subscription handler failed', {
        subscription: this.id,
        pattern: this.pattern,
        subscriber: this.subscriber,
        topic: item.topic,
        eventId: item.event.id,
        failures: this.failures,
        error: err instanceof Error ? err.message : String(err),
      });
    }
    this.drop(item, 'handler_error');
  }

  private drop(item: Published, reason: DropReason): void {
    countDrop(this.drops, reason);
    this.host.dropped(item, reason);
  }

  /** Leaves the topic index, drops what is queued (reason closed) and releases waiting publishers. */
  unsubscribe(): void {
    if (this.closed) return;
    this.closed = true;
    this.host.detach(this);
    for (const item of this.queue.drain()) this.host.dropped(item, 'closed');
    for (const w of this.waiters.drain()) {
      this.host.dropped(w.item, 'closed');
      w.resolve(false);
    }
  }

  stats(): SubscriptionStats {
    return {
      id: this.id,
      pattern: this.pattern,
      subscriber: this.subscriber,
      qos: this.qos,
      queueDepth: this.queue.length,
      queueCapacity: this.capacity,
      waitingPublishers: this.waiters.length,
      delivered: this.delivered,
      dropped: { ...this.drops },
    };
  }
}
