// How a bus event travels between runtimes: JSON with the payload in base64, the whole envelope
// (metadata: sender, correlation, reply-to, traceparent, hop, ttl) untouched, and the origin node.
import type { LoomEvent } from '../bus';

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

export function decodeEvent(data: Uint8Array): { node: string; topic: string; event: LoomEvent } {
  const w = JSON.parse(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8')) as WireEvent;
  if (typeof w?.n !== 'string' || typeof w.t !== 'string' || typeof w.id !== 'string')
    throw new Error('not a Loom event');
  const metadata: Record<string, string> = {};
  for (const [k, v] of Object.entries(w.md ?? {})) if (typeof v === 'string') metadata[k] = v;
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

/** A bounded set of recent ids (oldest forgotten first): dedup of arrivals, and the marks of what we injected. */
export class RecentIds {
  private readonly ids = new Set<string>();
  constructor(private readonly max: number) {}
  has(id: string): boolean {
    return this.ids.has(id);
  }
  add(id: string): void {
    this.ids.add(id);
    if (this.ids.size > this.max) this.ids.delete(this.ids.values().next().value!);
  }
}
