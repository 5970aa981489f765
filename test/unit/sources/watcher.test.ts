import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { EventBus } from '../../../runtime/bus';
import { defaultConfig, type LoomConfig } from '../../../runtime/config';
import { createLogger, silentLogger } from '../../../runtime/log';
import { coalesce, startWatcher, type FsEventPayload, type Watcher } from '../../../runtime/sources';
import { activeHandles, Collector } from './collector';

describe('sources: workspace watcher', function () {
  this.timeout(30_000);
  let ws: string;
  let bus: EventBus;
  let events: Collector<FsEventPayload>;
  let watcher: Watcher | undefined;

  beforeEach(async () => {
    ws = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), 'loom-watch-')));
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

  async function start(
    watch: Partial<LoomConfig['watcher']> = {},
    runtime: Partial<LoomConfig['runtime']> = {},
  ): Promise<void> {
    const config = defaultConfig(ws);
    Object.assign(config.watcher, { debounceMs: 200 }, watch);
    Object.assign(config.runtime, runtime);
    watcher = await startWatcher(bus, config, silentLogger);
  }
  const file = (rel: string) => path.join(ws, rel);
  const at = (p: string) => (e: { payload: FsEventPayload }) => e.payload.path === p;
  const forPath = (p: string) => events.seen.filter(at(p)).map((e) => e.type);

  it('publishes created, changed and deleted with workspace-relative paths', async () => {
    await start();
    await fs.mkdir(file('sub/dir'), { recursive: true });
    await fs.writeFile(file('sub/dir/b.txt'), 'hello');
    const created = await events.next((e) => e.type === 'fs.created' && e.payload.path === 'sub/dir/b.txt');
    assert.equal(created.source, 'watcher');
    assert.equal(created.payload.kind, 'file');
    assert.equal(created.payload.size, 5);
    assert.equal(typeof created.payload.mtime_ms, 'number');

    await fs.appendFile(file('sub/dir/b.txt'), ' world');
    const changed = await events.next((e) => e.type === 'fs.changed' && e.payload.path === 'sub/dir/b.txt');
    assert.equal(changed.payload.size, 11);

    await fs.rm(file('sub/dir/b.txt'));
    const deleted = await events.next((e) => e.type === 'fs.deleted' && e.payload.path === 'sub/dir/b.txt');
    assert.deepEqual(deleted.payload, { path: 'sub/dir/b.txt', kind: 'file' });
    assert.deepEqual(forPath('sub/dir/b.txt'), ['fs.created', 'fs.changed', 'fs.deleted']);
    assert.ok(
      events.seen.some((e) => e.type === 'fs.created' && e.payload.path === 'sub' && e.payload.kind === 'directory'),
    );
  });

  it('never reports .git, node_modules, .loom, the data folder or configured ignores', async () => {
    await start({ ignore: ['build/**', '**/*.log'] }, { dataDir: 'state' });
    for (const dir of [
      '.git/objects',
      'node_modules/pkg',
      '.loom/store',
      'state/store',
      'build/out',
      'src/.git',
      'src',
    ]) {
      await fs.mkdir(file(dir), { recursive: true });
    }
    for (const rel of [
      '.git/objects/x',
      'node_modules/pkg/index.js',
      '.loom/store/LOG',
      'state/store/LOG',
      'build/out/app.js',
      'src/.git/HEAD',
      'src/debug.log',
      'top.log',
    ]) {
      await fs.writeFile(file(rel), 'ignored');
    }
    await fs.writeFile(file('src/sentinel.ts'), 'seen');
    await events.next(at('src/sentinel.ts'));
    const reported = events.seen.map((e) => e.payload.path).sort();
    assert.deepEqual(reported, ['src', 'src/sentinel.ts']);
  });

  it('reports root entries whose names start with ".." (they are inside the workspace)', async () => {
    await start();
    await fs.mkdir(file('..dir'));
    await fs.writeFile(file('..dir/inner.txt'), 'in');
    await fs.writeFile(file('..x'), 'in');
    await events.next(at('..dir/inner.txt'));
    await events.next(at('..x'));
    assert.deepEqual(forPath('..x'), ['fs.created']);
  });

  it('reports only paths matching the include globs', async () => {
    await start({ include: ['src/**/*.ts', 'README.md'] });
    await fs.mkdir(file('src/deep'), { recursive: true });
    await fs.writeFile(file('src/a.js'), 'no');
    await fs.writeFile(file('notes.md'), 'no');
    await fs.writeFile(file('src/deep/a.ts'), 'yes');
    await fs.writeFile(file('README.md'), 'yes');
    await events.next(at('src/deep/a.ts'));
    await events.next(at('README.md'));
    await fs.writeFile(file('src/z.ts'), 'sentinel');
    await events.next(at('src/z.ts'));
    assert.deepEqual(events.seen.map((e) => e.payload.path).sort(), ['README.md', 'src/deep/a.ts', 'src/z.ts']);
  });

  it('coalesces a burst per path: created then changed is one created, created then deleted is nothing', async () => {
    // The window must outlast the whole burst even on a loaded machine.
    await start({ debounceMs: 3000 });
    await fs.writeFile(file('burst.txt'), '1');
    await fs.appendFile(file('burst.txt'), '2');
    await fs.appendFile(file('burst.txt'), '3');
    await fs.writeFile(file('fleeting.txt'), 'gone soon');
    await fs.rm(file('fleeting.txt'));
    const created = await events.next(at('burst.txt'));
    assert.equal(created.type, 'fs.created');
    assert.equal(created.payload.size, 3);
    // Barrier: once the watcher has seen a later file, every earlier change to the burst's paths
    // has been seen too; close() publishes whatever is still inside a window, without waiting it out.
    await fs.writeFile(file('sentinel.txt'), 's');
    while (!watcher!.pending().includes('sentinel.txt')) await new Promise((r) => setTimeout(r, 10));
    await watcher!.close();
    watcher = undefined;
    assert.deepEqual(forPath('sentinel.txt'), ['fs.created']);
    assert.deepEqual(forPath('burst.txt'), ['fs.created']);
    assert.deepEqual(forPath('fleeting.txt'), []);
  });

  it('folds changes by the coalescing table', () => {
    const table: [Parameters<typeof coalesce>[0], Parameters<typeof coalesce>[1], ReturnType<typeof coalesce>][] = [
      ['none', 'created', 'created'],
      ['created', 'changed', 'created'],
      ['created', 'deleted', 'none'],
      ['changed', 'changed', 'changed'],
      ['changed', 'deleted', 'deleted'],
      ['deleted', 'created', 'changed'],
      ['deleted', 'deleted', 'deleted'],
      ['none', 'deleted', 'deleted'],
    ];
    for (const [pending, next, expected] of table)
      assert.equal(coalesce(pending, next), expected, `${pending} + ${next}`);
  });

  it('publishes a change still inside its window when closed, then frees its watches', async () => {
    const before = activeHandles('FSEventWrap');
    await start({ debounceMs: 60_000 });
    assert.ok(activeHandles('FSEventWrap') > before);
    await fs.writeFile(file('late.txt'), 'x');
    while (!watcher!.pending().includes('late.txt')) await new Promise((r) => setTimeout(r, 10));
    assert.equal(events.seen.length, 0, 'nothing published while the window is open');
    await watcher!.close();
    watcher = undefined;
    assert.deepEqual(
      events.seen.map((e) => [e.type, e.payload.path]),
      [['fs.created', 'late.txt']],
    );
    // fs.watch handles finish closing in the loop's close phase, a few turns later.
    for (let turn = 0; turn < 100 && activeHandles('FSEventWrap') > before; turn++)
      await new Promise((r) => setImmediate(r));
    assert.equal(activeHandles('FSEventWrap'), before);
  });

  it('watches at most watcher.max_folders folders and says so once (each takes an OS watch from a shared pool)', async () => {
    await fs.mkdir(file('a'));
    await fs.mkdir(file('b'));
    const lines: string[] = [];
    const config = defaultConfig(ws);
    Object.assign(config.watcher, { debounceMs: 50, maxFolders: 3 });
    watcher = await startWatcher(bus, config, createLogger({ sink: (l) => lines.push(l) }));
    for (const dir of ['c', 'd']) await fs.mkdir(file(dir));
    await events.next((e) => e.type === 'fs.created' && e.payload.path === 'd');
    await fs.writeFile(file('c/unseen.txt'), 'x');
    await fs.writeFile(file('a/seen.txt'), 'x');
    await events.next((e) => e.type === 'fs.created' && e.payload.path === 'a/seen.txt');
    await new Promise((r) => setTimeout(r, 200)); // past the window of c/unseen.txt, had it been seen
    assert.deepEqual(forPath('c/unseen.txt'), [], 'a folder past the limit is not watched');
    const warnings = lines.filter((l) => l.includes('the most watcher.max_folders allows'));
    assert.equal(warnings.length, 1, lines.join('\n'));
    assert.match(warnings[0], /3 folders watched/);
  });

  it('does nothing when disabled', async () => {
    const before = activeHandles('FSEventWrap');
    await start({ enabled: false });
    assert.equal(activeHandles('FSEventWrap'), before);
  });
});
