// Agent memory over a real store: the store's bounded lists (their own key range, trimmed from the
// oldest end, contiguous across a reopen, appends in call order) and what Memory keeps in them.
import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ClassicLevel } from 'classic-level';
import { Memory, MemoryError, planHashOf } from '../../../runtime/memory';
import { openStore, type Store } from '../../../runtime/store';

const text = (values: Buffer[]) => values.map((v) => v.toString('utf8'));

describe('memory', function () {
  this.timeout(30_000);
  let dir: string;
  let store: Store;
  const folder = () => path.join(dir, 'store');

  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'loom-memory-'));
    store = await openStore(folder());
  });
  afterEach(async () => {
    await store.close();
    await fs.rm(dir, { recursive: true, force: true });
  });

  /** Every key of the store folder, as text (the store closed and opened again afterwards). */
  async function rawKeys(): Promise<string[]> {
    await store.close();
    const db = new ClassicLevel<string, string>(folder());
    const keys = await db.keys().all();
    await db.close();
    store = await openStore(folder());
    return keys;
  }

  describe('store lists', () => {
    it('keeps the newest `keep` records, oldest first, and reads them either way with a match and a limit', async () => {
      for (let i = 0; i < 7; i++) await store.appendToList('l', 's', Buffer.from(`r${i}`), 5);
      assert.deepEqual(text(await store.readList('l', 's')), ['r2', 'r3', 'r4', 'r5', 'r6']);
      assert.deepEqual(text(await store.readList('l', 's', { newestFirst: true, limit: 2 })), ['r6', 'r5']);
      assert.deepEqual(text(await store.readList('l', 's', { match: (v) => v.toString() !== 'r3', limit: 2 })), [
        'r2',
        'r4',
      ]);
    });

    it('applies concurrent appends to one list in call order', async () => {
      await Promise.all(Array.from({ length: 50 }, (_, i) => store.appendToList('l', 's', Buffer.from(String(i)), 20)));
      assert.deepEqual(
        text(await store.readList('l', 's')),
        Array.from({ length: 20 }, (_, i) => String(30 + i)),
      );
    });

    it('goes on after a reopen where it stopped, and still trims', async () => {
      for (let i = 0; i < 3; i++) await store.appendToList('l', 's', Buffer.from(`a${i}`), 4);
      await store.close();
      store = await openStore(folder());
      for (let i = 0; i < 3; i++) await store.appendToList('l', 's', Buffer.from(`b${i}`), 4);
      assert.deepEqual(text(await store.readList('l', 's')), ['a2', 'b0', 'b1', 'b2']);
    });

    it('keeps lists in their own key range: agent state and context items of the same names are untouched', async () => {
      await store.putState('s', 'k', Buffer.from('state'));
      await store.saveContext({ sessionId: 's', type: 't', content: 'context' });
      await store.appendToList('plans', 's', Buffer.from('record'), 1);
      await store.appendToList('plans', 's!x', Buffer.from('other'), 1);
      assert.deepEqual(text(await store.readList('plans', 's')), ['record']);
      assert.deepEqual(text(await store.readList('plans', undefined)), ['record', 'other']);
      assert.equal((await store.getState('s', 'k'))?.toString(), 'state');
      const keys = await rawKeys();
      assert.deepEqual(
        keys.filter((k) => k.startsWith('m!')),
        ['m!plans!s!0000000000000000', 'm!plans!s%21x!0000000000000000'],
      );
    });

    it('refuses a bad keep or an empty name', async () => {
      await assert.rejects(store.appendToList('l', 's', Buffer.from('x'), 0), /keep must be a positive integer/);
      await assert.rejects(store.appendToList('l', '', Buffer.from('x'), 1), /session must be a non-empty string/);
    });
  });

  describe('Memory', () => {
    it('records who wrote each record beside it', async () => {
      const memory = new Memory(store);
      await memory.savePlan('alpha', { symbol: 'BTC', action: 'BUY', reasoning: 'r' }, 'agent:alpha');
      const [record] = await store.readList('plans', 'alpha');
      const stored = JSON.parse(record!.toString('utf8')) as { v: { planHash: string }; by: string };
      assert.equal(stored.by, 'agent:alpha');
      assert.equal(stored.v.planHash, planHashOf({ symbol: 'BTC', action: 'BUY', reasoning: 'r' }));
    });

    it('keeps 500 episode lines and 1000 execution records per session, as the reference does', async () => {
      const memory = new Memory(store);
      for (let i = 0; i < 505; i++)
        await memory.appendEvent('s', { timestampMs: i, type: 't', source: 'x' }, {}, 'owner');
      const summary = await memory.summarize('s', 500);
      assert.equal(summary.eventCount, 500);
      assert.ok(summary.summary.startsWith('[5] t from x\n'));
      for (let i = 0; i < 1003; i++) await memory.markExecuted('s', `h${i}`, undefined, 'owner');
      assert.equal((await memory.executionStats('s', '')).totalExecutions, 1000);
      assert.equal(await memory.checkExecuted('s', 'h2', 'owner'), undefined);
    });

    it('throws MemoryError invalid_argument, naming the field', async () => {
      const memory = new Memory(store);
      const err = await memory.savePlan('s', { symbol: 'x'.repeat(300) }, 'owner').catch((e: unknown) => e);
      assert.ok(err instanceof MemoryError);
      assert.equal(err.code, 'invalid_argument');
      assert.match(err.message, /plan.symbol is too long \(300 bytes; at most 256\)/);
    });
  });
});
