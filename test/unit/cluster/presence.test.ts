// Who the cluster's other runtimes are (runtime/cluster/presence.ts): liveness on the server's
// clock. The KV bucket here is a stand-in for NATS's (a watch whose deliveries the test times,
// with the server's write times it chooses): a watch that lags by seconds, or stalls, cannot be
// made to happen on cue with a real server. test/integration/cluster/ runs the real one.
import { strict as assert } from 'node:assert';
import type { KV } from '@nats-io/kv';
import { Presence, presenceEntry, type PresenceEntry } from '../../../runtime/cluster/presence';
import { createLogger } from '../../../runtime/log';

interface Delivered {
  key: string;
  operation: 'PUT' | 'DEL';
  created: Date;
  json<T>(): T;
}

/** A watch the test feeds: deliver() hands an entry to the runtime as NATS would. */
class WatchedBucket {
  private waiting: ((r: IteratorResult<Delivered>) => void) | undefined;
  private queued: Delivered[] = [];
  puts = 0;

  deliver(key: string, writtenMs: number, entry: Partial<PresenceEntry> = {}, operation: 'PUT' | 'DEL' = 'PUT'): void {
    const e: Delivered = {
      key,
      operation,
      created: new Date(writtenMs),
      json: <T>() => ({ node: key, tools: [], agents: [], atMs: writtenMs, ...entry }) as T,
    };
    if (this.waiting) {
      const w = this.waiting;
      this.waiting = undefined;
      w({ value: e, done: false });
    } else this.queued.push(e);
  }

  asKv(): KV {
    const iterator = {
      next: () =>
        this.queued.length > 0
          ? Promise.resolve({ value: this.queued.shift()!, done: false })
          : new Promise<IteratorResult<Delivered>>((r) => (this.waiting = r)),
      return: () => Promise.resolve({ value: undefined, done: true as const }),
    };
    const watch = {
      stop: () => this.waiting?.({ value: undefined, done: true }),
      [Symbol.asyncIterator]: () => iterator,
    };
    return {
      watch: () => Promise.resolve(watch),
      put: () => Promise.resolve(++this.puts),
      delete: () => Promise.resolve(),
    } as unknown as KV;
  }
}

const TTL = 3000;
const tick = () => new Promise((r) => setImmediate(r));

describe('cluster presence: who else is in the cluster', () => {
  let presence: Presence | undefined;
  afterEach(async () => {
    await presence?.stop();
    presence = undefined;
  });

  function start(bucket: WatchedBucket): Presence {
    const own = (): PresenceEntry => ({ node: 'A', tools: [], agents: [], atMs: Date.now() });
    presence = new Presence(bucket.asKv(), 'A', TTL, 60_000, own, createLogger({ level: 'error' }));
    presence.start();
    return presence;
  }

  it('a watch that lags by more than the TTL declares nobody gone: both sides are judged on the server clock', async () => {
    const bucket = new WatchedBucket();
    const p = start(bucket);
    const lag = 5000; // every entry arrives 5 s after the server wrote it
    for (let i = 0; i < 4; i++) {
      const written = Date.now() - lag + i * 500;
      bucket.deliver('C', written);
      bucket.deliver('A', written + 10);
    }
    await tick();
    assert.deepEqual(
      p.nodes().map((e) => e.node),
      ['C'],
    );
  });

  it('a runtime that stopped writing is gone once ours, as written, are more than the TTL past its last', async () => {
    const bucket = new WatchedBucket();
    const p = start(bucket);
    const changes: string[][] = [];
    p.onChange(() => changes.push(p.nodes().map((e) => e.node)));
    const t0 = Date.now() - 60_000; // an old, lagging watch: only the server's times count
    bucket.deliver('B', t0);
    bucket.deliver('A', t0 + 100);
    await tick();
    assert.deepEqual(
      p.nodes().map((e) => e.node),
      ['B'],
    );
    bucket.deliver('A', t0 + TTL); // B's last entry is exactly TTL old: still in
    await tick();
    assert.deepEqual(
      p.nodes().map((e) => e.node),
      ['B'],
    );
    bucket.deliver('A', t0 + TTL + 500);
    await tick();
    assert.deepEqual(p.nodes(), []);
    assert.deepEqual(changes, [['B'], []]);
  });

  it('while none of our own writes come back (a stalled watch), nobody is declared gone', async () => {
    const bucket = new WatchedBucket();
    const p = start(bucket);
    const t0 = Date.now() - 60_000;
    bucket.deliver('A', t0);
    bucket.deliver('B', t0 + 50);
    await tick();
    // Nothing more arrives, for what is a minute of local time since B wrote.
    assert.deepEqual(
      p.nodes().map((e) => e.node),
      ['B'],
    );
  });

  it("a runtime's delete removes it at once; before our first write comes back, the local clock judges", async () => {
    const bucket = new WatchedBucket();
    const p = start(bucket);
    bucket.deliver('B', Date.now() - 60_000); // a dead runtime's last entry, replayed by the new watch
    bucket.deliver('C', Date.now());
    await tick();
    assert.deepEqual(
      p.nodes().map((e) => e.node),
      ['C'],
    );
    bucket.deliver('C', Date.now(), {}, 'DEL');
    await tick();
    assert.deepEqual(p.nodes(), []);
  });
});

// Anyone holding the deployment's credentials can write the bucket. One put of
// {tools: null, agents: 5} made GetStats and ListAgents fail with INTERNAL ("e.agents.map is not a
// function") and stopped this runtime's own heartbeat, until a restart (red-team finding).
describe('cluster presence: what a bucket entry may say', () => {
  const good = {
    node: 'B',
    atMs: 5,
    tools: [{ name: 'calc:add', description: 'adds', parametersSchema: { type: 'object' } }],
    agents: [{ agentId: 'b1', state: 'connected', supervised: true, pid: 42, topics: ['x'], metadata: { k: 'v' } }],
  };

  it('a well-formed entry comes through as written', () => {
    const entry = presenceEntry(good, 'B')!;
    assert.deepEqual(entry.tools, good.tools);
    assert.equal(entry.agents[0]!.agentId, 'b1');
    assert.equal((entry.agents[0] as unknown as { pid: number }).pid, 42);
  });

  for (const [what, value] of [
    ['null tools and a number for agents', { node: 'B', tools: null, agents: 5 }],
    ['a string', 'B'],
    ['an array', [good]],
    ['another node than its key', { ...good, node: 'A' }],
    ['null', null],
  ] as const)
    it(`${what}: not an entry`, () => assert.equal(presenceEntry(value, 'B'), undefined));

  it('tools and agents that are not well-formed are left out, and fields of the wrong type made safe', () => {
    const entry = presenceEntry(
      {
        ...good,
        tools: [null, { name: 7 }, { name: 'no:schema' }, { name: 'ok:tool', parametersSchema: {}, description: 9 }],
        agents: [
          5,
          { agentId: '' },
          {
            agentId: 'x',
            state: { evil: true },
            pid: 'nine',
            topics: 'all',
            tools: [1, 'ok'],
            metadata: { a: 1, b: 'b' },
          },
        ],
      },
      'B',
    )!;
    assert.deepEqual(entry.tools, [{ name: 'ok:tool', description: '', parametersSchema: {} }]);
    assert.deepEqual(entry.agents, [
      {
        agentId: 'x',
        state: 'unknown',
        supervised: false,
        topics: [],
        tools: ['ok'],
        metadata: { b: 'b' },
        lastHeartbeatMs: 0,
        pid: 0,
        restarts: 0,
        lastError: '',
      },
    ]);
  });
});
