// Tool calls while the workspace churns: fs:read over real gRPC against the real runtime
// (dist/runtime.js, watcher on), p50 and p99, while a separate process creates, rewrites and
// deletes ~10 000 files a second in the workspace, beside the same calls with no churn
// (baseline) in the same run. Also prints what the runtime published (fs.* events, fs.overflow).
// Run: npm run build && node --import tsx test/bench/watcher.bench.ts   (about 40 s)
// LOOM_BENCH_CHURN_RATE (files/s, default 10000), LOOM_BENCH_SECONDS (per phase, default 10),
// LOOM_BENCH_DIR (where the workspace is made; default /dev/shm when present, else the temp folder),
// LOOM_BENCH_NODE_OPTIONS (for the runtime, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof").
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildRuntime, startRuntime, stopAllRuntimes, type RuntimeProcess } from '../integration/helpers/runtime';
import { call, connect, type Clients } from '../support/grpc';

const RATE = Number(process.env.LOOM_BENCH_CHURN_RATE ?? 10_000);
const SECONDS = Number(process.env.LOOM_BENCH_SECONDS ?? 10);

// The churn: one process (so it does not share the measuring loop), every 10 ms a slice of the
// per-second rate, cycling through create → rewrite → delete over 2 000 names in 20 folders.
const CHURN = `
const fs = require('node:fs'), path = require('node:path');
const [root, rate] = [process.argv[1], Number(process.argv[2])];
const NAMES = 2000, DIRS = 20;
for (let d = 0; d < DIRS; d++) fs.mkdirSync(path.join(root, 'churn', 'd' + d), { recursive: true });
const file = (i) => path.join(root, 'churn', 'd' + (i % DIRS), 'f' + i + '.txt');
const state = new Array(NAMES).fill(0); // 0 absent, 1 created, 2 rewritten
let next = 0, ops = 0, lastReport = Date.now(), started = Date.now();
const perTick = rate / 100;
let owed = 0;
setInterval(() => {
  owed += perTick;
  for (; owed >= 1; owed--) {
    const i = next++ % NAMES;
    try {
      if (state[i] === 0) { fs.writeFileSync(file(i), 'new ' + ops); state[i] = 1; }
      else if (state[i] === 1) { fs.writeFileSync(file(i), 'rewritten ' + ops); state[i] = 2; }
      else { fs.unlinkSync(file(i)); state[i] = 0; }
      ops++;
    } catch {}
  }
  if (Date.now() - lastReport >= 1000) { process.stdout.write(JSON.stringify({ ops, ms: Date.now() - started }) + '\\n'); lastReport = Date.now(); }
}, 10);
`;

interface Churn {
  proc: ChildProcess;
  last: { ops: number; ms: number };
}

function startChurn(workspace: string): Churn {
  const proc = spawn(process.execPath, ['-e', CHURN, workspace, String(RATE)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const churn: Churn = { proc, last: { ops: 0, ms: 1 } };
  let buf = '';
  proc.stdout!.setEncoding('utf8').on('data', (s: string) => {
    buf += s;
    const lines = buf.split('\n');
    buf = lines.pop()!;
    for (const l of lines) if (l) churn.last = JSON.parse(l) as Churn['last'];
  });
  return churn;
}

async function stopChurn(c: Churn): Promise<void> {
  const exited = new Promise((r) => c.proc.once('exit', r));
  c.proc.kill('SIGTERM');
  await exited;
}

/** Sequential fs:read calls for `seconds`; each call's latency in ms. */
async function readFor(c: Clients, seconds: number): Promise<number[]> {
  const out: number[] = [];
  const end = Date.now() + seconds * 1000;
  let i = 0;
  while (Date.now() < end) {
    const start = process.hrtime.bigint();
    const r = await call(c.tools, 'CallTool', {
      id: `r${i++}`,
      name: 'fs:read',
      arguments: JSON.stringify({ path: 'note.txt' }),
    });
    out.push(Number(process.hrtime.bigint() - start) / 1e6);
    if (r.status !== 'TOOL_OK' && (r.status as unknown) !== 0) throw new Error(`fs:read failed: ${JSON.stringify(r)}`);
  }
  return out;
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

function figures(xs: number[]) {
  const sorted = [...xs].sort((a, b) => a - b);
  return { n: xs.length, p50: pct(sorted, 50), p99: pct(sorted, 99), max: sorted[sorted.length - 1] };
}

async function publishedCounts(c: Clients): Promise<Record<string, number>> {
  const stats = await call(c.runtime, 'GetStats', {});
  const counts: Record<string, number> = {};
  for (const t of stats.topics) if (t.topic.startsWith('fs.')) counts[t.topic] = Number(t.published);
  return counts;
}

async function main(): Promise<void> {
  buildRuntime();
  // tmpfs when there is one: a disk-backed /tmp on a small VM manages ~1 300 file ops/s, far below the rate.
  const base = process.env.LOOM_BENCH_DIR ?? (fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir());
  const ws = fs.mkdtempSync(path.join(base, 'loom-bench-watcher-'));
  fs.writeFileSync(path.join(ws, 'loom.toml'), '[watcher]\nenabled = true\n');
  fs.writeFileSync(path.join(ws, 'note.txt'), 'hello\n');
  let rt: RuntimeProcess | undefined;
  let churn: Churn | undefined;
  try {
    rt = await startRuntime(ws, ['--log-level', 'info'], {
      env: { NODE_OPTIONS: process.env.LOOM_BENCH_NODE_OPTIONS ?? '' },
    });
    const { address, token } = rt.discovery();
    const c = connect(address, { token });
    await readFor(c, 1); // warm-up
    const quiet = figures(await readFor(c, SECONDS));
    churn = startChurn(ws);
    await new Promise((r) => setTimeout(r, 1000)); // let the churn reach its rate
    const opsBefore = churn.last.ops;
    const msBefore = churn.last.ms;
    const busy = figures(await readFor(c, SECONDS));
    const achieved = ((churn.last.ops - opsBefore) / Math.max(1, churn.last.ms - msBefore)) * 1000;
    await stopChurn(churn);
    churn = undefined;
    await new Promise((r) => setTimeout(r, 1500)); // let the last windows close
    const published = await publishedCounts(c);
    const rss = await rssMb(rt.proc.pid!);
    c.close();
    await rt.stop('SIGTERM'); // a clean exit (writes a --cpu-prof profile when asked for one)

    const line = (name: string, f: ReturnType<typeof figures>) =>
      `${name.padEnd(34)} ${String(f.n).padStart(6)} calls   p50 ${f.p50.toFixed(2).padStart(8)} ms   p99 ${f.p99.toFixed(2).padStart(8)} ms   max ${f.max.toFixed(1).padStart(8)} ms`;
    console.log(`fs:read over gRPC against dist/runtime.js, sequential, ${SECONDS} s per phase, workspace in ${base}`);
    console.log(line(`churn ~${achieved.toFixed(0)} file ops/s`, busy));
    console.log(line('baseline: no churn', quiet));
    console.log(
      `churn costs x${(busy.p50 / quiet.p50).toFixed(2)} at p50, x${(busy.p99 / quiet.p99).toFixed(2)} at p99 (${(busy.p99 - quiet.p99).toFixed(2)} ms)`,
    );
    console.log(`runtime published ${JSON.stringify(published)}; runtime RSS after ${rss} MB`);
  } finally {
    if (churn) await stopChurn(churn);
    await stopAllRuntimes();
    fs.rmSync(ws, { recursive: true, force: true });
  }
}

async function rssMb(pid: number): Promise<string> {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]);
    return (kb / 1024).toFixed(0);
  } catch {
    return '?';
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
