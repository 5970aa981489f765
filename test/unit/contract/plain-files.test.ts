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
import { gitConfigEntries, gitPlaces } from '../../../runtime/contract/gitConfig';

const REPO = path.resolve(__dirname, '..', '..', '..');
const mod = (p: string) => JSON.stringify(path.join(REPO, p));

/**
 * Runs `body` (CommonJS, `root` bound to the workspace) in a child process given 15 s; its printed
 * JSON. Without this machine's system and personal git configs, which would be protected places too.
 */
function inChild<T>(root: string, body: string): T {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', `const root = process.argv[1];\n${body}`, root], {
    cwd: REPO,
    encoding: 'utf8',
    timeout: 15_000,
    env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: path.join(root, 'absent', 'gitconfig') },
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
      // The places that exist (the absent GIT_CONFIG_GLOBAL is listed as one to keep from being made).
      `const { protectedRealPaths } = require(${mod('runtime/contract/protectedPlaces')});
       const { protectedIdentities } = require(${mod('runtime/tools/fsat/places')});
       const realPaths = protectedRealPaths(root).filter((p) => !p.missing);
       console.log(JSON.stringify({ realPaths, identities: protectedIdentities([root]).size }));`,
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

describe("contract: a repository's git config, as git reads it", () => {
  const hooksPathOf = (text: string) =>
    gitConfigEntries(text)
      .filter((e) => e.section === 'core' && e.subsection === undefined && e.key === 'hookspath')
      .at(-1)?.value;

  it('reads sections, subsections, quotes, escapes and comments', () => {
    assert.equal(hooksPathOf('[core]\n\tbare = false\n\thooksPath = .githooks\n'), '.githooks');
    assert.equal(hooksPathOf('[CORE]\n  HooksPath = ".husky/_" # husky\n'), '.husky/_');
    assert.equal(hooksPathOf('[core] hooksPath = a ; x\n[core]\nhookspath = b\n'), 'b');
    assert.equal(
      hooksPathOf('[core]\nhooksPath = "with \\"quote\\" # not a comment"\n'),
      'with "quote" # not a comment',
    );
    assert.equal(hooksPathOf('[remote "origin"]\n\thooksPath = x\n[core "y"]\nhooksPath = z\n'), undefined);
    // Continuation lines, and a second header on the header's line, as git reads them.
    assert.equal(hooksPathOf('[core]\n\thooksPath = .h\\\nk\n'), '.hk');
    assert.equal(hooksPathOf('[user][core]hooksPath=.hk\n'), '.hk');
    assert.deepEqual(gitConfigEntries('[includeIf "gitdir:~/w/"]\n\tpath = ../x.cfg\n[include.sub]\npath=y\n'), [
      { section: 'includeif', subsection: 'gitdir:~/w/', key: 'path', value: '../x.cfg' },
      { section: 'include', subsection: 'sub', key: 'path', value: 'y' },
    ]);
  });

  it("follows include.path and includeIf paths (a work-tree file named there is .git/config's), and finds the hooks folder (husky's parent)", () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'loom-gitcfg-'));
    try {
      fs.mkdirSync(path.join(root, '.git'));
      fs.writeFileSync(
        path.join(root, '.git', 'config'),
        '[include]\n\tpath = ../team.gitconfig\n[includeIf "onbranch:main"]\n\tpath = ../loop.gitconfig\n',
      );
      fs.writeFileSync(
        path.join(root, 'team.gitconfig'),
        '[core]\n\thooksPath = .husky/_\n[include]\n\tpath = more.gitconfig\n',
      );
      // An include of an include of itself ends (git's depth limit is 10).
      fs.writeFileSync(path.join(root, 'loop.gitconfig'), '[include]\n\tpath = loop.gitconfig\n');
      const places = gitPlaces(root, [path.join(root, '.git', 'config')]);
      assert.deepEqual(
        [...new Set(places.includes)].sort(),
        ['loop.gitconfig', 'more.gitconfig', 'team.gitconfig'].map((f) => path.join(root, f)),
      );
      assert.equal(places.hooks, path.join(root, '.husky'));
      fs.writeFileSync(path.join(root, 'team.gitconfig'), '[core]\n\thooksPath = .git-hooks\n');
      assert.equal(gitPlaces(root, [path.join(root, '.git', 'config')]).hooks, path.join(root, '.git-hooks'));
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
