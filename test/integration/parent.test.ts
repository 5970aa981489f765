// A runtime whose launcher is gone exits within seconds and stops its agents: with --parent-pid
// it sees the parent die; without it, its next write to the dead pipe (EPIPE) stops it instead
// of failing and logging the failure forever (the loop that spun a core and ignored SIGTERM); in
// a terminal, the terminal's hang-up (SIGHUP) stops it.
import { spawn, type ChildProcess } from 'node:child_process';
import { strict as assert } from 'node:assert';
import { processAlive as alive } from '../../runtime/contract/process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildRuntime, makeWorkspace, removeWorkspaces, REPO, RUNTIME_JS, PYTHON } from './helpers/runtime';
import { until as waitUntil } from '../support/eventually';

const LAUNCHER = join(REPO, 'test', 'integration', 'fixtures', 'launcher.mjs');

/** Waits until `check` holds; resolves with how long that took. */
async function until(what: string, check: () => boolean, giveUpMs = 30_000): Promise<number> {
  const started = Date.now();
  await waitUntil(what, check, { timeoutMs: giveUpMs, intervalMs: 50 });
  return Date.now() - started;
}

describe('a runtime whose launcher is gone', function () {
  this.timeout(120_000);
  const launchers: ChildProcess[] = [];
  const pids: number[] = [];
  before(() => buildRuntime());
  after(() => {
    for (const l of launchers) l.kill('SIGKILL');
    for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL');
    removeWorkspaces();
  });

  async function launch(ws: string, args: string[]): Promise<{ launcher: ChildProcess; runtime: number }> {
    const launcher = spawn(process.execPath, [LAUNCHER, RUNTIME_JS, '--workspace', ws, ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    launchers.push(launcher);
    const runtime = await new Promise<number>((resolve, reject) => {
      launcher.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
      launcher.once('exit', () => reject(new Error('the launcher exited')));
    });
    pids.push(runtime);
    await until('the runtime to write its discovery file', () => existsSync(join(ws, '.loom', 'runtime.json')));
    return { launcher, runtime };
  }

  /** A workspace whose one agent writes its pid to sleeper.pid and sleeps. */
  const sleeperWorkspace = () =>
    makeWorkspace(
      `[agents.sleeper]\ncommand = ${JSON.stringify(PYTHON)}\nargs = ["-c", "import time; open('sleeper.pid','w').write(__import__('os').getpid().__str__()); time.sleep(1000)"]\n`,
    );

  /** The sleeper agent's pid, once it has started. */
  async function sleeperPid(ws: string): Promise<number> {
    const file = join(ws, 'sleeper.pid');
    await until('the agent to start', () => existsSync(file) && readFileSync(file, 'utf8').length > 0);
    const agent = Number(readFileSync(file, 'utf8'));
    pids.push(agent);
    return agent;
  }

  it('exits within seconds when the parent it was given (--parent-pid) is killed, and stops its agents', async () => {
    const ws = sleeperWorkspace();
    const { launcher, runtime } = await launch(ws, ['--parent-pid', '$PPID']);
    const agent = await sleeperPid(ws);
    launcher.kill('SIGKILL');
    const ms = await until('the runtime to exit', () => !alive(runtime));
    console.log(`      runtime exited ${ms} ms after its parent was killed`);
    await until('its agent to be stopped', () => !alive(agent));
    assert.ok(!existsSync(join(ws, '.loom', 'runtime.json')), 'a clean exit removes the discovery file');
  });

  it('without --parent-pid, stops on its next write to the dead pipe instead of spinning on it', async () => {
    // --print-events writes a line per timer tick to stdout: the write that finds the pipe gone.
    const ws = makeWorkspace('[timers.tick]\ninterval_ms = 200\n');
    const { launcher, runtime } = await launch(ws, ['--print-events', 'timer.>', '--log-level', 'debug']);
    await new Promise((r) => setTimeout(r, 500));
    launcher.kill('SIGKILL');
    const ms = await until('the runtime to exit', () => !alive(runtime));
    console.log(`      runtime exited ${ms} ms after its output's reader was killed`);
    assert.ok(!existsSync(join(ws, '.loom', 'runtime.json')), 'a clean exit removes the discovery file');
  });

  it('started by hand in a terminal that closes (SIGHUP), stops cleanly and stops its agents', async () => {
    // A real terminal: script(1) runs the runtime on a pseudo-terminal of its own, and killing
    // script closes the terminal's other end, so the kernel hangs it up, as a closed terminal
    // window or a dropped SSH session does. SIGHUP's default action used to kill the runtime
    // outright, leaving its agents running in their own process groups and the discovery file.
    const ws = sleeperWorkspace();
    const command = [process.execPath, RUNTIME_JS, '--workspace', ws].map((a) => `'${a}'`).join(' ');
    const terminal = spawn('script', ['-qfec', command, '/dev/null'], {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, SHELL: '/bin/sh' },
    });
    launchers.push(terminal);
    const discovery = join(ws, '.loom', 'runtime.json');
    await until('the runtime to write its discovery file', () => existsSync(discovery));
    const runtime = (JSON.parse(readFileSync(discovery, 'utf8')) as { pid: number }).pid;
    pids.push(runtime);
    const agent = await sleeperPid(ws);
    terminal.kill('SIGKILL');
    const ms = await until('the runtime to exit', () => !alive(runtime));
    console.log(`      runtime exited ${ms} ms after its terminal closed`);
    await until('its agent to be stopped', () => !alive(agent));
    assert.ok(!existsSync(discovery), 'a clean exit removes the discovery file');
  });
});
