// Collects bus deliveries for a pattern and lets a test wait until a condition holds
// (the test's mocha timeout is the only clock).
import { type EventBus, payloadJson, type Delivery, type Subscription } from '../../../runtime/bus';

export interface Seen<P> {
  type: string;
  source: string;
  metadata: Record<string, string>;
  payload: P;
}

export class Collector<P> {
  readonly seen: Seen<P>[] = [];
  private readonly waiters: (() => void)[] = [];
  private readonly subscription: Subscription;

  constructor(bus: EventBus, pattern: string) {
    this.subscription = bus.subscribe(pattern, (d: Delivery) => {
      this.seen.push({
        type: d.topic,
        source: d.event.source,
        metadata: d.event.metadata,
        payload: payloadJson<P>(d.event),
      });
      for (const wake of this.waiters.splice(0)) wake();
    });
  }

  /** Resolves with the first event (in arrival order) satisfying `match`. */
  async next(match: (e: Seen<P>) => boolean): Promise<Seen<P>> {
    for (;;) {
      const found = this.seen.find(match);
      if (found) return found;
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  close(): void {
    this.subscription.unsubscribe();
  }
}

/** Count of live handles of one kind (e.g. "Timeout", "FSEventWrap"), to check that close() freed them. */
export function activeHandles(kind: string): number {
  return process.getActiveResourcesInfo().filter((r) => r === kind).length;
}
