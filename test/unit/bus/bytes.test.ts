// Queues are bounded in bytes as well as in count: a subscriber that stops reading holds at most
// its byte budget, whatever the size of the events.
import { strict as assert } from 'node:assert';
import {
  BusError,
  DEFAULT_QUEUE_BYTES,
  EventBus,
  createEvent,
  payloadText,
  type Delivery,
  type PublishResult,
} from '../../../runtime/bus';
import { gate, turns, until } from './helpers';

const KiB = 1024;
/** An event whose payload is `kib` KiB (the rest of the event adds well under 1 KiB). */
const big = (kib: number, tag = '') => createEvent({ type: 'big', payload: Buffer.alloc(kib * KiB, tag || 'x') });
const sum = (rs: PublishResult[], k: 'queued' | 'dropped') => rs.reduce((a, r) => a + r[k], 0);

describe('bus queues bounded in bytes', () => {
  let bus: EventBus;
  afterEach(() => bus.close());

  it('has byte budgets by default (realtime 16 MiB, batched 64 MiB, background 256 MiB)', () => {
    assert.deepEqual(DEFAULT_QUEUE_BYTES, { realtime: 16 << 20, batched: 64 << 20, background: 256 << 20 });
    bus = new EventBus();
    bus.subscribe('a.b', () => {}, { qos: 'realtime' });
    assert.equal(bus.stats().subscriptions[0].queueBytesCapacity, 16 << 20);
  });

  it('realtime: over the byte budget the event is dropped and counted as queue_bytes, though the count has room', async () => {
    bus = new EventBus();
    const g = gate();
    const got: Delivery[] = [];
    bus.subscribe(
      'rt.big',
      async (d) => {
        await g.promise;
        got.push(d);
      },
      { qos: 'realtime', queueSize: 1000, queueBytes: 100 * KiB },
    );

    // 30 KiB each: the one being delivered and two queued fill 90 KiB; the rest do not fit.
    const results = await Promise.all(Array.from({ length: 20 }, () => bus.publish('rt.big', big(30))));
    assert.equal(sum(results, 'queued'), 3);
    assert.equal(sum(results, 'dropped'), 17);
    const s = bus.stats();
    assert.equal(s.subscriptions[0].dropped.queue_bytes, 17);
    assert.equal(s.dropped.queue_bytes, 17);
    assert.equal(s.subscriptions[0].dropped.queue_full, undefined);
    assert.ok(s.subscriptions[0].queueBytes <= 100 * KiB, `queued ${s.subscriptions[0].queueBytes} bytes`);
    assert.ok(s.subscriptions[0].queueBytes >= 90 * KiB);

    // Small events still fit in what is left.
    assert.equal((await bus.publish('rt.big', createEvent({ type: 'small', payload: 'x' }))).queued, 1);
    g.open();
    await until(() => got.length === 4);
    await turns();
    assert.equal(bus.stats().subscriptions[0].queueBytes, 0, 'every byte is released once delivered');
  });

  it('realtime: an event larger than the whole budget is dropped as too_large', async () => {
    bus = new EventBus();
    bus.subscribe('rt.huge', () => {}, { qos: 'realtime', queueBytes: 10 * KiB });
    const r = await bus.publish('rt.huge', big(20));
    assert.deepEqual(r, { queued: 0, dropped: 1 });
    assert.equal(bus.stats().dropped.too_large, 1);
  });

  it('batched: over the byte budget the publisher waits, and nothing is lost or reordered', async () => {
    bus = new EventBus();
    const g = gate();
    const got: string[] = [];
    bus.subscribe(
      'bt.big',
      async (d) => {
        await g.promise;
        got.push(payloadText(d.event).slice(0, 1));
      },
      { qos: 'batched', queueSize: 1000, queueBytes: 100 * KiB },
    );

    let resolved = 0;
    const results: PublishResult[] = [];
    const letters = 'abcdefghijklmnopqrst';
    const publisher = (async () => {
      for (const c of letters) {
        results.push(await bus.publish('bt.big', big(30, c)));
        resolved++;
      }
    })();
    await turns(20);
    // One in the blocked handler and two queued (90 KiB); the fourth publish waits for bytes.
    assert.equal(resolved, 3);
    const sub = bus.stats().subscriptions[0];
    assert.equal(sub.queueDepth, 2);
    assert.equal(sub.waitingPublishers, 1);
    assert.ok(sub.queueBytes <= 100 * KiB);

    g.open();
    await publisher;
    await until(() => got.length === letters.length);
    assert.equal(got.join(''), letters);
    assert.equal(sum(results, 'queued'), letters.length);
    assert.deepEqual(bus.stats().dropped, {});
  });

  it('batched: an event larger than the whole budget is dropped as too_large and never holds the publisher', async () => {
    bus = new EventBus();
    const g = gate();
    bus.subscribe(
      'bt.huge',
      async () => {
        await g.promise;
      },
      { qos: 'batched', queueBytes: 10 * KiB },
    );
    // Even with the handler blocked and the queue occupied, the oversized publish resolves at once.
    await bus.publish('bt.huge', big(5));
    const r = await bus.publish('bt.huge', big(20));
    assert.deepEqual(r, { queued: 0, dropped: 1 });
    assert.equal(bus.stats().subscriptions[0].dropped.too_large, 1);
    g.open();
  });

  it('batched: a waiting publisher is released when the subscription ends, and the budget is emptied', async () => {
    bus = new EventBus();
    const g = gate();
    const sub = bus.subscribe(
      'bt.end',
      async () => {
        await g.promise;
      },
      { qos: 'batched', queueBytes: 50 * KiB },
    );
    await bus.publish('bt.end', big(30));
    const waiting = bus.publish('bt.end', big(30));
    await turns(5);
    sub.unsubscribe();
    assert.deepEqual(await waiting, { queued: 0, dropped: 1 });
    g.open();
    await turns(5);
  });

  it('refuses budgets that are not positive integers, with the option named', () => {
    for (const bad of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 41, '16' as unknown as number]) {
      assert.throws(
        () => new EventBus({ queueBytes: { realtime: bad } }),
        (e: unknown) =>
          e instanceof BusError && /queueBytes\.realtime must be an integer between 1 and/.test(e.message),
        String(bad),
      );
      bus = new EventBus();
      assert.throws(
        () => bus.subscribe('a.b', () => {}, { queueBytes: bad }),
        /queueBytes must be an integer/,
        String(bad),
      );
    }
  });
});
