import type { CancelSignal } from './types';

/**
 * A CancelSignal the bridge makes for each call it runs, cancelled when its caller gives up.
 * Not an AbortController: made and listened to for every call, one cost a fast call a tenth of its
 * calls/s (test/bench/bridge.bench.py, ctx.tool fs:read: 1 556 calls/s with one per call, 1 743 to
 * 1 783 with this, 1 844 with neither), and almost no call is ever cancelled.
 */
export class CallCancel implements CancelSignal {
  private listeners: (() => void)[] = [];
  private cancelled = false;

  get aborted(): boolean {
    return this.cancelled;
  }

  addEventListener(_type: 'abort', listener: () => void): void {
    if (!this.cancelled) this.listeners.push(listener);
  }

  removeEventListener(_type: 'abort', listener: () => void): void {
    const i = this.listeners.indexOf(listener);
    if (i >= 0) this.listeners.splice(i, 1);
  }

  /** Runs each listener once; later calls do nothing. */
  cancel(): void {
    if (this.cancelled) return;
    this.cancelled = true;
    const listeners = this.listeners;
    this.listeners = [];
    for (const listener of listeners) listener();
  }
}
