// What the runtime writes stays the user's and stays in the workspace: data_dir refused outside
// it (exit 2, nothing created), the data folder, discovery file and store private (real stat()
// of a real runtime's files), and --print-events never writes a control character to stdout.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  realpathSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  buildRuntime,
  makeWorkspace,
  removeWorkspaces,
  RUNTIME_JS,
  startRuntime,
  stopAllRuntimes,
} from './helpers/runtime';
import { call, connect, event } from '../support/grpc';

const mode = (p: string) => statSync(p).mode & 0o777;
const octal = (m: number) => '0' + m.toString(8);

/** path → mode of the folder and every file in it, for one readable assertion. */
function modes(folder: string): Record<string, string> {
  const out: Record<string, string> = { '.': octal(mode(folder)) };
  for (const name of readdirSync(folder)) out[name] = octal(mode(join(folder, name)));
  return out;
}

describe('privacy: data_dir inside the workspace, private files, a safe --print-events', function () {
  this.timeout(60_000);
  let base: string;
  let ws: string;
  before(() => buildRuntime());
  beforeEach(() => {
    // The workspace sits alone in a folder of its own, so anything created beside it shows.
    base = realpathSync(mkdtempSync(join(tmpdir(), 'loom-privacy-')));
    ws = join(base, 'ws');
    mkdirSync(ws);
  });
  afterEach(async () => {
    await stopAllRuntimes();
    rmSync(base, { recursive: true, force: true });
  });
  after(() => removeWorkspaces());

  const run = (args: string[]) =>
    spawnSync(process.execPath, [RUNTIME_JS, '--workspace', ws, ...args], { encoding: 'utf8', timeout: 30_000 });

  function assertRefused(r: ReturnType<typeof run>, why: RegExp): void {
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /bad configuration/);
    assert.match(r.stderr, /runtime\.data_dir: /);
    assert.match(r.stderr, why);
  }

  describe('data_dir outside the workspace: exit 2 naming the key, no folder created anywhere', () => {
    const spellings = (): [string, RegExp][] => [
      [join(base, 'abs-data'), /is an absolute path/],
      ['../escaped', /leads out of the workspace/],
      ['a/../../escaped', /leads out of the workspace/],
    ];
    for (const trust of ['trusted', 'untrusted'] as const) {
      const flags = trust === 'untrusted' ? ['--untrusted'] : [];

      it(`from loom.toml, ${trust}`, () => {
        for (const [dir, why] of spellings()) {
          writeFileSync(join(ws, 'loom.toml'), `[runtime]\ndata_dir = ${JSON.stringify(dir)}\n`);
          assertRefused(run(flags), why);
          assert.match(run(flags).stderr, /keep its token and store outside the folder the tools protect/);
          assert.deepEqual(readdirSync(base), ['ws']);
          assert.deepEqual(readdirSync(ws), ['loom.toml']);
        }
      });

      it(`from --overrides, ${trust}`, () => {
        for (const [dir, why] of spellings()) {
          assertRefused(run([...flags, '--overrides', JSON.stringify({ runtime: { dataDir: dir } })]), why);
          assert.deepEqual(readdirSync(base), ['ws']);
          assert.deepEqual(readdirSync(ws), []);
        }
      });

      it(`through a symbolic link leading outside, ${trust}`, () => {
        const outside = join(base, 'outside');
        mkdirSync(outside, { mode: 0o755 });
        chmodSync(outside, 0o755);
        symlinkSync(outside, join(ws, '.loom'));
        assertRefused(run(flags), new RegExp(`leads to ${outside} through a symbolic link, outside the workspace`));
        symlinkSync(outside, join(ws, 'state'));
        writeFileSync(join(ws, 'loom.toml'), '[runtime]\ndata_dir = "state/loom"\n');
        assertRefused(run(flags), /through a symbolic link, outside the workspace/);
        assert.deepEqual(readdirSync(outside), []);
        assert.equal(mode(outside), 0o755, 'the outside folder was not touched');
      });
    }
  });

  describe("the runtime's files are private (stat of a real runtime's files)", () => {
    it('a fresh workspace: data folder 0700, discovery file 0600, store folder 0700 and its files 0600, also after exit', async () => {
      const rt = await startRuntime(ws);
      const data = join(ws, '.loom');
      assert.equal(mode(data), 0o700);
      assert.equal(mode(rt.discoveryFile), 0o600);
      const store = join(data, 'store');
      const files = readdirSync(store);
      assert.ok(
        files.includes('CURRENT') && files.includes('LOCK') && files.some((f) => f.startsWith('MANIFEST-')),
        files.join(', '),
      );
      const everyFile = (m: string) => Object.fromEntries([['.', '0700'], ...readdirSync(store).map((f) => [f, m])]);
      assert.deepEqual(modes(store), everyFile('0600'));

      // Write through the store so LevelDB has data to flush on close.
      const info = rt.discovery();
      const c = connect(info.address, { token: info.token, agentId: 'privacy-test' });
      await call(c.runtime, 'Publish', { topic: 'privacy.note', event: event('note', { text: 'secret' }) });
      c.close();
      await rt.stop('SIGTERM');
      assert.equal(rt.exitCode, 0, rt.stderrText.join('\n'));
      assert.equal(mode(data), 0o700);
      assert.deepEqual(modes(store), everyFile('0600'));
    });

    it('an existing data folder, store and log with wider bits are narrowed at start', async () => {
      const data = join(ws, 'state');
      const store = join(data, 'store');
      mkdirSync(store, { recursive: true });
      writeFileSync(join(data, 'runtime.log'), 'older output\n', { mode: 0o644 });
      writeFileSync(join(store, 'LOG.old'), 'older LevelDB log\n', { mode: 0o666 });
      chmodSync(join(data, 'runtime.log'), 0o644);
      chmodSync(join(store, 'LOG.old'), 0o666);
      chmodSync(data, 0o755);
      chmodSync(store, 0o777);
      writeFileSync(join(ws, 'loom.toml'), '[runtime]\ndata_dir = "state"\n');
      // A file of the workspace beside the data folder keeps its mode: nothing process-wide changed.
      writeFileSync(join(ws, 'notes.txt'), 'mine\n', { mode: 0o644 });
      chmodSync(join(ws, 'notes.txt'), 0o644);

      const rt = await startRuntime(ws, [], { ready: false });
      await rt.waitFor(
        'the runtime to start',
        () => rt.logs.some((l) => l.msg === 'runtime started') || rt.exitCode !== null,
      );
      assert.equal(rt.exitCode, null, rt.stderrText.join('\n'));
      assert.equal(mode(data), 0o700);
      assert.equal(mode(join(data, 'runtime.log')), 0o600);
      assert.equal(mode(join(data, 'runtime.json')), 0o600);
      assert.equal(mode(store), 0o700);
      for (const [name, m] of Object.entries(modes(store))) if (name !== '.') assert.equal(m, '0600', `store/${name}`);
      assert.equal(mode(join(ws, 'notes.txt')), 0o644);
      await rt.stop('SIGTERM');
      assert.equal(rt.exitCode, 0);
    });
  });

  describe('--print-events', () => {
    it('prints topic, type and payload of a hostile event with its control characters escaped', async () => {
      const rt = await startRuntime(makeWorkspace(), ['--print-events', 'demo.>']);
      const info = rt.discovery();
      const c = connect(info.address, { token: info.token, agentId: 'printer-test' });
      const osc = '\x1b]0;pwned\x07';
      const clear = '\x1b[2J';
      await call(c.runtime, 'Publish', {
        topic: `demo.${osc}${clear}`,
        event: {
          ...event(`t${clear}`, {}),
          source: `src${osc}`,
          payload: Buffer.from(`hello ${osc}${clear}\u202eevil\u2066 \x9b31m`),
        },
      });
      await call(c.runtime, 'Publish', { topic: 'demo.after', event: event('after', {}) });
      await rt.waitFor('the second event', () => rt.stdoutLines.find((l) => l.includes('demo.after')));
      const out = rt.stdoutLines.join('\n');
      assert.equal(/[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028-\u202e\u2066-\u2069]/.test(out), false, JSON.stringify(out));
      const line = rt.stdoutLines.find((l) => l.includes('pwned'));
      assert.ok(line, out);
      assert.match(
        line,
        /^\d\d:\d\d:\d\d\.\d{3}  demo\.\\x1b\]0;pwned\\x07\\x1b\[2J  t\\x1b\[2J  from printer-test  hello \\x1b\]0;pwned\\x07\\x1b\[2J\\u202eevil\\u2066 \\x9b31m$/,
      );
      c.close();
      await rt.stop();
    });
  });
});
