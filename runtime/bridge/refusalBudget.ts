// A caller that keeps sending what the runtime must refuse (messages that do not decode, bad
// arguments, a credential it does not have, topics it may not use) is answered more slowly once it
// has spent its budget of refusals. The runtime has one event loop: without this, one client
// flooding it with bad messages took more than half of what a well-behaved agent beside it got
// done (test/stress/'s fuzz, steady_ratio 0.44). A client that waits for its answers, as gRPC
// clients do, is held to the budget's rate; the runtime still answers everything, and what is not
// refused is never held back. Only refusals that a correct client does not earn count: see
// REFUSAL_STATUSES and REFUSAL_ERROR_CODES.
//
// The budget is a generic cell rate algorithm (one timestamp per caller, no timers): a burst of
// BURST refusals, then PER_SECOND a second; a refusal beyond that waits until its turn, at most
// MAX_WAIT_MS, so that a client does not wait past its deadline and a flood stops costing within a second of ending.
import * as grpc from '@grpc/grpc-js';

export const REFUSALS_PER_SECOND = 200;
export const REFUSAL_BURST = 1000;
export const MAX_WAIT_MS = 1000;

/** gRPC statuses that say the caller sent something it should not have. */
export const REFUSAL_STATUSES: ReadonlySet<grpc.status> = new Set([
  grpc.status.INVALID_ARGUMENT,
  grpc.status.UNAUTHENTICATED,
  grpc.status.PERMISSION_DENIED,
]);

/** EventStream's Error codes that say the same of one of its messages. */
export const REFUSAL_ERROR_CODES: ReadonlySet<string> = new Set([
  'invalid_message',
  'publish_failed',
  'sender_mismatch',
  'reserved_topic',
]);

/** Callers whose turn came long ago are forgotten once this many are remembered (they start afresh, as they would). */
const PRUNE_AT = 256;

export class RefusalBudget {
  /** Per caller: when its next refusal would be on time at the sustained rate (GCRA's "theoretical arrival time"). */
  private readonly due = new Map<string, number>();
  private readonly intervalMs: number;
  private readonly slackMs: number;

  constructor(
    perSecond = REFUSALS_PER_SECOND,
    burst = REFUSAL_BURST,
    private readonly maxWaitMs = MAX_WAIT_MS,
    private readonly now: () => number = Date.now,
  ) {
    this.intervalMs = 1000 / perSecond;
    this.slackMs = burst * this.intervalMs;
  }

  /** Counts one refusal against `caller`: how long its answer should wait, in ms (0 within the budget). */
  charge(caller: string): number {
    const now = this.now();
    const due = Math.max(this.due.get(caller) ?? now, now) + this.intervalMs;
    const wait = Math.min(Math.max(0, due - now - this.slackMs), this.maxWaitMs);
    // A caller already waiting the longest is not pushed further back: it recovers as soon as it stops.
    this.due.set(caller, Math.min(due, now + this.slackMs + this.maxWaitMs));
    if (this.due.size > PRUNE_AT) this.prune(now);
    return wait;
  }

  private prune(now: number): void {
    for (const [caller, due] of this.due) if (due <= now) this.due.delete(caller);
  }
}
