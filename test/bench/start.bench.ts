// `npm start` on a machine already set up: how long until the first event is printed, and until
// the first event of an agent, beside a baseline measured in the same run (Node starting and
// exiting, `node -e ''`). The setup steps must find everything in place and skip it.
// Usage: node --import tsx test/bench/start.bench.ts   (LOOM_BENCH_RUNS, default 3)
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const RUNS = Number(process.env.LOOM_BENCH_RUNS ?? 3);

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
  spawnSync('bash', ['.ci/setup.sh', 'core'], { cwd: ROOT, stdio: 'ignore' }); // in place before measuring
  const base = Math.min(...Array.from({ length: 5 }, baselineMs));
  const runs: { first: number; agent: number }[] = [];
  for (let i = 0; i < RUNS; i++) runs.push(await startOnce());
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const first = median(runs.map((r) => r.first));
  const agent = median(runs.map((r) => r.agent));
  console.log(`npm start, set up already (median of ${RUNS}): first event ${first.toFixed(0)} ms, first agent event ${agent.toFixed(0)} ms`);
  console.log(`baseline: node -e '' ${base.toFixed(0)} ms; first event x${(first / base).toFixed(1)}, first agent event x${(agent / base).toFixed(1)}`);
}

void main().catch((err) => {
  console.error(err);
  process.exit(1);
});
