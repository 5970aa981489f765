import { strict as assert } from 'node:assert';
import { EventBus, createEvent } from '../../../runtime/bus';
import { DefaultToolRegistry } from '../../../runtime/tools/registry';
import { silentLogger } from '../../../runtime/log';
import { BACKLOG_KEPT, Feed, skipWhileBlocked } from '../../../runtime/feed/feed';
import type { FeedUpdate } from '../../../runtime/proto/gen/loom/v1/FeedUpdate';

const TRACE = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

function setup() {
  const bus = new EventBus();
  const tools = new DefaultToolRegistry({ defaultTimeoutMs: 1000, log: silentLogger });
  tools.register(
    { name: 'test:echo', description: 'echo', parametersSchema: { type: 'object' }, provider: 'native' },
    async (args) => args,
  );
  const agents = [
    {
      agentId: 'a1',
      state: 'connected',
      topics: ['x.>'],
      tools: [],
      metadata: {},
      lastHeartbeatMs: 1,
      pid: 0,
      restarts: 0,
      supervised: false,
      lastError: '',
    },
  ];
  const feed = new Feed({ bus, tools, agents: () => agents, storeBytes: async () => 1234, startedAtMs: Date.now() });
  return { bus, tools, feed };
}

/** Collects updates until `until` holds for the collected list. */
function collect(
  feed: Feed,
  opts: Parameters<Feed['listen']>[1],
  until: (u: FeedUpdate[]) => boolean,
): Promise<FeedUpdate[]> {
  const got: FeedUpdate[] = [];
  return new Promise((resolve) => {
    const sub = feed.listen((u) => {
      got.push(u);
      if (until(got)) {
        sub.dispose();
        resolve(got);
      }
    }, opts);
  });
}

const events = (us: FeedUpdate[]) => us.flatMap((u) => u.events ?? []);

describe('dashboard feed', () => {
  it('sends a first snapshot at once with agents, topics and the store size', async () => {
    const { feed } = setup();
    const [first] = await collect(feed, { intervalMs: 10_000 }, (u) => u.length >= 1);
    assert.equal(first.stats?.agents?.[0]?.agentId, 'a1');
    assert.equal(first.stats?.storeBytes, 1234);
    feed.close();
  });

  it('caps events per update to the newest N and counts the rest as omitted', async () => {
    const { bus, feed } = setup();
    const updates: FeedUpdate[] = [];
    const sub = feed.listen((u) => updates.push(u), { intervalMs: 50, maxEvents: 10 });
    for (let i = 0; i < 100; i++) await bus.publish(`x.n${i}`, createEvent({ type: 't', payload: { i } }));
    await new Promise((r) => setTimeout(r, 200));
    sub.dispose();
    const sent = events(updates);
    const omitted = updates.reduce((n, u) => n + Number(u.eventsOmitted), 0);
    assert.equal(sent.length + omitted, 100, 'every event is either sent or counted');
    assert.ok(
      updates.every((u) => (u.events ?? []).length <= 10),
      'no update carries more than maxEvents',
    );
    assert.equal(sent.at(-1)?.topic, 'x.n99', 'the newest event is kept');
    assert.ok(omitted >= 90 - 10 * updates.length);
    feed.close();
  });

  it('filters by topic pattern and names the concrete topic', async () => {
    const { bus, feed } = setup();
    const got = collect(feed, { intervalMs: 50, topicFilter: 'fs.*' }, (u) => events(u).length >= 1);
    await new Promise((r) => setTimeout(r, 10));
    await bus.publish('timer.tick', createEvent({ type: 'tick' }));
    await bus.publish('fs.changed', createEvent({ type: 'fs.changed', payload: { path: 'a.txt' } }));
    const sent = events(await got);
    assert.deepEqual(
      sent.map((e) => e.topic),
      ['fs.changed'],
    );
    assert.equal(sent[0].qos, 'QOS_REALTIME');
    feed.close();
  });

  it('cuts large payloads to maxPayloadBytes but reports the real size', async () => {
    const { bus, feed } = setup();
    const got = collect(feed, { intervalMs: 50, maxPayloadBytes: 16 }, (u) => events(u).length >= 1);
    await new Promise((r) => setTimeout(r, 10));
    await bus.publish('big.one', createEvent({ type: 'big', payload: Buffer.alloc(10_000, 7) }));
    const [e] = events(await got);
    assert.equal(e.size, 10_000);
    assert.equal((e.event?.payload as Buffer).length, 16);
    feed.close();
  });

  it('records tool calls with status and duration, and spans for traced calls and events', async () => {
    const { bus, tools, feed } = setup();
    const got = collect(
      feed,
      { intervalMs: 50 },
      (u) => u.flatMap((x) => x.toolCalls ?? []).length >= 2 && u.flatMap((x) => x.spans ?? []).length >= 2,
    );
    await new Promise((r) => setTimeout(r, 10));
    await tools.call({ name: 'test:echo', arguments: { a: 1 }, caller: 'agent-x', headers: { traceparent: TRACE } });
    await tools.call({ name: 'test:missing', arguments: {}, caller: 'agent-x' });
    await bus.publish('traced.topic', createEvent({ type: 't', metadata: { traceparent: TRACE } }));
    const us = await got;
    const calls = us.flatMap((u) => u.toolCalls ?? []);
    assert.deepEqual(
      calls.map((c) => [c.name, c.caller, c.status]),
      [
        ['test:echo', 'agent-x', 'TOOL_OK'],
        ['test:missing', 'agent-x', 'TOOL_NOT_FOUND'],
      ],
    );
    assert.ok(calls.every((c) => typeof c.durationMs === 'number' && c.durationMs >= 0));
    const spans = us.flatMap((u) => u.spans ?? []);
    assert.ok(
      spans.some(
        (s) =>
          s.name === 'tool test:echo' &&
          s.parentSpanId === 'b7ad6b7169203331' &&
          s.traceId === '0af7651916cd43dd8448eb211c80319c',
      ),
    );
    assert.ok(spans.some((s) => s.name === 'publish traced.topic'));
    const last = us.at(-1)!;
    assert.equal(Number(last.stats?.toolCalls), 2);
    assert.equal(Number(last.stats?.toolErrors), 1);
    feed.close();
  });

  it('counts tool calls in its stats even while nobody listens', async () => {
    const { tools, feed } = setup();
    await tools.call({ name: 'test:echo', arguments: {} });
    await tools.call({ name: 'test:missing', arguments: {} });
    const stats = await feed.stats(10);
    assert.equal(Number(stats.toolCalls), 2);
    assert.equal(Number(stats.toolErrors), 1);
    feed.close();
  });

  it('keeps the newest events for a dashboard that opens later: its first update carries them', async () => {
    const { bus, feed } = setup();
    for (let i = 1; i <= 10; i++)
      await bus.publish(i % 2 ? 'x.odd' : 'x.even', createEvent({ type: 'n', payload: { i } }));
    const [first] = await collect(feed, { intervalMs: 10_000, backlog: 4 }, (u) => u.length >= 1);
    assert.deepEqual(
      first!.events!.map((e) => Number(e.seq)),
      [7, 8, 9, 10],
      'the newest four, in order',
    );
    const [filtered] = await collect(
      feed,
      { intervalMs: 10_000, backlog: 100, topicFilter: 'x.even' },
      (u) => u.length >= 1,
    );
    assert.deepEqual(
      filtered!.events!.map((e) => e.topic),
      Array(5).fill('x.even'),
    );
    const [none] = await collect(feed, { intervalMs: 10_000 }, (u) => u.length >= 1);
    assert.deepEqual(none!.events, [], 'no backlog unless asked');
    feed.close();
  });

  it('resumes after the last event seen, and counts the ones it no longer keeps as missed', async () => {
    const { bus, feed } = setup();
    for (let i = 0; i < 3; i++) await bus.publish('x.y', createEvent({ type: 'n', payload: {} }));
    const [resumed] = await collect(feed, { intervalMs: 10_000, backlog: 500, afterSeq: 1 }, (u) => u.length >= 1);
    assert.deepEqual(
      resumed!.events!.map((e) => Number(e.seq)),
      [2, 3],
    );
    assert.equal(Number(resumed!.eventsMissed), 0);
    // More than the feed keeps: a page hidden since seq 3 missed everything older than the kept window.
    for (let i = 0; i < BACKLOG_KEPT + 120; i++) await bus.publish('x.y', createEvent({ type: 'n', payload: {} }));
    const [late] = await collect(feed, { intervalMs: 10_000, backlog: 500, afterSeq: 3 }, (u) => u.length >= 1);
    assert.equal(late!.events!.length, 500);
    assert.equal(Number(late!.eventsMissed), 120);
    assert.equal(Number(late!.events!.at(-1)!.seq), 3 + BACKLOG_KEPT + 120);
    feed.close();
  });

  // A red-team finding: 700 events with a 3.9 MB metadata value kept about 2 GB, nobody watching.
  it("keeps an event's large metadata, tags, id, type and source only in part; small ones whole", async () => {
    const { bus, feed } = setup();
    const huge = 'm'.repeat(2_000_000);
    const big = createEvent({ type: huge, payload: {}, metadata: { note: huge, small: 'kept' }, tags: [huge, 't'] });
    await bus.publish('x.big', big);
    await bus.publish('x.small', createEvent({ type: 'plain', payload: {}, metadata: { a: 'b' }, tags: ['t'] }));
    const [first] = await collect(feed, { intervalMs: 10_000, backlog: 2 }, (u) => u.length >= 1);
    const [kept, plain] = first!.events!.map((e) => e.event!);
    assert.equal(kept!.type, `${'m'.repeat(1024)}…`);
    assert.equal(kept!.metadata!.note, `${'m'.repeat(1024)}…`);
    assert.equal(kept!.metadata!.small, 'kept');
    assert.deepEqual(kept!.tags, [`${'m'.repeat(1024)}…`, 't']);
    assert.equal(plain!.type, 'plain');
    assert.equal(plain!.metadata!.a, 'b');
    assert.equal(big.type.length, 2_000_000, 'the event itself is not changed');
    feed.close();
  });

  // A red-team finding: a payload decoded from a gRPC message is a view into the whole message, so
  // a 1-byte payload kept beside a 3.9 MB metadata value kept all of it (500 kept: 2 GB).
  it('keeps a small payload that is a view into a large message as a copy of its own, in the backlog and for a listener', async () => {
    const { bus, feed } = setup();
    const message = Buffer.alloc(4 * 1024 * 1024, 1);
    const seen = collect(feed, { intervalMs: 50 }, (u) => events(u).length >= 1);
    await new Promise((r) => setTimeout(r, 5)); // listening
    const event = { ...createEvent({ type: 'small', payload: {} }), payload: message.subarray(100, 101) };
    await bus.publish('x.view', event);
    const [live] = events(await seen);
    const [kept] = (await collect(feed, { intervalMs: 10_000, backlog: 1 }, (u) => u.length >= 1))[0]!.events!;
    for (const [where, e] of [
      ['listener', live!],
      ['backlog', kept!],
    ] as const) {
      const payload = e.event!.payload as Buffer;
      assert.deepEqual([...payload], [1], where);
      assert.notEqual(payload.buffer, message.buffer, `${where}: the payload pins the whole message`);
    }
    assert.equal(event.payload.buffer, message.buffer, 'the event itself is not changed');
    feed.close();
  });

  it("keeps at most 16 MiB of events for a listener between two updates, counting the rest as omitted, and cuts a listener's metadata", async () => {
    const { bus, feed } = setup();
    const seen = collect(feed, { intervalMs: 300, maxEvents: 5000, maxPayloadBytes: 1 << 20 }, (u) =>
      u.some((x) => (x.events?.length ?? 0) > 0),
    );
    await new Promise((r) => setTimeout(r, 5)); // listening
    const mib = Buffer.alloc(1 << 20, 7);
    for (let i = 0; i < 40; i++)
      await bus.publish('x.big', {
        ...createEvent({ type: 'big', payload: {}, metadata: { note: 'm'.repeat(100_000) } }),
        payload: mib,
      });
    const update = (await seen).find((u) => (u.events?.length ?? 0) > 0)!;
    assert.ok(update.events!.length <= 16, `${update.events!.length} events of 1 MiB kept`);
    assert.equal(update.events!.length + Number(update.eventsOmitted), 40);
    assert.equal(update.events![0]!.event!.metadata!.note, `${'m'.repeat(1024)}…`);
    feed.close();
  });

  it('keeps the topic and subscription lists of its stats to about 1 MiB each, counting the rest as omitted', async () => {
    const { bus, feed } = setup();
    const long = (i: number) => `t.${'x'.repeat(900)}.${i}`;
    for (let i = 0; i < 3000; i++) await bus.publish(long(i), createEvent({ type: 't' }));
    const own = (await feed.stats(10_000)).subscriptions!.length; // the feed's own
    const subs = Array.from({ length: 2000 }, (_, i) => bus.subscribe(`p.${'y'.repeat(900)}.${i}`, () => {}));
    const stats = await feed.stats(10_000);
    assert.ok(stats.topics!.length > 500 && stats.topics!.length < 3000, `${stats.topics!.length} topics kept`);
    assert.equal(stats.topics!.length + stats.topicsOmitted!, 3000);
    assert.ok(stats.subscriptions!.length > 500 && stats.subscriptions!.length < 2000);
    assert.equal(stats.subscriptions!.length + stats.subscriptionsOmitted!, own + 2000);
    assert.ok(JSON.stringify(stats).length < 2.5 * 1024 * 1024, 'the answer fits well under the 4 MiB message limit');
    // By bytes, not characters: names of three-byte characters are cut as soon.
    const wide = setup();
    for (let i = 0; i < 2000; i++) await wide.bus.publish(`w.${'€'.repeat(300)}.${i}`, createEvent({ type: 't' }));
    const wideStats = await wide.feed.stats(10_000);
    const wideBytes = Buffer.byteLength(JSON.stringify(wideStats.topics));
    assert.ok(wideBytes < 1.3 * 1024 * 1024, `${wideBytes} bytes of topics`);
    wide.feed.close();
    // A few short ones: all of them, none omitted.
    for (const sub of subs) sub.unsubscribe();
    const small = await setup().feed.stats(10_000);
    assert.equal(small.topicsOmitted, 0);
    assert.equal(small.subscriptionsOmitted, 0);
    feed.close();
  });

  it('refuses a backlog beyond what it keeps, naming the option', () => {
    const { feed } = setup();
    assert.throws(
      () => feed.listen(() => {}, { backlog: BACKLOG_KEPT + 1 }),
      /backlog must be an integer from 0 to 500/,
    );
    assert.throws(() => feed.listen(() => {}, { afterSeq: -1 }), /afterSeq must be an integer from 0/);
    feed.close();
  });
});

describe('feed to a slow reader (skipWhileBlocked)', () => {
  const update = (n: number, omitted = 0): FeedUpdate => ({
    timestampMs: n,
    events: Array.from({ length: n }, () => ({ topic: 'x' })),
    eventsOmitted: omitted,
  });

  it('skips updates while the last write has not drained, and counts their events in the next one', () => {
    const written: FeedUpdate[] = [];
    let resume: (() => void) | undefined;
    let full = false;
    const send = skipWhileBlocked(
      (u) => (written.push(u), !full),
      (r) => (resume = r),
    );
    full = true;
    send(update(3)); // written; the stream is now full
    send(update(4)); // skipped
    send(update(5, 2)); // skipped
    assert.equal(written.length, 1, 'nothing buffered while blocked');
    full = false;
    resume!();
    send(update(1));
    assert.equal(written.length, 2);
    assert.equal(Number(written[1]!.eventsOmitted), 4 + 5 + 2, 'the skipped events are counted, none lost silently');
    send(update(2));
    assert.equal(Number(written[2]!.eventsOmitted), 0, 'the carry is paid once');
  });
});
