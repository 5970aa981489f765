import { strict as assert } from 'node:assert';
import {
  BusError,
  EventBus,
  createEvent,
  correlationId,
  expiresAtMs,
  hop,
  payloadJson,
  payloadText,
  readEnvelope,
  replyTo,
  sender,
  threadId,
  traceparent,
  ttlMs,
  writeEnvelope,
  type Delivery,
} from '../../../runtime/bus';
import { gate, until } from './helpers';

describe('bus envelope and createEvent', () => {
  it('createEvent fills id, time and defaults; envelope fields go into metadata under loom. keys', () => {
    const before = Date.now();
    const e = createEvent({
      type: 'note',
      source: 'test',
      threadId: 't1',
      sender: 'agent.a',
      ttlMs: 5000,
      metadata: { custom: 'x' },
    });
    assert.match(e.id, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    assert.ok(e.timestampMs >= before && e.timestampMs <= Date.now());
    assert.deepEqual(e.metadata, {
      custom: 'x',
      'loom.thread_id': 't1',
      'loom.sender': 'agent.a',
      'loom.ttl_ms': '5000',
    });
    assert.equal(e.source, 'test');
    assert.deepEqual([e.confidence, e.tags, e.priority], [0, [], 0]);
    assert.notEqual(createEvent({ type: 'note' }).id, e.id);
  });

  it('payload accepts Buffer, Uint8Array, string and JSON-able values', () => {
    const buf = Buffer.from([1, 2, 3]);
    assert.equal(createEvent({ type: 't', payload: buf }).payload, buf);
    assert.deepEqual([...createEvent({ type: 't', payload: new Uint8Array([4, 5]) }).payload], [4, 5]);
    assert.equal(payloadText(createEvent({ type: 't', payload: 'héllo' })), 'héllo');
    assert.deepEqual(payloadJson(createEvent({ type: 't', payload: { a: [1, 'b'] } })), { a: [1, 'b'] });
    assert.equal(payloadJson(createEvent({ type: 't', payload: 42 })), 42);
    assert.equal(createEvent({ type: 't' }).payload.length, 0);
  });

  it('refuses payloads that are not JSON-able and events without a type, with clear errors', () => {
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    assert.throws(
      () => createEvent({ type: 't', payload: circular }),
      (e: unknown) => e instanceof BusError && e.code === 'invalid_event' && /JSON/.test(e.message),
    );
    assert.throws(
      () => createEvent({ type: 't', payload: { n: 1n } }),
      (e: unknown) => e instanceof BusError && e.code === 'invalid_event',
    );
    assert.throws(
      () => createEvent({ type: '' }),
      (e: unknown) => e instanceof BusError && /type/.test(e.message),
    );
    assert.throws(
      () => payloadJson(createEvent({ type: 'raw', payload: 'not json' })),
      (e: unknown) => e instanceof BusError && /"raw" is not JSON/.test(e.message),
    );
  });

  it('reads both loom.-prefixed and bare keys (prefixed wins) and writes only the prefixed key', () => {
    const bare = {
      metadata: {
        thread_id: 't',
        correlation_id: 'c',
        reply_to: 'r.x',
        sender: 's',
        ttl_ms: '10',
        hop: '3',
        'loom.traceparent': 'tp',
      },
    };
    assert.deepEqual(readEnvelope(bare), {
      threadId: 't',
      correlationId: 'c',
      replyTo: 'r.x',
      sender: 's',
      ttlMs: 10,
      hop: 3,
      traceparent: 'tp',
    });
    const both = {
      metadata: { thread_id: 'old', 'loom.thread_id': 'new', traceparent: 'std', 'loom.traceparent': 'alt' },
    };
    assert.equal(threadId(both), 'new');
    assert.equal(traceparent(both), 'std');
    const m = writeEnvelope(
      { correlation_id: 'old', reply_to: 'old.topic', keep: 'me' },
      { correlationId: 'c2', replyTo: 'new.topic', hop: 4 },
    );
    assert.deepEqual(m, { keep: 'me', 'loom.correlation_id': 'c2', 'loom.reply_to': 'new.topic', 'loom.hop': '4' });
    assert.deepEqual(
      [correlationId({ metadata: m }), replyTo({ metadata: m }), hop({ metadata: m }), sender({ metadata: m })],
      ['c2', 'new.topic', 4, undefined],
    );
    writeEnvelope(m, { correlationId: undefined });
    assert.equal(correlationId({ metadata: m }), undefined);
    assert.equal(hop({ metadata: {} }), 0);
    assert.equal(ttlMs({ metadata: {} }), undefined);
    assert.equal(expiresAtMs({ metadata: {}, timestampMs: 5 }), Infinity);
    assert.equal(expiresAtMs({ metadata: { 'loom.ttl_ms': '10' }, timestampMs: 5 }), 15);
  });

  it('malformed ttl or hop values are refused at publish, naming the key', async () => {
    const bus = new EventBus();
    for (const [key, value] of [
      ['loom.ttl_ms', 'soon'],
      ['loom.hop', '-1'],
      ['hop', '1.5'],
      ['ttl_ms', ' 7'],
    ]) {
      const e = createEvent({ type: 't', metadata: { [key]: value } });
      await assert.rejects(
        bus.publish('a', e),
        (err: unknown) =>
          err instanceof BusError &&
          err.code === 'invalid_envelope' &&
          err.message.includes(`"${key}"`) &&
          err.message.includes(`"${value}"`),
      );
    }
    // An empty value counts as absent, not as malformed.
    assert.equal(
      (await bus.publish('a', createEvent({ type: 't', metadata: { 'loom.ttl_ms': '', hop: '' } }))).refused,
      undefined,
    );
    assert.equal(bus.stats().published, 1, 'refused-as-malformed events are not counted as published');
    await bus.close();
  });
});

describe('bus envelope enforcement: ttl and hops', () => {
  let bus: EventBus;
  afterEach(() => bus.close());

  it('an event whose ttl has already run out is refused at publish and counted', async () => {
    bus = new EventBus();
    const got: Delivery[] = [];
    bus.subscribe('t.x', (d) => void got.push(d));
    const stale = createEvent({ type: 't', timestampMs: Date.now() - 60_000, ttlMs: 1000 });
    assert.deepEqual(await bus.publish('t.x', stale), { queued: 0, dropped: 0, refused: 'ttl_expired' });
    const fresh = createEvent({ type: 't', ttlMs: 60_000 });
    assert.equal((await bus.publish('t.x', fresh)).queued, 1);
    await until(() => got.length === 1);
    assert.equal(got[0].event.id, fresh.id);
    const s = bus.stats();
    assert.equal(s.dropped.ttl_expired, 1);
    assert.equal(s.topics[0].dropped.ttl_expired, 1);
    assert.equal(s.topics[0].published, 2);
  });

  it('an event that expires while queued is dropped before delivery', async () => {
    bus = new EventBus();
    const g = gate();
    const got: string[] = [];
    bus.subscribe('t.q', async (d) => {
      await g.promise;
      got.push(payloadText(d.event));
    });
    await bus.publish('t.q', createEvent({ type: 't', payload: 'holder' }));
    const shortLived = createEvent({ type: 't', payload: 'short', ttlMs: 300 });
    assert.equal((await bus.publish('t.q', shortLived)).queued, 1);
    await bus.publish('t.q', createEvent({ type: 't', payload: 'lasting' }));
    while (Date.now() <= expiresAtMs(shortLived)) await new Promise((r) => setTimeout(r, 20));
    g.open();
    await until(() => got.length === 2);
    assert.deepEqual(got, ['holder', 'lasting']);
    assert.equal(bus.stats().subscriptions[0].dropped.ttl_expired, 1);
  });

  it('every publish adds a hop; bare hop keys are continued and replaced by loom.hop', async () => {
    bus = new EventBus();
    const got: Delivery[] = [];
    bus.subscribe('h.>', (d) => void got.push(d));
    const e = createEvent({ type: 't' });
    await bus.publish('h.1', e);
    await until(() => got.length === 1);
    assert.equal(got[0].event.metadata['loom.hop'], '1');
    assert.equal(e.metadata['loom.hop'], undefined, "the caller's event is not mutated");
    await bus.publish('h.2', got[0].event);
    await until(() => got.length === 2);
    assert.equal(got[1].event.metadata['loom.hop'], '2');
    await bus.publish('h.3', createEvent({ type: 't', metadata: { hop: '5' } }));
    await until(() => got.length === 3);
    assert.equal(got[2].event.metadata['loom.hop'], '6');
    assert.equal(got[2].event.metadata['hop'], undefined);
  });

  it('a republishing loop stops at maxHops with hop_limit counted', async () => {
    bus = new EventBus({ maxHops: 5 });
    const hops: string[] = [];
    const refusals: string[] = [];
    bus.subscribe('loop', async (d) => {
      hops.push(d.event.metadata['loom.hop']);
      const r = await bus.publish('loop', d.event);
      if (r.refused) refusals.push(r.refused);
    });
    await bus.publish('loop', createEvent({ type: 'ping' }));
    await until(() => refusals.length === 1);
    assert.deepEqual(hops, ['1', '2', '3', '4']);
    assert.deepEqual(refusals, ['hop_limit']);
    assert.equal(bus.stats().dropped.hop_limit, 1);
  });

  it('keeps an incoming traceparent untouched', async () => {
    bus = new EventBus();
    const got: Delivery[] = [];
    bus.subscribe('tr', (d) => void got.push(d));
    const tp = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    await bus.publish('tr', createEvent({ type: 't', traceparent: tp }));
    await until(() => got.length === 1);
    assert.equal(got[0].event.metadata['traceparent'], tp);
  });
});

describe('bus: root traces', () => {
  it('gives an event that carries no trace a fresh, valid W3C traceparent, one trace per event', async () => {
    const bus = new EventBus();
    const seen: string[] = [];
    bus.subscribe('t.>', (d) => void seen.push(d.event.metadata['traceparent']!));
    await bus.publish('t.a', createEvent({ type: 'x' }));
    await bus.publish('t.b', createEvent({ type: 'x' }));
    assert.equal(seen.length, 2);
    for (const tp of seen) assert.match(tp, /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    assert.notEqual(seen[0]!.split('-')[1], seen[1]!.split('-')[1], 'each root event starts its own trace');
    await bus.close();
  });

  it('keeps the trace an event already carries, under either key', async () => {
    const bus = new EventBus();
    const seen: Record<string, string>[] = [];
    bus.subscribe('t.>', (d) => void seen.push(d.event.metadata));
    const tp = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    await bus.publish('t.a', createEvent({ type: 'x', metadata: { traceparent: tp } }));
    await bus.publish('t.b', createEvent({ type: 'x', metadata: { 'loom.traceparent': tp } }));
    assert.equal(seen[0]!['traceparent'], tp);
    assert.equal(seen[1]!['traceparent'], undefined, 'no second trace is added beside the prefixed one');
    assert.equal(seen[1]!['loom.traceparent'], tp);
    await bus.close();
  });
});
