// The persistent store on classic-level (LevelDB). Key layout: keys.ts.
//
// Durability: every write goes through LevelDB's write-ahead log before its promise resolves,
// so a resolved write is in the operating system's page cache. That survives the runtime
// being killed (kill -9, a crash, an OOM kill): the kernel still owns the data and writes it
// out. It would not survive the machine losing power or the kernel crashing; `sync: true`
// (an fsync per write) covers that, at the price of one disk flush per write — hundreds of
// writes per second instead of tens of thousands — so it is not used for process crashes,
// which is what a supervised runtime has to survive.
import { LoomError } from '../contract/errors';
import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { ClassicLevel } from 'classic-level';
import type { Logger } from '../log';
import { privateFiles } from './private';
import { decodeItem, encodeItem } from './itemRecord';
import {
  afterPrefix,
  allSessionsPrefix,
  contextPrefix,
  contextPrefixEscaped,
  escapeName,
  idKey,
  isItemTail,
  itemTail,
  key,
  listPrefix,
  listSeq,
  listSessionPrefix,
  SEQ_MARK,
  sessionTypePrefix,
  statePrefix,
  timeKey,
  typePrefix,
} from './keys';
import type {
  ContextItem,
  ContextPage,
  ContextPageQuery,
  ContextQuery,
  ListQuery,
  PageLimit,
  SaveOptions,
  StateEntry,
  StatePage,
  StatePageQuery,
  Store,
} from './types';

type Db = ClassicLevel<Buffer, Buffer>;
type BatchOp = { type: 'put'; key: Buffer; value: Buffer } | { type: 'del'; key: Buffer };

export type StoreErrorCode = 'locked' | 'invalid_argument' | 'closed' | 'permission_denied' | 'resource_exhausted';

export class StoreError extends LoomError {
  override readonly name = 'StoreError';
  constructor(
    override readonly code: StoreErrorCode,
    message: string,
  ) {
    super(code, message);
  }
}

/** Records who holds the folder, so a second opener can be told (LevelDB's LOCK file says nothing). */
const OWNER_FILE = 'LOOM_OWNER';
const DEFAULT_LIMIT = 100;
/** Entries read per step of a scan, at most. */
const SCAN_BATCH = 256;
/** What one step of a scan should read, in bytes of values, once their sizes are known. */
const SCAN_STEP_BYTES = 4 << 20;
/** Entries the first step reads, before any size is known. */
const FIRST_SCAN_STEP = 4;

/**
 * How many entries the next step of a scan reads: as many as make about SCAN_STEP_BYTES at the
 * average size seen in the last step. A fixed 256 read 256 items of 4 MB at once: two text
 * queries over such items (each passing over every one) took the runtime to 4.5 GB.
 */
class ScanStep {
  size = FIRST_SCAN_STEP;

  /** The values the last step read (undefined: an index entry whose item is gone). */
  observe(values: ReadonlyArray<Uint8Array | undefined>): void {
    let bytes = 0;
    for (const v of values) bytes += v?.length ?? 0;
    const average = Math.max(1, bytes / Math.max(1, values.length));
    this.size = Math.max(1, Math.min(SCAN_BATCH, Math.floor(SCAN_STEP_BYTES / average)));
  }
}
const EMPTY = Buffer.alloc(0);
/**
 * Item seqs are reserved in the store this many at a time (keys.ts SEQ_MARK): a runtime started
 * again on the folder (after a crash too) numbers its items after every seq the last one may have
 * used, so items saved within one millisecond keep their save order across restarts, and a page
 * token naming an item is never passed by a later item of its millisecond.
 */
export const SEQ_BLOCK = 1024;

/**
 * The store holds every agent's memory: private to the user running the runtime. LevelDB creates
 * its files with the process umask (usually 0644), from its own threads, at open and whenever it
 * compacts or rolls its log, so a umask set around open() would miss the later files, and a
 * process-wide umask would also make private every file the agents and tools it starts create in
 * the workspace. So the folder is 0700 before LevelDB opens it, which keeps every file in it out
 * of other users' reach whatever its own mode (a path through the folder is needed to open one),
 * and each file is set to 0600 after open and after close, so the files at rest are private on
 * their own too (a copy that keeps modes, a folder loosened later).
 */
export interface StoreOptions {
  /** Bytes the folder may hold before writes are refused ([runtime] store_max_bytes). Default: no limit. */
  maxBytes?: number;
}

export async function openStore(dir: string, log?: Logger, options: StoreOptions = {}): Promise<Store> {
  const folder = path.resolve(dir);
  await fs.mkdir(folder, { recursive: true, mode: 0o700 });
  await fs.chmod(folder, 0o700);
  const db: Db = new ClassicLevel<Buffer, Buffer>(folder, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
  try {
    await db.open();
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause;
    if (cause?.code === 'LEVEL_LOCKED') {
      const pid = await readOwnerPid(folder);
      throw new StoreError(
        'locked',
        `another Loom runtime is using ${folder}${pid ? ` (pid ${pid}?)` : ''}: LevelDB allows one process per store folder`,
      );
    }
    throw err;
  }
  const seq = await reserveSeqs(db, undefined, log);
  await fs.writeFile(
    path.join(folder, OWNER_FILE),
    JSON.stringify({ pid: process.pid, since: new Date().toISOString() }) + '\n',
    { mode: 0o600 },
  );
  await privateFiles(folder);
  log?.info('store opened', { dir: folder });
  return new LevelStore(db, folder, seq, new Room(db, folder, options.maxBytes ?? Infinity, log), log);
}

/**
 * Reserves the seqs up to SEQ_BLOCK past `from` (the stored mark when undefined); returns the
 * first one that is free and where the reservation ends.
 */
async function reserveSeqs(
  db: Db,
  from: number | undefined,
  log?: Logger,
): Promise<{ next: number; reserved: number }> {
  let next = from;
  if (next === undefined) {
    const stored = (await db.get(key(SEQ_MARK)))?.toString('utf8') ?? '0';
    next = /^[0-9]{1,15}$/.test(stored) ? Number(stored) : 0;
    if (next === 0 && stored !== '0')
      log?.warn('store: the item sequence mark is unreadable; numbering starts again at 0', { mark: stored });
  }
  const reserved = next + SEQ_BLOCK;
  await db.put(key(SEQ_MARK), Buffer.from(String(reserved), 'utf8'));
  return { next, reserved };
}

async function readOwnerPid(folder: string): Promise<number | undefined> {
  try {
    const pid = JSON.parse(await fs.readFile(path.join(folder, OWNER_FILE), 'utf8')).pid;
    return typeof pid === 'number' ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** How long a measured size of the folder is trusted (the writes since are added to it). */
const SIZE_FRESH_MS = 1000;
/**
 * A refused write asks LevelDB to compact, so that deleted or overwritten data frees its room: at
 * once when something was deleted since the last compaction, else at most this often.
 */
const COMPACT_EVERY_MS = 30_000;

/**
 * Room left in the store's folder under its limit: an agent writing in a loop filled 2 GB of disk
 * in 21 s. The folder's size is measured at most once a second; what was written since is added,
 * so a burst between two measures cannot pass the limit by more than a write.
 */
class Room {
  private measured = 0;
  private measuredAtMs = -Infinity;
  private addedSince = 0;
  private measuring: Promise<void> | undefined;
  private compactedAtMs = -Infinity;
  private deletedSince = false;

  constructor(
    private readonly db: Db,
    private readonly dir: string,
    private readonly maxBytes: number,
    private readonly log?: Logger,
  ) {}

  /** Takes room for `bytes`, or throws resource_exhausted naming the setting. */
  async take(bytes: number): Promise<void> {
    if (this.maxBytes === Infinity) return;
    await this.measure(false);
    const compact = this.deletedSince || Date.now() - this.compactedAtMs > COMPACT_EVERY_MS;
    if (this.measured + this.addedSince + bytes > this.maxBytes && compact) {
      // Deleted data keeps its room until LevelDB compacts; asked for here, where it matters.
      this.compactedAtMs = Date.now();
      this.deletedSince = false;
      await this.db.compactRange(Buffer.alloc(0), Buffer.alloc(64, 0xff));
      await this.measure(true);
    }
    const held = this.measured + this.addedSince;
    if (held + bytes > this.maxBytes) {
      this.log?.warn('store full: write refused', { held, bytes, maxBytes: this.maxBytes });
      throw new StoreError(
        'resource_exhausted',
        `the store holds about ${held} bytes and runtime.store_max_bytes = ${this.maxBytes} leaves no room for ${bytes} more: delete state or context items, or raise the limit in loom.toml [runtime]`,
      );
    }
    this.addedSince += bytes;
  }

  /** Something was deleted: the next refusal compacts first. */
  deleted(): void {
    this.deletedSince = true;
  }

  private async measure(now: boolean): Promise<void> {
    if (!now && Date.now() - this.measuredAtMs < SIZE_FRESH_MS) return;
    this.measuring ??= folderBytes(this.dir).then(
      (bytes) => {
        this.measured = bytes;
        this.measuredAtMs = Date.now();
        this.addedSince = 0;
        this.measuring = undefined;
      },
      (err: unknown) => {
        this.measuring = undefined;
        throw err;
      },
    );
    await this.measuring;
  }
}

async function folderBytes(dir: string): Promise<number> {
  const names = await fs.readdir(dir);
  const sizes = await Promise.all(
    names.map((n) =>
      fs.stat(path.join(dir, n)).then(
        (s) => (s.isFile() ? s.size : 0),
        () => 0,
      ),
    ),
  );
  return sizes.reduce((a, b) => a + b, 0);
}

/** Work serialised per key; a key's entry lives while its work is pending. */
class Chains {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const run = (this.tails.get(key) ?? Promise.resolve()).then(work);
    const settled = run.catch(() => undefined);
    this.tails.set(key, settled);
    void settled.then(() => {
      if (this.tails.get(key) === settled) this.tails.delete(key);
    });
    return run;
  }
}

class LevelStore implements Store {
  /** The next item's seq; seqs below `reserved` are reserved in the store, and further ones one block at a time. */
  private seq: number;
  private reserved: number;
  private reserving: Promise<unknown> = Promise.resolve();
  private closing: Promise<void> | undefined;
  private underWay = 0;
  private allDone: (() => void) | undefined;
  /**
   * Saves that name an id are serialised per id, so two saves of one id cannot both miss the old
   * copy (one chain for every id made an agent's small save wait behind another's 48 large ones).
   */
  private readonly idChains = new Chains();
  /** Appends to one list are serialised (its last seq is read, then written). */
  private readonly listChains = new Chains();

  constructor(
    private readonly db: Db,
    private readonly dir: string,
    seqs: { next: number; reserved: number },
    private readonly room: Room,
    private readonly log?: Logger,
  ) {
    this.seq = seqs.next;
    this.reserved = seqs.reserved;
  }

  async saveContext(
    input: Partial<ContextItem> & { sessionId: string; type: string; content: string },
    options: SaveOptions = {},
  ): Promise<ContextItem> {
    return this.op(async () => {
      const item = validItem(input);
      const seq = this.seq++;
      if (seq >= this.reserved) await this.reserveFor(seq);
      if (options.pageBytes !== undefined) {
        const size = contextItemBytes(item) + positionBytes(itemTail(item.timestampMs, seq, item.id));
        if (size > options.pageBytes) throw tooLargeForAPage('the item', size, options.pageBytes);
      }
      await this.room.take(contextItemBytes(item));
      if (input.id === undefined) {
        await this.db.batch(indexOps(item, seq));
        return item;
      }
      return this.idChains.run(item.id, async () => {
        const previous = await this.db.get(key(idKey(item.id)));
        const ops = previous ? await this.removalOps(previous, options.mayReplace) : [];
        await this.db.batch([...ops, ...indexOps(item, seq)]);
        return item;
      });
    });
  }

  /** Returns once `seq` is reserved in the store; reservations are written one after another, so the mark only grows. */
  private reserveFor(seq: number): Promise<unknown> {
    const run = this.reserving.then(async () => {
      if (seq < this.reserved) return;
      this.reserved = (await reserveSeqs(this.db, this.reserved)).reserved;
    });
    this.reserving = run.catch(() => undefined);
    return run;
  }

  /** Deletes of every key of a stored item, found through the id index. */
  private async removalOps(primary: Buffer, mayReplace?: (sessionId: string) => boolean): Promise<BatchOp[]> {
    const json = await this.db.get(primary);
    if (!json) return [];
    const old = decodeItem(json);
    if (mayReplace && !mayReplace(old.sessionId))
      throw new StoreError(
        'permission_denied',
        `item id ${JSON.stringify(old.id)} is taken by an item of a context session this caller may not change (another agent's "agent:<id>" session); save it under another id`,
      );
    const tail = primary.subarray(Buffer.byteLength(contextPrefix(old.sessionId))).toString('utf8');
    this.room.deleted();
    return itemKeys(old, tail).map((k) => ({ type: 'del' as const, key: key(k) }));
  }

  async queryContext(query: ContextQuery): Promise<ContextItem[]> {
    return (await this.queryContextPage(query)).items;
  }

  async queryContextPage(query: ContextPageQuery): Promise<ContextPage> {
    return this.op(async () => {
      const q = validQuery(query);
      const { sessionId, type } = query;
      // Pick the narrowest key range; a session's primary range holds the items themselves.
      const prefix =
        sessionId !== undefined
          ? type !== undefined
            ? sessionTypePrefix(sessionId, type)
            : contextPrefix(sessionId)
          : type !== undefined
            ? typePrefix(type)
            : allSessionsPrefix();
      const direct = sessionId !== undefined && type === undefined;
      const prefixBytes = Buffer.byteLength(prefix);
      const primaryOf = (k: Buffer, v: Buffer): Buffer => {
        const tail = k.subarray(prefixBytes).toString('utf8');
        // ct! entries carry no value: their session is the query's; g!/gt! entries carry it.
        return key(
          (sessionId !== undefined ? contextPrefix(sessionId) : contextPrefixEscaped(v.toString('utf8'))) + tail,
        );
      };

      const iterator = this.db.iterator(pageRange(prefix, q));
      const found: ContextItem[] = [];
      let bytes = 0;
      // The key of the last item taken: the next page starts after it. Never an entry a filter
      // passed over, whose key would tell the caller the id and time of an item it may not read.
      let last: Buffer | undefined;
      let more = false;
      const filtered = q.text !== undefined || query.sessions !== undefined;
      const step = new ScanStep();
      try {
        scan: for (;;) {
          const entries = await iterator.nextv(filtered ? step.size : Math.min(step.size, q.limit - found.length));
          if (entries.length === 0) break;
          const values = direct
            ? entries.map(([, v]) => v)
            : await this.db.getMany(entries.map(([k, v]) => primaryOf(k, v)));
          step.observe(values);
          for (let i = 0; i < entries.length; i++) {
            const value = values[i];
            const item = value ? decodeItem(value) : undefined;
            if (
              item === undefined ||
              (query.sessions !== undefined && !query.sessions(item.sessionId)) ||
              (q.text !== undefined && !item.content.toLowerCase().includes(q.text))
            )
              continue;
            const size = contextItemBytes(item);
            // Should the page end at this item, its next names it: that has to fit too.
            if (
              q.maxBytes !== undefined &&
              found.length > 0 &&
              bytes + size + positionBytes(entries[i][0].subarray(prefixBytes).toString('utf8')) > q.maxBytes
            ) {
              more = true;
              break scan;
            }
            found.push(item);
            bytes += size;
            last = entries[i][0];
            if (found.length === q.limit) {
              // Under a filter, whether anything follows would tell of entries the caller may not
              // read (another agent's private items): a full page always says to read on.
              more = filtered || i + 1 < entries.length || (await iterator.nextv(1)).length > 0;
              break scan;
            }
          }
        }
      } finally {
        await iterator.close();
      }
      return more && last ? { items: found, next: last.subarray(prefixBytes).toString('utf8') } : { items: found };
    });
  }

  async getState(agentId: string, stateKey: string): Promise<Buffer | undefined> {
    return this.op(async () => {
      return (await this.db.get(key(stateKeyOf(agentId, stateKey)))) ?? undefined;
    });
  }

  async putState(agentId: string, stateKey: string, value: Buffer, options: PageLimit = {}): Promise<void> {
    return this.op(async () => {
      if (!((value as unknown) instanceof Uint8Array)) throw invalid('state value must be bytes (a Buffer)');
      if (options.pageBytes !== undefined) {
        const keyBytes = Buffer.byteLength(stateKey);
        const size = stateEntryBytes(keyBytes, value.length) + positionBytes(stateKey);
        if (size > options.pageBytes) throw tooLargeForAPage('the value with its key', size, options.pageBytes);
      }
      await this.room.take(value.length + Buffer.byteLength(stateKey));
      await this.db.put(key(stateKeyOf(agentId, stateKey)), Buffer.from(value));
    });
  }

  async deleteState(agentId: string, stateKey: string): Promise<boolean> {
    return this.op(async () => {
      const k = key(stateKeyOf(agentId, stateKey));
      if ((await this.db.get(k)) === undefined) return false;
      await this.db.del(k);
      this.room.deleted();
      return true;
    });
  }

  async listState(agentId: string, prefix = '', limit?: number): Promise<StateEntry[]> {
    return (await this.listStatePage(agentId, { prefix, limit })).entries;
  }

  async listStatePage(agentId: string, query: StatePageQuery): Promise<StatePage> {
    return this.op(async () => {
      const { prefix = '', limit, after, maxBytes } = query;
      if (limit !== undefined && !(Number.isInteger(limit) && limit > 0))
        throw invalid(`limit must be a positive integer (got ${String(limit)})`);
      if (maxBytes !== undefined) validMaxBytes(maxBytes);
      if (after !== undefined && !(typeof after === 'string' && after.length > 0 && after.startsWith(prefix)))
        throw invalid(`after must be the next of a previous page of this prefix (got ${JSON.stringify(after)})`);
      const base = statePrefix(validName('agentId', agentId));
      const start = Buffer.byteLength(base);
      const range = after === undefined ? { gte: key(base + prefix) } : { gt: key(base + after) };
      const iterator = this.db.iterator({ ...range, lt: afterPrefix(base + prefix) });
      const entries: StateEntry[] = [];
      let bytes = 0;
      let more = false;
      const step = new ScanStep();
      try {
        for (;;) {
          const batch = await iterator.nextv(Math.min(step.size, (limit ?? Infinity) - entries.length));
          if (batch.length === 0) break;
          step.observe(batch.map(([, value]) => value));
          for (let i = 0; i < batch.length; i++) {
            const [k, value] = batch[i];
            const stateKey = k.subarray(start).toString('utf8');
            const size = stateEntryBytes(k.length - start, value.length);
            if (maxBytes !== undefined && entries.length > 0 && bytes + size + positionBytes(stateKey) > maxBytes) {
              more = true;
              break;
            }
            entries.push({ key: stateKey, value });
            bytes += size;
            if (entries.length === limit) {
              more = i + 1 < batch.length || (await iterator.nextv(1)).length > 0;
              break;
            }
          }
          if (more || entries.length === limit) break;
        }
      } finally {
        await iterator.close();
      }
      return more ? { entries, next: entries[entries.length - 1].key } : { entries };
    });
  }

  async appendToList(list: string, session: string, record: Buffer, keep: number): Promise<void> {
    return this.op(async () => {
      if (!((record as unknown) instanceof Uint8Array)) throw invalid('list record must be bytes (a Buffer)');
      if (!(Number.isInteger(keep) && keep > 0)) throw invalid(`keep must be a positive integer (got ${String(keep)})`);
      const prefix = listSessionPrefix(validName('list', list), validName('session', session));
      await this.room.take(record.length);
      const append = async () => {
        const [first] = await this.db.keys({ gte: key(prefix), lt: afterPrefix(prefix), limit: 1 }).all();
        const [last] = await this.db.keys({ gte: key(prefix), lt: afterPrefix(prefix), limit: 1, reverse: true }).all();
        const seqOf = (k: Buffer) => parseInt(k.subarray(Buffer.byteLength(prefix)).toString('utf8'), 16);
        const from = first ? seqOf(first) : 0;
        const next = last ? seqOf(last) + 1 : 0;
        const ops: BatchOp[] = [{ type: 'put', key: key(prefix + listSeq(next)), value: Buffer.from(record) }];
        // Seqs are contiguous (keys.ts), so the list holds next - from records before this one.
        for (let seq = from; seq < next + 1 - keep; seq++) ops.push({ type: 'del', key: key(prefix + listSeq(seq)) });
        await this.db.batch(ops);
        if (ops.length > 1) this.room.deleted();
      };
      return this.listChains.run(prefix, append);
    });
  }

  async readList(list: string, session: string | undefined, query: ListQuery = {}): Promise<Buffer[]> {
    return this.op(async () => {
      const { newestFirst = false, limit, match } = query;
      if (limit !== undefined && !(Number.isInteger(limit) && limit > 0))
        throw invalid(`limit must be a positive integer (got ${String(limit)})`);
      const prefix =
        session === undefined
          ? listPrefix(validName('list', list))
          : listSessionPrefix(validName('list', list), validName('session', session));
      const wanted = limit ?? Infinity;
      const iterator = this.db.values({ gte: key(prefix), lt: afterPrefix(prefix), reverse: newestFirst });
      const found: Buffer[] = [];
      try {
        while (found.length < wanted) {
          const values = await iterator.nextv(match ? SCAN_BATCH : Math.min(SCAN_BATCH, wanted - found.length));
          if (values.length === 0) break;
          for (const value of values) {
            if (match && !match(value)) continue;
            found.push(value);
            if (found.length === wanted) break;
          }
        }
      } finally {
        await iterator.close();
      }
      return found;
    });
  }

  sizeBytes(): Promise<number> {
    return folderBytes(this.dir);
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.underWay > 0) await new Promise<void>((resolve) => (this.allDone = resolve));
      await this.db.close();
      await fs.rm(path.join(this.dir, OWNER_FILE), { force: true });
      await privateFiles(this.dir);
      this.log?.info('store closed', { dir: this.dir });
    })();
    return this.closing;
  }

  /**
   * Runs one of the store's operations. Closing waits for those under way: a write waiting for its
   * room (a compaction) met a closed LevelDB and failed with LevelDB's own error.
   */
  private async op<T>(work: () => Promise<T>): Promise<T> {
    this.assertOpen();
    this.underWay++;
    try {
      return await work();
    } finally {
      if (--this.underWay === 0) this.allDone?.();
    }
  }

  private assertOpen(): void {
    if (this.closing) throw new StoreError('closed', `the store at ${this.dir} is closed`);
  }
}

/** Primary, session+type, all-sessions and type keys of an item, in that order. */
function itemKeys(item: ContextItem, tail: string): string[] {
  return [
    contextPrefix(item.sessionId) + tail,
    sessionTypePrefix(item.sessionId, item.type) + tail,
    allSessionsPrefix() + tail,
    typePrefix(item.type) + tail,
  ];
}

/** One batch (one log record, so all or nothing) writing an item and its index entries. */
function indexOps(item: ContextItem, seq: number): BatchOp[] {
  const [primary, bySessionType, byTime, byType] = itemKeys(item, itemTail(item.timestampMs, seq, item.id)).map(key);
  const session = key(escapeName(item.sessionId));
  return [
    { type: 'put', key: primary, value: encodeItem(item) },
    { type: 'put', key: bySessionType, value: EMPTY },
    { type: 'put', key: byTime, value: session },
    { type: 'put', key: byType, value: session },
    { type: 'put', key: key(idKey(item.id)), value: primary },
  ];
}

function invalid(message: string): StoreError {
  return new StoreError('invalid_argument', message);
}

/**
 * The most bytes a name may take: a session, a type, an item id, an agent id or a state key. Names
 * go into LevelDB's keys, several times and escaped, and LevelDB keeps keys in its memtable and its
 * index blocks: one SaveContext with a 3.7 MB session id held 70 MB of the runtime's memory.
 */
export const MAX_NAME_BYTES = 1024;

function validName(field: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0)
    throw invalid(`${field} must be a non-empty string (got ${JSON.stringify(value)})`);
  // A UTF-16 unit takes at most 3 bytes: most names need no count.
  const bytes = value.length * 3 <= MAX_NAME_BYTES ? 0 : Buffer.byteLength(value, 'utf8');
  if (bytes > MAX_NAME_BYTES) throw invalid(`${field} is too long (${bytes} bytes; at most ${MAX_NAME_BYTES})`);
  return value;
}

function stateKeyOf(agentId: string, stateKey: string): string {
  return statePrefix(validName('agentId', agentId)) + validName('key', stateKey);
}

function validTime(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > Number.MAX_SAFE_INTEGER) {
    throw invalid(`${field} must be a non-negative number of milliseconds (got ${String(value)})`);
  }
  return Math.ceil(value);
}

function validItem(input: Partial<ContextItem> & { sessionId: string; type: string; content: string }): ContextItem {
  if (typeof input.content !== 'string') throw invalid(`content must be a string (got ${typeof input.content})`);
  const metadata = input.metadata ?? {};
  for (const [k, v] of Object.entries(metadata)) {
    if (typeof v !== 'string') throw invalid(`metadata.${k} must be a string (got ${typeof v})`);
  }
  return {
    id: input.id === undefined ? randomUUID() : validName('id', input.id),
    sessionId: validName('sessionId', input.sessionId),
    type: validName('type', input.type),
    content: input.content,
    metadata: { ...metadata },
    timestampMs: input.timestampMs === undefined ? Date.now() : validTime('timestampMs', input.timestampMs),
  };
}

/**
 * At least the size of an item in an answer: the UTF-8 bytes of its strings, each with a tag and a
 * length of up to 5 bytes (a metadata entry: its own, its key's and its value's), the timestamp's
 * 11, and the item's own tag and length in the answer. (Not its JSON's length: JSON spells a
 * control character in 6 bytes.)
 */
function contextItemBytes(item: ContextItem): number {
  let size =
    6 +
    11 +
    4 * 6 +
    Buffer.byteLength(item.id) +
    Buffer.byteLength(item.sessionId) +
    Buffer.byteLength(item.type) +
    Buffer.byteLength(item.content);
  for (const name in item.metadata) size += 18 + Buffer.byteLength(name) + Buffer.byteLength(item.metadata[name]);
  return size;
}

/** At least the size of a StateEntry's message: its key and value plus their tags and lengths. */
function stateEntryBytes(keyBytes: number, valueBytes: number): number {
  return keyBytes + valueBytes + 16;
}

/**
 * At least the size a page's next position takes in the answer as a page token: base64 of a kind
 * of up to 7 characters, ":" and the position, plus the field's tag and length.
 */
function positionBytes(position: string): number {
  return Math.ceil(((Buffer.byteLength(position) + 8) * 4) / 3) + 8;
}

function tooLargeForAPage(what: string, size: number, pageBytes: number): StoreError {
  return invalid(
    `${what} would take ${size} bytes of a page, more than a page may carry (${pageBytes} bytes, with the page's token): it could be written but never listed; save less`,
  );
}

interface ValidQuery {
  sinceMs?: number;
  untilMs?: number;
  text?: string;
  limit: number;
  newestFirst: boolean;
  after?: string;
  maxBytes?: number;
}

/** The key range of one page: the query's time bounds, narrowed to after the previous page's last key. */
function pageRange(prefix: string, q: ValidQuery) {
  let lower = q.sinceMs !== undefined ? key(prefix + timeKey(q.sinceMs)) : key(prefix);
  let upper = q.untilMs !== undefined ? key(prefix + timeKey(q.untilMs)) : afterPrefix(prefix);
  let lowerOpen = false;
  if (q.after !== undefined) {
    const after = key(prefix + q.after);
    if (!q.newestFirst && Buffer.compare(after, lower) >= 0) [lower, lowerOpen] = [after, true];
    if (q.newestFirst && Buffer.compare(after, upper) < 0) upper = after;
  }
  return { ...(lowerOpen ? { gt: lower } : { gte: lower }), lt: upper, reverse: q.newestFirst };
}

function validQuery(q: ContextPageQuery): ValidQuery {
  if (q.sessionId !== undefined) validName('sessionId', q.sessionId);
  if (q.type !== undefined) validName('type', q.type);
  const limit = q.limit ?? DEFAULT_LIMIT;
  if (!Number.isInteger(limit) || limit <= 0)
    throw invalid(`limit must be a positive integer (got ${String(q.limit)})`);
  if (q.text !== undefined && typeof q.text !== 'string') throw invalid(`text must be a string (got ${typeof q.text})`);
  return {
    sinceMs: q.sinceMs === undefined ? undefined : validTime('sinceMs', q.sinceMs),
    untilMs: q.untilMs === undefined ? undefined : validTime('untilMs', q.untilMs),
    text: q.text ? q.text.toLowerCase() : undefined,
    limit,
    newestFirst: q.newestFirst === true,
    after: q.after === undefined ? undefined : validTail(q.after),
    maxBytes: q.maxBytes === undefined ? undefined : validMaxBytes(q.maxBytes),
  };
}

function validTail(after: string): string {
  if (typeof after !== 'string' || !isItemTail(after))
    throw invalid(`after must be the next of a previous page (got ${JSON.stringify(after)})`);
  return after;
}

function validMaxBytes(maxBytes: number): number {
  if (!Number.isInteger(maxBytes) || maxBytes <= 0)
    throw invalid(`maxBytes must be a positive integer (got ${String(maxBytes)})`);
  return maxBytes;
}
