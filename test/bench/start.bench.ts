// `npm start` on a machine already set up: how long until the first event is printed, and until
// the first event of an agent, beside a baseline measured in the same run (Node starting and
// exiting, `node -e ''`). The setup steps must find everything in place and skip it.
// First, the runtime alone (`node dist/runtime.js`, a workspace with no agents): ms until its
// discovery file is written, and its resident memory after 3 s idle, over LOOM_BENCH_STARTS starts
// (default 20), beside a bare grpc-js server (bridge.bench.echo.mjs: same library, no Loom) started
// as often in the same run, rounds alternating. Then its resident memory once settled, 15 s after
// it was ready, over LOOM_BENCH_SETTLED_STARTS starts (default 3), beside the same server's: about
// 8 s after a start V8's memory reducer gives back start-up garbage, and from then on an idle
// process stays at that figure (sampled each second for 20 s: 67 MB until 8 s, then 59). The
// runtime asks V8 for that collection itself a second after ready (runtime/contract/startupGarbage.ts);
// the bare server waits for V8's own schedule.
// Usage: node --import tsx test/bench/start.bench.ts   (LOOM_BENCH_RUNS, default 3)
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const RUNS = Number(process.env.LOOM_BENCH_RUNS ?? 3);
const STARTS = Number(process.env.LOOM_BENCH_STARTS ?? 20);
const IDLE_MS = 3000;
const SETTLED_STARTS = Number(process.env.LOOM_BENCH_SETTLED_STARTS ?? 3);
const SETTLED_MS = 15_000;

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

interface Start {
  ms: number;
  rss: number;
  /** RSS SETTLED_MS after ready, when asked for. */
  settled?: number;
}

/** Starts `child`, waits until `ready()` says so (polled every 2 ms), then 3 s idle (or until settled); ms to ready and RSS. */
async function measure(child: ChildProcess, t0: number, ready: () => boolean, settle: boolean): Promise<Start> {
  try {
    const ms = await new Promise<number>((resolve, reject) => {
      const give = setTimeout(() => reject(new Error('not ready within 30 s')), 30_000);
      child.once('exit', (code) => reject(new Error(`exited with ${code} before it was ready`)));
      const poll = () => {
        if (ready()) {
          clearTimeout(give);
          resolve(performance.now() - t0);
        } else setTimeout(poll, 2);
      };
      poll();
    });
    await new Promise((r) => setTimeout(r, IDLE_MS));
    const rss = rssMb(child.pid!);
    if (!settle) return { ms, rss };
    await new Promise((r) => setTimeout(r, SETTLED_MS - IDLE_MS));
    return { ms, rss, settled: rssMb(child.pid!) };
  } finally {
    await stop(child);
  }
}

async function runtimeOnce(ws: string, settle: boolean, bundle = join(ROOT, 'dist', 'runtime.js')): Promise<Start> {
  const discovery = join(ws, '.loom', 'runtime.json');
  rmSync(discovery, { force: true });
  const t0 = performance.now();
  const child = spawn(process.execPath, [bundle, '--workspace', ws], { stdio: 'ignore' });
  return measure(child, t0, () => existsSync(discovery), settle);
}

async function grpcOnce(settle: boolean): Promise<Start> {
  const t0 = performance.now();
  const child = spawn(process.execPath, [join(__dirname, 'bridge.bench.echo.mjs')], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  let listening = false;
  child.stdout!.on('data', (d: Buffer) => (listening ||= d.toString().includes('listening')));
  return measure(child, t0, () => listening, settle);
}

async function runtimeReady(): Promise<void> {
  const ws = mkdtempSync(join(tmpdir(), 'loom-bench-start-'));
  try {
    writeFileSync(join(ws, 'loom.toml'), '[runtime]\nlog_level = "warn"\n');
    await runtimeOnce(ws, false); // the first start makes the data folder and the store
    // LOOM_BENCH_OTHER_RUNTIME=<another build's runtime.js>: measured too, in the same rounds (before/after a change).
    const other = process.env.LOOM_BENCH_OTHER_RUNTIME;
    const loom: Start[] = [];
    const grpc: Start[] = [];
    const others: Start[] = [];
    for (let i = 0; i < Math.max(STARTS, SETTLED_STARTS); i++) {
      const settle = i < SETTLED_STARTS;
      loom.push(await runtimeOnce(ws, settle));
      grpc.push(await grpcOnce(settle));
      if (other) others.push(await runtimeOnce(ws, settle, other));
    }
    const settled = (xs: Start[]) => xs.flatMap((r) => (r.settled === undefined ? [] : [r.settled]));
    const q = (xs: number[], p: number) =>
      [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))]!;
    // MB to a tenth (MiB, as /proc reports them): the target, 60, is within one of the figures.
    const line = (what: string, xs: number[], base: number[], unit: 'ms' | 'MB') => {
      const f = (x: number) => x.toFixed(unit === 'MB' ? 1 : 0);
      return (
        `${what.padEnd(34)} median ${f(q(xs, 0.5)).padStart(5)} ${unit}  p90 ${f(q(xs, 0.9)).padStart(5)} ${unit}  (min ${f(Math.min(...xs))}, max ${f(Math.max(...xs))})   ` +
        `bare grpc-js server median ${f(q(base, 0.5))} ${unit}  p90 ${f(q(base, 0.9))} ${unit}   ratio x${(q(xs, 0.5) / q(base, 0.5)).toFixed(2)}`
      );
    };
    console.log(`runtime alone, no agents (${STARTS} starts each, alternating; RSS after ${IDLE_MS / 1000} s idle)`);
    console.log(
      line(
        'start to discovery file',
        loom.map((r) => r.ms),
        grpc.map((r) => r.ms),
        'ms',
      ),
    );
    console.log(
      line(
        'idle RSS',
        loom.map((r) => r.rss),
        grpc.map((r) => r.rss),
        'MB',
      ),
    );
    if (SETTLED_STARTS > 0)
      console.log(
        line(`idle RSS settled (${SETTLED_MS / 1000} s, ${SETTLED_STARTS} starts)`, settled(loom), settled(grpc), 'MB'),
      );
    if (other) {
      console.log(`the other runtime (${other}), same rounds:`);
      console.log(
        line(
          'start to discovery file',
          others.map((r) => r.ms),
          grpc.map((r) => r.ms),
          'ms',
        ),
      );
      console.log(
        line(
          'idle RSS',
          others.map((r) => r.rss),
          grpc.map((r) => r.rss),
          'MB',
        ),
      );
      if (SETTLED_STARTS > 0)
        console.log(
          line(
            `idle RSS settled (${SETTLED_MS / 1000} s, ${SETTLED_STARTS} starts)`,
            settled(others),
            settled(grpc),
            'MB',
          ),
        );
    }
  } finally {
    rmSync(ws, { recursive: true, force: true });
  }
}

function baselineMs(): number {
  const t0 = performance.now();
  spawnSync(process.execPath, ['-e', '']);
  return performance.now() - t0;
}

/** ms from spawning `npm start` to the first printed event, and to the first event from an agent. */
function startOnce(): Promise<{ first: number; agent: number }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn('npm', ['start'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'ignore'], detached: true });
    let first = 0;
    let rest = '';
    const give = setTimeout(() => finish(new Error('no agent event within 60 s')), 60_000);
    const finish = (err?: Error, agent = 0) => {
      clearTimeout(give);
      try {
        process.kill(-child.pid!, 'SIGINT');
      } catch {
        // gone
      }
      child.once('exit', () => (err ? reject(err) : resolve({ first, agent })));
    };
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      const lines = (rest + chunk).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) {
        // An event line: "HH:MM:SS.mmm  topic  type  from sender  payload".
        const m = /^\d\d:\d\d:\d\d\.\d{3}\s+\S+\s+\S+\s+from (\S+)/.exec(line);
        if (!m) continue;
        first ||= performance.now() - t0;
        if (!['runtime', 'timer', 'watcher'].includes(m[1]!)) return finish(undefined, performance.now() - t0);
      }
    });
  });
}

async function main(): Promise<void> {
  await runtimeReady();
  if (process.env.LOOM_BENCH_STARTS_ONLY) return;
  spawnSync('bash', ['.ci/setup.sh', 'core'], { cwd: ROOT, stdio: 'ignore' }); // in place before measuring
  const base = Math.min(...Array.from({ length: 5 }, baselineMs));
  const runs: { first: number; agent: number }[] = [];
  for (let i = 0; i < RUNS; i++) runs.push(await startOnce());
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const first = median(runs.map((r) => r.first));
  const agent = median(runs.map((r) => r.agent));
  console.log(
    `npm start, set up already (median of ${RUNS}): first event ${first.toFixed(0)} ms, first agent event ${agent.toFixed(0)} ms`,
  );
  console.log(
    `baseline: node -e '' ${base.toFixed(0)} ms; first event x${(first / base).toFixed(1)}, first agent event x${(agent / base).toFixed(1)}`,
  );
}

void main().catch((err) => {
  console.error(err);
  process.exit(1);
});
