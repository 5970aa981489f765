// How a bus event travels between runtimes: JSON with the payload in base64, the whole envelope
// (metadata: sender, correlation, reply-to, traceparent, hop, ttl) untouched, and the origin node.
import { ENVELOPE_KEYS, ALTERNATE_KEYS, MAX_TOPIC_LENGTH, type LoomEvent } from '../bus';
import { MAX_ID_BYTES, MAX_NAME_BYTES, tooLong } from './limits';

interface WireEvent {
  /** Origin node. */
  n: string;
  /** Bus topic. */
  t: string;
  id: string;
  ty: string;
  ts: number;
  src: string;
  md: Record<string, string>;
  p: string;
  c: number;
  tg: string[];
  pr: number;
}

export function encodeEvent(node: string, topic: string, e: LoomEvent): Uint8Array {
  const wire: WireEvent = {
    n: node,
    t: topic,
    id: e.id,
    ty: e.type,
    ts: Number(e.timestampMs),
    src: e.source,
    md: e.metadata ?? {},
    p: Buffer.from(e.payload ?? Buffer.alloc(0)).toString('base64'),
    c: e.confidence ?? 0,
    tg: e.tags ?? [],
    pr: e.priority ?? 0,
  };
  return Buffer.from(JSON.stringify(wire), 'utf8');
}

/** Metadata key that tells agents which runtime an event came from (set on arrival from the wire's origin field). */
export const NODE_KEY = 'loom.node';

/** Envelope keys whose values name something (an agent, a conversation), not carry content. */
const NAME_KEYS = new Set<string>(
  (['sender', 'correlationId', 'threadId'] as const).flatMap((f) => [ENVELOPE_KEYS[f], ALTERNATE_KEYS[f]]),
);
const REPLY_KEYS = new Set<string>([ENVELOPE_KEYS.replyTo, ALTERNATE_KEYS.replyTo]);

/**
 * Throws when the data is not a Loom event, or when one of its short fields is longer than any
 * runtime writes: the caller counts it as a `decode` drop. The id and node are remembered after
 * the event is gone, so a peer sending 900 KB ids grew a runtime by gigabytes.
 */
export function decodeEvent(data: Uint8Array): { node: string; topic: string; event: LoomEvent } {
  const w = JSON.parse(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8')) as WireEvent;
  if (typeof w?.n !== 'string' || typeof w.t !== 'string' || typeof w.id !== 'string')
    throw new Error('not a Loom event');
  const limit = (what: string, value: unknown, max: number) => {
    if (typeof value === 'string' && tooLong(value, max))
      throw new Error(`the event's ${what} is longer than ${max} bytes`);
  };
  limit('id', w.id, MAX_ID_BYTES);
  limit('node', w.n, MAX_ID_BYTES);
  limit('topic', w.t, MAX_TOPIC_LENGTH);
  limit('type', w.ty, MAX_NAME_BYTES);
  limit('source', w.src, MAX_NAME_BYTES);
  const metadata: Record<string, string> = {};
  for (const [k, v] of Object.entries(w.md ?? {})) {
    if (typeof v !== 'string') continue;
    limit('metadata key', k, MAX_NAME_BYTES);
    if (NAME_KEYS.has(k)) limit(k, v, MAX_NAME_BYTES);
    else if (REPLY_KEYS.has(k)) limit(k, v, MAX_TOPIC_LENGTH);
    metadata[k] = v;
  }
  metadata[NODE_KEY] = w.n;
  return {
    node: w.n,
    topic: w.t,
    event: {
      id: w.id,
      type: String(w.ty ?? ''),
      timestampMs: Number(w.ts) || Date.now(),
      source: String(w.src ?? ''),
      metadata,
      payload: Buffer.from(String(w.p ?? ''), 'base64'),
      confidence: Number(w.c) || 0,
      tags: Array.isArray(w.tg) ? w.tg.map(String) : [],
      priority: Number(w.pr) || 0,
    },
  };
}

/**
 * A bounded set of recent ids (oldest forgotten first): dedup of arrivals, and the marks of what
 * we injected. Bounded in count and in characters, so ids longer than a wire event's never
 * make it hold more than `maxChars`.
 */
export class RecentIds {
  private readonly ids = new Set<string>();
  private chars = 0;
  constructor(
    private readonly max: number,
    private readonly maxChars = max * MAX_ID_BYTES,
  ) {}
  has(id: string): boolean {
    return this.ids.has(id);
  }
  add(id: string): void {
    if (this.ids.has(id)) return;
    this.ids.add(id);
    this.chars += id.length;
    while (this.ids.size > this.max || (this.chars > this.maxChars && this.ids.size > 1)) {
      const oldest = this.ids.values().next().value!;
      this.ids.delete(oldest);
      this.chars -= oldest.length;
    }
  }
  get size(): number {
    return this.ids.size;
  }
}
