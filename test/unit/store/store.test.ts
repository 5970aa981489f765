import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { ClassicLevel } from 'classic-level';
import {
  MAX_NAME_BYTES,
  openStore,
  SEQ_BLOCK,
  StoreError,
  type ContextItem,
  type ContextPageQuery,
  type Store,
} from '../../../runtime/store';

const REPO = path.resolve(__dirname, '../../..');
const WRITER = path.join(__dirname, 'fixtures', 'store-writer.ts');

describe('store: classic-level', function () {
  this.timeout(60_000);
  let dir: string;
  let store: Store;
  const children: ChildProcess[] = [];

  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'loom-store-'));
    store = await openStore(path.join(dir, 'store'));
  });
  afterEach(async () => {
    for (const child of children.splice(0))
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await store.close();
    await fs.rm(dir, { recursive: true, force: true });
  });

  /** Saves a fixed set: sessions a and b, types msg/tool, timestamps 1000..1009. */
  async function seed(): Promise<ContextItem[]> {
    const saved: ContextItem[] = [];
    for (let i = 0; i < 10; i++) {
      saved.push(
        await store.saveContext({
          sessionId: i % 2 === 0 ? 'a' : 'b',
          type: i % 3 === 0 ? 'tool' : 'msg',
          content: i === 4 ? 'The Weather in PARIS' : `item number ${i}`,
          metadata: { i: String(i) },
          timestampMs: 1000 + i,
        }),
      );
    }
    return saved;
  }
  const idx = (items: ContextItem[]) => items.map((it) => Number(it.metadata.i));
  /** 600 items of session "big", type "x": "needle <i>" at 0, 250 and 500, "hay" between. */
  async function seedNeedles(): Promise<void> {
    for (let i = 0; i < 600; i++)
      await store.saveContext({
        sessionId: 'big',
        type: 'x',
        content: i % 250 === 0 ? `needle ${i}` : 'hay',
        timestampMs: 5000 + i,
      });
  }

  describe('context items', () => {
    it('fills id and timestamp and returns what a query reads back', async () => {
      const before = Date.now();
      const item = await store.saveContext({ sessionId: 's', type: 't', content: 'hello' });
      assert.match(item.id, /^[0-9a-f-]{36}$/);
      assert.ok(item.timestampMs >= before && item.timestampMs <= Date.now());
      assert.deepEqual(item.metadata, {});
      assert.deepEqual(await store.queryContext({ sessionId: 's' }), [item]);
    });

    it('keeps an item in as many bytes as its fields, and still reads items a store kept as JSON', async () => {
      const wide = await store.saveContext({ sessionId: 's', type: 't', content: '\u0001'.repeat(200_000) });
      const plain = await store.saveContext({
        sessionId: 's',
        type: 't',
        content: 'kept as JSON',
        metadata: { k: 'v' },
      });
      await store.close();
      // What LevelDB holds: the item's bytes (JSON took 6 a control character: 1.2 MB here).
      const db = new ClassicLevel<Buffer, Buffer>(path.join(dir, 'store'), {
        keyEncoding: 'buffer',
        valueEncoding: 'buffer',
      });
      const values = await db.values().all();
      const largest = Math.max(...values.map((v) => v.length));
      assert.ok(largest < 201_000, `the largest value is ${largest} bytes`);
      // An item as an earlier runtime wrote it.
      for await (const [k, v] of db.iterator())
        if (v.includes(Buffer.from('kept as JSON'))) await db.put(k, Buffer.from(JSON.stringify(plain), 'utf8'));
      await db.close();
      store = await openStore(path.join(dir, 'store'));
      assert.deepEqual(await store.queryContext({ sessionId: 's' }), [wide, plain]);
    });

    it('queries by session, oldest first', async () => {
      await seed();
      assert.deepEqual(idx(await store.queryContext({ sessionId: 'a' })), [0, 2, 4, 6, 8]);
      assert.deepEqual(idx(await store.queryContext({ sessionId: 'b' })), [1, 3, 5, 7, 9]);
      assert.deepEqual(await store.queryContext({ sessionId: 'none' }), []);
    });

    it('queries by type within a session and across sessions', async () => {
      await seed();
      assert.deepEqual(idx(await store.queryContext({ sessionId: 'a', type: 'tool' })), [0, 6]);
      assert.deepEqual(idx(await store.queryContext({ type: 'tool' })), [0, 3, 6, 9]);
      assert.deepEqual(idx(await store.queryContext({ type: 'msg', sessionId: 'b' })), [1, 5, 7]);
    });

    it('queries all sessions by time', async () => {
      await seed();
      assert.deepEqual(idx(await store.queryContext({})), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    });

    it('queries a time range: since inclusive, until exclusive', async () => {
      await seed();
      assert.deepEqual(idx(await store.queryContext({ sinceMs: 1003, untilMs: 1007 })), [3, 4, 5, 6]);
      assert.deepEqual(idx(await store.queryContext({ sessionId: 'a', sinceMs: 1004 })), [4, 6, 8]);
      assert.deepEqual(idx(await store.queryContext({ sessionId: 'b', untilMs: 1005 })), [1, 3]);
      assert.deepEqual(idx(await store.queryContext({ type: 'tool', sinceMs: 1001, untilMs: 1009 })), [3, 6]);
    });

    it('filters by text, case-insensitive substring of content', async () => {
      await seed();
      assert.deepEqual(idx(await store.queryContext({ text: 'weather in paris' })), [4]);
      assert.deepEqual(idx(await store.queryContext({ sessionId: 'b', text: 'NUMBER' })), [1, 3, 5, 7, 9]);
      assert.deepEqual(await store.queryContext({ sessionId: 'b', text: 'paris' }), []);
    });

    it('limits and orders newest first, with every filter combined', async () => {
      await seed();
      assert.deepEqual(idx(await store.queryContext({ limit: 3 })), [0, 1, 2]);
      assert.deepEqual(idx(await store.queryContext({ limit: 3, newestFirst: true })), [9, 8, 7]);
      assert.deepEqual(idx(await store.queryContext({ sessionId: 'a', newestFirst: true, limit: 2 })), [8, 6]);
      assert.deepEqual(
        idx(await store.queryContext({ type: 'msg', newestFirst: true, sinceMs: 1002, untilMs: 1008, text: 'number' })),
        [7, 5, 2],
      );
      assert.deepEqual(
        idx(await store.queryContext({ sessionId: 'b', type: 'msg', text: 'item', limit: 2, newestFirst: true })),
        [7, 5],
      );
    });

    it('applies the text filter before the limit, scanning past non-matching items', async () => {
      await seedNeedles();
      const hits = await store.queryContext({ sessionId: 'big', text: 'NEEDLE', limit: 2 });
      assert.deepEqual(
        hits.map((h) => h.content),
        ['needle 0', 'needle 250'],
      );
      const newest = await store.queryContext({ type: 'x', text: 'needle', newestFirst: true });
      assert.deepEqual(
        newest.map((h) => h.content),
        ['needle 500', 'needle 250', 'needle 0'],
      );
    });

    describe('a page at a time', () => {
      /** Every page of `query`, following next until it is absent (at most 50 pages). */
      async function pages(query: ContextPageQuery): Promise<ContextItem[][]> {
        const out: ContextItem[][] = [];
        let after: string | undefined;
        do {
          const page = await store.queryContextPage({ ...query, after });
          out.push(page.items);
          after = page.next;
        } while (after !== undefined && out.length < 50);
        assert.equal(after, undefined, 'the pages come to an end');
        return out;
      }

      it('reads every item once, in order, either way, and has no next after the last', async () => {
        await seed();
        assert.deepEqual((await pages({ limit: 3 })).map(idx), [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]);
        assert.deepEqual((await pages({ limit: 4, newestFirst: true })).map(idx), [
          [9, 8, 7, 6],
          [5, 4, 3, 2],
          [1, 0],
        ]);
        // A page that ends exactly at the end of the range says so: no empty page after it.
        assert.deepEqual((await pages({ sessionId: 'a', limit: 5 })).map(idx), [[0, 2, 4, 6, 8]]);
        assert.deepEqual((await pages({ type: 'tool', limit: 2 })).map(idx), [
          [0, 3],
          [6, 9],
        ]);
        assert.deepEqual((await pages({ sessionId: 'b', type: 'msg', limit: 1 })).map(idx), [[1], [5], [7]]);
      });

      it('gives only the sessions a query may read, page after page, with or without a type', async () => {
        await seed();
        const onlyB = (session: string) => session === 'b';
        assert.deepEqual((await pages({ sessions: onlyB, limit: 2 })).map(idx), [[1, 3], [5, 7], [9]]);
        assert.deepEqual((await pages({ type: 'msg', sessions: onlyB, limit: 2, newestFirst: true })).map(idx), [
          [7, 5],
          [1],
        ]);
        assert.deepEqual((await pages({ sessions: () => false, limit: 3 })).flat(), []);
      });

      it('says to read on after a full page under a filter, whether or not anything it may read follows', async () => {
        const mine = (session: string) => session === 'mine';
        await store.saveContext({ sessionId: 'mine', type: 'x', content: 'a', timestampMs: 1 });
        const alone = await store.queryContextPage({ sessions: mine, limit: 1 });
        await store.saveContext({ sessionId: 'theirs', type: 'x', content: 'hidden', timestampMs: 2 });
        const beforeHidden = await store.queryContextPage({ sessions: mine, limit: 1 });
        // Else the token's presence would tell whether another session has items after a.
        assert.ok(alone.next !== undefined && beforeHidden.next !== undefined);
        assert.deepEqual(await store.queryContextPage({ sessions: mine, limit: 1, after: beforeHidden.next }), {
          items: [],
        });
        // Without a filter the end is exact.
        assert.equal((await store.queryContextPage({ sessionId: 'mine', limit: 1 })).next, undefined);
      });

      it('keeps the time bounds across pages', async () => {
        await seed();
        assert.deepEqual((await pages({ sinceMs: 1003, untilMs: 1008, limit: 2 })).map(idx), [[3, 4], [5, 6], [7]]);
        assert.deepEqual((await pages({ sinceMs: 1003, untilMs: 1008, limit: 2, newestFirst: true })).map(idx), [
          [7, 6],
          [5, 4],
          [3],
        ]);
      });

      it('goes on after the items the text filter passed over, not through them again', async () => {
        await seedNeedles();
        const first = await store.queryContextPage({ sessionId: 'big', text: 'needle', limit: 1 });
        assert.deepEqual(
          first.items.map((h) => h.content),
          ['needle 0'],
        );
        const got = (await pages({ sessionId: 'big', text: 'needle', limit: 2 })).map((p) => p.map((h) => h.content));
        // The second page scans to the end of the range: nothing matches after needle 500.
        assert.deepEqual(got, [['needle 0', 'needle 250'], ['needle 500']]);
      });

      it('cuts a page before its items pass maxBytes, and gives an item larger than that a page alone', async () => {
        for (let i = 0; i < 5; i++)
          await store.saveContext({
            sessionId: 'sized',
            type: 'x',
            content: (i === 3 ? 'L' : 's').repeat(i === 3 ? 5000 : 1000),
            metadata: { i: String(i) },
            timestampMs: 10 + i,
          });
        assert.deepEqual((await pages({ sessionId: 'sized', maxBytes: 2500 })).map(idx), [[0, 1], [2], [3], [4]]);
        assert.deepEqual((await pages({ type: 'x', maxBytes: 2500, newestFirst: true })).map(idx), [
          [4],
          [3],
          [2, 1],
          [0],
        ]);
      });

      it('names only an item it gave in next, never an entry a filter passed over', async () => {
        const save = (id: string, sessionId: string, content: string, timestampMs: number) =>
          store.saveContext({ id, sessionId, type: 'x', content, timestampMs });
        await save('a', 'mine', 'match '.repeat(250), 1);
        await save('%!'.repeat(500), 'mine', 'skipped', 2); // its position would be about 3 KB as a token
        await save('theirs-1', 'theirs', 'match '.repeat(250), 3);
        await save('b', 'mine', 'match '.repeat(250), 4);
        await save('c', 'mine', 'match '.repeat(250), 5);
        // The long id passed over by the text filter takes no room: a and b share a page.
        assert.deepEqual(
          (await pages({ sessionId: 'mine', text: 'match', maxBytes: 4000 })).map((p) => p.map((i) => i.id)),
          [['a', 'b'], ['c']],
        );
        // A session the query may not read: its item is passed over and never named, even where
        // the page ends right after it.
        const mine = (session: string) => session === 'mine';
        const first = await store.queryContextPage({ type: 'x', sessions: mine, text: 'match', maxBytes: 2000 });
        assert.deepEqual(
          first.items.map((i) => i.id),
          ['a'],
        );
        assert.match(first.next ?? '', /!a$/);
        const all = await pages({ type: 'x', sessions: mine, text: 'match', maxBytes: 2000 });
        assert.deepEqual(
          all.map((p) => p.map((i) => i.id)),
          [['a'], ['b'], ['c']],
        );
      });

      it('refuses a write that could not be the only entry of a page', async () => {
        await assert.rejects(
          store.saveContext({ sessionId: 's', type: 'x', content: 'y'.repeat(900) }, { pageBytes: 1000 }),
          /the item would take \d+ bytes of a page, more than a page may carry \(1000 bytes/,
        );
        await store.saveContext({ sessionId: 's', type: 'x', content: 'y'.repeat(700) }, { pageBytes: 1000 });
        await assert.rejects(
          store.putState('a', 'k', Buffer.alloc(980), { pageBytes: 1000 }),
          /the value with its key would take \d+ bytes/,
        );
        await store.putState('a', 'k', Buffer.alloc(900), { pageBytes: 1000 });
        // Counted by their bytes, not by their JSON (where a control character takes 6).
        await store.saveContext({ sessionId: 'c', type: 'x', content: '\u0001'.repeat(700) }, { pageBytes: 1000 });
        assert.equal((await store.queryContext({ sessionId: 's' })).length, 1);
        assert.equal((await store.getState('a', 'k'))?.length, 900);
      });

      it('sees what was saved after the position, and not what was saved before it', async () => {
        await seed();
        const first = await store.queryContextPage({ sessionId: 'a', limit: 2 });
        assert.deepEqual(idx(first.items), [0, 2]);
        for (const [i, timestampMs] of [
          [99, 2000],
          [98, 1],
        ])
          await store.saveContext({
            sessionId: 'a',
            type: 'msg',
            content: `${i}`,
            metadata: { i: `${i}` },
            timestampMs,
          });
        const rest = await store.queryContextPage({ sessionId: 'a', after: first.next, limit: 100 });
        assert.deepEqual(idx(rest.items), [4, 6, 8, 99], 'an item before the position is not read again');
        assert.equal(rest.next, undefined);
      });

      it('refuses a position that is not one a page ended at', async () => {
        for (const after of ['', 'nonsense', '0000000000000001!00000001', 'zz00000000000001!00000001!id', '1!2!3'])
          await assert.rejects(
            store.queryContextPage({ after }),
            (err: unknown) =>
              err instanceof StoreError &&
              err.code === 'invalid_argument' &&
              /after must be the next/.test(err.message),
            after,
          );
        await assert.rejects(store.queryContextPage({ maxBytes: 0 }), /maxBytes must be a positive integer/);
      });
    });

    it('defaults to 100 items', async () => {
      for (let i = 0; i < 120; i++) await store.saveContext({ sessionId: 'many', type: 'x', content: String(i) });
      assert.equal((await store.queryContext({ sessionId: 'many' })).length, 100);
      assert.equal((await store.queryContext({ sessionId: 'many', limit: 1000 })).length, 120);
    });

    it('keeps save order for items within the same millisecond', async () => {
      for (let i = 0; i < 50; i++)
        await store.saveContext({ sessionId: 's', type: 'x', content: String(i), timestampMs: 7 });
      assert.deepEqual(
        (await store.queryContext({ sessionId: 's' })).map((x) => Number(x.content)),
        [...Array(50).keys()],
      );
    });

    it('keeps save order within a millisecond across reopening, past a block of reserved seqs', async () => {
      const saveAt7 = (content: string) => store.saveContext({ sessionId: 's', type: 'x', content, timestampMs: 7 });
      const contents = async () => (await store.queryContext({ sessionId: 's', limit: 10_000 })).map((x) => x.content);
      const before = [...Array(SEQ_BLOCK + 6).keys()].map(String);
      for (const c of before) await saveAt7(c);
      await store.close();
      store = await openStore(path.join(dir, 'store'));
      await saveAt7('after the first reopen');
      // Reopened without a save: each open reserves a block, and numbering goes on past it.
      await store.close();
      store = await openStore(path.join(dir, 'store'));
      await store.close();
      store = await openStore(path.join(dir, 'store'));
      await saveAt7('after the third');
      assert.deepEqual(await contents(), [...before, 'after the first reopen', 'after the third']);
    });

    it('replaces an item saved again under the same id, in every index', async () => {
      await store.saveContext({ id: 'fixed', sessionId: 'one', type: 'old', content: 'first', timestampMs: 10 });
      await store.saveContext({ id: 'fixed', sessionId: 'two', type: 'new', content: 'second', timestampMs: 20 });
      assert.deepEqual(await store.queryContext({ sessionId: 'one' }), []);
      assert.deepEqual(await store.queryContext({ type: 'old' }), []);
      const all = await store.queryContext({});
      assert.deepEqual(
        all.map((x) => [x.id, x.sessionId, x.content]),
        [['fixed', 'two', 'second']],
      );
      assert.equal((await store.queryContext({ type: 'new', sessionId: 'two' })).length, 1);
    });

    it('saves of one id at once leave one item; saves of other ids beside them are theirs', async () => {
      await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          store.saveContext({ id: i % 2 ? 'odd' : `even-${i}`, sessionId: `s${i % 3}`, type: 't', content: `${i}` }),
        ),
      );
      const all = await store.queryContext({ limit: 1000 });
      assert.equal(all.filter((x) => x.id === 'odd').length, 1, 'one copy of the id saved 20 times at once');
      assert.equal(all.length, 21);
      for (const session of ['s0', 's1', 's2'])
        for (const item of await store.queryContext({ sessionId: session, limit: 1000 }))
          assert.equal(item.sessionId, session, 'no stale index entry of a replaced copy');
    });

    it('refuses to replace an item of a session the saver may not change, and leaves it as it was', async () => {
      const kept = await store.saveContext({ id: 'fixed', sessionId: 'private', type: 't', content: 'mine' });
      const notPrivate = (session: string) => session !== 'private';
      await assert.rejects(
        store.saveContext(
          { id: 'fixed', sessionId: 'shared', type: 't', content: 'moved' },
          { mayReplace: notPrivate },
        ),
        (err: StoreError) =>
          err.code === 'permission_denied' && /item id "fixed" is taken by an item/.test(err.message),
      );
      assert.deepEqual(await store.queryContext({}), [kept]);
      // An item of a session it may change is replaced as before.
      await store.saveContext({ id: 'other', sessionId: 'shared', type: 't', content: 'first' });
      await store.saveContext(
        { id: 'other', sessionId: 'shared', type: 't', content: 'second' },
        { mayReplace: notPrivate },
      );
      assert.deepEqual(
        (await store.queryContext({ sessionId: 'shared' })).map((x) => x.content),
        ['second'],
      );
    });

    it('keeps sessions and types with separator characters apart', async () => {
      await store.saveContext({ sessionId: 'a', type: 't', content: 'plain' });
      await store.saveContext({ sessionId: 'a!t', type: 't', content: 'bang' });
      await store.saveContext({ sessionId: 'a%21t', type: 't!x', content: 'percent' });
      assert.deepEqual(
        (await store.queryContext({ sessionId: 'a' })).map((x) => x.content),
        ['plain'],
      );
      assert.deepEqual(
        (await store.queryContext({ sessionId: 'a!t' })).map((x) => x.content),
        ['bang'],
      );
      assert.deepEqual(
        (await store.queryContext({ sessionId: 'a%21t' })).map((x) => x.content),
        ['percent'],
      );
      assert.deepEqual(
        (await store.queryContext({ type: 't!x' })).map((x) => x.sessionId),
        ['a%21t'],
      );
    });

    it('rejects bad input with errors naming the field', async () => {
      const bad: [() => Promise<unknown>, RegExp][] = [
        [() => store.saveContext({ sessionId: '', type: 't', content: 'x' }), /sessionId must be a non-empty string/],
        [() => store.saveContext({ sessionId: 's', type: '', content: 'x' }), /type must be a non-empty string/],
        [
          () => store.saveContext({ sessionId: 's', type: 't', content: 5 as unknown as string }),
          /content must be a string/,
        ],
        [
          () => store.saveContext({ sessionId: 's', type: 't', content: 'x', timestampMs: -1 }),
          /timestampMs must be a non-negative/,
        ],
        [
          () => store.saveContext({ sessionId: 's', type: 't', content: 'x', metadata: { n: 1 as unknown as string } }),
          /metadata\.n must be a string/,
        ],
        [() => store.queryContext({ limit: 0 }), /limit must be a positive integer/],
        [() => store.queryContext({ sinceMs: Number.NaN }), /sinceMs must be/],
        [() => store.putState('', 'k', Buffer.from('v')), /agentId must be a non-empty string/],
        [() => store.getState('a', ''), /key must be a non-empty string/],
        // Names go into keys: a long one is refused, counted in UTF-8 bytes (é takes 2).
        [
          () => store.saveContext({ sessionId: 'é'.repeat(513), type: 't', content: 'x' }),
          /sessionId is too long \(1026 bytes; at most 1024\)/,
        ],
        [() => store.saveContext({ sessionId: 's', type: 't'.repeat(1025), content: 'x' }), /type is too long/],
        [() => store.saveContext({ id: 'i'.repeat(1025), sessionId: 's', type: 't', content: 'x' }), /id is too long/],
        [() => store.putState('a', 'k'.repeat(1025), Buffer.from('v')), /key is too long/],
        [() => store.putState('a'.repeat(1025), 'k', Buffer.from('v')), /agentId is too long/],
        [() => store.queryContext({ sessionId: 's'.repeat(4000) }), /sessionId is too long \(4000 bytes/],
      ];
      for (const [call, message] of bad) {
        await assert.rejects(
          call,
          (err: unknown) => err instanceof StoreError && err.code === 'invalid_argument' && message.test(err.message),
        );
      }
      assert.deepEqual(await store.queryContext({}), [], 'nothing was written by the rejected calls');
    });

    it('takes names of up to MAX_NAME_BYTES bytes', async () => {
      const name = 'n'.repeat(MAX_NAME_BYTES - 2) + 'é';
      const item = await store.saveContext({ id: name, sessionId: name, type: name, content: 'x' });
      assert.deepEqual(await store.queryContext({ sessionId: name, type: name }), [item]);
      await store.putState(name, name, Buffer.from('v'));
      assert.equal((await store.getState(name, name))?.toString(), 'v');
    });
  });

  describe('agent state', () => {
    it('gets, puts, overwrites and deletes', async () => {
      assert.equal(await store.getState('a', 'k'), undefined);
      await store.putState('a', 'k', Buffer.from('one'));
      assert.equal((await store.getState('a', 'k'))?.toString(), 'one');
      await store.putState('a', 'k', Buffer.from([0, 255, 1]));
      assert.deepEqual(await store.getState('a', 'k'), Buffer.from([0, 255, 1]));
      assert.equal(await store.deleteState('a', 'k'), true);
      assert.equal(await store.deleteState('a', 'k'), false);
      assert.equal(await store.getState('a', 'k'), undefined);
    });

    it('lists by prefix in key order, with a limit', async () => {
      for (const k of ['user/2', 'user/1', 'users', 'other', 'user/3']) await store.putState('a', k, Buffer.from(k));
      const list = await store.listState('a', 'user/');
      assert.deepEqual(
        list.map((e) => e.key),
        ['user/1', 'user/2', 'user/3'],
      );
      assert.deepEqual(
        list.map((e) => e.value.toString()),
        ['user/1', 'user/2', 'user/3'],
      );
      assert.deepEqual(
        (await store.listState('a')).map((e) => e.key),
        ['other', 'user/1', 'user/2', 'user/3', 'users'],
      );
      assert.deepEqual(
        (await store.listState('a', 'user', 2)).map((e) => e.key),
        ['user/1', 'user/2'],
      );
    });

    it('lists a page at a time: a key equal to the prefix, sizes, and no position outside the prefix', async () => {
      for (const k of ['user', 'user/2', 'user/1', 'users', 'other', 'user/3'])
        await store.putState('a', k, Buffer.from(k));
      await store.putState('b', 'user/0', Buffer.from('b'));
      const keys = async (prefix: string, limit?: number, maxBytes?: number) => {
        const pages: string[][] = [];
        let after: string | undefined;
        do {
          const page = await store.listStatePage('a', { prefix, limit, after, maxBytes });
          pages.push(page.entries.map((e) => e.key));
          after = page.next;
        } while (after !== undefined && pages.length < 20);
        return pages;
      };
      assert.deepEqual(await keys('user', 2), [['user', 'user/1'], ['user/2', 'user/3'], ['users']]);
      assert.deepEqual(await keys('user/', 3), [['user/1', 'user/2', 'user/3']], 'no empty page after an exact end');
      assert.deepEqual(await keys('', 4), [
        ['other', 'user', 'user/1', 'user/2'],
        ['user/3', 'users'],
      ]);
      // Each entry counts its key, its value and 16 bytes ("user/1" twice is 28), and the page its
      // next position as a token (27 for "user/1"): two entries and a token are 83.
      assert.deepEqual(await keys('user/', undefined, 90), [['user/1', 'user/2'], ['user/3']]);
      assert.deepEqual(await keys('user/', undefined, 80), [['user/1'], ['user/2'], ['user/3']]);
      assert.deepEqual(await keys('user/', undefined, 1), [['user/1'], ['user/2'], ['user/3']]);
      for (const after of ['', 'other', 'use'])
        await assert.rejects(
          store.listStatePage('a', { prefix: 'user', after }),
          (err: unknown) =>
            err instanceof StoreError && err.code === 'invalid_argument' && /after must be the next/.test(err.message),
          after,
        );
    });

    it("never lets one agent's listing reach another agent's keys", async () => {
      await store.putState('a', 'x', Buffer.from('a'));
      await store.putState('ab', 'x', Buffer.from('ab'));
      await store.putState('a!b', 'x', Buffer.from('a!b'));
      await store.putState('a%21b', 'x', Buffer.from('pct'));
      await store.putState('a', 'b!x', Buffer.from('a-key-with-bang'));
      assert.deepEqual(
        (await store.listState('a')).map((e) => [e.key, e.value.toString()]),
        [
          ['b!x', 'a-key-with-bang'],
          ['x', 'a'],
        ],
      );
      assert.deepEqual(
        (await store.listState('a!b')).map((e) => e.value.toString()),
        ['a!b'],
      );
      assert.deepEqual(
        (await store.listState('a%21b')).map((e) => e.value.toString()),
        ['pct'],
      );
      assert.deepEqual(
        (await store.listState('a', 'b!')).map((e) => e.key),
        ['b!x'],
      );
      assert.equal((await store.getState('a!b', 'x'))?.toString(), 'a!b');
      assert.equal(await store.getState('a', '!b!x'), undefined);
    });

    it('keeps state and context apart', async () => {
      await store.putState('c', 'x', Buffer.from('state'));
      await store.saveContext({ sessionId: 'c', type: 'x', content: 'item' });
      assert.deepEqual(
        (await store.listState('c')).map((e) => e.key),
        ['x'],
      );
      assert.deepEqual(
        (await store.queryContext({})).map((i) => i.content),
        ['item'],
      );
    });
  });

  describe('durability and lifecycle', () => {
    it('keeps everything across close and reopen', async () => {
      const saved = await seed();
      await store.putState('agent', 'memory', Buffer.from('remember me'));
      await store.close();
      store = await openStore(path.join(dir, 'store'));
      assert.deepEqual(await store.queryContext({}), saved);
      assert.equal((await store.getState('agent', 'memory'))?.toString(), 'remember me');
      const next = await store.saveContext({ sessionId: 'a', type: 'msg', content: 'after reopen', timestampMs: 1009 });
      assert.deepEqual((await store.queryContext({ sessionId: 'a', newestFirst: true, limit: 1 }))[0], next);
    });

    it('keeps every acknowledged write across a kill -9 of the writing process', async () => {
      await store.close();
      const acked = await writeUntilKilled(500);

      store = await openStore(path.join(dir, 'store'));
      const items = await store.queryContext({ limit: 1_000_000 });
      const stored = new Set(items.map((i) => i.id));
      const missingItems = acked.item.filter((id) => !stored.has(id));
      assert.deepEqual(missingItems, [], `${missingItems.length} acknowledged items lost`);
      const keys = new Set((await store.listState('writer')).map((e) => e.key));
      const missingState = acked.state.filter((k) => !keys.has(k));
      assert.deepEqual(missingState, [], `${missingState.length} acknowledged state keys lost`);
      assert.ok(acked.item.length >= 500 && acked.state.length >= 499);
    });

    it('numbers items after a kill -9 past every seq the killed writer used', async () => {
      await store.close();
      // Past the first reserved block, so the kill lands in a later one.
      await writeUntilKilled(SEQ_BLOCK + 100);

      store = await openStore(path.join(dir, 'store'));
      const all = await store.queryContext({ limit: 1_000_000 });
      assert.ok(all.length >= SEQ_BLOCK + 100, `${all.length} items`);
      // Every millisecond the writer used: an item saved now in it comes after the writer's.
      for (const ms of new Set(all.map((x) => x.timestampMs))) {
        const late = await store.saveContext({ sessionId: 's0', type: 'note', content: 'late', timestampMs: ms });
        const inMs = await store.queryContext({ sinceMs: ms, untilMs: ms + 1, limit: 1_000_000 });
        assert.equal(inMs.at(-1)?.id, late.id, `the item saved after the restart comes last in ${ms}`);
      }
    });

    it('says another runtime holds the folder, with its pid, when opened twice', async () => {
      await store.close();
      const child = spawnWriter('hold');
      const ready = await new Promise<string>((resolve, reject) => {
        child.once('exit', (code) => reject(new Error(`holder exited (code ${code})`)));
        readline.createInterface({ input: child.stdout! }).once('line', resolve);
      });
      assert.equal(ready, `ready ${child.pid}`);
      const folder = path.join(dir, 'store');
      await assert.rejects(openStore(folder), (err: unknown) => {
        assert.ok(err instanceof StoreError);
        assert.equal(err.code, 'locked');
        assert.ok(err.message.startsWith(`another Loom runtime is using ${folder} (pid ${child.pid}?)`), err.message);
        return true;
      });
      child.removeAllListeners('exit');
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
      store = await openStore(folder);
      assert.deepEqual(await store.queryContext({}), []);
    });

    it('close is idempotent and later calls fail clearly', async () => {
      await store.close();
      await store.close();
      await assert.rejects(
        store.getState('a', 'k'),
        (err: unknown) => err instanceof StoreError && err.code === 'closed',
      );
    });

    it('reports a growing size on disk', async () => {
      const empty = await store.sizeBytes();
      for (let i = 0; i < 100; i++)
        await store.saveContext({ sessionId: 's', type: 't', content: 'x'.repeat(300_000) });
      assert.ok((await store.sizeBytes()) > empty + 100 * 1000);
    });
  });

  it('refuses writes past its byte limit, naming the setting; reads and deletes go on, and deleting makes room again', async () => {
    await store.close();
    const limit = 3 * 1024 * 1024;
    store = await openStore(path.join(dir, 'store'), undefined, { maxBytes: limit });
    const value = randomBytes(256 * 1024); // LevelDB compresses: random bytes take their size on disk
    const full = (err: StoreError) =>
      err.code === 'resource_exhausted' && /runtime\.store_max_bytes = 3145728 leaves no room/.test(err.message);
    let written = 0;
    for (; written < 64; written++) {
      const put = await store.putState('a', `k${written}`, value).then(
        () => true,
        (err: StoreError) => {
          assert.ok(full(err), String(err));
          return false;
        },
      );
      if (!put) break;
    }
    assert.ok(written >= 8 && written < 13, `${written} values of 256 KiB under a 3 MiB limit`);
    await assert.rejects(store.saveContext({ sessionId: 's', type: 't', content: 'x'.repeat(300_000) }), full);
    await assert.rejects(store.appendToList('plans', 's', Buffer.alloc(300_000), 10), full);
    assert.deepEqual(await store.getState('a', 'k0'), value, 'reads go on');
    for (let i = 0; i < written; i++) assert.equal(await store.deleteState('a', `k${i}`), true);
    await store.putState('a', 'again', value); // the refusal compacts what was deleted first
    assert.deepEqual(await store.getState('a', 'again'), value);
  });

  it('closing waits for the writes under way, one waiting for a compaction to make room among them', async () => {
    await store.close();
    const limit = 3 * 1024 * 1024;
    store = await openStore(path.join(dir, 'store'), undefined, { maxBytes: limit });
    const value = randomBytes(256 * 1024);
    let written = 0;
    while (
      await store.putState('a', `k${written}`, value).then(
        () => true,
        () => false,
      )
    )
      written++;
    for (let i = 0; i < written; i++) await store.deleteState('a', `k${i}`);
    // This write finds the store full and waits for LevelDB to compact the deletes first.
    const put = store.putState('a', 'last', value);
    const saved = store.saveContext({ sessionId: 's', type: 't', content: 'kept' });
    await store.close();
    await put;
    const item = await saved;
    store = await openStore(path.join(dir, 'store'), undefined, { maxBytes: limit });
    assert.deepEqual(await store.getState('a', 'last'), value);
    assert.deepEqual(
      (await store.queryContext({ sessionId: 's' })).map((i) => i.id),
      [item.id],
    );
  });

  /** Runs the writer until it has acknowledged `items` items, then kill -9; what it acknowledged by then. */
  async function writeUntilKilled(items: number): Promise<{ item: string[]; state: string[] }> {
    const child = spawnWriter('write');
    const acked = { item: [] as string[], state: [] as string[] };
    await new Promise<void>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`writer exited early (code ${code})`)));
      readline.createInterface({ input: child.stdout! }).on('line', (line) => {
        const [, kind, id] = line.split(' ') as [string, 'item' | 'state', string];
        acked[kind].push(id);
        if (acked.item.length === items) resolve();
      });
    });
    child.removeAllListeners('exit');
    const exited = new Promise((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
    child.kill('SIGKILL');
    assert.equal(await exited, 'SIGKILL');
    return acked;
  }

  function spawnWriter(mode: 'write' | 'hold'): ChildProcess {
    const child = spawn(process.execPath, ['--import', 'tsx', WRITER, path.join(dir, 'store'), mode], {
      cwd: REPO,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    children.push(child);
    return child;
  }
});
