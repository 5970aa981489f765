// How often an owned runtime may crash before the window stops restarting it: as
// vscode-languageclient's default error handler, at most MAX restarts within WINDOW_MS.

export const MAX_CRASH_RESTARTS = 5;
export const CRASH_WINDOW_MS = 3 * 60_000;

export class CrashCounter {
  private times: number[] = [];
  constructor(
    readonly max = MAX_CRASH_RESTARTS,
    readonly windowMs = CRASH_WINDOW_MS,
  ) {}

  /** Records a crash at `now`: true when the runtime may be restarted, false when it crashed too often. */
  record(now = Date.now()): boolean {
    this.times = this.times.filter((t) => now - t < this.windowMs);
    this.times.push(now);
    return this.times.length <= this.max;
  }

  /** A fresh start (the person restarted it): the earlier crashes no longer count. */
  reset(): void {
    this.times = [];
  }

  get count(): number {
    return this.times.length;
  }
}
