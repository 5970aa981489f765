// What another client of the cluster's NATS may cost this runtime. Anyone holding the deployment's
// NATS credentials can publish events, call offered tools and write presence entries, and each of
// these used to grow without bound (a red-team's plain NATS client took a runtime to gigabytes, or
// froze it for 40 s): every limit is here, so the README and the refusals name the same numbers.
import type { Logger } from '../log';

/** Longest event id and node name on the wire: both are remembered (dedup sets, reply routes) long after the event. */
export const MAX_ID_BYTES = 128;
/** Longest event type, source, envelope field (sender, correlation and thread id) and metadata key on the wire. */
export const MAX_NAME_BYTES = 256;
/** Offered-tool calls from other runtimes running here at once; past it a call is answered "unavailable" at once. */
export const MAX_REMOTE_CALLS = 32;
/** Events from other runtimes being published into the local bus at once (a slow batched subscriber holds each). */
export const MAX_INBOUND_EVENTS = 256;
export const MAX_INBOUND_BYTES = 16 * 1024 * 1024;
/** Tools of one other runtime listed here, and other runtimes followed. */
export const MAX_TOOLS_PER_NODE = 1000;
export const MAX_NODES = 64;

/** Whether a string is longer than `max` bytes in UTF-8 (without encoding the long ones). */
export const tooLong = (s: string, max: number): boolean => s.length > max || Buffer.byteLength(s, 'utf8') > max;

const EVERY_MS = 60_000;

/**
 * Warnings about what a peer sent that was refused: the first of a kind at once, then at most one
 * a minute with how many there were since. A peer sending thousands a second must not fill the log.
 */
export class RefusalLog {
  private readonly kinds = new Map<string, { lastMs: number; since: number }>();
  constructor(private readonly log: Logger) {}

  warn(kind: string, message: string, fields: Record<string, unknown> = {}): void {
    const now = Date.now();
    const k = this.kinds.get(kind);
    if (k && now - k.lastMs < EVERY_MS) {
      k.since++;
      return;
    }
    this.log.warn(message, { ...fields, ...(k && k.since > 0 ? { moreSinceLastWarning: k.since } : {}) });
    this.kinds.set(kind, { lastMs: now, since: 0 });
  }
}
