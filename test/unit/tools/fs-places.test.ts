// The places the file tools treat specially, on real files: files with several hard links (never
// written), the runtime's data folder (never seen, by any tool and any spelling of its path), and
// loom.toml / .git / .vscode (changed only when tools.fs.protected_writes = "ask" and a person
// agrees). Plus the walk itself (symlinks followed by hand) and the fallback without /proc.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { LoomConfig } from '../../../runtime/config/types';
import { silentLogger } from '../../../runtime/log';
import { fsTools } from '../../../runtime/tools/builtin/fs';
import { ConfinedFs } from '../../../runtime/tools/fsat';
import { DefaultToolRegistry } from '../../../runtime/tools/registry';
import type { ConfirmFn } from '../../../runtime/tools/builtin';
import { anotherRuntimeInside, expectError, expectOk, SECRET } from './helpers';
import { type FsFixture, makeFsFixture, record, text } from './fs-helpers';

function fixture(adjust?: (c: LoomConfig) => void, confirm?: ConfirmFn): () => FsFixture {
  let f: FsFixture;
  beforeEach(() => {
    f = makeFsFixture(adjust, confirm);
  });
  afterEach(() => f.cleanup());
  return () => f;
}

describe('tools: files with more than one hard link', () => {
  const fx = fixture();
  let outsideFile = '';
  beforeEach(() => {
    // A second name inside the workspace for the outside secret, as if made before the agent ran.
    outsideFile = path.join(fx().outside, 'secret.txt');
    fs.linkSync(outsideFile, path.join(fx().ws, 'linked.txt'));
  });

  const unchanged = () => assert.equal(fs.readFileSync(outsideFile, 'utf8'), SECRET);

  it('a write through a 2-link file is refused, naming the path and the link count; the outside file is unchanged', async () => {
    expectError(
      await fx().call('fs:write', { path: 'linked.txt', content: 'pwned' }),
      'denied',
      '"linked.txt": it has 2 hard links and might be a link to a file outside the workspace',
    );
    unchanged();
  });

  it('an empty write (a truncation) is refused and truncates nothing', async () => {
    expectError(await fx().call('fs:write', { path: 'linked.txt', content: '' }), 'denied', '2 hard links');
    unchanged();
  });

  it('an append is refused', async () => {
    expectError(
      await fx().call('fs:write', { path: 'linked.txt', content: 'more', append: true }),
      'denied',
      '2 hard links',
    );
    unchanged();
  });

  it('fs:write_file (the alias) refuses it too', async () => {
    expectError(await fx().call('fs:write_file', { path: 'linked.txt', content: 'pwned' }), 'denied', '2 hard links');
    unchanged();
  });

  it('a write through a symlink to the 2-link file is refused', async () => {
    fs.symlinkSync('linked.txt', path.join(fx().ws, 'via-link'));
    expectError(
      await fx().call('fs:write', { path: 'via-link', content: 'pwned' }),
      'denied',
      '"via-link": it has 2 hard links',
    );
    unchanged();
  });

  it('a file with 3 links says 3', async () => {
    fs.linkSync(outsideFile, path.join(fx().ws, 'third.txt'));
    expectError(await fx().call('fs:write', { path: 'third.txt', content: 'x' }), 'denied', 'it has 3 hard links');
    unchanged();
  });

  it('reading it stays allowed (pnpm installs node_modules as hard links)', async () => {
    assert.equal(expectOk(await fx().call('fs:read', { path: 'linked.txt' })).content, SECRET);
  });

  it('deleting the link removes that name only; the other name keeps its bytes', async () => {
    expectOk(await fx().call('fs:delete', { path: 'linked.txt' }));
    assert.equal(fs.existsSync(path.join(fx().ws, 'linked.txt')), false);
    unchanged();
    assert.equal(fs.statSync(outsideFile).nlink, 1);
  });

  it('after the other name is gone the file has one link and may be written (control)', async () => {
    fs.unlinkSync(path.join(fx().ws, 'linked.txt'));
    fs.writeFileSync(path.join(fx().ws, 'single.txt'), 'one');
    expectOk(await fx().call('fs:write', { path: 'single.txt', content: 'two' }));
    assert.equal(fs.readFileSync(path.join(fx().ws, 'single.txt'), 'utf8'), 'two');
  });
});

describe("tools: the runtime's data folder is invisible", () => {
  const TOKEN = 'bridge-token-never-shown';

  /** A fixture whose data folder (`dataDir`, given the workspace) exists and holds the token; after each test it must be byte-identical. */
  function withData(dataDir: (ws: string) => string) {
    let f: FsFixture;
    let data = '';
    let before: Record<string, string> = {};
    beforeEach(() => {
      f = makeFsFixture((c) => {
        c.runtime.dataDir = dataDir(c.workspace);
      });
      data = path.resolve(f.ws, f.config.runtime.dataDir);
      fs.mkdirSync(data, { recursive: true });
      fs.writeFileSync(path.join(data, 'runtime.json'), JSON.stringify({ token: TOKEN }));
      fs.mkdirSync(path.join(f.ws, 'sub'));
      before = record(data);
    });
    afterEach(() => {
      try {
        assert.deepEqual(record(data), before, 'the data folder changed');
      } finally {
        f.cleanup();
      }
    });
    return { fx: () => f, data: () => data };
  }

  function refused(out: Parameters<typeof expectError>[0]): void {
    expectError(out, 'denied', "the runtime's data folder");
    assert.ok(!text(out).includes(TOKEN), 'the token leaked');
  }

  describe('data_dir = ".loom" (the default), every spelling', () => {
    const { fx, data } = withData(() => '.loom');
    const dirSpellings = () => [
      '.loom',
      './.loom',
      'sub/../.loom',
      '.loom/',
      './/.loom/.',
      data(),
      `${data()}/`,
      'to-data',
      'to-data-abs',
      'sub/up/.loom',
    ];
    const fileSpellings = () => [
      '.loom/runtime.json',
      './.loom/runtime.json',
      'sub/../.loom/runtime.json',
      '.loom//runtime.json',
      `${data()}/runtime.json`,
      'to-data/runtime.json',
      'to-data-abs/runtime.json',
      'to-file',
      'sub/up/.loom/runtime.json',
    ];
    beforeEach(() => {
      fs.symlinkSync('.loom', path.join(fx().ws, 'to-data'));
      fs.symlinkSync(data(), path.join(fx().ws, 'to-data-abs'));
      fs.symlinkSync('.loom/runtime.json', path.join(fx().ws, 'to-file'));
      fs.symlinkSync('..', path.join(fx().ws, 'sub', 'up'));
    });

    it('fs:read refuses its files by every spelling (relative, ./, sub/.., //, absolute, symlinks relative and absolute, symlink to the file, a symlink to ..)', async () => {
      for (const p of fileSpellings()) refused(await fx().call('fs:read', { path: p }));
      for (const p of fileSpellings()) refused(await fx().call('fs:read_file', { path: p }));
    });

    it('fs:read refuses the folder itself by every spelling', async () => {
      for (const p of dirSpellings()) refused(await fx().call('fs:read', { path: p }));
    });

    it('fs:write refuses its files by every spelling (overwrite, append, create_dirs)', async () => {
      for (const p of fileSpellings()) {
        refused(await fx().call('fs:write', { path: p, content: '{}' }));
        refused(await fx().call('fs:write', { path: p, content: '{}', append: true }));
        refused(await fx().call('fs:write_file', { path: p, content: '{}', create_dirs: true }));
      }
    });

    it('fs:write refuses a new file or folder inside it', async () => {
      refused(await fx().call('fs:write', { path: '.loom/new.txt', content: 'x' }));
      refused(await fx().call('fs:write', { path: 'to-data/deep/new.txt', content: 'x', create_dirs: true }));
      refused(await fx().call('fs:write', { path: `${data()}/deep/new.txt`, content: 'x', create_dirs: true }));
    });

    it('fs:list refuses it by every spelling', async () => {
      for (const p of dirSpellings()) {
        refused(await fx().call('fs:list', { path: p }));
        refused(await fx().call('fs:list_dir', { path: p, recursive: true }));
      }
    });

    it('fs:delete refuses it and its files by every spelling, recursive or not', async () => {
      for (const p of [
        ...dirSpellings().filter((p) => !p.startsWith('to-data')),
        ...fileSpellings().filter((p) => p !== 'to-file'),
      ]) {
        refused(await fx().call('fs:delete', { path: p }));
        refused(await fx().call('fs:delete', { path: p, recursive: true }));
      }
    });

    it('fs:delete of a symlink to it removes the link only', async () => {
      expectOk(await fx().call('fs:delete', { path: 'to-data' }));
      assert.equal(fs.existsSync(path.join(fx().ws, 'to-data')), false);
    });

    it('the workspace listing leaves it out, flat and recursive (and through a symlink to the workspace)', async () => {
      fs.symlinkSync('.', path.join(fx().ws, 'self'));
      for (const args of [
        { path: '.' },
        { path: '.', recursive: true },
        { path: 'self/' },
        { path: 'sub/up', recursive: true },
        { path: fx().ws, recursive: true },
      ]) {
        const out = expectOk(await fx().call('fs:list', args));
        const names = out.entries.map((e: { path: string }) => e.path);
        assert.ok(
          !names.some(
            (n: string) =>
              n === '.loom' || n.startsWith('.loom/') || n.endsWith('/.loom') || n.includes('runtime.json'),
          ),
          `${JSON.stringify(args)} listed the data folder: ${names.join(', ')}`,
        );
        assert.ok(names.includes('hello.txt'), 'the rest is listed');
      }
    });

    it('a recursive delete of a folder holding it (through a symlink is not followed) leaves it; a folder holding the real one is refused whole', async () => {
      // The workspace root itself is refused as a root; a symlink to the data folder inside a folder is just a link.
      fs.mkdirSync(path.join(fx().ws, 'trap'));
      fs.symlinkSync(data(), path.join(fx().ws, 'trap', 'link'));
      expectOk(await fx().call('fs:delete', { path: 'trap', recursive: true }));
      expectError(await fx().call('fs:delete', { path: '.', recursive: true }), 'denied', 'workspace root');
    });
  });

  describe('data_dir = "state/x" (a custom, nested one)', () => {
    const { fx } = withData(() => 'state/x');
    beforeEach(() => {
      fs.writeFileSync(path.join(fx().ws, 'state', 'other.txt'), 'other');
    });

    it('is refused by every tool, and left out of listings of its parent', async () => {
      refused(await fx().call('fs:read', { path: 'state/x/runtime.json' }));
      refused(await fx().call('fs:write', { path: 'state/x/runtime.json', content: '{}' }));
      refused(await fx().call('fs:list', { path: 'state/./x' }));
      refused(await fx().call('fs:delete', { path: 'state/x', recursive: true }));
      const out = expectOk(await fx().call('fs:list', { path: 'state', recursive: true }));
      assert.deepEqual(
        out.entries.map((e: { path: string }) => e.path),
        ['other.txt'],
      );
      assert.equal(expectOk(await fx().call('fs:read', { path: 'state/other.txt' })).content, 'other');
    });

    it('a recursive delete of its parent is refused whole, before anything is deleted', async () => {
      expectError(
        await fx().call('fs:delete', { path: 'state', recursive: true }),
        'denied',
        "it holds the runtime's data folder",
      );
      assert.equal(fs.readFileSync(path.join(fx().ws, 'state', 'other.txt'), 'utf8'), 'other');
    });

    it('".loom" is an ordinary folder then', async () => {
      expectOk(await fx().call('fs:write', { path: '.loom/plain.txt', content: 'plain', create_dirs: true }));
      assert.equal(expectOk(await fx().call('fs:read', { path: '.loom/plain.txt' })).content, 'plain');
    });
  });

  describe("another running runtime's data folder inside the roots (a runtime serving a subfolder)", () => {
    const { fx } = withData(() => '.loom');
    const { inner } = anotherRuntimeInside(() => fx().ws, TOKEN);
    beforeEach(() => fs.writeFileSync(path.join(fx().ws, 'packages', 'app', 'app.txt'), 'app'));

    it("is refused by every tool and left out of listings, as this runtime's own is", async () => {
      refused(await fx().call('fs:read', { path: 'packages/app/.loom/window.json' }));
      refused(await fx().call('fs:write', { path: 'packages/app/.loom/window.json', content: '{}' }));
      refused(await fx().call('fs:list', { path: 'packages/app/.loom' }));
      const out = expectOk(await fx().call('fs:list', { path: 'packages/app', recursive: true }));
      assert.deepEqual(
        out.entries.map((e: { path: string }) => e.path),
        ['app.txt'],
      );
    });

    it('a runtime that stopped hides nothing: its folder is an ordinary one again', async () => {
      // A runtime that stops takes its line out of the registry (contract/liveRuntimes).
      const registry = path.join(process.env.XDG_RUNTIME_DIR!, 'loom', 'runtimes');
      fs.rmSync(path.join(registry, `${inner().pid}.json`));
      assert.match(
        expectOk(await fx().call('fs:read', { path: 'packages/app/.loom/window.json' })).content,
        /bridge-token/,
      );
    });
  });

  describe('data_dir given as an absolute path inside the workspace', () => {
    const { fx, data } = withData((ws) => path.join(ws, 'abs-data'));

    it('is refused and left out just the same', async () => {
      refused(await fx().call('fs:read', { path: 'abs-data/runtime.json' }));
      refused(await fx().call('fs:list', { path: data() }));
      refused(await fx().call('fs:write', { path: `${data()}/new`, content: 'x' }));
      const out = expectOk(await fx().call('fs:list', { path: '.' }));
      assert.deepEqual(
        out.entries.map((e: { path: string }) => e.path),
        ['hello.txt', 'sub'],
      );
    });
  });

  describe('before the runtime made it', () => {
    const fx = fixture();

    it('making it, or a file by its name, is refused and nothing is created', async () => {
      refused(await fx().call('fs:write', { path: '.loom/runtime.json', content: '{}', create_dirs: true }));
      refused(await fx().call('fs:write', { path: './sub/../.loom/x/y', content: '{}', create_dirs: true }));
      refused(await fx().call('fs:write', { path: '.loom', content: 'a file where the folder goes' }));
      assert.equal(fs.existsSync(path.join(fx().ws, '.loom')), false);
      assert.equal(fs.existsSync(path.join(fx().ws, 'sub')), false);
    });
  });
});

describe('tools: loom.toml, .git and .vscode (tools.fs.protected_writes)', () => {
  const PLACES: Array<[string, string]> = [
    ['loom.toml', 'loom.toml'],
    ['.git/config', '.git'],
    ['.git/hooks/pre-commit', '.git'],
    ['.vscode/settings.json', '.vscode'],
    ['.vscode/tasks.json', '.vscode'],
    ['sub/.git/config', '.git'],
    ['.GIT/config', '.git'],
    // Dev Containers run initializeCommand on this machine when the person reopens in a container.
    ['.devcontainer/devcontainer.json', '.devcontainer'],
    ['.devcontainer.json', '.devcontainer.json'],
    // The Python SDK, VS Code's Python extension and Docker Compose put its variables into programs.
    ['.env', '.env'],
    // VS Code offers to open a folder's workspace file and applies its settings and tasks.
    ['team.code-workspace', 'team.code-workspace'],
    ['Team.CODE-WORKSPACE', 'team.code-workspace'],
  ];
  const ORIGINAL = 'original\n';

  function seed(ws: string): void {
    for (const [p] of PLACES) {
      fs.mkdirSync(path.dirname(path.join(ws, p)), { recursive: true });
      fs.writeFileSync(path.join(ws, p), ORIGINAL);
    }
  }

  function modes(confirm: ConfirmFn | undefined, protectedWrites: 'deny' | 'ask') {
    const fx = fixture((c) => {
      c.tools.fs.protectedWrites = protectedWrites;
    }, confirm);
    beforeEach(() => seed(fx().ws));
    return fx;
  }

  const content = (ws: string, p: string) => fs.readFileSync(path.join(ws, p), 'utf8');

  describe('"deny" (the default)', () => {
    const fx = modes(async () => true, 'deny');
    for (const [p, place] of PLACES) {
      it(`writing ${p} is refused naming ${place} and the setting, without asking; reading it is allowed`, async () => {
        const msg = expectError(
          await fx().call('fs:write', { path: p, content: 'pwned' }),
          'denied',
          JSON.stringify(p),
        );
        assert.ok(msg.includes(place) && msg.includes('tools.fs.protected_writes'), msg);
        expectError(
          await fx().call('fs:write', { path: p, content: 'pwned', append: true }),
          'denied',
          'tools.fs.protected_writes',
        );
        expectError(await fx().call('fs:delete', { path: p }), 'denied', 'tools.fs.protected_writes');
        assert.equal(content(fx().ws, p), ORIGINAL);
        assert.deepEqual(fx().asked, []);
        assert.equal(expectOk(await fx().call('fs:read', { path: p })).content, ORIGINAL);
      });
    }

    it('new files there are refused too (create_dirs, a new hook, .vscode made from nothing)', async () => {
      expectError(
        await fx().call('fs:write', { path: '.git/hooks/post-checkout', content: '#!/bin/sh' }),
        'denied',
        '.git',
      );
      expectError(
        await fx().call('fs:write', { path: 'new/.vscode/tasks.json', content: '{}', create_dirs: true }),
        'denied',
        '.vscode',
      );
      assert.equal(fs.existsSync(path.join(fx().ws, 'new')), false);
    });

    it('reached through a symlink (relative or absolute) it is still refused', async () => {
      fs.symlinkSync('.git', path.join(fx().ws, 'g'));
      fs.symlinkSync(path.join(fx().ws, '.vscode', 'settings.json'), path.join(fx().ws, 's.json'));
      fs.symlinkSync('loom.toml', path.join(fx().ws, 'config-link'));
      expectError(await fx().call('fs:write', { path: 'g/config', content: 'x' }), 'denied', '.git');
      expectError(await fx().call('fs:write', { path: 's.json', content: 'x' }), 'denied', '.vscode');
      expectError(await fx().call('fs:write', { path: 'config-link', content: 'x' }), 'denied', 'loom.toml');
      expectError(await fx().call('fs:write', { path: 'sub/../loom.toml', content: 'x' }), 'denied', 'loom.toml');
      assert.equal(content(fx().ws, '.git/config'), ORIGINAL);
      assert.equal(content(fx().ws, 'loom.toml'), ORIGINAL);
    });

    it("the hooks folder core.hooksPath names (husky's .husky/_, whose wrappers run .husky/<hook>) is .git's too", async () => {
      fs.writeFileSync(
        path.join(fx().ws, '.git', 'config'),
        '[core]\n\tbare = false\n[core] hooksPath = ".husky/_" # husky\n',
      );
      fs.mkdirSync(path.join(fx().ws, '.husky', '_'), { recursive: true });
      fs.writeFileSync(path.join(fx().ws, '.husky', '_', 'pre-commit'), ORIGINAL);
      for (const p of ['.husky/_/pre-commit', '.husky/_/post-checkout', '.husky/pre-commit'])
        expectError(await fx().call('fs:write', { path: p, content: '#!/bin/sh\ntouch pwned' }), 'denied', '.git');
      expectError(await fx().call('fs:delete', { path: '.husky', recursive: true }), 'denied', '.git');
      assert.equal(content(fx().ws, '.husky/_/pre-commit'), ORIGINAL);
      expectOk(await fx().call('fs:write', { path: 'husky-notes.md', content: 'elsewhere: an ordinary file' }));
    });

    it('an include target or hooks folder not there yet cannot be made (git would run what it names)', async () => {
      fs.writeFileSync(
        path.join(fx().ws, '.git', 'config'),
        '[include]\n\tpath = ../conf/git/team.gitconfig\n[core]\n\thooksPath = .githooks\n',
      );
      for (const p of ['conf/git/team.gitconfig', '.githooks/pre-commit'])
        expectError(
          await fx().call('fs:write', { path: p, content: '[core]\n\tfsmonitor = touch pwned\n', create_dirs: true }),
          'denied',
          '.git',
        );
      assert.equal(fs.existsSync(path.join(fx().ws, 'conf', 'git', 'team.gitconfig')), false);
      assert.equal(fs.existsSync(path.join(fx().ws, '.githooks')), false);
      expectOk(await fx().call('fs:write', { path: 'conf/other.txt', content: 'beside it', create_dirs: true }));
    });

    it('what .git/config.worktree names (extensions.worktreeConfig, sparse-checkout) is protected too', async () => {
      fs.writeFileSync(path.join(fx().ws, '.git', 'config.worktree'), '[core]\n\thooksPath = .wthooks\n');
      fs.mkdirSync(path.join(fx().ws, '.wthooks'));
      fs.writeFileSync(path.join(fx().ws, '.wthooks', 'pre-commit'), ORIGINAL);
      expectError(await fx().call('fs:write', { path: '.wthooks/pre-commit', content: 'x' }), 'denied', '.git');
      assert.equal(content(fx().ws, '.wthooks/pre-commit'), ORIGINAL);
    });

    it('a file the repository config includes (include.path, includeIf) is .git/config too', async () => {
      fs.writeFileSync(
        path.join(fx().ws, '.git', 'config'),
        '[include]\n\tpath = ../team.gitconfig\n[includeIf "gitdir:/"]\n\tpath = ../cond.gitconfig\n',
      );
      for (const f of ['team.gitconfig', 'cond.gitconfig']) {
        fs.writeFileSync(path.join(fx().ws, f), ORIGINAL);
        expectError(
          await fx().call('fs:write', { path: f, content: '[core]\n\tfsmonitor = touch pwned\n', append: true }),
          'denied',
          '.git',
        );
        assert.equal(content(fx().ws, f), ORIGINAL);
      }
    });

    it("the person's git config where a root holds it (a dotfiles repository, the home folder), what it includes and its hooks folder are .git's too", async () => {
      const ws = fx().ws;
      const saved = { GIT_CONFIG_GLOBAL: process.env.GIT_CONFIG_GLOBAL, HOME: process.env.HOME };
      const restore = () => {
        for (const [k, v] of Object.entries(saved))
          if (v === undefined) delete process.env[k];
          else process.env[k] = v;
      };
      try {
        // GIT_CONFIG_GLOBAL naming a file of a dotfiles repository opened as the workspace.
        fs.mkdirSync(path.join(ws, 'dotfiles', 'hooks'), { recursive: true });
        const hooks = path.join(ws, 'dotfiles', 'hooks');
        fs.writeFileSync(
          path.join(ws, 'dotfiles', 'gitconfig'),
          `[include]\n\tpath = extra.gitconfig\n[core]\n\thooksPath = ${hooks}\n`,
        );
        fs.writeFileSync(path.join(ws, 'dotfiles', 'extra.gitconfig'), ORIGINAL);
        process.env.GIT_CONFIG_GLOBAL = path.join(ws, 'dotfiles', 'gitconfig');
        for (const p of ['dotfiles/gitconfig', 'dotfiles/extra.gitconfig', 'dotfiles/hooks/pre-commit'])
          expectError(
            await fx().call('fs:write', { path: p, content: '[core]\n\tfsmonitor = touch pwned\n', append: true }),
            'denied',
            '.git',
          );
        assert.equal(content(ws, 'dotfiles/extra.gitconfig'), ORIGINAL);
        assert.deepEqual(fs.readdirSync(hooks), []);
        // The repository's own core.hooksPath wins over the person's, as in git: that folder is protected instead.
        fs.writeFileSync(path.join(ws, '.git', 'config'), '[core]\n\thooksPath = .repohooks\n');
        expectOk(await fx().call('fs:write', { path: 'dotfiles/hooks/notes.txt', content: 'not run by git here' }));
        expectError(
          await fx().call('fs:write', { path: '.repohooks/pre-commit', content: 'x', create_dirs: true }),
          'denied',
          '.git',
        );

        // The home folder opened as the workspace: ~/.gitconfig, missing, cannot be made.
        delete process.env.GIT_CONFIG_GLOBAL;
        process.env.HOME = ws;
        expectError(
          await fx().call('fs:write', { path: '.gitconfig', content: '[core]\n\tfsmonitor = touch pwned\n' }),
          'denied',
          '.git',
        );
        assert.equal(fs.existsSync(path.join(ws, '.gitconfig')), false);
      } finally {
        restore();
      }
      // Control: with the person's config elsewhere, these are ordinary files.
      expectOk(await fx().call('fs:write', { path: 'dotfiles/extra.gitconfig', content: 'ordinary' }));
    });

    it('a recursive delete of a folder holding .git is refused whole, before anything goes', async () => {
      fs.writeFileSync(path.join(fx().ws, 'sub', 'keep.txt'), 'keep');
      expectError(await fx().call('fs:delete', { path: 'sub', recursive: true }), 'denied', 'it holds .git (sub/.git)');
      assert.equal(content(fx().ws, 'sub/keep.txt'), 'keep');
      assert.equal(content(fx().ws, 'sub/.git/config'), ORIGINAL);
    });

    it('a linked worktree\'s .git file: the repository its "commondir" names is protected under its other name', async () => {
      const ws = fx().ws;
      fs.rmSync(path.join(ws, '.git'), { recursive: true });
      fs.mkdirSync(path.join(ws, 'repo-store/worktrees/w'), { recursive: true });
      fs.writeFileSync(path.join(ws, 'repo-store/config'), ORIGINAL);
      fs.writeFileSync(path.join(ws, 'repo-store/worktrees/w/commondir'), '../..\n');
      fs.writeFileSync(path.join(ws, '.git'), 'gitdir: repo-store/worktrees/w\n');
      expectError(
        await fx().call('fs:write', { path: 'repo-store/config', content: '[core]\nfsmonitor = touch x' }),
        'denied',
        'inside .git',
      );
      expectError(
        await fx().call('fs:write', { path: 'repo-store/hooks/pre-commit', content: '#!/bin/sh', create_dirs: true }),
        'denied',
      );
      assert.equal(fs.readFileSync(path.join(ws, 'repo-store/config'), 'utf8'), ORIGINAL);
      expectOk(await fx().call('fs:write', { path: 'repo-store-notes.txt', content: 'fine' }));
    });

    it('a root\'s loom.toml, .git or .vscode that is a symlink (or a "gitdir:" file) is protected where it really is, under its other name', async () => {
      const ws = fx().ws;
      const snap = () => record(ws);
      for (const p of ['loom.toml', '.git', '.vscode']) fs.rmSync(path.join(ws, p), { recursive: true });
      fs.writeFileSync(path.join(ws, 'cfg.toml'), ORIGINAL);
      fs.symlinkSync('cfg.toml', path.join(ws, 'loom.toml'));
      fs.mkdirSync(path.join(ws, 'repo/hooks'), { recursive: true });
      fs.writeFileSync(path.join(ws, 'repo/config'), ORIGINAL);
      fs.writeFileSync(path.join(ws, '.git'), 'gitdir: repo\n');
      fs.mkdirSync(path.join(ws, 'conf'));
      fs.writeFileSync(path.join(ws, 'conf/tasks.json'), ORIGINAL);
      fs.symlinkSync('conf', path.join(ws, '.vscode'));
      const before = snap();
      expectError(
        await fx().call('fs:write', { path: 'cfg.toml', content: '[agents.evil]' }),
        'denied',
        "the workspace's loom.toml",
      );
      expectError(await fx().call('fs:delete', { path: 'cfg.toml' }), 'denied', 'loom.toml');
      expectError(
        await fx().call('fs:write', { path: 'repo/config', content: '[core]\nfsmonitor = touch x' }),
        'denied',
        'inside .git',
      );
      expectError(
        await fx().call('fs:write', { path: 'repo/hooks/pre-commit', content: '#!/bin/sh' }),
        'denied',
        'inside .git',
      );
      expectError(await fx().call('fs:delete', { path: 'repo', recursive: true }), 'denied', '.git');
      expectError(await fx().call('fs:write', { path: 'conf/tasks.json', content: '{}' }), 'denied', 'inside .vscode');
      assert.deepEqual(snap(), before);
    });

    it('loom.toml below the root is an ordinary file (control)', async () => {
      expectOk(await fx().call('fs:write', { path: 'sub/loom.toml', content: 'fine', create_dirs: true }));
      assert.equal(content(fx().ws, 'sub/loom.toml'), 'fine');
    });
  });

  describe('"ask", and the person agrees', () => {
    const fx = modes(async () => true, 'ask');
    for (const [p, place] of PLACES) {
      it(`writing ${p} asks, naming it and ${place}, and then writes`, async () => {
        expectOk(await fx().call('fs:write', { path: p, content: 'agreed' }));
        assert.equal(content(fx().ws, p), 'agreed');
        assert.equal(fx().asked.length, 1);
        const [tool, asked, reason] = fx().asked[0];
        assert.deepEqual([tool, asked], ['fs:write', p]);
        assert.ok(reason.includes(place) && reason.includes('tools.fs.protected_writes'), reason);
      });
    }

    it('deletes there, and a recursive delete of a folder holding .git, ask once and go ahead', async () => {
      expectOk(await fx().call('fs:delete', { path: '.vscode/tasks.json' }));
      expectOk(await fx().call('fs:delete', { path: 'sub', recursive: true }));
      assert.equal(fs.existsSync(path.join(fx().ws, 'sub')), false);
      assert.equal(fx().asked.length, 2);
    });
  });

  describe('"ask", and the person declines', () => {
    const fx = modes(async () => false, 'ask');
    for (const [p] of PLACES) {
      it(`writing ${p} is refused, saying the person declined`, async () => {
        expectError(await fx().call('fs:write', { path: p, content: 'pwned' }), 'denied', 'declined');
        assert.equal(content(fx().ws, p), ORIGINAL);
        assert.equal(fx().asked.length, 1);
      });
    }
  });

  describe('"ask", and nobody can be asked (confirm answers undefined)', () => {
    const fx = modes(async () => undefined, 'ask');
    for (const [p] of PLACES) {
      it(`writing ${p} is refused, saying nobody could be asked`, async () => {
        expectError(await fx().call('fs:write', { path: p, content: 'pwned' }), 'denied', 'nobody could be asked');
        assert.equal(content(fx().ws, p), ORIGINAL);
        expectError(await fx().call('fs:delete', { path: p }), 'denied', 'nobody could be asked');
        assert.ok(fs.existsSync(path.join(fx().ws, p)));
      });
    }
  });

  describe('"ask" with no confirm function at all', () => {
    const fx = modes(undefined, 'ask');
    it('every protected write is refused', async () => {
      for (const [p] of PLACES)
        expectError(await fx().call('fs:write', { path: p, content: 'pwned' }), 'denied', 'nobody could be asked');
      for (const [p] of PLACES) assert.equal(content(fx().ws, p), ORIGINAL);
    });
  });

  describe('"ask", and the call ends before the person answers', () => {
    const fx = modes(() => new Promise((r) => setTimeout(() => r(true), 300)), 'ask');
    it('nothing is written after the timeout', async () => {
      expectError(await fx().call('fs:write', { path: '.git/config', content: 'late' }, 100), 'timeout');
      await new Promise((r) => setTimeout(r, 400));
      assert.equal(content(fx().ws, '.git/config'), ORIGINAL);
    });
  });
});

describe('tools: the walk follows symlinks by hand, as the kernel would', () => {
  const fx = fixture();

  it('an absolute symlink back into the workspace is followed', async () => {
    fs.mkdirSync(path.join(fx().ws, 'real'));
    fs.writeFileSync(path.join(fx().ws, 'real', 'f.txt'), 'via abs');
    fs.symlinkSync(path.join(fx().ws, 'real'), path.join(fx().ws, 'abs'));
    assert.equal(expectOk(await fx().call('fs:read', { path: 'abs/f.txt' })).content, 'via abs');
    expectOk(await fx().call('fs:write', { path: 'abs/new.txt', content: 'n' }));
    assert.equal(fs.readFileSync(path.join(fx().ws, 'real', 'new.txt'), 'utf8'), 'n');
  });

  it('"link/.." is the link target\'s parent inside the workspace too', async () => {
    fs.mkdirSync(path.join(fx().ws, 'a/b'), { recursive: true });
    fs.writeFileSync(path.join(fx().ws, 'a', 'here.txt'), 'parent of b');
    fs.symlinkSync('a/b', path.join(fx().ws, 'lb'));
    assert.equal(expectOk(await fx().call('fs:read', { path: 'lb/../here.txt' })).content, 'parent of b');
  });

  it('40 symlink hops are followed, 41 are refused', async () => {
    const ws = fx().ws;
    for (let i = 1; i <= 41; i++) fs.symlinkSync(i === 1 ? 'hello.txt' : `l${i - 1}`, path.join(ws, `l${i}`));
    assert.equal(expectOk(await fx().call('fs:read', { path: 'l40' })).content, 'hello\n');
    expectError(await fx().call('fs:read', { path: 'l41' }), 'denied', '"l41" has too many levels of symbolic links');
  });

  it('a symlink to "/" is refused, naming the path', async () => {
    fs.symlinkSync('/', path.join(fx().ws, 'root'));
    expectError(await fx().call('fs:list', { path: 'root' }), 'denied', '"root" is outside the workspace roots');
    expectError(await fx().call('fs:read', { path: 'root/etc/passwd' }), 'denied', 'resolves to /etc/passwd');
  });
});

describe('tools: the fallback without /proc/self/fd (check each component, then use it)', () => {
  const fx = fixture();
  let call: (name: string, args: Record<string, unknown>) => ReturnType<FsFixture['call']>;
  beforeEach(() => {
    const registry = new DefaultToolRegistry({ defaultTimeoutMs: 10_000, log: silentLogger });
    const files = new ConfinedFs({ roots: [fx().ws], dataPath: path.join(fx().ws, '.loom'), procFd: false });
    assert.equal(files.viaProc, false);
    for (const t of fsTools(files, { maxReadBytes: 1000 }))
      registry.register({ ...t.definition, provider: 'native' }, t.handler);
    call = (name, args) => registry.call({ name, arguments: args });
    fs.mkdirSync(path.join(fx().ws, '.loom'));
    fs.writeFileSync(path.join(fx().ws, '.loom', 'runtime.json'), 'token');
  });

  it('reads, writes (with create_dirs), lists and deletes inside', async () => {
    expectOk(await call('fs:write', { path: 'a/b/c.txt', content: 'abc', create_dirs: true }));
    assert.equal(expectOk(await call('fs:read', { path: 'a/b/c.txt' })).content, 'abc');
    assert.deepEqual(
      expectOk(await call('fs:list', { path: 'a', recursive: true })).entries.map((e: { path: string }) => e.path),
      ['b', 'b/c.txt'],
    );
    expectOk(await call('fs:delete', { path: 'a', recursive: true }));
    assert.equal(fs.existsSync(path.join(fx().ws, 'a')), false);
  });

  it('refuses symlinks out, the data folder, hard-linked files and protected places', async () => {
    fs.symlinkSync(fx().outside, path.join(fx().ws, 'out'));
    fs.linkSync(path.join(fx().outside, 'secret.txt'), path.join(fx().ws, 'hard'));
    expectError(await call('fs:read', { path: 'out/secret.txt' }), 'denied', 'outside the workspace roots');
    expectError(await call('fs:write', { path: 'out/x.txt', content: 'x' }), 'denied', 'outside the workspace roots');
    expectError(await call('fs:read', { path: '.loom/runtime.json' }), 'denied', "the runtime's data folder");
    assert.ok(
      !expectOk(await call('fs:list', { path: '.' })).entries.some((e: { path: string }) => e.path === '.loom'),
    );
    expectError(await call('fs:write', { path: 'hard', content: 'x' }), 'denied', '2 hard links');
    expectError(await call('fs:write', { path: '.git/config', content: 'x', create_dirs: true }), 'denied', '.git');
    assert.deepEqual(fs.readdirSync(fx().outside), ['secret.txt']);
    assert.equal(fs.readFileSync(path.join(fx().outside, 'secret.txt'), 'utf8'), SECRET);
  });
});
