// Small files the runtime reads on its event loop from places others can change never make it
// wait. Reading a FIFO named .git, a worktree's commondir or a workspace venv's pyvenv.cfg blocked
// until something wrote to it: every file tool call (or confined launch) after that stopped the
// whole runtime. An extracted archive or an agent's own process can leave one there. Each lookup
// runs in a child process with a time limit, so a regression fails here instead of hanging the suite.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { coreHooksPath } from '../../../runtime/contract/protectedPlaces';

const REPO = path.resolve(__dirname, '..', '..', '..');
const mod = (p: string) => JSON.stringify(path.join(REPO, p));

/** Runs `body` (CommonJS, `root` bound to the workspace) in a child process given 15 s; its printed JSON. */
function inChild<T>(root: string, body: string): T {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', `const root = process.argv[1];\n${body}`, root], {
    cwd: REPO,
    encoding: 'utf8',
    timeout: 15_000,
  });
  assert.equal(r.error, undefined, `the lookup did not finish: ${String(r.error)} (it waits on a FIFO)`);
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as T;
}

describe('contract: files read on the event loop, where a FIFO stands in for them', () => {
  let ws: string;
  beforeEach(() => (ws = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'loom-plain-files-')))));
  afterEach(() => fs.rmSync(ws, { recursive: true, force: true }));

  const protectedPlaces = () =>
    inChild<{ realPaths: Array<{ place: string; real: string }>; identities: number }>(
      ws,
      `const { protectedRealPaths } = require(${mod('runtime/contract/protectedPlaces')});
       const { protectedIdentities } = require(${mod('runtime/tools/fsat/places')});
       console.log(JSON.stringify({ realPaths: protectedRealPaths(root), identities: protectedIdentities([root]).size }));`,
    );

  it('a FIFO named .git is protected, by its name and identity, and never read', () => {
    execFileSync('mkfifo', [path.join(ws, '.git')]);
    const found = protectedPlaces();
    assert.deepEqual(found.realPaths, [{ place: '.git', real: path.join(ws, '.git') }]);
    assert.equal(found.identities, 1, 'the FIFO itself');
  });

  it("a worktree's commondir that is a FIFO is not read; the gitdir it sits in is still protected", () => {
    fs.mkdirSync(path.join(ws, 'wt'));
    execFileSync('mkfifo', [path.join(ws, 'wt', 'commondir')]);
    fs.writeFileSync(path.join(ws, '.git'), 'gitdir: wt\n');
    const found = protectedPlaces();
    assert.deepEqual(
      found.realPaths.map((p) => p.real),
      [path.join(ws, '.git'), path.join(ws, 'wt')],
    );
    assert.equal(found.identities, 1, 'wt, the folder the .git file names');
  });

  it("a workspace venv whose pyvenv.cfg is a FIFO: an agent's confined launch is worked out without reading it", () => {
    const venv = path.join(ws, '.venv');
    fs.mkdirSync(path.join(venv, 'bin'), { recursive: true });
    fs.symlinkSync('/usr/bin/python3', path.join(venv, 'bin', 'python'));
    execFileSync('mkfifo', [path.join(venv, 'pyvenv.cfg')]);
    const launched = inChild<{ file: string }>(
      ws,
      `const { defaultConfig } = require(${mod('runtime/config/defaults')});
       const { confineProcess } = require(${mod('runtime/tools/isolation')});
       const launch = confineProcess(defaultConfig(root), { isolation: 'best-effort', network: false, readOnlyPaths: [] },
         require('node:path').join(root, '.venv/bin/python'), ['-c', 'pass'], root, 'agent test', 'agents.test.isolation');
       launch.cleanup();
       console.log(JSON.stringify({ file: launch.file }));`,
    );
    assert.ok(launched.file, 'a launch was worked out');
  });
});

describe("contract: core.hooksPath as git reads a repository's config", () => {
  it('takes the last value of the core section, in any case, quoted or with a comment after it', () => {
    assert.equal(coreHooksPath('[core]\n\tbare = false\n\thooksPath = .githooks\n'), '.githooks');
    assert.equal(coreHooksPath('[CORE]\n  HooksPath = ".husky/_" # husky\n'), '.husky/_');
    assert.equal(coreHooksPath('[core] hooksPath = a ; x\n[core]\nhookspath = b\n'), 'b');
    assert.equal(
      coreHooksPath('[core]\nhooksPath = "with \\"quote\\" # not a comment"\n'),
      'with "quote" # not a comment',
    );
  });

  it('ignores the key in other sections and subsections, and an empty value', () => {
    assert.equal(coreHooksPath('[remote "origin"]\n\thooksPath = x\n[core "y"]\nhooksPath = z\n'), undefined);
    assert.equal(coreHooksPath('[core]\nhooksPath =\n'), undefined);
    assert.equal(coreHooksPath(''), undefined);
  });
});
