// Races against the file tools: a separate process swaps ws/dir between a real folder and a symlink
// to the outside folder as fast as it can, while each tool is called in a loop for a few seconds
// on paths through ws/dir. Whatever the timing, the outside folder must stay byte-identical and no
// output may carry outside data. Before the tools walked from held directories, this let fs:delete
// remove, fs:write create and fs:list list outside files.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { expectError, expectOk, SECRET } from './helpers';
import { fdCount, type FsFixture, makeFsFixture, record, startSwapper, text } from './fs-helpers';

/** Per tool; LOOM_RACE_MS shortens or lengthens every race. */
const RACE_MS = Number(process.env.LOOM_RACE_MS ?? 5_000);
const ONLY_OUTSIDE = 'only-outside-marker.txt';

const linux = process.platform === 'linux' && fs.existsSync('/proc/self/fd');

(linux ? describe : describe.skip)('tools: file tools against a folder swapped for a symlink (races)', function () {
  this.timeout(RACE_MS * 3 + 20_000);
  let f: FsFixture;
  let outsideBefore: Record<string, string>;

  beforeEach(() => {
    f = makeFsFixture();
    // The outside folder holds the secret under the same names the inside folder uses, and a name only it has.
    fs.mkdirSync(path.join(f.outside, 'sub'));
    fs.writeFileSync(path.join(f.outside, 'sub', 'file.txt'), SECRET);
    fs.writeFileSync(path.join(f.outside, ONLY_OUTSIDE), SECRET);
    const dir = path.join(f.ws, 'dir');
    fs.mkdirSync(path.join(dir, 'sub'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'secret.txt'), 'inside');
    fs.writeFileSync(path.join(dir, 'sub', 'file.txt'), 'inside');
    outsideBefore = record(f.outside);
  });

  afterEach(() => f.cleanup());

  /**
   * Calls every argument set in turn for RACE_MS while the swapper runs; then the outside folder
   * must be unchanged and no outcome may hold the secret or an outside-only name. Returns the
   * outcomes by status/code, so a test can show that both sides of the race were met.
   */
  async function race(tool: string, argSets: Array<Record<string, unknown>>): Promise<Record<string, number>> {
    const swapper = startSwapper(path.join(f.ws, 'dir'), f.outside);
    const seen: Record<string, number> = {};
    let calls = 0;
    try {
      const until = Date.now() + RACE_MS;
      while (Date.now() < until) {
        for (const args of argSets) {
          const out = await f.call(tool, args);
          calls++;
          const key = out.status === 'ok' ? 'ok' : out.error.code;
          seen[key] = (seen[key] ?? 0) + 1;
          assert.ok(
            !text(out).includes(SECRET),
            `${tool} ${JSON.stringify(args)} returned outside data: ${text(out).slice(0, 300)}`,
          );
          assert.ok(
            !text(out).includes(ONLY_OUTSIDE),
            `${tool} ${JSON.stringify(args)} listed the outside folder: ${text(out).slice(0, 300)}`,
          );
        }
      }
    } finally {
      const rounds = await swapper.stop();
      assert.ok(rounds > 100, `the swapper only managed ${rounds} rounds`);
    }
    assert.deepEqual(record(f.outside), outsideBefore, `${tool} changed the outside folder during the race`);
    assert.ok(calls > 50, `only ${calls} calls in ${RACE_MS} ms`);
    return seen;
  }

  it('fs:read never returns an outside file (and met both the folder and the symlink)', async () => {
    const seen = await race('fs:read', [
      { path: 'dir/secret.txt' },
      { path: 'dir/sub/file.txt' },
      { path: 'dir/../dir/sub/../secret.txt' },
    ]);
    assert.ok(seen.ok > 0 && seen.denied > 0, `expected reads inside and refusals, got ${JSON.stringify(seen)}`);
  });

  it('fs:write never writes, truncates or creates an outside file', async () => {
    const seen = await race('fs:write', [
      { path: 'dir/secret.txt', content: 'overwritten' },
      { path: 'dir/sub/file.txt', content: '', append: false },
      { path: 'dir/sub/file.txt', content: 'appended', append: true },
      { path: 'dir/created.txt', content: 'new file' },
    ]);
    assert.ok(seen.ok > 0 && seen.denied > 0, `expected writes inside and refusals, got ${JSON.stringify(seen)}`);
    assert.equal(fs.existsSync(path.join(f.outside, 'created.txt')), false);
  });

  it('fs:write with create_dirs never makes a folder outside', async () => {
    const seen = await race('fs:write', [
      { path: 'dir/new/deep/x.txt', content: 'x', create_dirs: true },
      { path: 'dir/sub/made/y.txt', content: 'y', create_dirs: true },
    ]);
    assert.ok(seen.ok > 0, `expected some writes inside, got ${JSON.stringify(seen)}`);
    assert.equal(fs.existsSync(path.join(f.outside, 'new')), false);
    assert.equal(fs.existsSync(path.join(f.outside, 'sub', 'made')), false);
  });

  it('fs:list (recursive) never lists the outside folder', async () => {
    const seen = await race('fs:list', [
      { path: 'dir', recursive: true },
      { path: '.', recursive: true },
      { path: 'dir/sub' },
    ]);
    assert.ok(seen.ok > 0, `expected listings, got ${JSON.stringify(seen)}`);
  });

  it('fs:delete (recursive) never removes an outside file', async () => {
    const seen = await race('fs:delete', [
      { path: 'dir/sub', recursive: true },
      { path: 'dir/secret.txt' },
      { path: 'dir', recursive: true },
    ]);
    assert.ok(seen.ok > 0, `expected deletes inside, got ${JSON.stringify(seen)}`);
  });
});

(linux ? describe : describe.skip)('tools: file tools hold no descriptor after a call', () => {
  let f: FsFixture;
  beforeEach(() => {
    f = makeFsFixture();
  });
  afterEach(() => f.cleanup());

  it('the count in /proc/self/fd is the same after 600 calls of every tool: ok, refused, missing and malformed', async () => {
    const ws = f.ws;
    fs.mkdirSync(path.join(ws, 'a/b/c'), { recursive: true });
    fs.writeFileSync(path.join(ws, 'a/b/c/f.txt'), 'f');
    fs.symlinkSync(f.outside, path.join(ws, 'out'));
    fs.symlinkSync('loop2', path.join(ws, 'loop1'));
    fs.symlinkSync('loop1', path.join(ws, 'loop2'));
    fs.linkSync(path.join(f.outside, 'secret.txt'), path.join(ws, 'hard'));
    const calls: Array<[string, Record<string, unknown>]> = [
      ['fs:read', { path: 'a/b/c/f.txt' }],
      ['fs:read', { path: 'out/secret.txt' }],
      ['fs:read', { path: 'loop1' }],
      ['fs:read', { path: 'a/b' }],
      ['fs:read', { path: 'missing/x' }],
      ['fs:write', { path: 'a/b/c/g.txt', content: 'g' }],
      ['fs:write', { path: 'a/new/deep/h.txt', content: 'h', create_dirs: true }],
      ['fs:write', { path: 'hard', content: 'x' }],
      ['fs:write', { path: '.git/config', content: 'x', create_dirs: true }],
      ['fs:write', { path: '../outside/x', content: 'x' }],
      ['fs:list', { path: '.', recursive: true }],
      ['fs:list', { path: 'out' }],
      ['fs:list', { path: 'a/b/c/f.txt' }],
      ['fs:delete', { path: 'a/new', recursive: true }],
      ['fs:delete', { path: 'a/b/c/g.txt' }],
      ['fs:delete', { path: '.' }],
      ['fs:delete', { path: 'a', recursive: false }],
    ];
    const round = async () => {
      for (const [tool, args] of calls) await f.call(tool, args);
    };
    await round(); // warm up whatever Node opens once
    const before = fdCount();
    for (let i = 0; i < 35; i++) await round();
    assert.equal(fdCount(), before, 'file tool calls left descriptors open');
    // and they did what they say
    expectOk(await f.call('fs:read', { path: 'a/b/c/f.txt' }));
    expectError(await f.call('fs:write', { path: 'hard', content: 'x' }), 'denied', 'hard links');
  });
});
