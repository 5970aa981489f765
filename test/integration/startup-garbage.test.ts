// The runtime process gives its start-up garbage back a second after it is ready, through the
// memory-reducing collection V8 would otherwise run only 8 s after start
// (runtime/contract/startupGarbage.ts), and still stops cleanly afterwards: disconnecting the
// inspector session from inside its answer's callback blocked Node 20's main thread for good.
// V8's --trace-gc names each collection's reason; the memory reducer's own is "memory reducer",
// an ordinary full collection's is never "(reduce)".
import { spawn } from 'node:child_process';
import { strict as assert } from 'node:assert';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { buildRuntime, makeWorkspace, removeWorkspaces, RUNTIME_JS } from './helpers/runtime';
import { until } from '../support/eventually';

describe('the runtime process gives its start-up garbage back', function () {
  this.timeout(60_000);
  before(() => buildRuntime());
  after(() => removeWorkspaces());

  it('asks V8 for a memory-reducing collection after ready, once, then stops cleanly on SIGTERM', async () => {
    const ws = makeWorkspace('[runtime]\nlog_level = "warn"\n');
    const child = spawn(process.execPath, ['--trace-gc', RUNTIME_JS, '--workspace', ws], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      await until('the runtime to write its discovery file', () => existsSync(join(ws, '.loom', 'runtime.json')), {
        timeoutMs: 30_000,
      });
      const asked = /Mark-Compact \(reduce\)[^\n]*low memory notification/;
      await until('the memory-reducing collection', () => asked.test(out), { timeoutMs: 20_000 });
      const before = out.split('\n').filter((l) => asked.test(l)).length;
      await new Promise((r) => setTimeout(r, 1500));
      const after = out.split('\n').filter((l) => asked.test(l)).length;
      // One request: V8 runs up to a few collections for it, back to back; none is asked later.
      assert.equal(after, before, `asked again later:\n${out}`);
      child.kill('SIGTERM');
      // Bounded here, not by mocha's timeout, so that a runtime that hangs is killed below.
      const code = await Promise.race([
        exited,
        new Promise<string>((r) => setTimeout(() => r('still running'), 20_000)),
      ]);
      assert.equal(code, 0, `the runtime did not stop cleanly after the collection:\n${out}`);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
