// The event stream, wire-compatible with the reference: Ack-first, deliveries naming the
// concrete topic, publishes into the bus both ways, envelope spellings, run-time subscriptions,
// ping/pong, and Loom's batches for clients that declare them.
import * as grpc from '@grpc/grpc-js';
import { strict as assert } from 'node:assert';
import { authMetadata, call, connect, event, StreamClient, type Clients } from '../support/grpc';
import { makeWorkspace, removeWorkspaces, startRuntime, stopAllRuntimes, type RuntimeProcess } from './helpers/runtime';

describe('bridge event stream', function () {
  this.timeout(60_000);
  let rt: RuntimeProcess;
  let c: Clients;
  const streams: StreamClient[] = [];

  before(async () => {
    rt = await startRuntime(makeWorkspace());
    c = connect(rt.discovery().address, { token: rt.discovery().token });
  });
  afterEach(() => {
    for (const s of streams.splice(0)) s.cancel();
  });
  after(async () => {
    c.close();
    await stopAllRuntimes();
    removeWorkspaces();
  });

  type AgentExtra = { metadata?: Record<string, string>; qos?: 'QOS_REALTIME' | 'QOS_BATCHED' };

  /** Registers `agentId` and opens its stream the reference way (Ack{message_id = agent id} first). */
  const agent = (agentId: string, topics: string[], extra: AgentExtra = {}) => agentOn(c, agentId, topics, extra);

  async function agentOn(
    clients: Clients,
    agentId: string,
    topics: string[],
    extra: AgentExtra,
  ): Promise<StreamClient> {
    const res = await call(clients.bridge, 'RegisterAgent', {
      agentId,
      subscribedTopics: topics,
      metadata: extra.metadata ?? {},
      qos: extra.qos ?? 'QOS_REALTIME',
    });
    assert.equal(res.success, true, res.errorMessage);
    const s = await StreamClient.open(clients, agentId);
    streams.push(s);
    return s;
  }

  it('delivers a publish from one agent to another subscribed with "*", naming the concrete topic and the sender', async () => {
    const alice = await agent('alice', ['chat.*.msg']);
    const bob = await agent('bob', []);
    bob.send({ publish: { topic: 'chat.room1.other', event: event('skip', { n: 0 }) } });
    bob.send({ publish: { topic: 'chat.room1.msg', event: event('said', { text: 'hi alice' }) } });
    const m = await alice.next((x) => x.msg === 'delivery');
    assert.equal(m.delivery!.topic, 'chat.room1.msg');
    assert.equal(m.delivery!.event!.type, 'said');
    assert.deepEqual(JSON.parse(m.delivery!.event!.payload.toString()), { text: 'hi alice' });
    assert.equal(m.delivery!.event!.metadata['loom.sender'], 'bob');
    assert.ok(m.delivery!.subscriptionId);
  });

  it('matches ">" across several trailing segments', async () => {
    const s = await agent('sensor-reader', ['sensors.>']);
    await call(c.runtime, 'Publish', { topic: 'sensors', event: event('root', {}) });
    await call(c.runtime, 'Publish', { topic: 'sensors.kitchen.temp.c', event: event('reading', { c: 21 }) });
    const d = await s.delivery('sensors.kitchen.temp.c');
    assert.equal(d.type, 'reading');
    assert.equal(
      s.received.some((m) => m.delivery?.topic === 'sensors'),
      false,
      '">" needs at least one more segment',
    );
  });

  it('delivers runtime-originated events (agent lifecycle) to a client', async () => {
    const watcher = await agent('lifecycle-watcher', ['agent.*.connected']);
    await agent('newcomer', []);
    const d = await watcher.delivery('agent.newcomer.connected');
    assert.equal(d.type, 'agent.connected');
    assert.equal(JSON.parse(d.payload).agent_id, 'newcomer');
    assert.equal(d.metadata['loom.sender'], 'runtime');
  });

  it('refuses a registration with an invalid topic pattern, naming it', async () => {
    const res = await call(c.bridge, 'RegisterAgent', {
      agentId: 'bad-topics',
      subscribedTopics: ['ok.topic', 'broken..topic'],
    });
    assert.equal(res.success, false);
    assert.match(res.errorMessage, /"broken\.\.topic" is invalid/);
  });

  it('takes the agent id from gRPC metadata x-loom-agent-id instead of an Ack', async () => {
    await call(c.bridge, 'RegisterAgent', { agentId: 'meta-agent', subscribedTopics: ['meta.topic'] });
    const s = new StreamClient(c, authMetadata({ agentId: 'meta-agent' }));
    streams.push(s);
    s.send({ ping: { timestampMs: 7 } });
    const pong = await s.next((m) => m.msg === 'pong');
    assert.equal(Number(pong.pong!.timestampMs), 7);
    await call(c.runtime, 'Publish', { topic: 'meta.topic', event: event('hello', {}) });
    assert.equal((await s.delivery('meta.topic')).type, 'hello');
  });

  it('refuses a stream whose first message is not the Ack (protocol error) and stays up', async () => {
    const s = new StreamClient(c);
    streams.push(s);
    s.send({ publish: { topic: 'x.y', event: event('early', {}) } });
    const err = await s.next((m) => m.msg === 'err');
    assert.equal(err.err!.code, 'protocol');
    assert.match(err.err!.message, /first message .* must be Ack/);
    await s.closed();
    assert.equal(s.error?.code, grpc.status.FAILED_PRECONDITION);
    const stats = await call(c.runtime, 'GetStats', {});
    assert.ok(Number(stats.timestampMs) > 0);
  });

  it('accepts envelope keys with and without the "loom." prefix and increments the hop', async () => {
    const s = await agent('envelope-reader', ['env.*']);
    const pub = await agent('envelope-writer', []);
    pub.send({
      publish: {
        topic: 'env.bare',
        event: event('bare', {}, { hop: '3', sender: 'envelope-writer', correlation_id: 'c-1' }),
      },
    });
    pub.send({
      publish: {
        topic: 'env.prefixed',
        event: event('prefixed', {}, { 'loom.hop': '5', 'loom.correlation_id': 'c-2' }),
      },
    });
    const bare = await s.delivery('env.bare');
    assert.equal(bare.metadata['loom.hop'], '4');
    assert.equal(bare.metadata['hop'], undefined);
    assert.equal(bare.metadata['loom.sender'], 'envelope-writer');
    assert.equal(bare.metadata['sender'], undefined);
    assert.equal(bare.metadata['correlation_id'] ?? bare.metadata['loom.correlation_id'], 'c-1');
    const prefixed = await s.delivery('env.prefixed');
    assert.equal(prefixed.metadata['loom.hop'], '6');
    assert.equal(prefixed.metadata['loom.sender'], 'envelope-writer');
    assert.equal(prefixed.metadata['loom.correlation_id'], 'c-2');
  });

  it('subscribes and unsubscribes on the stream at run time (answered with subscribed/unsubscribed)', async () => {
    const s = await agent('dynamic', ['sentinel.dynamic']);
    s.send({ subscribe: { requestId: 'r1', pattern: 'dyn.*', qos: 'QOS_REALTIME' } });
    const sub = await s.next((m) => m.msg === 'subscribed');
    assert.equal(sub.subscribed!.requestId, 'r1');
    assert.equal(sub.subscribed!.success, true);
    assert.ok(sub.subscribed!.subscriptionId);
    await call(c.runtime, 'Publish', { topic: 'dyn.one', event: event('one', {}) });
    await s.delivery('dyn.one');

    s.send({ unsubscribe: { requestId: 'r2', pattern: 'dyn.*' } });
    const unsub = await s.next((m) => m.msg === 'unsubscribed');
    assert.equal(unsub.unsubscribed!.requestId, 'r2');
    assert.equal(unsub.unsubscribed!.removed, 1);
    await call(c.runtime, 'Publish', { topic: 'dyn.two', event: event('two', {}) });
    await call(c.runtime, 'Publish', { topic: 'sentinel.dynamic', event: event('sentinel', {}) });
    await s.delivery('sentinel.dynamic');
    assert.equal(
      s.received.some((m) => m.delivery?.topic === 'dyn.two'),
      false,
    );

    s.send({ subscribe: { requestId: 'r3', pattern: 'bad..pattern' } });
    const bad = await s.next((m) => m.msg === 'subscribed');
    assert.equal(bad.subscribed!.success, false);
    assert.match(bad.subscribed!.errorMessage, /bad\.\.pattern|empty|segment/i);
  });

  it('subscribes an agent through Runtime.Subscribe and removes it through Runtime.Unsubscribe', async () => {
    const s = await agent('remote-controlled', ['sentinel.remote']);
    const res = await call(c.runtime, 'Subscribe', {
      requestId: 'x',
      agentId: 'remote-controlled',
      pattern: 'remote.>',
      qos: 'QOS_BATCHED',
    });
    assert.equal(res.success, true, res.errorMessage);
    await call(c.runtime, 'Publish', { topic: 'remote.a.b', event: event('via-runtime', {}) });
    await s.delivery('remote.a.b');
    const stats = await call(c.runtime, 'GetStats', {});
    const mine = stats.subscriptions.find((x) => x.subscriber === 'remote-controlled' && x.pattern === 'remote.>');
    assert.equal(mine?.qos, 'QOS_BATCHED');

    const un = await call(c.runtime, 'Unsubscribe', {
      agentId: 'remote-controlled',
      subscriptionId: res.subscriptionId,
    });
    assert.equal(un.removed, 1);
    await call(c.runtime, 'Publish', { topic: 'remote.a.c', event: event('after', {}) });
    await call(c.runtime, 'Publish', { topic: 'sentinel.remote', event: event('sentinel', {}) });
    await s.delivery('sentinel.remote');
    assert.equal(
      s.received.some((m) => m.delivery?.topic === 'remote.a.c'),
      false,
    );

    const unknown = await call(c.runtime, 'Subscribe', { agentId: 'nobody-here', pattern: 'a.b' });
    assert.equal(unknown.success, false);
    assert.match(unknown.errorMessage, /unknown agent "nobody-here"/);
  });

  it('publishes every event of a PublishBatch, in order', async () => {
    const s = await agent('batch-reader', ['pb.*']);
    const w = await agent('batch-writer', []);
    w.send({ publishBatch: { publishes: [1, 2, 3].map((n) => ({ topic: `pb.n${n}`, event: event('n', { n }) })) } });
    for (const n of [1, 2, 3]) assert.deepEqual(JSON.parse((await s.delivery(`pb.n${n}`)).payload), { n });
  });

  it('coalesces batched deliveries into delivery_batch only for a client that declared loom.batch = "1"', async () => {
    const modern = await agent('modern', ['flood.*'], { metadata: { 'loom.batch': '1' }, qos: 'QOS_BATCHED' });
    const reference = await agent('reference', ['flood.*'], { qos: 'QOS_BATCHED' });
    const w = await agent('flooder', []);
    const N = 200;
    w.send({
      publishBatch: {
        publishes: Array.from({ length: N }, (_, n) => ({ topic: `flood.e${n}`, event: event('n', { n }) })),
      },
    });
    await modern.delivery(`flood.e${N - 1}`);
    await reference.delivery(`flood.e${N - 1}`);
    const order = (all: StreamClient['history']) =>
      all
        .flatMap((m) => (m.delivery ? [m.delivery] : (m.deliveryBatch?.deliveries ?? [])))
        .map((d) => JSON.parse(d.event!.payload.toString()).n as number);
    const modernAll = modern.history.filter((m) => m.delivery || m.deliveryBatch);
    assert.ok(
      modernAll.some((m) => m.msg === 'deliveryBatch'),
      'expected at least one delivery_batch',
    );
    assert.ok(modernAll.every((m) => (m.deliveryBatch?.deliveries.length ?? 1) <= 256));
    assert.deepEqual(
      order(modernAll),
      Array.from({ length: N }, (_, n) => n),
    );
    assert.equal(
      reference.history.some((m) => m.msg === 'deliveryBatch'),
      false,
    );
    assert.deepEqual(
      order(reference.history),
      Array.from({ length: N }, (_, n) => n),
    );
  });

  it('answers an invalid publish topic with an err on the stream and keeps the stream open', async () => {
    const s = await agent('sloppy', ['sloppy.ok']);
    s.send({ publish: { topic: 'bad..topic', event: event('x', {}) } });
    const err = await s.next((m) => m.msg === 'err');
    assert.equal(err.err!.code, 'publish_failed');
    assert.match(err.err!.message, /bad\.\.topic/);
    await call(c.runtime, 'Publish', { topic: 'sloppy.ok', event: event('still-here', {}) });
    assert.equal((await s.delivery('sloppy.ok')).type, 'still-here');
  });

  it('tells the publisher when the bus refuses an event at the hop limit (stream err, Runtime.Publish FAILED_PRECONDITION)', async () => {
    const s = await agent('hop-reader', ['hops.*']);
    const w = await agent('hop-writer', []);
    w.send({ publish: { topic: 'hops.a', event: event('looping', {}, { 'loom.hop': '15' }) } });
    const err = await w.next((m) => m.msg === 'err');
    assert.equal(err.err!.code, 'hop_limit');
    assert.match(err.err!.message, /hops\.a.*hop limit/);
    const unary = await new Promise<grpc.ServiceError | null>((resolve) =>
      c.runtime.Publish({ topic: 'hops.b', event: event('looping', {}, { hop: '20' }) }, (e) => resolve(e)),
    );
    assert.equal(unary?.code, grpc.status.FAILED_PRECONDITION);
    await call(c.runtime, 'Publish', { topic: 'hops.c', event: event('fine', {}, { 'loom.hop': '3' }) });
    assert.equal((await s.delivery('hops.c')).type, 'fine');
    assert.equal(
      s.history.some((m) => m.delivery?.topic === 'hops.a' || m.delivery?.topic === 'hops.b'),
      false,
    );
  });

  it('refuses Runtime.Publish to an invalid topic with INVALID_ARGUMENT', async () => {
    const err = await new Promise<grpc.ServiceError | null>((resolve) =>
      c.runtime.Publish({ topic: 'a.*', event: event('x', {}) }, (e) => resolve(e)),
    );
    assert.equal(err?.code, grpc.status.INVALID_ARGUMENT);
  });

  describe('with a small bridge.max_message_bytes', () => {
    const MAX = 16_384;
    let small: Clients;
    before(async () => {
      const rt2 = await startRuntime(makeWorkspace(`[bridge]\nmax_message_bytes = ${MAX}\n`));
      small = connect(rt2.discovery().address, { token: rt2.discovery().token });
    });
    after(() => small.close());

    const smallAgent = (agentId: string, topics: string[], extra: AgentExtra = {}) =>
      agentOn(small, agentId, topics, extra);

    it('counts an event too large for the stream as dropped (too_large), not delivered, and tells the client', async () => {
      const reader = await smallAgent('small-reader', ['big.*']);
      // About 15.6 KB: it fits in a publish, but with the envelope room a delivery keeps (1 KB)
      // it cannot go out again; the metadata is most of it, so it must be counted.
      const big = { ...event('big', 'p'.repeat(6000), { note: 'm'.repeat(9500) }), id: 'the-big-one' };
      await call(small.runtime, 'Publish', { topic: 'big.one', event: big });
      await call(small.runtime, 'Publish', { topic: 'big.two', event: event('small', {}) });
      assert.equal((await reader.delivery('big.two')).type, 'small');
      const err = await reader.next((m) => m.msg === 'err', 'the too_large notice');
      assert.equal(err.err!.code, 'too_large');
      assert.match(
        err.err!.message,
        new RegExp(`event the-big-one on big\\.one \\(\\d+ bytes\\) exceeds max message size ${MAX}`),
      );
      assert.equal(
        reader.history.some((m) => m.delivery?.topic === 'big.one'),
        false,
      );

      const stats = await call(small.runtime, 'GetStats', {});
      const sub = stats.subscriptions.find((x) => x.subscriber === 'small-reader')!;
      assert.equal(Number(sub.delivered), 1);
      assert.deepEqual(Object.fromEntries(Object.entries(sub.dropped).map(([k, v]) => [k, Number(v)])), {
        too_large: 1,
      });
      assert.equal(Number(stats.topics.find((t) => t.topic === 'big.one')!.dropped.too_large), 1);
    });

    it('sizes delivery batches by their metadata too, so a batch never exceeds the message limit', async () => {
      const reader = await smallAgent('meta-reader', ['meta.*'], {
        metadata: { 'loom.batch': '1' },
        qos: 'QOS_BATCHED',
      });
      const writer = await smallAgent('meta-writer', []);
      const N = 8;
      // Small payloads, 4 KB of metadata each: two to three fit in one message, not eight.
      for (let n = 0; n < N; n++)
        writer.send({ publish: { topic: `meta.e${n}`, event: event('n', { n }, { note: 'm'.repeat(4000) }) } });
      await reader.delivery(`meta.e${N - 1}`);
      const got = reader.history.flatMap((m) => (m.delivery ? [m.delivery] : (m.deliveryBatch?.deliveries ?? [])));
      assert.deepEqual(
        got.map((d) => JSON.parse(d.event!.payload.toString()).n),
        Array.from({ length: N }, (_, n) => n),
      );
      assert.equal(
        reader.history.some((m) => m.msg === 'err'),
        false,
      );
      assert.equal(reader.error, undefined);
    });
  });
});
