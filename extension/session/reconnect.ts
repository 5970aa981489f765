// Getting a lost link back: attempts with backoff until one succeeds or MAX fail. cancel() (the
// person stopped or started the runtime, the runtime crashed too often, the window closes) also
// voids the attempt under way: its failure then schedules no other. Without that, an attempt that
// failed while a stop waited for it armed a new timer, and a runtime the window had given up on
// was started again a moment later.
import { messageOf } from '../../runtime/contract';

export const MAX_RECONNECTS = 8;
export const RECONNECT_FIRST_MS = 500;
export const RECONNECT_MAX_MS = 10_000;

export interface ReconnectHooks {
  /** One attempt: resolves when the link is back. */
  attempt(): Promise<unknown>;
  /** Attempt `n` of `max` starts in `delayMs`, after `reason`. */
  scheduled(n: number, max: number, delayMs: number, reason: string): void;
  reconnected(): void;
  /** MAX attempts failed; the last said `reason`. */
  gaveUp(reason: string): void;
}

export class Reconnector {
  private attempts = 0;
  private timer: NodeJS.Timeout | undefined;
  /** Bumped by cancel(): an attempt started under an older value is void. */
  private generation = 0;

  constructor(
    private readonly hooks: ReconnectHooks,
    private readonly max = MAX_RECONNECTS,
    private readonly firstMs = RECONNECT_FIRST_MS,
    private readonly maxMs = RECONNECT_MAX_MS,
  ) {}

  schedule(reason: string): void {
    this.attempts++;
    if (this.attempts > this.max) {
      this.attempts = 0;
      this.hooks.gaveUp(reason);
      return;
    }
    const delay = Math.min(this.firstMs * 2 ** (this.attempts - 1), this.maxMs);
    this.hooks.scheduled(this.attempts, this.max, delay, reason);
    const generation = this.generation;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.hooks.attempt().then(
        () => {
          if (generation !== this.generation) return;
          this.attempts = 0;
          this.hooks.reconnected();
        },
        (err: unknown) => {
          if (generation === this.generation) this.schedule(messageOf(err));
        },
      );
    }, delay);
  }

  cancel(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.attempts = 0;
    this.generation++;
  }
}
