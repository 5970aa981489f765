import { ToolError } from '../errors';
import type { CancelSignal } from '../types';

/** Commands one caller runs at once, and all callers together. */
export const MAX_COMMANDS_PER_CALLER = 8;
export const MAX_COMMANDS = 32;
/** Calls that wait for a place, of one caller and of all callers: past these a call is refused. */
export const MAX_WAITING_PER_CALLER = 64;
export const MAX_WAITING = 256;

interface Waiter {
  caller: string;
  start: () => void;
}

/**
 * Places for system:shell's commands. Every command is a process (bubblewrap's and the program's),
 * its pipes and its descriptors: 2 000 calls at once from one agent stalled the runtime for
 * seconds and left the user 6 000 processes. So at most MAX_COMMANDS_PER_CALLER of one caller and
 * MAX_COMMANDS in all run at once; a call past that waits, first come first started, unless it
 * would be one too many waiting, which is refused at once, saying so. A waiting call is only a
 * promise (its process is not made), and it leaves the line when its call ends (timeout, cancel).
 * A caller at its own limit never holds up another: the first waiting call whose caller has a
 * place left starts.
 */
export class CommandSlots {
  private readonly runningBy = new Map<string, number>();
  private running = 0;
  private readonly waiting: Waiter[] = [];
  private readonly waitingBy = new Map<string, number>();

  /** Resolves with the release of a place once the command may start; rejects when `signal` ends the call first. */
  enter(caller: string, command: string, signal: CancelSignal & { reason?: unknown }): Promise<() => void> {
    if (this.hasPlace(caller)) return Promise.resolve(this.take(caller));
    const mine = this.runningBy.get(caller) ?? 0;
    const myWaiting = this.waitingBy.get(caller) ?? 0;
    if (myWaiting >= MAX_WAITING_PER_CALLER || this.waiting.length >= MAX_WAITING)
      return Promise.reject(
        new ToolError(
          'unavailable',
          myWaiting >= MAX_WAITING_PER_CALLER
            ? `system:shell: ${command} was not started: ${mine} commands of ${caller} are running and ${myWaiting} more wait, at most ${MAX_COMMANDS_PER_CALLER} running and ${MAX_WAITING_PER_CALLER} waiting for one caller; try again when one has ended`
            : `system:shell: ${command} was not started: ${this.running} commands are running and ${this.waiting.length} more wait, at most ${MAX_COMMANDS} running and ${MAX_WAITING} waiting for all callers; try again when one has ended`,
          { command, reason: 'too_many_commands' },
        ),
      );
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        caller,
        start: () => {
          signal.removeEventListener('abort', leave);
          resolve(this.take(caller));
        },
      };
      const leave = () => {
        this.remove(waiter);
        reject(signal.reason ?? new ToolError('failed', `system:shell: ${command} was cancelled while it waited`));
      };
      this.waiting.push(waiter);
      this.waitingBy.set(caller, myWaiting + 1);
      if (signal.aborted) leave();
      else signal.addEventListener('abort', leave, { once: true });
    });
  }

  /** Running and waiting commands, of one caller or of all. */
  counts(caller?: string): { running: number; waiting: number } {
    if (caller === undefined) return { running: this.running, waiting: this.waiting.length };
    return { running: this.runningBy.get(caller) ?? 0, waiting: this.waitingBy.get(caller) ?? 0 };
  }

  private hasPlace(caller: string): boolean {
    return this.running < MAX_COMMANDS && (this.runningBy.get(caller) ?? 0) < MAX_COMMANDS_PER_CALLER;
  }

  private take(caller: string): () => void {
    this.runningBy.set(caller, (this.runningBy.get(caller) ?? 0) + 1);
    this.running++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.running--;
      const left = (this.runningBy.get(caller) ?? 1) - 1;
      if (left > 0) this.runningBy.set(caller, left);
      else this.runningBy.delete(caller);
      this.startWaiting();
    };
  }

  private startWaiting(): void {
    for (let i = 0; i < this.waiting.length && this.running < MAX_COMMANDS;) {
      const waiter = this.waiting[i]!;
      if (!this.hasPlace(waiter.caller)) {
        i++;
        continue;
      }
      this.remove(waiter);
      waiter.start();
    }
  }

  private remove(waiter: Waiter): void {
    const i = this.waiting.indexOf(waiter);
    if (i < 0) return;
    this.waiting.splice(i, 1);
    const left = (this.waitingBy.get(waiter.caller) ?? 1) - 1;
    if (left > 0) this.waitingBy.set(waiter.caller, left);
    else this.waitingBy.delete(waiter.caller);
  }
}
