// The extension's own failures, and which ones the person has already been shown: a command
// that fails with one of those does not show it a second time.
import { LoomError } from '../runtime/contract';

/** Workspace Trust refuses it; the message says why and what to do. */
export class UntrustedError extends LoomError {
  constructor(what: string) {
    super(
      'untrusted',
      `${what}: this workspace is not trusted, and Loom spawns no agents and runs no shell commands in an untrusted workspace (Manage Workspace Trust to change it)`,
    );
  }
}

/** The start was refused for loom.toml's problems (shown in the Problems panel). */
export class ConfigProblems extends LoomError {
  constructor(message: string) {
    super('config_problems', message);
  }
}

/** Failures already shown to the person (with their actions). */
const reportedErrors = new WeakSet<object>();

export function markReported(err: unknown): void {
  if (typeof err === 'object' && err !== null) reportedErrors.add(err);
}

export function alreadyReported(err: unknown): boolean {
  return typeof err === 'object' && err !== null && reportedErrors.has(err);
}
