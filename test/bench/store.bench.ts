// Store throughput beside raw classic-level doing the same amount of work in the same run:
//   context-item saves/s  vs raw puts of one key+value of the same sizes (a save writes 5 keys)
//   state puts/s          vs raw puts of the same key and value sizes
//   session queries/s     vs a raw iterator reading as many entries of the same size
// Run: node --import tsx test/bench/store.bench.ts   (about 10 s)
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ClassicLevel } from 'classic-level';
import { openStore, type Store } from '../../runtime/store';

const ITEMS = 30_000;
const STATE_PUTS = 30_000;
const QUERIES = 3_000;
const QUERY_LIMIT = 50;
const SESSIONS = 20;
/** Writes in flight at once, as when several agents write together. */
const CONCURRENCY = 32;
const CONTENT = 'x'.repeat(200);

type Raw = ClassicLevel<Buffer, Buffer>;
const randomHex = (length: number) =>
  randomBytes(Math.ceil(length / 2))
    .toString('hex')
    .slice(0, length);

async function rate(count: number, op: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const start = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < count) await op(next++);
    }),
  );
  return count / (Number(process.hrtime.bigint() - start) / 1e9);
}

const ROUNDS = 5;

/** Best of ROUNDS interleaved rounds of each side, so both meet the same load from neighbours. */
async function compare(
  count: number,
  ours: (i: number) => Promise<unknown>,
  baseline: (i: number) => Promise<unknown>,
): Promise<[number, number]> {
  let best: [number, number] = [0, 0];
  const perRound = Math.ceil(count / ROUNDS);
  for (let round = 0; round < ROUNDS; round++) {
    const offset = round * perRound;
    const a = await rate(perRound, (i) => ours(offset + i));
    const b = await rate(perRound, (i) => baseline(offset + i));
    best = [Math.max(best[0], a), Math.max(best[1], b)];
  }
  return best;
}

function line(what: string, ours: number, baselineWhat: string, baseline: number): void {
  const fmt = (n: number) => Math.round(n).toLocaleString('en-US').padStart(9);
  console.log(
    `${what.padEnd(22)} ${fmt(ours)} /s   ${baselineWhat.padEnd(28)} ${fmt(baseline)} /s   ratio ${(ours / baseline).toFixed(2)}`,
  );
}

async function contextWrites(store: Store, raw: Raw): Promise<void> {
  const item = (i: number) => ({
    sessionId: `session-${i % SESSIONS}`,
    type: i % 3 === 0 ? 'tool' : 'message',
    content: CONTENT,
    metadata: { n: String(i) },
  });
  // The baseline writes what a save stores as its item: a key and a JSON value of the same sizes.
  const sample = await store.saveContext(item(-1));
  const keySize = `c!${sample.sessionId}!${'0'.repeat(16)}!${'0'.repeat(8)}!${sample.id}`.length;
  const value = Buffer.from(JSON.stringify(sample));
  const [ours, baseline] = await compare(
    ITEMS,
    (i) => store.saveContext(item(i)),
    () => raw.put(Buffer.from(`c!${randomHex(keySize - 2)}`), value),
  );
  line('context saves', ours, 'raw puts (same sizes)', baseline);
}

async function statePuts(store: Store, raw: Raw): Promise<void> {
  const value = randomBytes(256);
  const [ours, baseline] = await compare(
    STATE_PUTS,
    (i) => store.putState(`agent-${i % 8}`, `memory/${i}`, value),
    (i) => raw.put(Buffer.from(`s!agent-${i % 8}!memory/${i}`), value),
  );
  line('state puts', ours, 'raw puts (same sizes)', baseline);
}

async function sessionQueries(store: Store, raw: Raw): Promise<void> {
  const [ours, baseline] = await compare(
    QUERIES,
    (i) => store.queryContext({ sessionId: `session-${i % SESSIONS}`, limit: QUERY_LIMIT, newestFirst: true }),
    // Newest-first reads of as many item-sized entries, from a random point of the raw item range.
    () =>
      raw
        .iterator({ gte: Buffer.from('c!'), lt: Buffer.from(`c!${randomHex(4)}`), reverse: true, limit: QUERY_LIMIT })
        .all(),
  );
  line(`session queries (${QUERY_LIMIT})`, ours, `raw iterator reads of ${QUERY_LIMIT}`, baseline);
}

export async function main(): Promise<void> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'loom-store-bench-'));
  const store = await openStore(path.join(dir, 'store'));
  const raw: Raw = new ClassicLevel<Buffer, Buffer>(path.join(dir, 'raw'), {
    keyEncoding: 'buffer',
    valueEncoding: 'buffer',
  });
  await raw.open();
  try {
    console.log(
      `store benchmark: ${ITEMS} items, ${STATE_PUTS} state puts, ${QUERIES} queries, ${CONCURRENCY} in flight, best of ${ROUNDS} interleaved rounds`,
    );
    await contextWrites(store, raw);
    await statePuts(store, raw);
    await sessionQueries(store, raw);
  } finally {
    await store.close();
    await raw.close();
    await fs.rm(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
