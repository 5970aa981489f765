// examples/cluster/run.sh, as the README's "Scaling out" tells people to run it: one command
// starts a nats-server and two runtimes with their Python agents; alpha's orders, priced by
// beta's tool through NATS, reach beta's agent; a TERM (as Ctrl+C) stops every process it started.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { eventually } from '../../support/eventually';
import { natsServerAvailable } from '../../support/nats';
import { REPO } from '../helpers/runtime';

const describeIf = natsServerAvailable() || process.env.CI ? describe : describe.skip;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Processes whose command line names the example's folders or its NATS config. */
function exampleProcesses(): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    let cmd = '';
    try {
      cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
    } catch {
      continue;
    }
    if (/examples\/cluster\/(alpha|beta)|loom-example-nats-/.test(cmd)) found.push(`${pid}: ${cmd}`);
  }
  return found;
}

describeIf('examples/cluster (the README\'s "Scaling out" example)', function () {
  this.timeout(90_000);
  let run: ChildProcess | undefined;

  after(() => {
    // Whatever the test's outcome, nothing of the example stays behind.
    if (run?.exitCode === null) process.kill(-run.pid!, 'SIGKILL');
  });

  it("alpha's orders, priced by beta's tool over NATS, reach beta's agent; TERM stops it all", async () => {
    const lines: string[] = [];
    run = spawn('bash', ['examples/cluster/run.sh'], {
      cwd: REPO,
      detached: true, // its own process group, so after() can end everything it started
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        LOOM_NATS_PORT: String(await freePort()),
        LOOM_PYTHON: process.env.LOOM_PYTHON ?? join(REPO, '.venv', 'bin', 'python'),
      },
    });
    let partial = '';
    const keep = (b: Buffer) => {
      const text = partial + b.toString('utf8');
      const parts = text.split('\n');
      partial = parts.pop()!;
      lines.push(...parts);
    };
    run.stdout!.on('data', keep);
    run.stderr!.on('data', keep);

    const order = await eventually(
      'an order from alpha heard on beta (output so far above)',
      () =>
        lines.find((l) => l.startsWith('[beta] ') && l.includes('market.orders') && l.includes('"priced_by":"beta"')),
      { timeoutMs: 60_000 },
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n${lines.slice(-40).join('\n')}`);
    });
    assert.match(order, /order\.placed/);
    assert.ok(
      lines.some((l) => l.startsWith('[alpha] ') && l.includes('market.orders')),
      'alpha printed the order it published',
    );

    const exited = new Promise<number | null>((resolve) => run!.once('exit', (code) => resolve(code)));
    run.kill('SIGTERM');
    await exited;
    await eventually('every process of the example to end', () => (exampleProcesses().length ? undefined : true), {
      timeoutMs: 20_000,
    }).catch(() => assert.fail(`still running:\n${exampleProcesses().join('\n')}`));
  });
});
