// Contract: the base of Loom's own errors and the one way to read a message off anything thrown.
// A leaf module with no imports (browser-safe), so every part can derive its errors from it
// without forming a cycle.

/** Every error Loom defines: a `code` a caller can switch on without parsing the message. */
export class LoomError extends Error {
  constructor(
    readonly code: string,
    message?: string,
  ) {
    super(message);
  }
}

/** The message of anything thrown: an Error's message, a string itself, anything else as String(). */
export function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (typeof err === 'string') return err;
  return String(err);
}
