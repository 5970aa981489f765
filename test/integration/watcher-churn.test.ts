// Watcher churn with tool calls answered: the real runtime (dist/runtime.js, watcher on), another
// process changing thousands of files a second in its workspace, and fs:read over real gRPC.
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { call, connect } from '../support/grpc';
import { startRuntime, stopAllRuntimes } from './helpers/runtime';

describe('integration: watcher churn', function () {
  this.timeout(120_000);
  let ws: string | undefined;
  afterEach(async () => {
    await stopAllRuntimes();
    if (ws) rmSync(ws, { recursive: true, force: true });
  });

  it('answers every fs:read quickly while ~10 000 files change per second, and still reports the changes', async () => {
    // tmpfs when there is one: a disk-backed /tmp on a small VM cannot churn that fast.
    ws = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'loom-it-churn-'));
    writeFileSync(join(ws, 'loom.toml'), '[watcher]\nenabled = true\n');
    writeFileSync(join(ws, 'note.txt'), 'hello\n');
    const rt = await startRuntime(ws, ['--log-level', 'info']);
    const { address, token } = rt.discovery();
    const c = connect(address, { token });
    try {
      const churn = spawn(
        process.execPath,
        [
          '-e',
          `
        const fs = require('node:fs'), path = require('node:path');
        const root = process.argv[1];
        for (let d = 0; d < 20; d++) fs.mkdirSync(path.join(root, 'churn', 'd' + d), { recursive: true });
        const state = new Array(2000).fill(0);
        let ops = 0, owed = 0;
        const end = Date.now() + 4000;
        const timer = setInterval(() => {
          for (owed += 100; owed >= 1; owed--) {
            const i = ops++ % 2000, f = path.join(root, 'churn', 'd' + (i % 20), 'f' + i + '.txt');
            if (state[i] === 2) fs.unlinkSync(f); else fs.writeFileSync(f, 'v' + ops);
            state[i] = (state[i] + 1) % 3;
          }
          if (Date.now() > end) { clearInterval(timer); console.log(ops); }
        }, 10);`,
          ws,
        ],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      let out = '';
      churn.stdout!.on('data', (b: Buffer) => (out += b.toString()));
      let exited = false;
      const done = new Promise<number | null>((r) => churn.once('exit', (code) => r(code)));
      void done.then(() => (exited = true));
      const latencies: number[] = [];
      await new Promise((r) => setTimeout(r, 500));
      while (!exited) {
        const t = performance.now();
        const r = await call(c.tools, 'CallTool', {
          id: `r${latencies.length}`,
          name: 'fs:read',
          arguments: JSON.stringify({ path: 'note.txt' }),
        });
        latencies.push(performance.now() - t);
        assert.equal(r.status, 'TOOL_OK', JSON.stringify(r));
      }
      assert.equal(await done, 0);
      const ops = Number(out.trim());
      latencies.sort((a, b) => a - b);
      const p99 = latencies[Math.floor(latencies.length * 0.99)];
      const max = latencies[latencies.length - 1];
      assert.ok(ops > 10_000, `only ${ops} file operations`);
      assert.ok(
        latencies.length > 200,
        `only ${latencies.length} fs:read calls answered in ~3.5 s of churn (p99 ${p99.toFixed(1)} ms)`,
      );
      assert.ok(
        p99 < 250 && max < 1000,
        `fs:read p99 ${p99.toFixed(1)} ms, max ${max.toFixed(1)} ms during ${ops} file operations`,
      );
      // The changes were reported all the same.
      await new Promise((r) => setTimeout(r, 1500)); // the last windows close
      const stats = await call(c.runtime, 'GetStats', {});
      const published = (topic: string) => Number(stats.topics.find((t) => t.topic === topic)?.published ?? 0);
      assert.ok(
        published('fs.created') > 1000 && published('fs.deleted') > 1000,
        JSON.stringify(stats.topics.filter((t) => t.topic.startsWith('fs.'))),
      );
    } finally {
      c.close();
    }
  });
});
