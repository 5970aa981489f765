// One subscription: its queue, bounded in count and in bytes, its QoS policy when the queue is
// full, and the publishers of batched events waiting for room. The byte budget covers the
// events queued plus the one being delivered (a bridge handler holds it until the stream takes
// it), so a subscriber that stops reading holds at most its budget in the bus. Deliveries to one subscription happen one at
// a time in publish order; an async handler holds back only its own subscription.
import { randomUUID } from 'node:crypto';
import type { Logger } from '../log';
import { DeliveryDropped } from './errors';
import { Ring } from './ring';
import type { Pump } from './scheduler';
import { countDrop, type DropCounts, type TopicCounters } from './stats';
import { endDeliverSpan, recordDrop, startDeliverSpan, tracingActive } from './tracing';
import type { Instruments, Span } from '../telemetry';
import type { DeliveryHandler, DropReason, LoomEvent, QoS, Subscription, SubscriptionStats } from './types';

/** One publish, shared by every subscription it is queued on. */
export interface Published {
  topic: string;
  event: LoomEvent;
  /** ms since the epoch; Infinity when the event has no ttl. */
  expiresAt: number;
  counters: TopicCounters;
  /** Estimated size in memory (payload, strings, metadata), counted against byte budgets. */
  bytes: number;
  /**
   * Telemetry as it was when the event was published: whether a tracer provider recorded, and the
   * meter provider's instruments. Asking the OpenTelemetry globals costs 20-30 ns each time; asked
   * once per event instead of again at each delivery.
   */
  traced: boolean;
  meters: Instruments;
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
  /** Bytes of the queued events plus the one being delivered. */
  private bytes = 0;
  private readonly waiters = new Ring<Waiter>();

  constructor(
    readonly pattern: string,
    readonly segments: readonly string[],
    readonly qos: QoS,
    readonly subscriber: string,
    private readonly capacity: number,
    private readonly byteBudget: number,
    private readonly handler: DeliveryHandler,
    private readonly host: SubscriptionHost,
  ) {
    this.background = qos === 'background';
  }

  /**
   * Queues an event: true when queued, false when dropped (queue full or over its byte budget,
   * realtime/background; larger than the whole budget, any QoS), or for batched a promise that
   * settles once there is room (true) or the subscription ends (false). A batched event that
   * fits the budget always finds room once the queue empties, so a publisher never waits forever.
   */
  offer(item: Published): boolean | Promise<boolean> {
    if (item.bytes > this.byteBudget) {
      this.drop(item, 'too_large');
      return false;
    }
    if (this.waiters.length === 0 && this.fits(item)) {
      this.enqueue(item);
      if (!this.scheduled && !this.busy) this.host.ready(this);
      return true;
    }
    if (this.qos !== 'batched') {
      this.drop(item, this.queue.length >= this.capacity ? 'queue_full' : 'queue_bytes');
      return false;
    }
    return new Promise<boolean>((resolve) => this.waiters.push({ item, resolve }));
  }

  private fits(item: Published): boolean {
    return this.queue.length < this.capacity && this.bytes + item.bytes <= this.byteBudget;
  }

  private enqueue(item: Published): void {
    this.queue.push(item);
    this.bytes += item.bytes;
  }

  /** Moves waiting batched publishers' events into the queue while they fit, oldest first. */
  private admitWaiters(): void {
    while (this.waiters.length > 0) {
      const next = this.waiters.peek()!;
      if (!this.fits(next.item)) return;
      this.waiters.shift();
      this.enqueue(next.item);
      next.resolve(true);
    }
  }

  /** The delivery of `item` is over (delivered, dropped or failed): its bytes leave the budget. */
  private release(item: Published): void {
    if (this.closed) return; // unsubscribe already emptied the budget
    this.bytes -= item.bytes;
    if (this.waiters.length > 0) this.admitWaiters();
  }

  hasWork(): boolean {
    return this.queue.length > 0;
  }

  deliverNext(): void {
    const item = this.queue.shift();
    if (!item) return;
    // Its bytes stay counted until the delivery is over; a free slot may admit a waiter now.
    if (this.waiters.length > 0) this.admitWaiters();
    if (item.expiresAt !== Infinity && item.expiresAt <= Date.now()) {
      this.drop(item, 'ttl_expired');
      this.release(item);
      return;
    }
    const span = item.traced ? startDeliverSpan(item.topic, item.event, this) : undefined;
    let result: void | Promise<void>;
    try {
      result = this.handler({ topic: item.topic, event: item.event, subscriptionId: this.id, qos: this.qos });
    } catch (err) {
      this.fail(item, err, span);
      this.release(item);
      return;
    }
    if (result && typeof (result as Promise<void>).then === 'function') {
      this.busy = true;
      (result as Promise<void>).then(
        () => this.settle(item, undefined, span),
        (err: unknown) => this.settle(item, err ?? new Error('handler rejected without a reason'), span),
      );
    } else {
      this.succeed(item, span);
      this.release(item);
    }
  }

  private settle(item: Published, err: unknown, span: Span | undefined): void {
    this.busy = false;
    if (err === undefined) this.succeed(item, span);
    else this.fail(item, err, span);
    this.release(item);
    if (!this.closed && this.queue.length > 0) this.host.ready(this);
  }

  private succeed(item: Published, span: Span | undefined): void {
    this.delivered++;
    this.host.delivered(item, this.qos);
    span?.end();
  }

  private fail(item: Published, err: unknown, span: Span | undefined): void {
    if (err instanceof DeliveryDropped) {
      this.drop(item, err.reason, span);
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
    this.drop(item, 'handler_error', span, err instanceof Error ? err : new Error(String(err)));
  }

  /** Counts a drop and traces it: on the delivery's span when there is one. */
  private drop(item: Published, reason: DropReason, span?: Span, error?: Error): void {
    countDrop(this.drops, reason);
    this.host.dropped(item, reason);
    if (span) endDeliverSpan(span, { reason, error });
    else if (item.traced) recordDrop(item.topic, item.event, reason, this);
  }

  /** Leaves the topic index, drops what is queued (reason closed) and releases waiting publishers. */
  unsubscribe(): void {
    if (this.closed) return;
    this.closed = true;
    this.host.detach(this);
    const traced = tracingActive();
    for (const item of this.queue.drain()) {
      this.host.dropped(item, 'closed');
      if (traced) recordDrop(item.topic, item.event, 'closed', this);
    }
    for (const w of this.waiters.drain()) {
      this.host.dropped(w.item, 'closed');
      if (traced) recordDrop(w.item.topic, w.item.event, 'closed', this);
      w.resolve(false);
    }
    this.bytes = 0;
  }

  stats(): SubscriptionStats {
    return {
      id: this.id,
      pattern: this.pattern,
      subscriber: this.subscriber,
      qos: this.qos,
      queueDepth: this.queue.length,
      queueCapacity: this.capacity,
      queueBytes: this.bytes,
      queueBytesCapacity: this.byteBudget,
      waitingPublishers: this.waiters.length,
      delivered: this.delivered,
      dropped: { ...this.drops },
    };
  }
}
