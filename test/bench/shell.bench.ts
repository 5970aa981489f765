// system:shell `echo hi` through the tool registry, confined (bubblewrap) beside the same call
// unconfined ([tools.shell] isolation = "off"), in the same run: calls/s, p50 and p99, and the
// overhead isolation adds. Rounds alternate so both sides meet the same load from neighbours.
// Run: node --import tsx test/bench/shell.bench.ts   (about 15 s)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { IsolationMode } from '../../runtime/config';
import { defaultConfig } from '../../runtime/config/defaults';
import { silentLogger } from '../../runtime/log';
import { isolationStatus, registerBuiltinTools, DefaultToolRegistry } from '../../runtime/tools';

const CALLS_PER_ROUND = 100;
const ROUNDS = 4;

function registry(ws: string, isolation: IsolationMode): DefaultToolRegistry {
  const config = defaultConfig(ws);
  config.tools.shell.isolation = isolation;
  const r = new DefaultToolRegistry({ defaultTimeoutMs: 30_000, log: silentLogger });
  registerBuiltinTools(r, config, silentLogger);
  return r;
}

async function round(r: DefaultToolRegistry, into: number[], expectIsolated: boolean): Promise<void> {
  for (let i = 0; i < CALLS_PER_ROUND; i++) {
    const start = process.hrtime.bigint();
    const out = await r.call({ name: 'system:shell', arguments: { command: 'echo', args: ['hi'] } });
    into.push(Number(process.hrtime.bigint() - start) / 1e6);
    if (out.status !== 'ok' || (out.output as { isolated: boolean }).isolated !== expectIsolated)
      throw new Error(`unexpected result: ${JSON.stringify(out)}`);
  }
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

async function main(): Promise<void> {
  const status = isolationStatus('required');
  if (!status.available) {
    console.log(`isolation unavailable here (${status.detail}); nothing to compare`);
    process.exit(1);
  }
  const ws = fs.mkdtempSync(path.join(os.tmpdir(), 'loom-bench-shell-'));
  try {
    const confined = registry(ws, 'required');
    const open = registry(ws, 'off');
    const t: Record<'confined' | 'open', number[]> = { confined: [], open: [] };
    await round(confined, [], true); // warm-up: the probe, the first spawns
    await round(open, [], false);
    for (let i = 0; i < ROUNDS; i++) {
      await round(open, t.open, false);
      await round(confined, t.confined, true);
    }
    const figures = (xs: number[]) => {
      const sorted = [...xs].sort((a, b) => a - b);
      const total = xs.reduce((a, b) => a + b, 0);
      return { perSec: (xs.length / total) * 1000, p50: pct(sorted, 50), p99: pct(sorted, 99) };
    };
    const c = figures(t.confined);
    const o = figures(t.open);
    const line = (name: string, f: ReturnType<typeof figures>) =>
      `${name.padEnd(28)} ${f.perSec.toFixed(0).padStart(6)} calls/s   p50 ${f.p50.toFixed(2).padStart(6)} ms   p99 ${f.p99.toFixed(2).padStart(6)} ms`;
    console.log(`system:shell echo hi, ${t.open.length} calls each, sequential (${status.detail})`);
    console.log(line('isolated (bubblewrap)', c));
    console.log(line('baseline: isolation = off', o));
    console.log(
      `isolation adds ${(c.p50 - o.p50).toFixed(2)} ms at p50 (x${(c.p50 / o.p50).toFixed(2)}), ${(c.p99 - o.p99).toFixed(2)} ms at p99; throughput x${(c.perSec / o.perSec).toFixed(2)}`,
    );
  } finally {
    fs.rmSync(ws, { recursive: true, force: true });
  }
}

void main();
