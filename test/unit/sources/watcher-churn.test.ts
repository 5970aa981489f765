// The watcher under churn: file reads beside it stay fast, the pending map stays bounded (the rest
// summarised in one fs.overflow, created and deleted entries still found), and what is reported
// per path agrees with the files left at the end.
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { existsSync, promises as fs, unlinkSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { EventBus } from '../../../runtime/bus';
import { defaultConfig } from '../../../runtime/config';
import { silentLogger } from '../../../runtime/log';
import { startWatcher, type FsEventPayload, type FsOverflowPayload, type Watcher } from '../../../runtime/sources';
import { Collector } from './collector';

describe('sources: workspace watcher under churn', function () {
  this.timeout(60_000);
  let ws: string;
  let bus: EventBus;
  let events: Collector<FsEventPayload & FsOverflowPayload>;
  let watcher: Watcher | undefined;

  beforeEach(async () => {
    const base = existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir();
    ws = await fs.realpath(await fs.mkdtemp(path.join(base, 'loom-churn-')));
    bus = new EventBus();
    events = new Collector(bus, 'fs.*');
  });
  afterEach(async () => {
    await watcher?.close();
    watcher = undefined;
    events.close();
    await bus.close();
    await fs.rm(ws, { recursive: true, force: true });
  });

  async function start(maxPending?: number, debounceMs = 50): Promise<void> {
    const config = defaultConfig(ws);
    config.watcher.debounceMs = debounceMs;
    watcher = await startWatcher(bus, config, silentLogger, { maxPending });
  }

  /** The last event published per path (fs.overflow aside). */
  const lastByPath = () => {
    const last = new Map<string, string>();
    for (const e of events.seen) if (e.type !== 'fs.overflow') last.set(e.payload.path, e.type);
    return last;
  };

  it('bounds the pending paths, summarises the rest in fs.overflow, and still finds what was created and deleted', async () => {
    await fs.mkdir(path.join(ws, 'many'));
    for (let i = 0; i < 20; i++) writeFileSync(path.join(ws, 'many', `old${i}.txt`), 'old');
    await start(5, 300);
    for (let i = 0; i < 200; i++) writeFileSync(path.join(ws, 'many', `new${i}.txt`), 'new');
    for (let i = 0; i < 20; i++) unlinkSync(path.join(ws, 'many', `old${i}.txt`));
    assert.ok(watcher!.pending().length <= 5, `pending ${watcher!.pending().length} paths, bound 5`);
    const overflow = await events.next((e) => e.type === 'fs.overflow');
    assert.ok(overflow.payload.dropped > 0);
    assert.deepEqual(overflow.payload.directories, ['many']);
    for (let i = 0; i < 200; i++)
      await events.next((e) => e.type === 'fs.created' && e.payload.path === `many/new${i}.txt`);
    for (let i = 0; i < 20; i++)
      await events.next((e) => e.type === 'fs.deleted' && e.payload.path === `many/old${i}.txt`);
    const created = events.seen.filter((e) => e.type === 'fs.created').map((e) => e.payload.path);
    assert.equal(new Set(created).size, created.length, 'no path reported created twice');
  });

  it('keeps file reads answered while another process changes thousands of files a second, and ends agreeing with the disk', async () => {
    await start();
    const dirs = 10;
    const names = 500;
    // Another process, so the churn does not wait for this loop: create, rewrite, delete in turn.
    const churn = spawn(
      process.execPath,
      [
        '-e',
        `
      const fs = require('node:fs'), path = require('node:path');
      const [root, dirs, names] = [process.argv[1], ${dirs}, ${names}];
      for (let d = 0; d < dirs; d++) fs.mkdirSync(path.join(root, 'd' + d), { recursive: true });
      const state = new Array(names).fill(0);
      let ops = 0;
      const end = Date.now() + 2500;
      while (Date.now() < end) {
        const i = ops++ % names, f = path.join(root, 'd' + (i % dirs), 'f' + i + '.txt');
        if (state[i] === 2) fs.unlinkSync(f); else fs.writeFileSync(f, 'v' + ops);
        state[i] = (state[i] + 1) % 3;
      }
      console.log(ops);`,
        ws,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    churn.stdout!.on('data', (c: Buffer) => (out += c.toString()));
    const done = new Promise<number | null>((r) => churn.once('exit', r));
    await fs.writeFile(path.join(ws, 'read-me.txt'), 'hello');
    const latencies: number[] = [];
    let exited = false;
    void done.then(() => (exited = true));
    while (!exited) {
      const t = performance.now();
      await fs.readFile(path.join(ws, 'read-me.txt'));
      latencies.push(performance.now() - t);
      await new Promise((r) => setTimeout(r, 2));
    }
    assert.equal(await done, 0);
    const ops = Number(out.trim());
    // Every path settles once its window closes.
    await fs.writeFile(path.join(ws, 'sentinel.txt'), 's');
    await events.next((e) => e.payload.path === 'sentinel.txt');
    while (watcher!.pending().length) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 200));
    latencies.sort((a, b) => a - b);
    const p99 = latencies[Math.floor(latencies.length * 0.99)];
    assert.ok(ops > 5000, `only ${ops} file operations`);
    assert.ok(
      p99 < 100,
      `a 5-byte read took ${p99.toFixed(1)} ms at p99 (${latencies.length} reads) during ${ops} file operations`,
    );
    const last = lastByPath();
    for (let i = 0; i < names; i++) {
      const abs = path.join(ws, `d${i % dirs}`, `f${i}.txt`);
      const rel = path.relative(ws, abs).split(path.sep).join('/');
      const exists = existsSync(abs);
      const reported = last.get(rel);
      if (exists)
        assert.ok(reported === 'fs.created' || reported === 'fs.changed', `${rel} exists, last reported ${reported}`);
      else assert.ok(reported === undefined || reported === 'fs.deleted', `${rel} is gone, last reported ${reported}`);
    }
    assert.ok(!events.seen.some((e) => e.type === 'fs.overflow'), 'no overflow below the bound');
  });
});
