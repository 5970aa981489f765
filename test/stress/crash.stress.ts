// Crash: what survives a runtime killed outright, and what the runtime does with crashes of its own.
//
// - kill -9 at a random moment while clients write to the store (PutState, SaveContext) and while
//   batched deliveries are under way; restart on the same data folder. What is promised and checked:
//   the store opens every time, and every write the runtime acknowledged is there with its value
//   (a store write resolves once LevelDB's log has it). The bus lives in memory: events it had
//   accepted but not yet delivered die with the process, so for batched delivery what is checked
//   is that the subscriber got a gap-free, duplicate-free prefix, in order, of what was published.
// - a runtime whose stderr reader goes away stops cleanly instead of spinning on EPIPE, with or
//   without a SIGTERM (the defect once found by hand: half a core, SIGTERM ignored);
// - an agent that crashes at start is restarted with the configured backoff (each gap checked
//   against the bounds) and, with a low limit, given up on visibly: state "failed" with the reason,
//   an agent.<id>.failed event, and no start after it.
import { strict as assert } from 'node:assert';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { call, connect, listAll, queryAll, StreamClient, type Clients } from '../support/grpc';
import { eventually } from '../support/eventually';
import { makeWorkspace, PYTHON, removeWorkspaces, SHORT, sleep, StressRuntime, summary } from './lib';

const KILL_RUNS = SHORT ? 5 : 100;
const LOOP_MS = SHORT ? 30_000 : 5 * 60_000;
const EPIPE_RUNS = SHORT ? 1 : 5;

/** What the store holds of runs 1..runs, read a run at a time (QueryContext a page at a time). */
async function storeContents(c: Clients, runs: number): Promise<{ state: Map<string, string>; items: Set<string> }> {
  const state = new Map<string, string>();
  const items = new Set<string>();
  for (let run = 1; run <= runs; run++) {
    for (const e of await listAll(c.store, { agentId: 'crash', prefix: `r${run}-` }))
      state.set(e.key, e.value.toString('utf8'));
    for (const i of await queryAll(c.store, { sessionId: `crash-r${run}`, limit: 1_000_000 })) items.add(i.id);
  }
  return { state, items };
}

describe('stress: crash', function () {
  this.timeout(SHORT ? 300_000 : 3600_000);
  const runtimes: StressRuntime[] = [];
  const closers: (() => void)[] = [];
  after(async () => {
    for (const c of closers) c();
    await Promise.all(runtimes.map((r) => r.stop()));
    removeWorkspaces();
  });

  it(`loses no acknowledged store write and no batched event out of order over ${KILL_RUNS} kill -9`, async () => {
    const ws = makeWorkspace('');
    const acked = new Map<string, string>(); // state key -> value, of every acknowledged PutState
    const ackedItems = new Set<string>(); // context item ids of every acknowledged SaveContext
    let deliveredTotal = 0;
    let publishedTotal = 0;
    let lostInFlight = 0;
    for (let run = 1; run <= KILL_RUNS; run++) {
      const rt = new StressRuntime(ws);
      runtimes.push(rt);
      const d = await rt.ready(); // the store opened (the runtime logs "runtime started" after it)
      const c = connect(d.address, { token: d.token });

      // Every write acknowledged so far, all runs: present, with its value.
      const { state: have, items: ids } = await storeContents(c, run - 1);
      for (const [k, v] of acked) assert.equal(have.get(k), v, `run ${run}: acknowledged state "${k}" lost or changed`);
      for (const id of ackedItems) assert.ok(ids.has(id), `run ${run}: acknowledged context item ${id} lost`);

      // The batched subscriber: registered to receive delivery_batch messages.
      await call(c.bridge, 'RegisterAgent', {
        agentId: 'crashsub',
        subscribedTopics: ['crash.batch'],
        metadata: { 'loom.batch': '1' },
        qos: 'QOS_BATCHED',
      });
      const sub = await StreamClient.open(c, 'crashsub');
      const got: number[] = [];
      let batches = 0;
      sub.stream.on(
        'data',
        (m: {
          deliveryBatch?: { deliveries: { event?: { payload: Buffer } }[] };
          delivery?: { event?: { payload: Buffer } };
        }) => {
          if (m.deliveryBatch) batches++;
          for (const dl of m.deliveryBatch?.deliveries ?? (m.delivery ? [m.delivery] : []))
            got.push((JSON.parse(dl.event!.payload.toString('utf8')) as { seq: number }).seq);
        },
      );

      let stop = false;
      let publishedAck = 0;
      const writers = Array.from({ length: 4 }, (_, w) =>
        (async () => {
          for (let n = 0; !stop; n++) {
            const key = `r${run}-w${w}-${n}`;
            const value = `v-${key}-${'x'.repeat(n % 200)}`;
            try {
              if (n % 2 === 0) {
                await call(c.store, 'PutState', { agentId: 'crash', key, value: Buffer.from(value) });
                acked.set(key, value);
              } else {
                await call(c.store, 'SaveContext', {
                  item: {
                    id: key,
                    sessionId: `crash-r${run}`,
                    type: 'note',
                    content: value,
                    metadata: {},
                    timestampMs: 0,
                  },
                });
                ackedItems.add(key);
              }
            } catch {
              return; // the runtime is gone: this write was not acknowledged
            }
          }
        })(),
      );
      const publisher = (async () => {
        for (let seq = 1; !stop; seq++) {
          try {
            await call(c.runtime, 'Publish', {
              topic: 'crash.batch',
              event: {
                id: '',
                type: 'crash.seq',
                timestampMs: 0,
                source: '',
                metadata: {},
                payload: Buffer.from(JSON.stringify({ seq })),
                confidence: 0,
                tags: [],
                priority: 0,
              },
            });
            publishedAck = seq;
          } catch {
            return;
          }
        }
      })();

      await sleep(300 + Math.floor(Math.random() * 1200));
      await rt.kill9();
      stop = true;
      await Promise.all([...writers, publisher]);
      sub.cancel();
      c.close();

      // What arrived is 1..k, in order, each once; k is at most one beyond what was acknowledged
      // (the publish in flight when the process died may have been delivered without its Ack).
      got.forEach((seq, i) =>
        assert.equal(seq, i + 1, `run ${run}: delivery ${i} carried ${seq}: a gap, a duplicate or a reordering`),
      );
      assert.ok(got.length <= publishedAck + 1, `run ${run}: ${got.length} delivered, only ${publishedAck} published`);
      assert.ok(
        got.length > 0 || publishedAck === 0,
        `run ${run}: nothing delivered of ${publishedAck} (batches: ${batches})`,
      );
      deliveredTotal += got.length;
      publishedTotal += publishedAck;
      lostInFlight += Math.max(0, publishedAck - got.length);
    }
    // The last check: a clean start after the last kill, and everything acknowledged still there.
    const rt = new StressRuntime(ws);
    runtimes.push(rt);
    const d = await rt.ready();
    const c = connect(d.address, { token: d.token });
    closers.push(() => c.close());
    const { state: have, items } = await storeContents(c, KILL_RUNS);
    const lost = [...acked].filter(([k, v]) => have.get(k) !== v).length;
    const lostItems = [...ackedItems].filter((id) => !items.has(id)).length;
    await rt.stop();
    summary('crash', {
      kills: KILL_RUNS,
      store_opened: KILL_RUNS + 1,
      acked_state_writes: acked.size,
      acked_context_writes: ackedItems.size,
      acked_writes_lost: lost + lostItems,
      batched_published_acked: publishedTotal,
      batched_delivered_before_kill: deliveredTotal,
      batched_accepted_not_delivered: lostInFlight,
      batched_gaps_or_duplicates: 0,
    });
    assert.equal(lost + lostItems, 0);
    assert.ok(acked.size > 0 && ackedItems.size > 0, 'writes were acknowledged');
  });

  it(`stops cleanly when its stderr reader goes away, with or without SIGTERM (${EPIPE_RUNS}× each)`, async () => {
    const results: string[] = [];
    for (let i = 0; i < EPIPE_RUNS * 2; i++) {
      const withSigterm = i % 2 === 1;
      const ws = makeWorkspace('');
      const rt = new StressRuntime(ws, { args: ['--log-level', 'debug'] });
      runtimes.push(rt);
      const d = await rt.ready();
      rt.proc.stderr!.destroy(); // the reader is gone: the runtime's next write to stderr fails with EPIPE
      if (withSigterm) rt.proc.kill('SIGTERM');
      else {
        // A call with a bad token is logged (a warning): the write that meets the closed pipe.
        const c: Clients = connect(d.address, { token: 'not-the-token' });
        await call(c.runtime, 'GetStats', {}).catch(() => undefined);
        c.close();
      }
      await eventually('the runtime to exit', () => rt.exit, { timeoutMs: 30_000 });
      results.push(`${withSigterm ? 'sigterm' : 'epipe'}:${rt.exit!.code ?? rt.exit!.signal}`);
      assert.equal(
        rt.exit!.code,
        0,
        `exit ${rt.exit!.code ?? rt.exit!.signal} after its stderr reader went away${withSigterm ? ' and SIGTERM' : ''}`,
      );
      assert.ok(!existsSync(join(ws, '.loom', 'runtime.json')), 'a clean exit removes the discovery file');
    }
    summary('stderr-gone', { runs: results.length, exits: results.join(',') });
  });

  it(`restarts an agent that crashes at start within the backoff bounds for ${LOOP_MS / 1000} s, and gives up visibly`, async () => {
    const crash = `args = ["-c", "raise SystemExit('crashes at start')"]`;
    const initial = 200;
    const max = SHORT ? 2_000 : 10_000;
    const window = SHORT ? 8_000 : 40_000;
    const ws = makeWorkspace(
      `[agents.crashy]\ncommand = ${JSON.stringify(PYTHON)}\n${crash}\nbackoff_initial_ms = ${initial}\nbackoff_max_ms = ${max}\n` +
        `restart_window_ms = ${window}\nmax_restarts = 1000\nautostart = false\n\n` +
        `[agents.quitter]\ncommand = ${JSON.stringify(PYTHON)}\n${crash}\nbackoff_initial_ms = 100\nmax_restarts = 3\nrestart_window_ms = 60000\nautostart = false\n`,
    );
    // The agents start once the lifecycle events have a subscriber, so every crash is seen.
    const rt = new StressRuntime(ws, { keep: /"msg":"agent failed"/ });
    runtimes.push(rt);
    const d = await rt.ready();
    const c = connect(d.address, { token: d.token });
    closers.push(() => c.close());
    await call(c.bridge, 'RegisterAgent', {
      agentId: 'watcher',
      subscribedTopics: ['agent.crashy.>', 'agent.quitter.>'],
      metadata: {},
      qos: 'QOS_BATCHED',
    });
    const s = await StreamClient.open(c, 'watcher');
    // A stream that says nothing for the heartbeat timeout is dropped; this one only listens.
    const pinger = setInterval(() => s.send({ ping: { timestampMs: Date.now(), agentId: '' } }), 3_000);
    closers.push(() => clearInterval(pinger));
    const seen: { agent: string; kind: string; t: number; payload: Record<string, unknown> }[] = [];
    s.stream.on('data', (m: { delivery?: { topic: string; event?: { timestampMs: number; payload: Buffer } } }) => {
      const dl = m.delivery;
      if (!dl?.event) return;
      const [, agent, kind] = dl.topic.split('.');
      if (kind === 'log') return;
      seen.push({
        agent: agent!,
        kind: kind!,
        t: Number(dl.event.timestampMs),
        payload: JSON.parse(dl.event.payload.toString('utf8') || '{}') as Record<string, unknown>,
      });
    });
    for (const agentId of ['crashy', 'quitter']) {
      const r = await call(c.runtime, 'ControlAgent', { agentId, action: 'start' });
      assert.ok(r.success, r.errorMessage);
    }
    const began = Date.now();
    await sleep(LOOP_MS);
    const agents = (await call(c.runtime, 'ListAgents', {})).agents;
    const crashy = agents.find((a) => a.agentId === 'crashy')!;
    const quitter = agents.find((a) => a.agentId === 'quitter')!;
    clearInterval(pinger);
    s.cancel();

    // crashy: every gap from a crash to the next start is the backoff for the crashes in the window.
    const ev = seen.filter((e) => e.agent === 'crashy');
    const crashes = ev.filter((e) => e.kind === 'crashed').map((e) => e.t);
    const SLACK_MS = 5_000; // an upper bound for a loaded machine: a late restart, not a hang
    const gaps: { gap: number; delay: number }[] = [];
    for (let i = 0; i < ev.length - 1; i++) {
      if (ev[i]!.kind !== 'crashed') continue;
      const start = ev.slice(i + 1).find((e) => e.kind === 'started');
      if (!start) continue;
      const inWindow = crashes.filter((t) => t <= ev[i]!.t && ev[i]!.t - t < window).length;
      const delay = Math.min(initial * 2 ** (inWindow - 1), max);
      const announced = ev.slice(i + 1).find((e) => e.kind === 'restarting');
      gaps.push({ gap: start.t - ev[i]!.t, delay });
      assert.equal(
        announced?.payload.delayMs,
        delay,
        `restart ${gaps.length}: the runtime announced ${String(announced?.payload.delayMs)} ms, the backoff says ${delay} ms`,
      );
      assert.ok(
        start.t - ev[i]!.t >= delay - 5,
        `restart ${gaps.length} came after ${start.t - ev[i]!.t} ms, before its backoff of ${delay} ms`,
      );
      assert.ok(
        start.t - ev[i]!.t <= delay + SLACK_MS,
        `restart ${gaps.length} came after ${start.t - ev[i]!.t} ms, its backoff was ${delay} ms`,
      );
    }
    assert.ok(gaps.length >= (SHORT ? 5 : 25), `only ${gaps.length} restarts observed in ${LOOP_MS / 1000} s`);
    assert.ok(
      gaps.some((g) => g.delay === max),
      'the backoff reached its maximum',
    );
    assert.notEqual(crashy.state, 'failed', 'crashy is still being restarted');

    // quitter: failed, says why, and was not started again.
    const q = seen.filter((e) => e.agent === 'quitter');
    const failedAt = q.findIndex((e) => e.kind === 'failed');
    assert.equal(quitter.state, 'failed');
    assert.match(quitter.lastError, /crashed 4 times within 60000 ms \(limit 3\); restarts stopped/);
    assert.ok(failedAt >= 0, 'an agent.quitter.failed event was published');
    assert.deepEqual(
      q.slice(failedAt + 1).filter((e) => e.kind === 'started'),
      [],
      'no start after giving up',
    );
    assert.ok(
      rt.kept.some((l) => l.includes('quitter')),
      'the runtime logged that it gave up on quitter',
    );
    const over = gaps.map((g) => g.gap - g.delay);
    summary('crash-loop', {
      seconds: Math.round((Date.now() - began) / 1000),
      restarts: crashy.restarts,
      gaps_checked: gaps.length,
      max_backoff_ms: max,
      late_by_ms_max: Math.max(...over),
      late_by_ms_median: over.sort((a, b) => a - b)[Math.floor(over.length / 2)]!,
      early: over.filter((o) => o < -5).length,
      quitter: `${quitter.state} after ${quitter.restarts} restarts`,
    });
  });
});
