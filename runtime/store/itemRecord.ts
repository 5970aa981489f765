// How a context item is kept in LevelDB. Items used to be kept as JSON, which writes each control
// character as a six-byte escape: an item of 3.5 MB of control characters, under the 4 MiB message
// limit, became a 21 MB value, and LevelDB's memtable, table building and compaction of values
// that size held hundreds of megabytes (test/stress/'s fuzz: one such SaveContext, 70 MB of RSS).
// A record is the item's fields as length-prefixed UTF-8, as big as the item's own bytes.
// Values written as JSON are still read: they begin with "{", which a record never does. An item
// with a lone surrogate (possible only from in-process callers: the wire carries UTF-8) is still
// kept as JSON, which keeps it exactly where UTF-8 would not.
import type { ContextItem } from './types';

declare global {
  interface String {
    /** ES2024, in Node since 20; the project's lib is older. */
    isWellFormed(): boolean;
  }
}

const RECORD = 0x01;
const JSON_OPEN = 0x7b; // "{"
/** The marker, the timestamp (float64) and the number of metadata entries (uint32). */
const HEAD_BYTES = 1 + 8 + 4;

export function encodeItem(item: ContextItem): Buffer {
  const entries = Object.entries(item.metadata);
  const fields = [item.id, item.sessionId, item.type, item.content, ...entries.flat()];
  if (!fields.every((f) => f.isWellFormed())) return Buffer.from(JSON.stringify(item), 'utf8');
  let size = HEAD_BYTES;
  for (const f of fields) size += 4 + Buffer.byteLength(f, 'utf8');
  const out = Buffer.allocUnsafe(size);
  out[0] = RECORD;
  out.writeDoubleBE(item.timestampMs, 1);
  out.writeUInt32BE(entries.length, 9);
  let at = HEAD_BYTES;
  for (const f of fields) {
    const n = out.write(f, at + 4, 'utf8');
    out.writeUInt32BE(n, at);
    at += 4 + n;
  }
  return out;
}

/** The item a stored value holds; throws, saying what is wrong, for a value that holds none. */
export function decodeItem(value: Buffer): ContextItem {
  if (value[0] === JSON_OPEN) return JSON.parse(value.toString('utf8')) as ContextItem;
  if (value[0] !== RECORD || value.length < HEAD_BYTES)
    throw new Error(`a stored context item is neither a record nor JSON (${value.length} bytes)`);
  let at = HEAD_BYTES;
  const next = (): string => {
    if (at + 4 > value.length) throw new Error('a stored context item is cut short');
    const n = value.readUInt32BE(at);
    if (at + 4 + n > value.length) throw new Error('a stored context item is cut short');
    const s = value.toString('utf8', at + 4, at + 4 + n);
    at += 4 + n;
    return s;
  };
  const [id, sessionId, type, content] = [next(), next(), next(), next()];
  const entries: [string, string][] = [];
  for (let i = value.readUInt32BE(9); i > 0; i--) entries.push([next(), next()]);
  // fromEntries, as JSON.parse does, makes a key such as "__proto__" an entry, not a prototype.
  return { id, sessionId, type, content, metadata: Object.fromEntries(entries), timestampMs: value.readDoubleBE(1) };
}
