// Soak: mixed traffic for a long time against one real runtime. Two supervised Python agents
// publish numbered events (batched and realtime subscriptions), call an agent's tool and a
// built-in one, and this process keeps a dashboard feed open. Every interval it prints the
// runtime's RSS, its event-loop delay p99 (from the probe inside it) and the throughput. It checks
// that RSS settles (within ±10 % of its value at 2/10 of the run, once the caches are warm) and
// that the batched subscriber got every number, once, in order.
import { strict as assert } from 'node:assert';
import { connect, call, type Clients } from '../support/grpc';
import { eventually } from '../support/eventually';
import type { FeedUpdate__Output } from '../../runtime/proto/types';
import { makeWorkspace, mb, pythonAgent, removeWorkspaces, SHORT, sleep, StressRuntime, summary } from './lib';

const DURATION_MS = SHORT ? 20_000 : 10 * 60_000;
const INTERVAL_MS = DURATION_MS / 10;
// 20 s is too short for the heap to reach its steady collection cycle: the short run allows more.
const RSS_TOLERANCE = SHORT ? 0.5 : 0.1;
const RATES = { SOAK_BATCH_RATE: '2000', SOAK_RT_RATE: '1000', SOAK_TOOL_RATE: '20' };

interface SinkReport {
  subscribed: boolean;
  batch: number;
  batch_last: number;
  batch_gaps: number;
  batch_dups: number;
  rt: number;
  first_gap: string;
}
interface PubReport {
  batch: number;
  rt: number;
  tool_calls: number;
  tool_errors: number;
  last_tool_error: string;
}

async function tool<T>(c: Clients, name: string): Promise<T> {
  const r = await call(c.tools, 'CallTool', { name, arguments: '{}', timeoutMs: 30_000 });
  if (r.status !== 'TOOL_OK') throw new Error(`${name}: ${r.status} ${r.error?.message}`);
  return JSON.parse(r.output) as T;
}

describe('stress: soak', function () {
  this.timeout(DURATION_MS + 180_000);
  let rt: StressRuntime | undefined;
  let c: Clients | undefined;
  after(async () => {
    c?.close();
    await rt?.stop();
    removeWorkspaces();
  });

  it(`carries mixed traffic for ${DURATION_MS / 1000} s: RSS settles, no batched event is lost`, async () => {
    const extra = `env = { ${Object.entries(RATES)
      .map(([k, v]) => `${k} = "${v}"`)
      .join(', ')} }`;
    const ws = makeWorkspace(pythonAgent('soak_sink', 'soak_sink.py') + pythonAgent('soak_pub', 'soak_pub.py', extra));
    rt = new StressRuntime(ws, { probeMs: INTERVAL_MS });
    const d = await rt.ready();
    c = connect(d.address, { token: d.token });
    const client = c;
    await eventually(
      'the publisher to start',
      async () => ((await tool<PubReport>(client, 'soak_pub:published')).batch > 0 ? true : undefined),
      {
        timeoutMs: 60_000,
        detail: () => rt!.stderr(),
      },
    );

    // The dashboard's feed, consumed as the extension does.
    let feedUpdates = 0;
    let feedEvents = 0;
    let feedError: Error | undefined;
    const feed = c.runtime.Feed({ intervalMs: 250, backlog: 0 });
    feed.on('data', (u: FeedUpdate__Output) => ((feedUpdates += 1), (feedEvents += u.events.length)));
    feed.on('error', (e: Error) => void (feedError = (e as { code?: number }).code === 1 ? feedError : e));

    const start = Date.now();
    let last = {
      t: start,
      sink: await tool<SinkReport>(c, 'soak_sink:report'),
      pub: await tool<PubReport>(c, 'soak_pub:published'),
    };
    const minutes: { rss: number; p99: number; batchPerS: number; rtPerS: number; toolsPerS: number }[] = [];
    for (let i = 1; i <= 10; i++) {
      await sleep(start + i * INTERVAL_MS - Date.now());
      assert.ok(rt.alive, `the runtime died:\n${rt.stderr()}`);
      const now = {
        t: Date.now(),
        sink: await tool<SinkReport>(c, 'soak_sink:report'),
        pub: await tool<PubReport>(c, 'soak_pub:published'),
      };
      const secs = (now.t - last.t) / 1000;
      const probe = rt.samples().at(-1);
      const row = {
        rss: probe?.rss ?? rt.rssBytes(),
        p99: probe?.p99 ?? NaN,
        batchPerS: Math.round((now.sink.batch - last.sink.batch) / secs),
        rtPerS: Math.round((now.sink.rt - last.sink.rt) / secs),
        toolsPerS: Math.round((now.pub.tool_calls - last.pub.tool_calls) / secs),
      };
      minutes.push(row);
      console.log(
        `      [${i}/10 at ${Math.round((now.t - start) / 1000)} s] rss ${mb(row.rss)} MB, loop p99 ${row.p99.toFixed(1)} ms, ` +
          `batched ${row.batchPerS}/s, realtime ${row.rtPerS}/s, tool calls ${row.toolsPerS}/s, feed ${feedUpdates} updates`,
      );
      last = now;
    }
    feed.cancel();

    // Drain: stop the publisher, then every batched number it sent must arrive.
    const final = await tool<PubReport & { running: boolean }>(c, 'soak_pub:stop');
    const sink = await eventually(
      'the sink to receive every batched event',
      async () => {
        const s = await tool<SinkReport>(client, 'soak_sink:report');
        return s.batch_last >= final.batch && s.batch >= final.batch ? s : undefined;
      },
      { timeoutMs: 60_000 },
    );
    const stats = await call(c.runtime, 'GetStats', {});
    const rtDropped = stats.topics
      .filter((t) => t.topic === 'soak.rt')
      .reduce((n, t) => n + Object.values(t.dropped).reduce((a, b) => a + Number(b), 0), 0);

    const ref = minutes[1]!.rss;
    const later = minutes.slice(2).map((m) => m.rss);
    const drift = Math.max(...later.map((r) => Math.abs(r - ref) / ref));
    const p99s = minutes.map((m) => m.p99);
    summary('soak', {
      seconds: DURATION_MS / 1000,
      batched_sent: final.batch,
      batched_received: sink.batch,
      batched_lost: final.batch - sink.batch + sink.batch_gaps,
      duplicates: sink.batch_dups,
      realtime_sent: final.rt,
      realtime_dropped: rtDropped,
      tool_calls: final.tool_calls,
      tool_errors: final.tool_errors,
      feed_updates: feedUpdates,
      feed_events: feedEvents,
      rss_at_2_10_mb: mb(ref),
      rss_max_drift_pct: (drift * 100).toFixed(1),
      loop_p99_ms_max: Math.max(...p99s).toFixed(1),
      batched_per_s: Math.round(minutes.reduce((n, m) => n + m.batchPerS, 0) / minutes.length),
    });

    assert.equal(sink.batch_gaps, 0, `batched events lost: ${sink.first_gap}`);
    assert.equal(sink.batch_dups, 0, 'batched events delivered twice or out of order');
    assert.equal(sink.batch, final.batch, 'every batched event arrives exactly once');
    assert.equal(final.tool_errors, 0, `tool calls failed: ${final.last_tool_error}`);
    assert.equal(feedError, undefined, `the feed failed: ${feedError?.message}`);
    assert.ok(feedUpdates > 0, 'the feed sent updates');
    assert.ok(
      drift <= RSS_TOLERANCE,
      `RSS moved ${(drift * 100).toFixed(1)} % from ${mb(ref)} MB (limit ±${RSS_TOLERANCE * 100} %): ${later.map(mb).join(', ')}`,
    );
  });
});
