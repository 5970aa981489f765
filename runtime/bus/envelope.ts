// The envelope: coordination fields carried as strings in LoomEvent.metadata.
//
//   field           Loom writes            also read (reference server)   meaning
//   thread id       loom.thread_id         thread_id                      groups the messages of one conversation
//   correlation id  loom.correlation_id    correlation_id                 ties a reply to its request
//   reply-to        loom.reply_to          reply_to                       topic a reply goes to
//   sender          loom.sender            sender                         logical identity of the publisher
//   ttl             loom.ttl_ms            ttl_ms                         lifetime in ms counted from event.timestampMs
//   hop             loom.hop               hop                            publishes so far; the bus adds one on every publish
//   trace context   traceparent            loom.traceparent               W3C trace context (standard bare key)
//
// The loom-py client writes the `loom.` keys, the reference server read bare ones; we read both
// (prefixed wins) and write only the prefixed form, removing a bare duplicate so one value rules.
// The reference's bare `ttl` (an opaque hop budget) is not read: our ttl is a time in ms, and
// hop limits are enforced through `hop` against the bus's maxHops.
import { randomUUID } from 'node:crypto';
import { BusError } from './errors';
import type { LoomEvent } from './types';
import { messageOf } from '../contract/errors';

export const ENVELOPE_KEYS = {
  threadId: 'loom.thread_id',
  correlationId: 'loom.correlation_id',
  replyTo: 'loom.reply_to',
  sender: 'loom.sender',
  ttlMs: 'loom.ttl_ms',
  hop: 'loom.hop',
  traceparent: 'traceparent',
} as const;

/** The other spelling of each key, read as a fallback. */
export const ALTERNATE_KEYS = {
  threadId: 'thread_id',
  correlationId: 'correlation_id',
  replyTo: 'reply_to',
  sender: 'sender',
  ttlMs: 'ttl_ms',
  hop: 'hop',
  traceparent: 'loom.traceparent',
} as const;

export type EnvelopeField = keyof typeof ENVELOPE_KEYS;

export interface Envelope {
  threadId?: string;
  correlationId?: string;
  replyTo?: string;
  sender?: string;
  ttlMs?: number;
  hop?: number;
  traceparent?: string;
}

type Carrier = Pick<LoomEvent, 'metadata'>;

/**
 * Which key holds a field: the Loom key first; an empty string counts as absent. Returns the key,
 * not a [key, value] pair: this runs several times per publish, and the pair was garbage.
 */
function keyOf(m: Record<string, string>, field: EnvelopeField): string | undefined {
  const key = ENVELOPE_KEYS[field];
  if (m[key]) return key;
  const alt = ALTERNATE_KEYS[field];
  return m[alt] ? alt : undefined;
}

/** The raw string of one envelope field, Loom key first. */
export function readField(event: Carrier, field: EnvelopeField): string | undefined {
  const m = event.metadata;
  if (!m) return undefined;
  const key = keyOf(m, field);
  return key === undefined ? undefined : m[key];
}

/** Writes one field under its Loom key (undefined removes it), dropping the other spelling. */
export function writeField(
  metadata: Record<string, string>,
  field: EnvelopeField,
  value: string | number | undefined,
): void {
  const alt = ALTERNATE_KEYS[field];
  if (alt in metadata) delete metadata[alt];
  if (value === undefined) delete metadata[ENVELOPE_KEYS[field]];
  else metadata[ENVELOPE_KEYS[field]] = String(value);
}

const DIGITS = /^\d+$/;

function readCount(event: Carrier, field: 'ttlMs' | 'hop'): number | undefined {
  const m = event.metadata;
  if (!m) return undefined;
  const key = keyOf(m, field);
  if (key === undefined) return undefined;
  const raw = m[key];
  const n = Number(raw);
  if (!DIGITS.test(raw) || !Number.isSafeInteger(n)) {
    throw new BusError('invalid_envelope', `metadata "${key}" must be a non-negative integer, got "${raw}"`);
  }
  return n;
}

export const threadId = (e: Carrier) => readField(e, 'threadId');
export const correlationId = (e: Carrier) => readField(e, 'correlationId');
export const replyTo = (e: Carrier) => readField(e, 'replyTo');
export const sender = (e: Carrier) => readField(e, 'sender');
export const traceparent = (e: Carrier) => readField(e, 'traceparent');
/** Lifetime in ms; throws BusError(invalid_envelope) when present but not a non-negative integer. */
export const ttlMs = (e: Carrier) => readCount(e, 'ttlMs');
/** Hop count (0 when absent); throws BusError(invalid_envelope) when malformed. */
export const hop = (e: Carrier) => readCount(e, 'hop') ?? 0;

/** When the event stops being deliverable (ms since the epoch), Infinity without a ttl. */
export function expiresAtMs(event: Pick<LoomEvent, 'metadata' | 'timestampMs'>): number {
  const ttl = ttlMs(event);
  return ttl === undefined ? Infinity : Number(event.timestampMs) + ttl;
}

export function readEnvelope(event: Carrier): Envelope {
  const env: Envelope = {};
  for (const f of ['threadId', 'correlationId', 'replyTo', 'sender', 'traceparent'] as const) {
    const v = readField(event, f);
    if (v !== undefined) env[f] = v;
  }
  const ttl = ttlMs(event);
  if (ttl !== undefined) env.ttlMs = ttl;
  const h = readCount(event, 'hop');
  if (h !== undefined) env.hop = h;
  return env;
}

/** Writes the given fields (an explicit undefined clears one); returns the same metadata object. */
export function writeEnvelope(metadata: Record<string, string>, env: Envelope): Record<string, string> {
  for (const f of Object.keys(ENVELOPE_KEYS) as EnvelopeField[]) if (f in env) writeField(metadata, f, env[f]);
  return metadata;
}

export type PayloadInput = Buffer | Uint8Array | string | null | undefined | object | number | boolean;

/** Bytes for an event payload: Buffers pass through, strings are UTF-8, anything else is JSON. */
export function encodePayload(payload: PayloadInput): Buffer {
  if (payload === undefined || payload === null) return Buffer.alloc(0);
  if (Buffer.isBuffer(payload)) return payload;
  if (payload instanceof Uint8Array) return Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  if (typeof payload === 'string') return Buffer.from(payload, 'utf8');
  let json: string | undefined;
  try {
    json = JSON.stringify(payload);
  } catch (err) {
    throw new BusError('invalid_event', `payload cannot be encoded as JSON: ${messageOf(err)}`);
  }
  if (json === undefined)
    throw new BusError('invalid_event', `payload of type ${typeof payload} cannot be encoded as JSON`);
  return Buffer.from(json, 'utf8');
}

export function payloadText(event: Pick<LoomEvent, 'payload'>): string {
  return event.payload ? Buffer.from(event.payload).toString('utf8') : '';
}

/** Parses a JSON payload; throws BusError(invalid_event) naming the event type when it is not JSON. */
export function payloadJson<T = unknown>(event: Pick<LoomEvent, 'payload' | 'type'>): T {
  const text = payloadText(event);
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new BusError('invalid_event', `payload of event "${event.type}" is not JSON: ${messageOf(err)}`);
  }
}

export interface NewEvent extends Envelope {
  type: string;
  payload?: PayloadInput;
  source?: string;
  metadata?: Record<string, string>;
  id?: string;
  timestampMs?: number;
  confidence?: number;
  tags?: string[];
  priority?: number;
}

/** A complete LoomEvent with a fresh id and the current time; envelope fields go into metadata. */
export function createEvent(init: NewEvent): LoomEvent {
  if (!init || typeof init.type !== 'string' || init.type === '')
    throw new BusError('invalid_event', 'event type must be a non-empty string');
  const { type, payload, source, metadata, id, timestampMs, confidence, tags, priority, ...env } = init;
  return {
    id: id ?? randomUUID(),
    type,
    timestampMs: timestampMs ?? Date.now(),
    source: source ?? '',
    metadata: writeEnvelope({ ...(metadata ?? {}) }, env),
    payload: encodePayload(payload),
    confidence: confidence ?? 0,
    tags: tags ?? [],
    priority: priority ?? 0,
  };
}
