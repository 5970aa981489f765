import { strict as assert } from 'node:assert';
import { BusError, EventBus, createEvent, payloadText, type Delivery, type PublishResult } from '../../../runtime/bus';
import type { SegmentTrie } from '../../../runtime/bus/trie';
import { gate, until } from './helpers';

const ev = (n: number | string) => createEvent({ type: 'test', payload: String(n) });
const trieOf = (bus: EventBus) => (bus as unknown as { trie: SegmentTrie<unknown> }).trie;

describe('bus stats', () => {
  it('counts per topic, per subscription and in total', async () => {
    const bus = new EventBus({ queueSizes: { realtime: 2 } });
    const g = gate();
    bus.subscribe('orders.*', () => {}, { qos: 'batched', subscriber: 'ledger' });
    bus.subscribe('orders.new', () => g.promise, { qos: 'realtime', subscriber: 'ui' });
    for (let i = 0; i < 5; i++) await bus.publish('orders.new', ev(i));
    await bus.publish('orders.paid', ev('p'));
    await bus.publish('nobody.listens', ev('x'));
    await until(() => bus.stats().subscriptions.find((s) => s.subscriber === 'ledger')!.delivered === 6);

    const s = bus.stats();
    const topic = (name: string) => s.topics.find((t) => t.topic === name)!;
    assert.deepEqual(topic('orders.new'), {
      topic: 'orders.new',
      published: 5,
      delivered: 5,
      dropped: { queue_full: 2 },
    });
    assert.deepEqual(topic('orders.paid'), { topic: 'orders.paid', published: 1, delivered: 1, dropped: {} });
    assert.deepEqual(topic('nobody.listens'), { topic: 'nobody.listens', published: 1, delivered: 0, dropped: {} });
    const ledger = s.subscriptions.find((x) => x.subscriber === 'ledger')!;
    const ui = s.subscriptions.find((x) => x.subscriber === 'ui')!;
    assert.deepEqual(
      { ...ledger, id: '' },
      {
        id: '',
        pattern: 'orders.*',
        subscriber: 'ledger',
        qos: 'batched',
        queueDepth: 0,
        queueCapacity: 4096,
        queueBytes: 0,
        queueBytesCapacity: 64 << 20,
        waitingPublishers: 0,
        delivered: 6,
        dropped: {},
      },
    );
    // ui: #0 in the (blocked) handler, #1 and #2 queued, #3 and #4 dropped; the three held count against its bytes.
    const { queueBytes: uiBytes, ...uiRest } = ui;
    assert.deepEqual(
      { ...uiRest, id: '' },
      {
        id: '',
        pattern: 'orders.new',
        subscriber: 'ui',
        qos: 'realtime',
        queueDepth: 2,
        queueCapacity: 2,
        queueBytesCapacity: 16 << 20,
        waitingPublishers: 0,
        delivered: 0,
        dropped: { queue_full: 2 },
      },
    );
    assert.ok(uiBytes > 3 * 128 && uiBytes < 3 * 4096, `ui holds ${uiBytes} bytes`);
    assert.equal(s.published, 7);
    assert.equal(s.delivered, 6);
    assert.deepEqual(s.dropped, { queue_full: 2 });
    g.open();
    await until(() => bus.stats().delivered === 9);
    await bus.close();
  });

  it('keeps counters for a bounded number of topics, evicting the least recently published', async () => {
    const bus = new EventBus({ maxTopicStats: 100 });
    await bus.publish('keep.me', ev(0));
    for (let i = 0; i < 1000; i++) {
      await bus.publish(`flood.${i}`, ev(i));
      if (i % 50 === 0) await bus.publish('keep.me', ev(i));
    }
    const topics = bus.stats().topics;
    assert.equal(topics.length, 100);
    assert.equal(topics.find((t) => t.topic === 'keep.me')?.published, 21);
    assert.ok(topics.some((t) => t.topic === 'flood.999'));
    assert.ok(!topics.some((t) => t.topic === 'flood.0'));
    assert.equal(bus.stats().published, 1021, 'totals keep counting after eviction');
    await bus.close();
  });
});

describe('bus unsubscribe and close', () => {
  it('unsubscribe frees the trie entry, the queue and a blocked batched publisher; no more deliveries', async () => {
    const bus = new EventBus();
    const g = gate();
    const got: Delivery[] = [];
    const other: Delivery[] = [];
    bus.subscribe('keep.>', (d) => void other.push(d));
    const nodesBefore = trieOf(bus).nodeCount();
    const sub = bus.subscribe(
      'u.*.x',
      async (d) => {
        await g.promise;
        got.push(d);
      },
      { qos: 'batched', queueSize: 3 },
    );
    assert.ok(trieOf(bus).nodeCount() > nodesBefore);

    const results: PublishResult[] = [];
    const publisher = (async () => {
      for (let i = 0; i < 6; i++) results.push(await bus.publish('u.a.x', ev(i)));
    })();
    await until(() => bus.stats().subscriptions.some((s) => s.waitingPublishers === 1));
    assert.equal(bus.stats().subscriptions.find((s) => s.id === sub.id)!.queueDepth, 3);

    sub.unsubscribe();
    await publisher; // released: it would hang here if the waiting publish were not let go
    assert.deepEqual(
      results.map((r) => r.queued),
      [1, 1, 1, 1, 0, 0],
    );
    assert.deepEqual(
      results.map((r) => r.dropped),
      [0, 0, 0, 0, 1, 0],
    );
    assert.deepEqual(
      bus.stats().subscriptions.map((s) => s.pattern),
      ['keep.>'],
    );
    assert.equal(trieOf(bus).nodeCount(), nodesBefore);
    assert.equal(trieOf(bus).size, 1);
    assert.equal(bus.stats().dropped.closed, 4, 'three queued and one waiting event dropped as closed');

    g.open();
    await bus.publish('keep.going', ev('k'));
    await until(() => other.length === 1);
    assert.deepEqual(
      got.map((d) => payloadText(d.event)),
      ['0'],
      'only the delivery already in the handler completes',
    );
    assert.deepEqual(await bus.publish('u.a.x', ev('after')), { queued: 0, dropped: 0 });
    sub.unsubscribe(); // idempotent
    await bus.close();
  });

  it('close() frees every subscription and refuses further use with clear errors', async () => {
    const bus = new EventBus();
    bus.subscribe('a', () => {});
    bus.subscribe('b.>', () => {}, { qos: 'background' });
    await bus.close();
    assert.equal(bus.stats().subscriptions.length, 0);
    assert.equal(trieOf(bus).nodeCount(), 1);
    await assert.rejects(bus.publish('a', ev(1)), (e: unknown) => e instanceof BusError && e.code === 'closed');
    assert.throws(
      () => bus.subscribe('a', () => {}),
      (e: unknown) => e instanceof BusError && e.code === 'closed',
    );
    await bus.close(); // idempotent
  });
});

describe('bus options', () => {
  const invalid = (e: unknown) => e instanceof BusError && e.code === 'invalid_options';
  it('refuses bad queue sizes, hop limits and QoS names, naming the setting', () => {
    assert.throws(
      () => new EventBus({ queueSizes: { realtime: 0 } }),
      (e: unknown) => invalid(e) && /queueSizes\.realtime/.test((e as Error).message),
    );
    assert.throws(
      () => new EventBus({ maxHops: 1.5 }),
      (e: unknown) => invalid(e) && /maxHops/.test((e as Error).message),
    );
    const bus = new EventBus({ queueSizes: { batched: 7 } });
    assert.throws(
      () => bus.subscribe('a', () => {}, { queueSize: -1 }),
      (e: unknown) => invalid(e) && /queueSize/.test((e as Error).message),
    );
    assert.throws(
      () => bus.subscribe('a', () => {}, { qos: 'fast' as never }),
      (e: unknown) => invalid(e) && /"fast"/.test((e as Error).message),
    );
    assert.throws(() => bus.subscribe('a', 'nope' as never), invalid);
    assert.equal(bus.subscribe('a', () => {}).qos, 'batched');
    assert.equal(bus.stats().subscriptions[0].queueCapacity, 7, 'queue size comes from the options');
  });

  it('refuses an event that is not an object, asynchronously and with a clear error', async () => {
    const bus = new EventBus();
    await assert.rejects(
      bus.publish('a', null as never),
      (e: unknown) => e instanceof BusError && e.code === 'invalid_event',
    );
    await bus.close();
  });
});
