// What the fast tool-call path keeps or skips must not change what a call can reach or what a
// handler is told: a held workspace root follows the folder on its path, fs:read's one open still
// refuses symlinks out and the data folder, a signal made late still says the call is over, and a
// confined program started with one program fewer still gets only its own environment.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { silentLogger } from '../../../runtime/log';
import { confine, workspaceConfinement } from '../../../runtime/tools/isolation';
import { DefaultToolRegistry } from '../../../runtime/tools/registry';
import { fdCount } from './fs-helpers';
import { expectError, expectOk, type Fixture, makeFixture, SECRET } from './helpers';

describe('tools: the fast path', () => {
  let f: Fixture;
  beforeEach(() => (f = makeFixture()));
  afterEach(() => f.cleanup());

  it('a workspace root replaced on its path: later calls read and write the new folder, never the old one', async () => {
    assert.equal(expectOk(await f.call('fs:read', { path: 'hello.txt' })).content, 'hello\n');
    const moved = `${f.ws}.moved`;
    fs.renameSync(f.ws, moved);
    fs.mkdirSync(f.ws);
    fs.writeFileSync(path.join(f.ws, 'hello.txt'), 'new folder\n');
    assert.equal(expectOk(await f.call('fs:read', { path: 'hello.txt' })).content, 'new folder\n');
    expectOk(await f.call('fs:write', { path: 'made.txt', content: 'x' }));
    assert.equal(fs.readFileSync(path.join(f.ws, 'made.txt'), 'utf8'), 'x');
    assert.equal(fs.existsSync(path.join(moved, 'made.txt')), false);
    fs.rmSync(moved, { recursive: true, force: true });
  });

  it('a workspace root that is gone: the call fails naming it, and works again once it is back', async () => {
    expectOk(await f.call('fs:read', { path: 'hello.txt' }));
    const away = `${f.ws}.away`;
    fs.renameSync(f.ws, away);
    expectError(await f.call('fs:read', { path: 'hello.txt' }), 'failed', 'cannot be opened');
    fs.renameSync(away, f.ws);
    assert.equal(expectOk(await f.call('fs:read', { path: 'hello.txt' })).content, 'hello\n');
  });

  it('fs:read opens the file once: symlinks are still followed by hand, out of the roots refused, the data folder refused', async () => {
    fs.writeFileSync(path.join(f.ws, 'target.txt'), 'inside');
    fs.symlinkSync('target.txt', path.join(f.ws, 'link.txt'));
    fs.symlinkSync(path.join(f.outside, 'secret.txt'), path.join(f.ws, 'out.txt'));
    fs.mkdirSync(path.join(f.ws, '.loom'));
    fs.writeFileSync(path.join(f.ws, '.loom', 'runtime.json'), '{"token":"t"}');
    fs.symlinkSync('.loom', path.join(f.ws, 'data-link'));
    assert.equal(expectOk(await f.call('fs:read', { path: 'link.txt' })).content, 'inside');
    const out = expectError(await f.call('fs:read', { path: 'out.txt' }), 'denied', 'outside the workspace');
    assert.ok(!out.includes(SECRET));
    expectError(await f.call('fs:read', { path: '.loom' }), 'denied', 'data folder');
    expectError(await f.call('fs:read', { path: 'data-link' }), 'denied', 'data folder');
    expectError(await f.call('fs:read', { path: '.loom/runtime.json' }), 'denied', 'data folder');
    expectError(await f.call('fs:read', { path: 'missing.txt' }), 'failed', 'no such file');
    expectError(await f.call('fs:read', { path: '.' }), 'failed', 'is a directory');
  });

  it('holds one descriptor per root while the tools live, and none once they are disposed', async () => {
    f.cleanup();
    const before = fdCount();
    f = makeFixture();
    for (let i = 0; i < 20; i++) expectOk(await f.call('fs:read', { path: 'hello.txt' }));
    assert.equal(fdCount(), before + 1);
    f.cleanup();
    assert.equal(fdCount(), before);
    f = makeFixture(); // for afterEach
  });
});

describe('tools: a call signal made when first asked for', () => {
  const registry = () => new DefaultToolRegistry({ defaultTimeoutMs: 5000, log: silentLogger });
  const schema = { type: 'object' };

  it('a handler that looks only after its call is over finds the signal aborted, with the reason', async () => {
    const r = registry();
    let late: Promise<AbortSignal> | undefined;
    r.register({ name: 't:late', description: '', parametersSchema: schema, provider: 'native' }, (_args, ctx) => {
      late = new Promise((resolve) => setTimeout(() => resolve(ctx.signal), 10));
      return Promise.resolve('done');
    });
    assert.equal((await r.call({ name: 't:late', arguments: {} })).status, 'ok');
    const signal = await late!;
    assert.equal(signal.aborted, true);
    assert.match(String((signal.reason as Error).message), /call finished/);
  });

  it('a handler that looks first after the timeout finds it aborted with the timeout', async () => {
    const r = registry();
    let seen: AbortSignal | undefined;
    r.register({ name: 't:slow', description: '', parametersSchema: schema, provider: 'native' }, (_args, ctx) => {
      return new Promise((resolve) =>
        setTimeout(() => {
          seen = ctx.signal;
          resolve('late');
        }, 60),
      );
    });
    const outcome = await r.call({ name: 't:slow', arguments: {}, timeoutMs: 20 });
    assert.equal(outcome.status, 'error');
    await new Promise((resolve) => setTimeout(resolve, 80));
    assert.equal(seen?.aborted, true);
    assert.match(String((seen!.reason as Error).message), /timed out/);
  });

  it('a handler that listens while running is told of the caller cancelling', async () => {
    const r = registry();
    let told = false;
    r.register(
      { name: 't:wait', description: '', parametersSchema: schema, provider: 'native' },
      (_args, ctx) =>
        new Promise((_resolve, reject) =>
          ctx.signal.addEventListener('abort', () => {
            told = true;
            reject(new Error('stopped'));
          }),
        ),
    );
    const cancel = new AbortController();
    const pending = r.call({ name: 't:wait', arguments: {}, signal: cancel.signal });
    setTimeout(() => cancel.abort(), 10);
    const outcome = await pending;
    assert.equal(outcome.status, 'error');
    assert.equal(told, true);
  });
});

describe('tools: the confined launch without /usr/bin/env', () => {
  let f: Fixture;
  beforeEach(() => (f = makeFixture()));
  afterEach(() => f.cleanup());

  it("the program's environment has neither bash's SHLVL nor BASH_ENV, and HOME is the sandbox's", async () => {
    const launch = confine(
      'required',
      () => workspaceConfinement(f.config, [f.ws], { cwd: f.ws, network: false }),
      '/usr/bin/env',
      [],
      'test',
      'tools.shell.isolation',
    );
    assert.equal(launch.isolated, true);
    const out = await new Promise<string>((resolve, reject) => {
      const child = spawn(launch.file, launch.args, {
        cwd: f.ws,
        env: { PATH: '/usr/bin:/bin', LANG: 'C', ...launch.env },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let text = '';
      child.stdout.on('data', (d: Buffer) => (text += d.toString()));
      child.on('error', reject);
      child.on('close', (code) => (code === 0 ? resolve(text) : reject(new Error(`exit ${code}`))));
    });
    launch.cleanup();
    const names = out
      .trim()
      .split('\n')
      .map((l) => l.split('=')[0]);
    assert.deepEqual(names.sort(), ['HOME', 'LANG', 'PATH', 'PWD']); // PWD: bash's, as before
    assert.match(out, /^HOME=\/tmp\/home$/m);
  });
});
