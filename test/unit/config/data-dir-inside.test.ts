// [runtime] data_dir stays inside the workspace: refused spellings (loom.toml and overrides,
// trusted or not), dataDirOf's fallback, and openDataDir's real-path check and modes.
import { strict as assert } from 'node:assert';
import {
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, dataDirOf, loadConfig } from '../../../runtime/config';
import { openDataDir } from '../../../runtime/config/dataDir';

const REFUSED: [spelling: string, why: RegExp][] = [
  ['/tmp/loom-data', /is an absolute path/],
  ['..', /leads out of the workspace/],
  ['../x', /leads out of the workspace/],
  ['a/../../x', /leads out of the workspace/],
  ['./../x', /leads out of the workspace/],
  ['.', /is the workspace itself/],
  ['a/..', /is the workspace itself/],
  ['  ', /must be a non-empty folder name/],
];
const ACCEPTED = ['state', 'state/loom', 'a/../b', '..x', './.loom'];

function isDataDirError(file: RegExp, why: RegExp) {
  return (err: unknown) => {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    assert.match(err.message, file);
    assert.match(err.message, /runtime\.data_dir: /);
    assert.match(err.message, why);
    return true;
  };
}

describe('config: data_dir stays inside the workspace', () => {
  let base: string;
  let ws: string;
  beforeEach(() => {
    base = realpathSync(mkdtempSync(join(tmpdir(), 'loom-datadir-inside-')));
    ws = join(base, 'ws');
    mkdirSync(ws);
  });
  afterEach(() => rmSync(base, { recursive: true, force: true }));
  const toml = (dir: string) => writeFileSync(join(ws, 'loom.toml'), `[runtime]\ndata_dir = ${JSON.stringify(dir)}\n`);

  for (const [spelling, why] of REFUSED) {
    it(`loom.toml data_dir = ${JSON.stringify(spelling)} is refused, trusted or not`, async () => {
      toml(spelling);
      await assert.rejects(loadConfig(ws), isDataDirError(/^loom\.toml:\d+:\d+: /, why));
      await assert.rejects(
        loadConfig(ws, { runtime: { trusted: false } }),
        isDataDirError(/^loom\.toml:\d+:\d+: /, why),
      );
    });

    it(`overrides data_dir ${JSON.stringify(spelling)} is refused, trusted or not`, async () => {
      await assert.rejects(loadConfig(ws, { runtime: { dataDir: spelling } }), isDataDirError(/^overrides: /, why));
      await assert.rejects(
        loadConfig(ws, { runtime: { dataDir: spelling, trusted: false } }),
        isDataDirError(/^overrides: /, why),
      );
    });
  }

  it('an override cannot bring back a data_dir the file got right, nor a file fix a bad override', async () => {
    toml('state');
    await assert.rejects(loadConfig(ws, { runtime: { dataDir: '../x' } }), isDataDirError(/^overrides: /, /leads out/));
    toml('/abs');
    await assert.rejects(
      loadConfig(ws, { runtime: { dataDir: 'state' } }),
      isDataDirError(/^loom\.toml:\d+:\d+: /, /absolute/),
    );
  });

  it('says why: the token and the store would be outside what the tools protect', async () => {
    toml('../elsewhere');
    await assert.rejects(
      loadConfig(ws),
      /runtime\.data_dir: leads out of the workspace with "\.\." \(got "\.\.\/elsewhere"\): it must name a folder inside the workspace, or the runtime would keep its token and store outside the folder the tools protect/,
    );
  });

  it('a data_dir override that is not a string is refused naming the key', async () => {
    await assert.rejects(
      loadConfig(ws, { runtime: { dataDir: 5 as unknown as string } }),
      isDataDirError(/^overrides: /, /non-empty folder name \(got 5\)/),
    );
  });

  for (const spelling of ACCEPTED) {
    it(`accepts ${JSON.stringify(spelling)}`, async () => {
      toml(spelling);
      assert.equal((await loadConfig(ws)).runtime.dataDir, spelling);
      assert.equal(dataDirOf(ws), spelling);
    });
  }

  for (const [spelling] of REFUSED) {
    it(`dataDirOf falls back to .loom for ${JSON.stringify(spelling)} and creates nothing`, () => {
      toml(spelling);
      assert.equal(dataDirOf(ws), '.loom');
      assert.deepEqual(readdirSync(ws), ['loom.toml']);
      assert.deepEqual(readdirSync(base), ['ws']);
    });
  }

  describe('openDataDir (the runtime creating its folder)', () => {
    it('creates the folder 0700 and returns its real path', async () => {
      const dir = await openDataDir(ws, 'state/loom');
      assert.equal(dir, join(ws, 'state', 'loom'));
      assert.equal(statSync(dir).mode & 0o777, 0o700);
    });

    it('writes a .gitignore of "*" in it: git stages none of the token, store or log', async () => {
      execFileSync('git', ['init', '-q', ws]);
      const dir = await openDataDir(ws, '.loom');
      writeFileSync(join(dir, 'runtime.json'), '{"token":"x"}');
      writeFileSync(join(ws, 'kept.txt'), 'x');
      const status = execFileSync('git', ['-C', ws, 'status', '--porcelain', '--untracked-files=all'], {
        encoding: 'utf8',
      });
      assert.equal(status, '?? kept.txt\n');
      // One the person changed is theirs: kept as it is.
      writeFileSync(join(dir, '.gitignore'), 'store/\n');
      await openDataDir(ws, '.loom');
      assert.equal(readFileSync(join(dir, '.gitignore'), 'utf8'), 'store/\n');
    });

    it('narrows an existing folder with wider bits to 0700', async () => {
      mkdirSync(join(ws, '.loom'), { mode: 0o755 });
      await openDataDir(ws, '.loom');
      assert.equal(statSync(join(ws, '.loom')).mode & 0o777, 0o700);
    });

    it('refuses the spellings loadConfig refuses, before creating anything', async () => {
      for (const [spelling, why] of REFUSED) {
        await assert.rejects(openDataDir(ws, spelling), isDataDirError(new RegExp(`^${ws}: `), why));
      }
      assert.deepEqual(readdirSync(ws), []);
      assert.deepEqual(readdirSync(base), ['ws']);
    });

    it('refuses a data folder that a symbolic link leads outside, and creates nothing there', async () => {
      const outside = join(base, 'outside');
      mkdirSync(outside);
      const modeBefore = statSync(outside).mode;
      symlinkSync(outside, join(ws, '.loom'));
      await assert.rejects(
        openDataDir(ws, '.loom'),
        isDataDirError(/: /, new RegExp(`leads to ${outside} through a symbolic link, outside the workspace`)),
      );
      symlinkSync(outside, join(ws, 'link'));
      await assert.rejects(
        openDataDir(ws, 'link/deeper/loom'),
        isDataDirError(/: /, /through a symbolic link, outside the workspace/),
      );
      assert.deepEqual(readdirSync(outside), []);
      assert.equal(statSync(outside).mode, modeBefore);
    });

    it('refuses a symbolic link to the workspace itself and one that leads nowhere', async () => {
      symlinkSync(ws, join(ws, 'self'));
      await assert.rejects(
        openDataDir(ws, 'self'),
        isDataDirError(/: /, /leads to the workspace itself through a symbolic link/),
      );
      symlinkSync(join(base, 'missing'), join(ws, 'dangling'));
      await assert.rejects(openDataDir(ws, 'dangling'), isDataDirError(/: /, /cannot be resolved/));
      assert.equal(existsSync(join(base, 'missing')), false);
    });

    it('follows a symbolic link that stays inside the workspace', async () => {
      mkdirSync(join(ws, 'real'));
      symlinkSync(join(ws, 'real'), join(ws, 'alias'));
      assert.equal(await openDataDir(ws, 'alias/loom'), join(ws, 'real', 'loom'));
      symlinkSync(ws, join(ws, 'self'));
      assert.equal(await openDataDir(ws, 'self/state'), join(ws, 'state'));
    });

    it('refuses a data folder another user owns', async function () {
      if (process.getuid?.() !== 0) this.skip(); // only root can give a folder away
      mkdirSync(join(ws, '.loom'), { mode: 0o700 });
      chownSync(join(ws, '.loom'), 65534, 65534);
      await assert.rejects(
        openDataDir(ws, '.loom'),
        isDataDirError(/: /, /belongs to uid 65534, not to the user running the runtime/),
      );
    });
  });
});
