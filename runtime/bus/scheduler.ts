// Decides which subscription gets the next delivery. Realtime and batched subscriptions are
// served round-robin, one delivery each, before any background one (the QoS promise:
// background runs after pending realtime/batched work). Deliveries run in microtasks for speed
// but at most SLICE of them per macrotask turn, so a flood never starves timers and sockets.
import { Ring } from './ring';

/** What the scheduler drives: a subscription with a queue. */
export interface Pump {
  readonly background: boolean;
  /** Set by the scheduler while the pump waits in a ready list. */
  scheduled: boolean;
  /** True while an async handler is still running; the next delivery waits for it. */
  readonly busy: boolean;
  readonly closed: boolean;
  hasWork(): boolean;
  deliverNext(): void;
}

const SLICE = 2048;

export class DeliveryScheduler {
  private readonly urgent = new Ring<Pump>();
  private readonly later = new Ring<Pump>();
  private pending = false;
  private budget = SLICE;

  /** A pump has work and nothing running: line it up. */
  ready(pump: Pump): void {
    if (pump.scheduled || pump.busy || pump.closed) return;
    this.enqueue(pump);
    this.kick();
  }

  private enqueue(pump: Pump): void {
    pump.scheduled = true;
    (pump.background ? this.later : this.urgent).push(pump);
  }

  private kick(): void {
    if (this.pending) return;
    this.pending = true;
    if (this.budget > 0) queueMicrotask(this.run);
    else setImmediate(this.freshTurn);
  }

  private readonly freshTurn = (): void => {
    this.budget = SLICE;
    this.run();
  };

  private readonly run = (): void => {
    this.pending = false;
    while (this.budget > 0) {
      const pump = this.urgent.shift() ?? this.later.shift();
      if (!pump) return;
      pump.scheduled = false;
      if (pump.closed || pump.busy) continue;
      this.budget--;
      pump.deliverNext();
      if (!pump.busy && !pump.closed && pump.hasWork()) this.enqueue(pump);
    }
    if (this.urgent.length > 0 || this.later.length > 0) this.kick();
  };
}
