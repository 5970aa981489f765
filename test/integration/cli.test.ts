// The headless entry: arguments, the discovery file, clean shutdown, bad config, --print-events.
import { strict as assert } from 'node:assert';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { processAlive } from '../../runtime/contract/process';
import {
  buildRuntime,
  makeWorkspace,
  removeWorkspaces,
  REPO,
  type RuntimeProcess,
  RUNTIME_JS,
  startRuntime,
  stopAllRuntimes,
  PYTHON,
} from './helpers/runtime';
import { call, connect, event, StreamClient } from '../support/grpc';

describe('runtime CLI (node dist/runtime.js)', function () {
  this.timeout(60_000);
  before(() => buildRuntime());
  afterEach(() => stopAllRuntimes());
  after(() => removeWorkspaces());

  it('prints usage for --help and the package version for --version', () => {
    const help = spawnSync(process.execPath, [RUNTIME_JS, '--help'], { encoding: 'utf8' });
    assert.equal(help.status, 0);
    assert.match(help.stdout, /--workspace DIR/);
    assert.match(help.stdout, /--print-events/);
    const version = spawnSync(process.execPath, [RUNTIME_JS, '--version'], { encoding: 'utf8' });
    assert.equal(version.status, 0);
    assert.equal(version.stdout.trim(), require(`${REPO}/package.json`).version);
  });

  it('exits 2 naming the argument for an unknown flag', () => {
    const r = spawnSync(process.execPath, [RUNTIME_JS, '--frobnicate'], { encoding: 'utf8' });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /unknown argument "--frobnicate"/);
  });

  it('exits 2 with the bad key named for a bad loom.toml', () => {
    const ws = makeWorkspace('[bridge]\nmax_batch = "lots"\n');
    const r = spawnSync(process.execPath, [RUNTIME_JS, '--workspace', ws], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /bad configuration/);
    assert.match(r.stderr, /bridge\.max_batch/);
    assert.equal(existsSync(`${ws}/.loom/runtime.json`), false);
  });

  it('writes the discovery file (address, token, pid, version; mode 0600) and removes it on SIGTERM, exiting 0', async () => {
    const rt = await startRuntime(makeWorkspace());
    const info = rt.discovery();
    assert.match(info.address, /^127\.0\.0\.1:\d+$/);
    assert.match(info.token, /^[0-9a-f]{64}$/);
    assert.equal(info.pid, rt.proc.pid);
    assert.equal(info.version, require(`${REPO}/package.json`).version);
    assert.equal(statSync(rt.discoveryFile).mode & 0o777, 0o600);
    // The address in the file is a live runtime that accepts the token in the file.
    const c = connect(info.address, { token: info.token });
    const stats = await call(c.runtime, 'GetStats', {});
    assert.ok(Number(stats.timestampMs) > 0);
    c.close();
    await rt.stop('SIGTERM');
    assert.equal(rt.exitCode, 0, rt.stderrText.join('\n'));
    assert.equal(existsSync(rt.discoveryFile), false);
    await rt.waitForLog('its last line (stderr may still be unread at the exit)', (l) => l.msg === 'runtime stopped');
  });

  it('leaves a discovery file alone on exit when another runtime has replaced it', async () => {
    const rt = await startRuntime(makeWorkspace());
    const other = { address: '127.0.0.1:1', token: 'a'.repeat(64), pid: 999_999, version: 'other' };
    writeFileSync(rt.discoveryFile, JSON.stringify(other));
    await rt.stop('SIGTERM');
    assert.equal(rt.exitCode, 0);
    assert.deepEqual(JSON.parse(readFileSync(rt.discoveryFile, 'utf8')), other);
  });

  it('tells connected agents it is shutting down (Error{code:"shutdown"}) and exits 0', async () => {
    const rt = await startRuntime(makeWorkspace());
    const c = connect(rt.discovery().address, { token: rt.discovery().token });
    const s = new StreamClient(c);
    s.send({ ack: { messageId: 'bystander' } });
    s.send({ ping: { timestampMs: 1 } });
    await s.next((m) => m.msg === 'pong');
    await rt.stop('SIGTERM');
    const err = await s.next((m) => m.msg === 'err').catch(() => s.history.find((m) => m.msg === 'err'));
    assert.equal(err?.err?.code, 'shutdown');
    assert.equal(rt.exitCode, 0);
    c.close();
  });

  it('shuts down cleanly on SIGINT too', async () => {
    const rt = await startRuntime(makeWorkspace());
    await rt.stop('SIGINT');
    assert.equal(rt.exitCode, 0, `exit ${rt.exitCode ?? rt.exitSignal}\n${rt.stderrText.join('\n')}`);
    assert.equal(existsSync(rt.discoveryFile), false);
  });

  describe('a signal while it is stopping', () => {
    // An agent that ignores SIGTERM holds the shutdown open for its grace period: the window in
    // which a signal arrives "while stopping".
    const STUBBORN = `[agents.stubborn]\ncommand = ${JSON.stringify(PYTHON)}\nstop_grace_ms = 4000\nargs = ["-c", """
import os, signal, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
open('stubborn.pid', 'w').write(str(os.getpid()))
time.sleep(1000)
"""]\n`;
    const leftovers: number[] = [];
    after(() => {
      for (const pid of leftovers) if (processAlive(pid)) process.kill(pid, 'SIGKILL');
    });

    async function stubbornAgent(rt: RuntimeProcess): Promise<number> {
      const file = join(rt.workspace, 'stubborn.pid');
      const pid = await rt.waitFor('the agent to ignore SIGTERM', () =>
        existsSync(file) && readFileSync(file, 'utf8') ? Number(readFileSync(file, 'utf8')) : undefined,
      );
      leftovers.push(pid);
      return pid;
    }

    it('is not the second signal when the runtime began the stop itself (its parent gone): the stop stays clean, exit 0', async () => {
      const parent = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 1e9)'], { stdio: 'ignore' });
      try {
        const rt = await startRuntime(makeWorkspace(STUBBORN), ['--parent-pid', String(parent.pid)]);
        const agent = await stubbornAgent(rt);
        parent.kill('SIGKILL');
        await rt.waitForLog('the stop on its own', (l) => l.msg === 'shutting down' && l.signal === 'parent exited');
        rt.proc.kill('SIGTERM');
        await rt.exited;
        assert.equal(rt.exitCode, 0, `exit ${rt.exitCode ?? rt.exitSignal}\n${rt.stderrText.join('\n')}`);
        // Its last line: stderr may still be unread when the exit is seen.
        await rt.waitForLog('the clean stop to finish', (l) => l.msg === 'runtime stopped');
        assert.ok(!rt.logs.some((l) => l.msg.startsWith('second signal')), 'SIGTERM was taken for a second signal');
        assert.equal(existsSync(rt.discoveryFile), false, 'a clean stop removes the discovery file');
        assert.equal(processAlive(agent), false, 'the clean stop ended the agent (SIGKILL after its grace)');
      } finally {
        parent.kill('SIGKILL');
      }
    });

    it('a second signal exits at once, 1, without waiting for the agent', async () => {
      const rt = await startRuntime(makeWorkspace(STUBBORN));
      await stubbornAgent(rt);
      rt.proc.kill('SIGTERM');
      await rt.waitForLog('the stop', (l) => l.msg === 'shutting down' && l.signal === 'SIGTERM');
      const sent = Date.now();
      rt.proc.kill('SIGTERM');
      await rt.exited;
      assert.equal(rt.exitCode, 1, `exit ${rt.exitCode ?? rt.exitSignal}\n${rt.stderrText.join('\n')}`);
      await rt.waitForLog('the forced exit to be logged', (l) => l.msg.startsWith('second signal'));
      assert.ok(Date.now() - sent < 4000, "the forced exit waited for the agent's grace period");
    });
  });

  it('logs structured JSON lines on stderr', async () => {
    const rt = await startRuntime(makeWorkspace());
    const started = rt.logs.find((l) => l.msg === 'runtime started')!;
    assert.equal(started.level, 'info');
    assert.equal(started.address, rt.discovery().address);
    await rt.stop();
  });

  it('--print-events prints one line per event with time, topic, type, sender and payload', async () => {
    const rt = await startRuntime(makeWorkspace(), ['--print-events', 'demo.>']);
    const info = rt.discovery();
    const c = connect(info.address, { token: info.token, agentId: 'printer-test' });
    await call(c.runtime, 'Publish', { topic: 'demo.greeting', event: event('greeting', { text: 'hello loom' }) });
    await call(c.runtime, 'Publish', { topic: 'other.topic', event: event('ignored', { text: 'not printed' }) });
    await call(c.runtime, 'Publish', {
      topic: 'demo.binary',
      event: { ...event('blob', {}), payload: Buffer.from([0, 1, 2, 0xff, 0x1b]) },
    });
    await call(c.runtime, 'Publish', { topic: 'demo.second', event: event('second', { n: 2 }) });
    const line = await rt.waitFor('the printed event', () => rt.stdoutLines.find((l) => l.includes('demo.second')));
    const first = rt.stdoutLines.find((l) => l.includes('demo.greeting'));
    assert.ok(first, rt.stdoutLines.join('\n'));
    assert.match(
      first,
      /^\d\d:\d\d:\d\d\.\d{3}  demo\.greeting  greeting  from printer-test  \{"text":"hello loom"\}$/,
    );
    assert.match(line, /demo\.second  second  from printer-test  \{"n":2\}/);
    assert.match(
      rt.stdoutLines.find((l) => l.includes('demo.binary')) ?? '',
      /demo\.binary  blob  from printer-test  <5 bytes of binary>$/,
    );
    assert.equal(
      rt.stdoutLines.some((l) => l.includes('other.topic')),
      false,
    );
    c.close();
    await rt.stop();
  });
});
