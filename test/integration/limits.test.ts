// Limits that keep one client from starving the runtime (issue 11, part 3), over real gRPC
// against the real runtime process.
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { call, connect, StreamClient, type Clients } from './helpers/grpc';
import { makeWorkspace, removeWorkspaces, startRuntime, stopAllRuntimes, type RuntimeProcess } from './helpers/runtime';

const MiB = 1024 * 1024;
const STALLED = join(__dirname, 'fixtures', 'stalled-subscriber.mjs');

/** Resident memory of a process in bytes, from /proc/<pid>/status (VmRSS). */
function rssOf(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]) * 1024;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('limits: a stalled subscriber of large realtime events', function () {
  this.timeout(120_000);
  after(async () => {
    await stopAllRuntimes();
    removeWorkspaces();
  });

  /**
   * Starts a runtime with the given [bus] settings, stalls one realtime subscriber (it registers,
   * opens its stream and never reads), publishes `count` events of 1 MiB to it and reports the
   * runtime's RSS growth (peak over the baseline) and the drops GetStats counts for it.
   */
  async function stalledRun(busToml: string, count: number): Promise<{ growth: number; base: number; peak: number; dropped: Record<string, number>; delivered: number }> {
    const rt: RuntimeProcess = await startRuntime(makeWorkspace(`[bus]\n${busToml}\n`));
    const { address, token } = rt.discovery();
    const publisher: Clients = connect(address, { token });
    // A separate process, frozen once subscribed: its socket fills and it never reads again.
    const child = spawn(process.execPath, [STALLED], { env: { ...process.env, LOOM_BRIDGE_ADDR: address, LOOM_TOKEN: token, LOOM_AGENT_ID: 'stalled', FIXTURE_TOPIC: 'big.>' }, stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout!.on('data', (b: Buffer) => b.toString().includes('ready') && resolve());
        child.on('exit', (code) => reject(new Error(`stalled subscriber exited (${code})`)));
      });
      child.kill('SIGSTOP');
      // A warm-up publish and a GC-quiet moment make the baseline fair.
      await call(publisher.runtime, 'Publish', { topic: 'warm.up', event: { type: 'warm', payload: Buffer.alloc(MiB) } });
      await sleep(500);
      const pid = rt.proc.pid!;
      const base = rssOf(pid);
      let peak = base;
      const payload = Buffer.alloc(MiB, 'p');
      for (let i = 0; i < count; i++) {
        await call(publisher.runtime, 'Publish', { topic: 'big.data', event: { id: `e${i}`, type: 'big', payload } });
        if (i % 10 === 0) peak = Math.max(peak, rssOf(pid));
      }
      for (let i = 0; i < 10; i++) {
        await sleep(100);
        peak = Math.max(peak, rssOf(pid));
      }
      const stats = await call(publisher.runtime, 'GetStats', {});
      const sub = stats.subscriptions.find((s) => s.subscriber === 'stalled');
      assert.ok(sub, 'the stalled subscription is listed');
      const dropped = Object.fromEntries(Object.entries(sub.dropped).map(([k, v]) => [k, Number(v)]));
      return { growth: peak - base, base, peak, dropped, delivered: Number(sub.delivered) };
    } finally {
      child.kill('SIGKILL');
      publisher.close();
      await rt.stop();
    }
  }

  it('keeps the runtime under its byte budget plus a margin and counts the drops (queue_bytes)', async () => {
    const budget = 16 * MiB;
    const r = await stalledRun(`queue_bytes = { realtime = ${budget} }`, 300);
    console.log(`      stalled subscriber, 300 x 1 MiB realtime, budget 16 MiB: RSS ${(r.base / MiB).toFixed(1)} -> peak ${(r.peak / MiB).toFixed(1)} MiB (growth ${(r.growth / MiB).toFixed(1)} MiB); drops ${JSON.stringify(r.dropped)}, delivered ${r.delivered}`);
    // The margin covers what grpc-js buffers for the stream beside the bus (its writable side
    // and the HTTP/2 window) and inbound messages not yet collected; 300 MiB pinned would fail it.
    const margin = 64 * MiB;
    assert.ok(r.growth < budget + margin, `RSS grew ${(r.growth / MiB).toFixed(1)} MiB, over ${(budget + margin) / MiB} MiB`);
    assert.ok((r.dropped.queue_bytes ?? 0) >= 300 - 16 - 32, `drops counted: ${JSON.stringify(r.dropped)}, delivered ${r.delivered}`);
    assert.equal(r.dropped.queue_full, undefined, 'the count (1024) was never the limit');
  });

  it('without a byte budget that binds, the same run pins the events (what the budget prevents)', async () => {
    const r = await stalledRun(`queue_bytes = { realtime = 1099511627776 }`, 150);
    console.log(`      same, 150 x 1 MiB, budget 1 TiB (count only): RSS ${(r.base / MiB).toFixed(1)} -> peak ${(r.peak / MiB).toFixed(1)} MiB (growth ${(r.growth / MiB).toFixed(1)} MiB); drops ${JSON.stringify(r.dropped)}`);
    assert.ok(r.growth > 100 * MiB, `RSS grew only ${(r.growth / MiB).toFixed(1)} MiB`);
  });
});
