// Flow control end to end: a client that stops reading stalls only its own subscriptions —
// realtime ones drop (counted), batched ones hold the publisher and lose nothing — and the
// runtime's live feed (Runtime.Feed) streams stats and recent events.
import { strict as assert } from 'node:assert';
import { call, connect, event, StreamClient, type Clients } from '../support/grpc';
import { makeWorkspace, removeWorkspaces, startRuntime, stopAllRuntimes, type RuntimeProcess } from './helpers/runtime';
import type { FeedUpdate__Output } from '../../runtime/proto/types';

const PAYLOAD = 'x'.repeat(2 * 1024);

describe('flow control and the live feed', function () {
  this.timeout(120_000);
  let rt: RuntimeProcess;
  let c: Clients;

  before(async () => {
    rt = await startRuntime(makeWorkspace('[bus.queue_sizes]\nrealtime = 8\nbatched = 8\n'));
    c = connect(rt.discovery().address, { token: rt.discovery().token });
  });
  after(async () => {
    c.close();
    await stopAllRuntimes();
    removeWorkspaces();
  });

  async function pausedAgent(
    agentId: string,
    topic: string,
    qos: 'QOS_REALTIME' | 'QOS_BATCHED',
  ): Promise<StreamClient> {
    await call(c.bridge, 'RegisterAgent', { agentId, subscribedTopics: [topic], qos });
    const s = new StreamClient(c);
    s.send({ ack: { messageId: agentId } });
    s.send({ ping: { timestampMs: 1 } });
    await s.next((m) => m.msg === 'pong');
    s.stream.pause();
    // Alive but not reading: pings keep going out while deliveries pile up.
    const ping = setInterval(() => s.send({ ping: { timestampMs: Date.now() } }), 1000);
    s.stream.on('close', () => clearInterval(ping));
    s.stream.on('error', () => clearInterval(ping));
    return s;
  }

  const subStats = async (subscriber: string) =>
    (await call(c.runtime, 'GetStats', {})).subscriptions.find((s) => s.subscriber === subscriber)!;

  async function waitStats(
    subscriber: string,
    what: string,
    pred: (s: Awaited<ReturnType<typeof subStats>>) => boolean,
  ) {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const s = await subStats(subscriber);
      if (pred(s)) return s;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(s)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  const received = (s: StreamClient, topic: string) =>
    s.history
      .filter((m) => m.delivery?.topic === topic)
      .map((m) => JSON.parse(m.delivery!.event!.payload.toString()).n as number);

  it('drops (and counts) realtime deliveries for a client that stops reading, never blocking the publisher', async () => {
    const slow = await pausedAgent('slow-rt', 'flow.rt', 'QOS_REALTIME');
    const N = 1500;
    // One after another (so the order is known); each completes although the subscriber is stuck:
    // realtime never holds a publisher.
    for (let n = 0; n < N; n++)
      await call(c.runtime, 'Publish', { topic: 'flow.rt', event: event('n', { n, pad: PAYLOAD }) });
    const stats = await waitStats('slow-rt', 'drops', (s) => Number(s.dropped['queue_full'] ?? 0) > 0);
    assert.ok(stats.queueDepth <= stats.queueCapacity);
    assert.equal(stats.queueCapacity, 8);

    slow.stream.resume();
    await waitStats('slow-rt', 'the queue to drain', (s) => s.queueDepth === 0);
    await call(c.runtime, 'Publish', { topic: 'flow.rt', event: event('n', { n: N }) });
    await slow.next(
      (m) => m.delivery?.topic === 'flow.rt' && JSON.parse(m.delivery.event!.payload.toString()).n === N,
      'the last event',
      60_000,
    );
    const got = received(slow, 'flow.rt');
    const dropped = Number((await subStats('slow-rt')).dropped['queue_full']);
    assert.equal(got.length + dropped, N + 1, 'every event was either delivered or counted as dropped');
    assert.deepEqual(
      got,
      [...got].sort((a, b) => a - b),
      'delivered in order',
    );
    slow.cancel();
  });

  it('holds the publisher for a batched subscriber that stops reading, then delivers everything in order', async () => {
    const slow = await pausedAgent('slow-batched', 'flow.b', 'QOS_BATCHED');
    const publisher = new StreamClient(c);
    publisher.send({ ack: { messageId: 'flow-publisher' } });
    const N = 1000;
    for (let i = 0; i < N; i += 100) {
      publisher.send({
        publishBatch: {
          publishes: Array.from({ length: 100 }, (_, k) => ({
            topic: 'flow.b',
            event: event('n', { n: i + k, pad: PAYLOAD }),
          })),
        },
      });
    }
    // The subscriber's queue fills up and stays full while it does not read: the rest waits upstream.
    const full = await waitStats('slow-batched', 'a full batched queue', (s) => s.queueDepth === s.queueCapacity);
    assert.deepEqual(full.dropped, {});
    assert.ok(Number(full.delivered) < N);

    slow.stream.resume();
    await slow.next(
      (m) => m.delivery?.topic === 'flow.b' && JSON.parse(m.delivery.event!.payload.toString()).n === N - 1,
      'the last batched event',
      60_000,
    );
    assert.deepEqual(
      received(slow, 'flow.b'),
      Array.from({ length: N }, (_, n) => n),
    );
    const after = await subStats('slow-batched');
    assert.equal(
      Object.values(after.dropped).reduce((a, b) => a + Number(b), 0),
      0,
    );
    publisher.cancel();
    slow.cancel();
  });

  it('streams feed updates with stats, agents and the recent events that match its filter', async () => {
    await call(c.bridge, 'RegisterAgent', { agentId: 'feed-visible' });
    const feed = c.runtime.Feed({ intervalMs: 100, topicFilter: 'feedtest.>' });
    const updates: FeedUpdate__Output[] = [];
    feed.on('data', (u: FeedUpdate__Output) => updates.push(u));
    feed.on('error', () => {});
    await call(c.runtime, 'Publish', { topic: 'elsewhere.topic', event: event('hidden', {}) });
    await call(c.runtime, 'Publish', { topic: 'feedtest.a', event: event('shown', { v: 1 }) });
    const deadline = Date.now() + 30_000;
    while (!updates.some((u) => u.events.some((e) => e.topic === 'feedtest.a'))) {
      if (Date.now() > deadline) throw new Error('no feed update carried the event');
      await new Promise((r) => setTimeout(r, 50));
    }
    feed.cancel();
    const withEvent = updates.find((u) => u.events.some((e) => e.topic === 'feedtest.a'))!;
    assert.equal(withEvent.events.find((e) => e.topic === 'feedtest.a')!.event!.type, 'shown');
    assert.equal(
      updates.some((u) => u.events.some((e) => e.topic === 'elsewhere.topic')),
      false,
    );
    assert.ok(withEvent.stats!.agents.some((a) => a.agentId === 'feed-visible'));
    assert.ok(withEvent.stats!.topics.some((t) => t.topic === 'feedtest.a' && Number(t.published) >= 1));
  });
});
