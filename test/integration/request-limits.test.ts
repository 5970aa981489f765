// Numbers from the outside, over the real transports of the real runtime: the headless
// dashboard's /api/feed query (where "interval_ms=NaN" used to become setInterval(NaN) = 1 ms
// updates), Runtime.Feed, Runtime.Subscribe's qos and Runtime.Publish's event numbers.
import { strict as assert } from 'node:assert';
import * as grpc from '@grpc/grpc-js';
import { call, callFails, connect, event, type Clients } from '../support/grpc';
import { makeWorkspace, removeWorkspaces, startRuntime, stopAllRuntimes } from './helpers/runtime';

describe('integration: request numbers are validated', function () {
  this.timeout(60_000);
  let c: Clients;
  let dashboard: string;
  let token: string;

  before(async () => {
    const rt = await startRuntime(makeWorkspace(), ['--dashboard']);
    const d = rt.discovery() as ReturnType<typeof rt.discovery> & { dashboard?: string };
    dashboard = d.dashboard!;
    token = d.token;
    c = connect(d.address, { token: d.token });
  });
  after(async () => {
    c?.close();
    await stopAllRuntimes();
    removeWorkspaces();
  });

  const feedUrl = (query: string) => new URL(`api/feed?${query}`, dashboard.replace(/\?token=.*/, '')).toString();

  /** Lines of NDJSON the dashboard's feed sends within `ms`, or its refusal. */
  async function httpFeed(query: string, ms = 600): Promise<{ status: number; lines: number; body: string }> {
    const ac = new AbortController();
    const res = await fetch(feedUrl(query), { headers: { authorization: `Bearer ${token}` }, signal: ac.signal });
    if (res.status !== 200) return { status: res.status, lines: 0, body: await res.text() };
    let text = '';
    const reader = res.body!.getReader();
    const timer = setTimeout(() => ac.abort(), ms);
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        text += Buffer.from(value).toString();
      }
    } catch {
      // aborted: the window is over
    } finally {
      clearTimeout(timer);
    }
    return { status: 200, lines: text.split('\n').filter(Boolean).length, body: '' };
  }

  it('dashboard /api/feed: interval_ms=NaN and other non-numbers or out-of-range values are refused with 400 naming the field and range', async () => {
    for (const [query, field] of [
      ['interval_ms=NaN', 'interval_ms'],
      ['interval_ms=abc', 'interval_ms'],
      ['interval_ms=1e3', 'interval_ms'],
      ['interval_ms=', 'interval_ms'],
      ['interval_ms=-5', 'interval_ms'],
      ['interval_ms=1', 'interval_ms'],
      ['interval_ms=99999999', 'interval_ms'],
      ['interval_ms=Infinity', 'interval_ms'],
      ['max_events=NaN', 'max_events'],
      ['max_events=-1', 'max_events'],
      ['max_events=1000000', 'max_events'],
      ['topic=a..b', 'topic'],
    ] as const) {
      const r = await httpFeed(query);
      assert.equal(r.status, 400, `${query}: ${r.status} ${r.body}`);
      assert.ok(r.body.includes(field), `${query}: ${r.body}`);
      if (field !== 'topic') assert.match(r.body, /from \d+ to \d+/, `${query}: the allowed range is named`);
    }
  });

  it('dashboard /api/feed: valid values (and 0 = the default) stream at their rate, never faster than 50 ms', async () => {
    const fast = await httpFeed('interval_ms=50', 1000);
    assert.equal(fast.status, 200);
    assert.ok(fast.lines >= 5 && fast.lines <= 25, `interval_ms=50: ${fast.lines} updates in 1 s`);
    const byDefault = await httpFeed('interval_ms=0&max_events=0', 1000);
    assert.equal(byDefault.status, 200);
    assert.ok(
      byDefault.lines >= 2 && byDefault.lines <= 7,
      `interval_ms=0 (default 250 ms): ${byDefault.lines} updates in 1 s`,
    );
  });

  /** The first message or error of a Runtime.Feed stream. */
  function grpcFeed(
    req: Parameters<Clients['runtime']['Feed']>[0],
  ): Promise<{ error?: grpc.ServiceError; updates: number }> {
    return new Promise((resolve) => {
      const stream = c.runtime.Feed(req);
      let updates = 0;
      stream.on('data', () => {
        updates++;
        stream.cancel();
        resolve({ updates });
      });
      stream.on('error', (error: grpc.ServiceError) => {
        if (error.code !== grpc.status.CANCELLED) resolve({ error, updates });
      });
    });
  }

  it('Runtime.Feed: negative, too small, too large values and a bad pattern are INVALID_ARGUMENT naming the field; 0 = default', async () => {
    for (const [req, field] of [
      [{ intervalMs: -5 }, 'interval_ms'],
      [{ intervalMs: 1 }, 'interval_ms'],
      [{ intervalMs: 2_000_000_000 }, 'interval_ms'],
      [{ maxEventsPerUpdate: -1 }, 'max_events_per_update'],
      [{ maxEventsPerUpdate: 1_000_000 }, 'max_events_per_update'],
      [{ topicFilter: 'a..b' }, 'topic_filter'],
    ] as const) {
      const r = await grpcFeed(req);
      assert.equal(
        r.error?.code,
        grpc.status.INVALID_ARGUMENT,
        `${JSON.stringify(req)}: ${r.error?.message ?? 'streamed'}`,
      );
      assert.ok(r.error!.details.includes(field), r.error!.details);
    }
    assert.match(
      (await grpcFeed({ intervalMs: 1 })).error!.details,
      /interval_ms must be an integer from 50 to 60000 \(or 0 for the default, 250\), got 1/,
    );
    assert.equal((await grpcFeed({ intervalMs: 0, maxEventsPerUpdate: 0 })).updates, 1);
    assert.equal((await grpcFeed({ intervalMs: 50, maxEventsPerUpdate: 5000 })).updates, 1);
  });

  it('Runtime.Subscribe: a qos past the enum is refused, not read as realtime', async () => {
    const err = await callFails(c.runtime, 'Subscribe', { agentId: 'limits-a', pattern: 'x.>', qos: 7 as never });
    assert.equal(err.code, grpc.status.INVALID_ARGUMENT);
    assert.match(err.details, /qos must be QOS_REALTIME \(0\), QOS_BATCHED \(1\) or QOS_BACKGROUND \(2\), got 7/);
    // A defined qos passes the check (this agent is not registered, which is the only complaint).
    const ok = await call(c.runtime, 'Subscribe', { agentId: 'limits-a', pattern: 'x.>', qos: 'QOS_BATCHED' });
    assert.match(ok.errorMessage, /unknown agent "limits-a"/);
  });

  it('Runtime.Publish: a NaN or infinite confidence and a timestamp before the epoch or far ahead are refused', async () => {
    for (const [bad, field] of [
      [{ confidence: NaN }, 'event.confidence'],
      [{ confidence: Infinity }, 'event.confidence'],
      [{ timestampMs: -1 }, 'event.timestamp_ms'],
      [{ timestampMs: Date.now() + 10 * 24 * 3600_000 }, 'event.timestamp_ms'],
    ] as const) {
      const err = await callFails(c.runtime, 'Publish', { topic: 'limits.x', event: { ...event('t', {}), ...bad } });
      assert.equal(err.code, grpc.status.INVALID_ARGUMENT, JSON.stringify(bad));
      assert.ok(err.details.includes(field), err.details);
    }
    const ack = await call(c.runtime, 'Publish', {
      topic: 'limits.x',
      event: { ...event('t', {}), confidence: 0.5, timestampMs: Date.now() },
    });
    assert.ok(ack.messageId);
  });
});
