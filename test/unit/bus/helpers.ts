// Small async helpers for bus tests. They wait on event-loop turns and conditions, never on
// wall-clock durations, so no assertion depends on how fast the machine is.
import { until as waitUntil } from '../../support/eventually';

export interface Gate {
  promise: Promise<void>;
  open(): void;
}

/** A promise handlers can wait on until the test opens it. */
export function gate(): Gate {
  let open!: () => void;
  const promise = new Promise<void>((r) => (open = r));
  return { promise, open };
}

/** Lets `n` full event-loop turns pass (every microtask and ready delivery runs in between). */
export async function turns(n = 10): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
}

/**
 * Waits until `cond` holds. The give-up point is only a guard so a broken bus fails the test
 * instead of spinning forever after mocha's timeout; it measures nothing.
 */
export function until(cond: () => boolean, what = 'condition', giveUpMs = 15_000): Promise<void> {
  return waitUntil(what, cond, { timeoutMs: giveUpMs, intervalMs: 0 });
}
