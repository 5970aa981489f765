import { strict as assert } from 'node:assert';
import {
  BusError,
  EventBus,
  INBOX_PREFIX,
  createEvent,
  correlationId,
  payloadText,
  reply,
  replyTo,
  threadId,
  type LoomEvent,
} from '../../../runtime/bus';

describe('bus request/reply', () => {
  let bus: EventBus;
  beforeEach(() => (bus = new EventBus()));
  afterEach(() => bus.close());

  const isBusError = (code: string, text?: RegExp) => (e: unknown) =>
    e instanceof BusError && e.code === code && (!text || text.test(e.message));

  it('resolves with the first reply, which carries the correlation and thread ids; the inbox is freed', async () => {
    const requests: LoomEvent[] = [];
    bus.subscribe(
      'svc.upper',
      async (d) => {
        requests.push(d.event);
        await reply(bus, d.event, createEvent({ type: 'upper.reply', payload: payloadText(d.event).toUpperCase() }));
        await reply(bus, d.event, createEvent({ type: 'upper.reply', payload: 'second reply, ignored' }));
      },
      { subscriber: 'upper' },
    );
    const answer = await bus.request('svc.upper', createEvent({ type: 'upper', payload: 'hello', threadId: 'th-1' }), {
      timeoutMs: 10_000,
    });
    assert.equal(payloadText(answer), 'HELLO');
    assert.equal(requests.length, 1);
    const sent = requests[0];
    assert.ok(replyTo(sent)!.startsWith(INBOX_PREFIX));
    assert.match(correlationId(sent)!, /^[0-9a-f-]{36}$/);
    assert.equal(correlationId(answer), correlationId(sent));
    assert.equal(threadId(answer), 'th-1');
    assert.deepEqual(
      bus.stats().subscriptions.map((s) => s.subscriber),
      ['upper'],
      'inbox subscription left behind',
    );
  });

  it('each request gets its own correlation id and inbox, so concurrent requests get their own answers', async () => {
    bus.subscribe('svc.echo', (d) => void reply(bus, d.event, createEvent({ type: 'echo', payload: d.event.payload })));
    const answers = await Promise.all(
      ['a', 'b', 'c', 'd'].map((x) => bus.request('svc.echo', createEvent({ type: 'q', payload: x }))),
    );
    assert.deepEqual(answers.map(payloadText), ['a', 'b', 'c', 'd']);
    assert.equal(bus.stats().subscriptions.length, 1);
    const inboxRow = bus.stats().topics.filter((t) => t.topic.startsWith(INBOX_PREFIX));
    assert.equal(inboxRow.length, 1, 'inbox topics share one stats row');
    assert.equal(inboxRow[0].published, 4);
  });

  it('accepts a reply written with the bare keys of the reference server', async () => {
    bus.subscribe('svc.legacy', (d) => {
      const to = replyTo(d.event)!;
      void bus.publish(
        to,
        createEvent({ type: 'r', payload: 'legacy', metadata: { correlation_id: correlationId(d.event)! } }),
      );
    });
    assert.equal(payloadText(await bus.request('svc.legacy', createEvent({ type: 'q' }))), 'legacy');
  });

  it('ignores a stray event with another correlation id on the inbox', async () => {
    bus.subscribe('svc.stray', async (d) => {
      const to = replyTo(d.event)!;
      await bus.publish(to, createEvent({ type: 'r', payload: 'stray', correlationId: 'someone-else' }));
      await reply(bus, d.event, createEvent({ type: 'r', payload: 'right' }));
    });
    assert.equal(payloadText(await bus.request('svc.stray', createEvent({ type: 'q' }))), 'right');
  });

  it('rejects with a timeout BusError when nobody answers, and frees the inbox', async () => {
    bus.subscribe('svc.silent', () => {}, { subscriber: 'silent' });
    await assert.rejects(
      bus.request('svc.silent', createEvent({ type: 'q' }), { timeoutMs: 50 }),
      isBusError('timeout', /svc\.silent.*50 ms/),
    );
    assert.deepEqual(
      bus.stats().subscriptions.map((s) => s.subscriber),
      ['silent'],
    );
  });

  it('a late reply after the timeout goes nowhere and breaks nothing', async () => {
    let late: LoomEvent | undefined;
    bus.subscribe('svc.late', (d) => void (late = d.event));
    await assert.rejects(bus.request('svc.late', createEvent({ type: 'q' }), { timeoutMs: 20 }), isBusError('timeout'));
    assert.deepEqual(await reply(bus, late!, createEvent({ type: 'r' })), { queued: 0, dropped: 0 });
  });

  it('rejects at once with no_responders when nothing subscribes to the topic', async () => {
    await assert.rejects(
      bus.request('svc.none', createEvent({ type: 'q' }), { timeoutMs: 60_000 }),
      isBusError('no_responders', /svc\.none/),
    );
    assert.equal(bus.stats().subscriptions.length, 0);
  });

  it('rejects when the request itself is refused (expired ttl) or the topic is invalid', async () => {
    bus.subscribe('svc.x', () => {});
    await assert.rejects(
      bus.request('svc.x', createEvent({ type: 'q', timestampMs: 1, ttlMs: 1 }), { timeoutMs: 60_000 }),
      isBusError('ttl_expired'),
    );
    await assert.rejects(bus.request('svc.*', createEvent({ type: 'q' })), isBusError('invalid_topic'));
    await assert.rejects(
      bus.request('svc.x', createEvent({ type: 'q' }), { timeoutMs: 0 }),
      isBusError('invalid_options', /timeoutMs/),
    );
    await assert.rejects(bus.request('svc.x', null as never), isBusError('invalid_event', /svc\.x/));
    assert.equal(bus.stats().subscriptions.length, 1);
  });

  it('close() rejects open requests instead of leaving them to time out', async () => {
    bus.subscribe('svc.slow', () => {});
    const pending = bus.request('svc.slow', createEvent({ type: 'q' }), { timeoutMs: 60_000 });
    await new Promise((r) => setImmediate(r));
    await bus.close();
    await assert.rejects(pending, isBusError('closed'));
  });

  it('reply() refuses an original that has no reply-to', async () => {
    await assert.rejects(
      reply(bus, createEvent({ type: 'plain' }), createEvent({ type: 'r' })),
      isBusError('no_reply_to', /"plain"/),
    );
  });
});
