// The key layout of the store. One LevelDB, keys are UTF-8 strings compared bytewise:
//
//   c!<session>!<ts>!<seq>!<id>            → item JSON   context items of a session, oldest first
//   ct!<session>!<type>!<ts>!<seq>!<id>    → ""          the same, one type of a session
//   g!<ts>!<seq>!<id>                      → <session>   all sessions by time (session escaped)
//   gt!<type>!<ts>!<seq>!<id>              → <session>   one type across sessions (session escaped)
//   id!<id>                                → primary key  find an item by id
//   s!<agent>!<key>                        → value       agent state
//   m!<list>!<session>!<seq>               → record      bounded lists (runtime/memory/), oldest first
//   x!seq                                  → decimal     item seqs below it may be in use (store.ts SEQ_BLOCK)
//
// <ts> is 16 hex digits so byte order is time order; <seq> (8 hex digits) keeps items saved
// within one millisecond in the order they were saved, across restarts too (it goes on from x!seq;
// it wraps after 2^32 items, which only matters to items of the millisecond where it does); <id>
// makes the key unique.
// Names inside a key are escaped ("%" → "%25", "!" → "%21") so they never contain the
// separator: agent "a" owns exactly the keys starting "s!a!", which agent "a!b" (escaped
// "a%21b") can never reach. A state key is the last component and is stored unescaped, so
// listing by prefix is a plain key range. <seq> of a list is 16 hex digits, one more than the
// list's last; a list is trimmed from its oldest end only, so its seqs are always contiguous.

const SEP = '!';

export function escapeName(name: string): string {
  return name.replace(/%/g, '%25').replace(/!/g, '%21');
}

export const key = (text: string): Buffer => Buffer.from(text, 'utf8');

/** Upper bound (exclusive) of every key starting with `prefix`: 0xFF never occurs in UTF-8. */
export function afterPrefix(prefix: string): Buffer {
  return Buffer.concat([key(prefix), Buffer.from([0xff])]);
}

export function timeKey(ms: number): string {
  return ms.toString(16).padStart(16, '0');
}

/** "<ts>!<seq>!<id>": the time-ordered, unique tail shared by an item's primary and index keys. */
export function itemTail(timestampMs: number, seq: number, id: string): string {
  return [timeKey(timestampMs), (seq >>> 0).toString(16).padStart(8, '0'), escapeName(id)].join(SEP);
}

const ITEM_TAIL = /^[0-9a-f]{16}![0-9a-f]{8}![^!]*$/;

/** Has the form of an itemTail: a page of a context query may start after it. */
export const isItemTail = (text: string): boolean => ITEM_TAIL.test(text);

/** Prefix of a session's primary keys, from the session as escaped in g!/gt! index values. */
export const contextPrefixEscaped = (escapedSession: string) => `c${SEP}${escapedSession}${SEP}`;
export const contextPrefix = (session: string) => contextPrefixEscaped(escapeName(session));
export const sessionTypePrefix = (session: string, type: string) =>
  `ct${SEP}${escapeName(session)}${SEP}${escapeName(type)}${SEP}`;
export const allSessionsPrefix = () => `g${SEP}`;
export const typePrefix = (type: string) => `gt${SEP}${escapeName(type)}${SEP}`;
export const idKey = (id: string) => `id${SEP}${escapeName(id)}`;
export const statePrefix = (agentId: string) => `s${SEP}${escapeName(agentId)}${SEP}`;
export const listPrefix = (list: string) => `m${SEP}${escapeName(list)}${SEP}`;
export const listSessionPrefix = (list: string, session: string) => `${listPrefix(list)}${escapeName(session)}${SEP}`;
export const SEQ_MARK = `x${SEP}seq`;
export const listSeq = (seq: number) => seq.toString(16).padStart(16, '0');
