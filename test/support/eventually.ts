// Polling for the suites: one `eventually` for "wait until this holds or yields a value", so every
// suite fails the same way — with what it waited for and for how long — instead of hanging.

export interface EventuallyOptions {
  /** Give up after this long (a bound that turns a hang into a failure, not a timing assertion). */
  timeoutMs?: number;
  /** Pause between checks; 0 polls on setImmediate (for in-process code that needs only a turn). */
  intervalMs?: number;
  /** Appended to the timeout message, e.g. the runtime's last stderr lines. */
  detail?: () => string;
}

/**
 * Polls `check` until it returns something other than undefined, and returns that. A check that
 * throws counts as "not yet"; its last error is quoted in the timeout message.
 */
export async function eventually<T>(
  what: string,
  check: () => T | undefined | Promise<T | undefined>,
  opts: EventuallyOptions = {},
): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const intervalMs = opts.intervalMs ?? 100;
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      const lastError = last ? ` (last error: ${(last as Error).message})` : '';
      const detail = opts.detail ? `\n${opts.detail()}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError}${detail}`);
    }
    await new Promise((r) => (intervalMs > 0 ? setTimeout(r, intervalMs) : setImmediate(r)));
  }
}

/** `eventually` for a check that says "not yet" with false as well as undefined; returns its value. */
export function eventuallyTruthy<T>(
  what: string,
  check: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 30_000,
): Promise<T> {
  return eventually(
    what,
    async () => {
      const value = await check();
      return value === false ? undefined : value;
    },
    { timeoutMs },
  );
}

/** `eventually` for a condition: waits until `cond` returns true. */
export async function until(
  what: string,
  cond: () => boolean | Promise<boolean>,
  opts: EventuallyOptions = {},
): Promise<void> {
  await eventually(what, async () => ((await cond()) ? true : undefined), opts);
}
