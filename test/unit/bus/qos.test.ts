import { strict as assert } from 'node:assert';
import { createLogger } from '../../../runtime/log';
import {
  DeliveryDropped,
  EventBus,
  createEvent,
  payloadText,
  type Delivery,
  type PublishResult,
} from '../../../runtime/bus';
import { gate, turns, until } from './helpers';

const ev = (n: number | string) => createEvent({ type: 'test', payload: String(n) });
const seq = (deliveries: Delivery[]) => deliveries.map((d) => payloadText(d.event));
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => String(from + i));
const sum = (rs: PublishResult[], k: 'queued' | 'dropped') => rs.reduce((a, r) => a + r[k], 0);

describe('bus QoS under overload', () => {
  let bus: EventBus;
  afterEach(() => bus.close());

  it('realtime: the publisher never waits, drops beyond the queue and counts every drop', async () => {
    bus = new EventBus();
    const g = gate();
    const got: Delivery[] = [];
    bus.subscribe(
      'rt.x',
      async (d) => {
        await g.promise;
        got.push(d);
      },
      { qos: 'realtime', queueSize: 10 },
    );

    // 100 publishes while the handler has not run: 10 fit, 90 are dropped, and every publish
    // resolves although the handler is blocked (a waiting publisher would hang this test).
    const results = await Promise.all(range(0, 100).map((i) => bus.publish('rt.x', ev(i))));
    assert.equal(sum(results, 'queued'), 10);
    assert.equal(sum(results, 'dropped'), 90);

    await until(() => bus.stats().subscriptions[0].queueDepth === 9); // the handler holds #0
    const more = await Promise.all(range(100, 105).map((i) => bus.publish('rt.x', ev(i))));
    assert.deepEqual(
      more.map((r) => r.queued),
      [1, 0, 0, 0, 0],
    );

    const s = bus.stats();
    assert.equal(s.subscriptions[0].dropped.queue_full, 94);
    assert.equal(s.topics.find((t) => t.topic === 'rt.x')!.dropped.queue_full, 94);
    assert.equal(s.dropped.queue_full, 94);
    assert.equal(s.subscriptions[0].queueCapacity, 10);

    g.open();
    await until(() => got.length === 11);
    await turns();
    assert.deepEqual(seq(got), [...range(0, 10), '100']);
    assert.equal(bus.stats().delivered, 11);
  });

  it('batched: the publisher waits for room, nothing is lost and order is kept', async () => {
    bus = new EventBus();
    const g = gate();
    const got: Delivery[] = [];
    bus.subscribe(
      'bt.x',
      async (d) => {
        await g.promise;
        got.push(d);
      },
      { qos: 'batched', queueSize: 4 },
    );

    let resolved = 0;
    const results: PublishResult[] = [];
    const publisher = (async () => {
      for (let i = 0; i < 50; i++) {
        results.push(await bus.publish('bt.x', ev(i)));
        resolved++;
      }
    })();

    await turns(20);
    // One event in the blocked handler, four queued, the sixth publish is waiting for room.
    assert.equal(resolved, 5);
    const sub = bus.stats().subscriptions[0];
    assert.equal(sub.queueDepth, 4);
    assert.equal(sub.waitingPublishers, 1);

    g.open();
    await publisher;
    await until(() => got.length === 50);
    assert.deepEqual(seq(got), range(0, 50));
    assert.equal(sum(results, 'queued'), 50);
    assert.equal(sum(results, 'dropped'), 0);
    assert.deepEqual(bus.stats().dropped, {});
  });

  it('batched: many concurrent publishers all wait, none is lost, each keeps its order', async () => {
    bus = new EventBus();
    const got: string[] = [];
    bus.subscribe(
      'bt.many',
      async (d) => {
        await turns(1);
        got.push(payloadText(d.event));
      },
      { qos: 'batched', queueSize: 3 },
    );
    const publishers = ['a', 'b', 'c', 'd'].map(async (p) => {
      for (let i = 0; i < 25; i++) await bus.publish('bt.many', ev(`${p}${i}`));
    });
    await Promise.all(publishers);
    await until(() => got.length === 100);
    for (const p of ['a', 'b', 'c', 'd']) {
      assert.deepEqual(
        got.filter((x) => x[0] === p),
        range(0, 25).map((i) => `${p}${i}`),
      );
    }
    assert.deepEqual(bus.stats().dropped, {});
  });

  it('background: delivered after pending realtime and batched work', async () => {
    bus = new EventBus();
    const log: string[] = [];
    bus.subscribe('w.bg', (d) => void log.push(`bg${payloadText(d.event)}`), { qos: 'background' });
    bus.subscribe('w.rt', (d) => void log.push(`rt${payloadText(d.event)}`), { qos: 'realtime' });
    bus.subscribe('w.bt', (d) => void log.push(`bt${payloadText(d.event)}`), { qos: 'batched' });
    const ps: Promise<PublishResult>[] = [];
    for (let i = 0; i < 100; i++)
      ps.push(bus.publish('w.bg', ev(i)), bus.publish('w.rt', ev(i)), bus.publish('w.bt', ev(i)));
    await Promise.all(ps);
    await until(() => log.length === 300);
    assert.ok(
      log.slice(0, 200).every((x) => !x.startsWith('bg')),
      'a background delivery ran before realtime/batched work',
    );
    assert.deepEqual(
      log.slice(200),
      range(0, 100).map((i) => `bg${i}`),
    );
    assert.deepEqual(
      log.filter((x) => x.startsWith('rt')),
      range(0, 100).map((i) => `rt${i}`),
    );
    assert.deepEqual(
      log.filter((x) => x.startsWith('bt')),
      range(0, 100).map((i) => `bt${i}`),
    );
  });

  it('background: realtime work published by a background handler still goes first', async () => {
    bus = new EventBus();
    const log: string[] = [];
    bus.subscribe(
      'bg2',
      (d) => {
        log.push(`bg${payloadText(d.event)}`);
        void bus.publish('rt2', d.event);
      },
      { qos: 'background' },
    );
    bus.subscribe('rt2', (d) => void log.push(`rt${payloadText(d.event)}`), { qos: 'realtime' });
    await Promise.all(range(0, 3).map((i) => bus.publish('bg2', ev(i))));
    await until(() => log.length === 6);
    assert.deepEqual(log, ['bg0', 'rt0', 'bg1', 'rt1', 'bg2', 'rt2']);
  });

  it('background: a full background queue drops and counts, it never blocks the publisher', async () => {
    bus = new EventBus({ queueSizes: { background: 3 } });
    const g = gate();
    bus.subscribe('bg3', () => g.promise, { qos: 'background' });
    const results = await Promise.all(range(0, 10).map((i) => bus.publish('bg3', ev(i))));
    assert.equal(sum(results, 'queued'), 3);
    assert.equal(bus.stats().subscriptions[0].dropped.queue_full, 7);
    assert.equal(bus.stats().subscriptions[0].queueCapacity, 3);
    g.open();
  });

  it('a slow handler slows only its own subscription', async () => {
    bus = new EventBus();
    const g = gate();
    const fast: Delivery[] = [];
    bus.subscribe('s.x', () => g.promise, { qos: 'batched', queueSize: 100, subscriber: 'slow' });
    bus.subscribe('s.x', (d) => void fast.push(d), { qos: 'batched', subscriber: 'fast' });
    for (let i = 0; i < 20; i++) await bus.publish('s.x', ev(i));
    await until(() => fast.length === 20);
    assert.deepEqual(seq(fast), range(0, 20));
    const slow = bus.stats().subscriptions.find((s) => s.subscriber === 'slow')!;
    assert.equal(slow.delivered, 0);
    assert.equal(slow.queueDepth, 19);
    g.open();
    await until(() => bus.stats().subscriptions.find((s) => s.subscriber === 'slow')!.delivered === 20);
  });

  it('ordering per subscriber holds with async handlers of uneven speed and interleaved publishers', async () => {
    bus = new EventBus();
    const published: string[] = [];
    const seen = new Map<string, string[]>();
    for (const [name, qos] of [
      ['rt', 'realtime'],
      ['bt', 'batched'],
      ['bg', 'background'],
    ] as const) {
      seen.set(name, []);
      bus.subscribe(
        'o.>',
        async (d) => {
          await turns(Number(payloadText(d.event).slice(1)) % 3);
          seen.get(name)!.push(payloadText(d.event));
        },
        { qos },
      );
    }
    await Promise.all(
      ['p', 'q'].map(async (p) => {
        for (let i = 0; i < 40; i++) {
          published.push(`${p}${i}`);
          await bus.publish(`o.${p}.${i % 4}`, ev(`${p}${i}`));
        }
      }),
    );
    await until(() => [...seen.values()].every((v) => v.length === 80));
    for (const [name, got] of seen) assert.deepEqual(got, published, name);
  });

  it('a throwing handler is logged and counted, and the bus carries on', async () => {
    const lines: string[] = [];
    bus = new EventBus({}, createLogger({ sink: (l) => lines.push(l) }));
    const ok: Delivery[] = [];
    bus.subscribe(
      'e.x',
      (d) => {
        if (payloadText(d.event) === '1') throw new Error('boom in handler');
        ok.push(d);
      },
      { subscriber: 'sync-thrower' },
    );
    bus.subscribe(
      'e.x',
      async (d) => {
        if (payloadText(d.event) === '2') throw new Error('async boom');
      },
      { subscriber: 'async-thrower' },
    );
    for (let i = 0; i < 4; i++) await bus.publish('e.x', ev(i));
    await until(() => bus.stats().delivered + (bus.stats().dropped.handler_error ?? 0) === 8);
    assert.deepEqual(seq(ok), ['0', '2', '3']);
    const s = bus.stats();
    assert.equal(s.dropped.handler_error, 2);
    assert.equal(s.delivered, 6);
    assert.equal(s.subscriptions.find((x) => x.subscriber === 'sync-thrower')!.dropped.handler_error, 1);
    assert.equal(s.subscriptions.find((x) => x.subscriber === 'async-thrower')!.dropped.handler_error, 1);
    assert.equal(s.topics[0].dropped.handler_error, 2);
    const warnings = lines.map((l) => JSON.parse(l)).filter((r) => r.msg === 'subscription handler failed');
    assert.deepEqual(warnings.map((w) => w.error).sort(), ['async boom', 'boom in handler']);
    assert.equal(warnings[0].topic, 'e.x');
    // Still alive: a new subscription and publish work.
    const after: Delivery[] = [];
    bus.subscribe('e.y', (d) => void after.push(d));
    await bus.publish('e.y', ev('z'));
    await until(() => after.length === 1);
  });

  it('a handler that declines a delivery with DeliveryDropped is counted under its reason, not as a failure or a delivery', async () => {
    const lines: string[] = [];
    bus = new EventBus({}, createLogger({ sink: (l) => lines.push(l) }));
    bus.subscribe(
      'big.x',
      (d) => {
        if (payloadText(d.event) === 'huge') throw new DeliveryDropped('too_large', 'too big for the wire');
      },
      { subscriber: 'sync-decliner' },
    );
    bus.subscribe(
      'big.x',
      async (d) => {
        if (payloadText(d.event) === 'huge') throw new DeliveryDropped('too_large', 'too big for the wire');
      },
      { subscriber: 'async-decliner' },
    );
    await bus.publish('big.x', ev('small'));
    await bus.publish('big.x', ev('huge'));
    await until(() => bus.stats().delivered + (bus.stats().dropped.too_large ?? 0) === 4);
    const s = bus.stats();
    assert.deepEqual(s.dropped, { too_large: 2 });
    assert.equal(s.delivered, 2);
    for (const sub of s.subscriptions)
      assert.deepEqual([sub.delivered, sub.dropped], [1, { too_large: 1 }], sub.subscriber);
    assert.deepEqual(s.topics[0].dropped, { too_large: 2 });
    assert.equal(
      lines.some((l) => l.includes('subscription handler failed')),
      false,
    );
  });
});
