// An idle runtime gives its start-up garbage back to the system only when V8's memory reducer
// runs: 8 s after the old generation first grows, a constant in the V8 of Node 20 (its
// --gc-memory-reducer-start-delay-ms is not read on that path). Until then the runtime holds
// about 9 MB it no longer uses: the young generation grown to start-up's pace and old-generation
// pages of parsed modules (test/bench/start.bench.ts: 68 MB 3 s after ready, 59 once settled).
// The inspector protocol's HeapProfiler.collectGarbage is the one way from JavaScript to the same
// memory-reducing collection (Isolate::LowMemoryNotification): gc() of --expose-gc is an ordinary
// full collection, which gives back neither, and v8.queryObjects' one leaves megabytes of its own
// in glibc's heap. A session in the process itself, no port opened; about 20 ms, once.
import type { Session } from 'node:inspector';

/** How long after ready: start-up's last allocations (the first agents' spawns) are done. */
export const STARTUP_GARBAGE_DELAY_MS = 1000;

/**
 * Asks V8, once, for the collection that gives start-up garbage back, `delayMs` from now. Never
 * throws: a Node built without the inspector keeps V8's own schedule. Returns the cancel.
 */
export function giveBackStartupGarbage(delayMs = STARTUP_GARBAGE_DELAY_MS): () => void {
  let cancelled = false;
  const timer = setTimeout(() => void collectNow().catch(() => undefined), delayMs);
  timer.unref();
  return () => {
    cancelled = true;
    clearTimeout(timer);
  };

  async function collectNow(): Promise<void> {
    if (cancelled || !process.features.inspector) return;
    const { Session } = await import('node:inspector');
    const session: Session = new Session();
    session.connect();
    await new Promise<void>((resolve) =>
      session.post('HeapProfiler.collectGarbage', () => {
        // Not from inside the answer's callback: there, Node 20's disconnect blocks the
        // main thread for good (seen: no timer ran again).
        setImmediate(() => {
          session.disconnect();
          resolve();
        });
      }),
    );
  }
}
