// Attack cases against the file sandbox and the shell tool, each on real files in a temp
// workspace with a sibling folder "outside" holding a secret, and real child processes.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { LoomConfig } from '../../../runtime/config/types';
import { eventually, expectError, expectOk, type Fixture, makeFixture, processesWithArg, SECRET } from './helpers';

function outsideFiles(f: Fixture): string[] {
  return fs.readdirSync(f.outside).sort();
}

/** A failed run must not leave its sleeper behind. */
function killLeftover(marker: string): void {
  for (const pid of processesWithArg(marker)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone, as it should be
    }
  }
}

function assertNoSecret(value: unknown): void {
  assert.ok(!JSON.stringify(value).includes(SECRET), 'the secret leaked');
}

function withFixture(adjust?: (c: LoomConfig) => void): () => Fixture {
  let f: Fixture;
  beforeEach(() => {
    f = makeFixture(adjust);
  });
  afterEach(async () => {
    // Whatever the attack did, the registry still answers, and the outside folder is untouched.
    expectOk(await f.call('fs:list', { path: '.' }));
    assert.deepEqual(outsideFiles(f), ['secret.txt']);
    assert.equal(fs.readFileSync(path.join(f.outside, 'secret.txt'), 'utf8'), SECRET);
    f.cleanup();
  });
  return () => f;
}

describe('tools: sandbox attacks on the file tools', () => {
  const fx = withFixture();

  describe('".." in many shapes', () => {
    for (const p of [
      '../outside/secret.txt',
      'sub/../../outside/secret.txt',
      'no-such-dir/../../outside/secret.txt',
      './././../outside/secret.txt',
      '..//..//..//etc/passwd',
      'sub/./../.././../outside/secret.txt',
      'hello.txt/../../outside/secret.txt',
    ]) {
      it(`fs:read ${JSON.stringify(p)} is denied`, async () => {
        fs.mkdirSync(path.join(fx().ws, 'sub'));
        const out = await fx().call('fs:read', { path: p });
        expectError(out, 'denied', JSON.stringify(p));
        assertNoSecret(out);
      });
    }

    it('fs:write "../escape.txt" is denied and nothing is created outside', async () => {
      expectError(
        await fx().call('fs:write', { path: '../outside/escape.txt', content: 'x' }),
        'denied',
        '"../outside/escape.txt"',
      );
    });

    it('fs:write with create_dirs through a missing folder and ".." is denied before any folder is made', async () => {
      expectError(
        await fx().call('fs:write', { path: 'new/../../outside/made/x.txt', content: 'x', create_dirs: true }),
        'denied',
      );
      assert.equal(fs.existsSync(path.join(fx().ws, 'new')), false);
    });

    it('fs:list ".." is denied', async () => {
      expectError(await fx().call('fs:list', { path: '..' }), 'denied', '".."');
    });

    it('fs:delete "../outside/secret.txt" is denied and the file survives', async () => {
      expectError(await fx().call('fs:delete', { path: '../outside/secret.txt' }), 'denied');
    });

    it('".." that stays inside the workspace is allowed (control)', async () => {
      fs.mkdirSync(path.join(fx().ws, 'sub'));
      assert.equal(expectOk(await fx().call('fs:read', { path: 'sub/../hello.txt' })).content, 'hello\n');
    });
  });

  describe('absolute paths', () => {
    it('fs:read /etc/passwd is denied', async () => {
      expectError(
        await fx().call('fs:read', { path: '/etc/passwd' }),
        'denied',
        '"/etc/passwd" is outside the workspace roots',
      );
    });

    it('fs:read of the absolute path of the outside secret is denied', async () => {
      const p = path.join(fx().outside, 'secret.txt');
      assertNoSecret(expectError(await fx().call('fs:read', { path: p }), 'denied', p));
    });

    it('fs:list / is denied', async () => {
      expectError(await fx().call('fs:list', { path: '/' }), 'denied');
    });

    it('fs:write to an absolute path outside is denied', async () => {
      expectError(await fx().call('fs:write', { path: path.join(fx().outside, 'x.txt'), content: 'x' }), 'denied');
    });

    it('an absolute path inside the workspace is allowed (control)', async () => {
      assert.equal(expectOk(await fx().call('fs:read', { path: path.join(fx().ws, 'hello.txt') })).content, 'hello\n');
    });
  });

  describe('symlinks', () => {
    it('a symlink to /etc cannot be read through', async () => {
      fs.symlinkSync('/etc', path.join(fx().ws, 'etc-link'));
      expectError(await fx().call('fs:read', { path: 'etc-link/passwd' }), 'denied', '"etc-link/passwd"');
    });

    it('a file symlink to the secret cannot be read', async () => {
      fs.symlinkSync(path.join(fx().outside, 'secret.txt'), path.join(fx().ws, 'innocent.txt'));
      assertNoSecret(expectError(await fx().call('fs:read', { path: 'innocent.txt' }), 'denied', 'resolves to'));
    });

    it('a relative symlink chain a -> b -> c -> outside cannot be read', async () => {
      const ws = fx().ws;
      fs.symlinkSync('../outside/secret.txt', path.join(ws, 'c'));
      fs.symlinkSync('c', path.join(ws, 'b'));
      fs.symlinkSync('b', path.join(ws, 'a'));
      assertNoSecret(expectError(await fx().call('fs:read', { path: 'a' }), 'denied'));
    });

    it('a symlinked directory component cannot be written through', async () => {
      fs.symlinkSync(fx().outside, path.join(fx().ws, 'dirlink'));
      expectError(
        await fx().call('fs:write', { path: 'dirlink/planted.txt', content: 'x' }),
        'denied',
        '"dirlink/planted.txt"',
      );
    });

    it('a dangling symlink pointing outside is not followed by a write', async () => {
      fs.symlinkSync(path.join(fx().outside, 'created-by-write.txt'), path.join(fx().ws, 'dangling'));
      expectError(await fx().call('fs:write', { path: 'dangling', content: 'x' }), 'denied', '"dangling"');
    });

    it('a dangling relative chain pointing outside is not followed by a write with create_dirs', async () => {
      fs.symlinkSync('../outside/newdir', path.join(fx().ws, 'd2'));
      fs.symlinkSync('d2', path.join(fx().ws, 'd1'));
      expectError(await fx().call('fs:write', { path: 'd1/deep/x.txt', content: 'x', create_dirs: true }), 'denied');
    });

    it('a directory swapped for a symlink after a first write is caught on the next write', async () => {
      const ws = fx().ws;
      expectOk(await fx().call('fs:write', { path: 'work/a.txt', content: 'one', create_dirs: true }));
      fs.rmSync(path.join(ws, 'work'), { recursive: true });
      fs.symlinkSync(fx().outside, path.join(ws, 'work'));
      expectError(await fx().call('fs:write', { path: 'work/a.txt', content: 'two' }), 'denied', '"work/a.txt"');
    });

    it('"link/.." is judged where the kernel goes (the link target\'s parent), not lexically', async () => {
      fs.mkdirSync(path.join(fx().outside, 'deep'));
      fs.symlinkSync(path.join(fx().outside, 'deep'), path.join(fx().ws, 'link'));
      // Lexically "link/../secret.txt" is "<ws>/secret.txt"; the kernel reaches outside/secret.txt.
      fs.writeFileSync(path.join(fx().ws, 'secret.txt'), 'decoy');
      assertNoSecret(expectError(await fx().call('fs:read', { path: 'link/../secret.txt' }), 'denied'));
      fs.rmdirSync(path.join(fx().outside, 'deep'));
    });

    it('a symlink loop is refused with a clear message', async () => {
      fs.symlinkSync('loop2', path.join(fx().ws, 'loop1'));
      fs.symlinkSync('loop1', path.join(fx().ws, 'loop2'));
      expectError(await fx().call('fs:read', { path: 'loop1' }), 'denied', 'too many levels of symbolic links');
      expectError(
        await fx().call('fs:write', { path: 'loop1', content: 'x' }),
        'denied',
        'too many levels of symbolic links',
      );
    });

    it('a recursive listing reports symlinks and does not follow them out', async () => {
      fs.symlinkSync(fx().outside, path.join(fx().ws, 'out-link'));
      const out = expectOk(await fx().call('fs:list', { path: '.', recursive: true }));
      assert.deepEqual(out.entries.find((e: { path: string }) => e.path === 'out-link')?.type, 'symlink');
      assert.ok(!out.entries.some((e: { path: string }) => e.path.includes('secret')));
    });

    it('deleting a symlink that points outside removes the link, not the target', async () => {
      fs.symlinkSync(path.join(fx().outside, 'secret.txt'), path.join(fx().ws, 'to-secret'));
      expectOk(await fx().call('fs:delete', { path: 'to-secret' }));
      assert.equal(fs.existsSync(path.join(fx().ws, 'to-secret')), false);
    });

    it('a recursive delete of a folder holding a symlink to outside leaves the outside intact', async () => {
      fs.mkdirSync(path.join(fx().ws, 'trap'));
      fs.symlinkSync(fx().outside, path.join(fx().ws, 'trap', 'out'));
      expectOk(await fx().call('fs:delete', { path: 'trap', recursive: true }));
    });
  });

  describe('strange bytes and encodings, taken literally', () => {
    it('a NUL byte in a read path is denied, naming the path', async () => {
      expectError(
        await fx().call('fs:read', { path: 'hello.txt\u0000../../outside/secret.txt' }),
        'denied',
        'NUL byte',
      );
    });

    // A red-team finding: 600 000 slashes before etc/hostname held the runtime's thread for 45 s
    // (each step of the walk cost as much again as the path was long).
    it("a path longer than PATH_MAX is refused at once by every file tool and as the shell's cwd, naming the limit", async () => {
      const long = `${'/'.repeat(600_000)}etc/hostname`;
      for (const [tool, args] of [
        ['fs:read', { path: long }],
        ['fs:write', { path: `x${long}`, content: 'x' }],
        ['fs:list', { path: long }],
        ['fs:delete', { path: long }],
      ] as const)
        expectError(await fx().call(tool, args), 'invalid_arguments', 'at most 4096 (PATH_MAX)');
      expectError(
        await fx().call('system:shell', { command: 'ls', args: ['.'], cwd: long }),
        'invalid_arguments',
        'at most 4096 (PATH_MAX)',
      );
      expectOk(await fx().call('fs:read', { path: `${'./'.repeat(2000)}hello.txt` }));
    });

    it('a NUL byte in a write path is denied', async () => {
      expectError(await fx().call('fs:write', { path: 'a\u0000b', content: 'x' }), 'denied', '"a\\u0000b"');
    });

    it('URL-encoded "%2e%2e%2f" is a literal name, not ".."', async () => {
      expectError(await fx().call('fs:read', { path: '%2e%2e%2foutside%2fsecret.txt' }), 'failed', 'no such file');
      expectOk(await fx().call('fs:write', { path: '%2e%2e/x.txt', content: 'lit', create_dirs: true }));
      assert.equal(fs.readFileSync(path.join(fx().ws, '%2e%2e', 'x.txt'), 'utf8'), 'lit');
    });

    it('backslashes are a literal name on POSIX, not separators', async () => {
      expectOk(await fx().call('fs:write', { path: '..\\..\\outside\\x.txt', content: 'lit' }));
      assert.ok(fs.existsSync(path.join(fx().ws, '..\\..\\outside\\x.txt')));
    });

    it('"~" is not the home folder', async () => {
      expectError(await fx().call('fs:read', { path: '~/.bashrc' }), 'failed', 'no such file');
    });

    it('a file:// URL is a literal relative name', async () => {
      expectError(await fx().call('fs:read', { path: 'file:///etc/passwd' }), 'failed', 'no such file');
    });
  });

  describe('deleting roots and protected places', () => {
    it('deleting "." (the workspace root) is refused', async () => {
      expectError(await fx().call('fs:delete', { path: '.', recursive: true }), 'denied', 'workspace root');
      assert.ok(fs.existsSync(path.join(fx().ws, 'hello.txt')));
    });

    it('deleting the root by its absolute path is refused', async () => {
      expectError(await fx().call('fs:delete', { path: fx().ws, recursive: true }), 'denied', 'workspace root');
    });

    it('deleting "sub/.." (the root again) is refused', async () => {
      fs.mkdirSync(path.join(fx().ws, 'sub'));
      expectError(await fx().call('fs:delete', { path: 'sub/..', recursive: true }), 'denied', 'workspace root');
    });

    it('deleting through a symlink to the root with a trailing slash is refused', async () => {
      fs.symlinkSync('.', path.join(fx().ws, 'self'));
      expectError(await fx().call('fs:delete', { path: 'self/', recursive: true }), 'denied', 'workspace root');
    });

    it('writing git hooks or config is refused (git would run them)', async () => {
      fs.mkdirSync(path.join(fx().ws, '.git', 'hooks'), { recursive: true });
      expectError(
        await fx().call('fs:write', { path: '.git/hooks/pre-commit', content: '#!/bin/sh\ntouch pwned' }),
        'denied',
        '.git',
      );
      expectError(
        await fx().call('fs:write', {
          path: 'nested/.GIT/config',
          content: '[core]\nfsmonitor = touch pwned',
          create_dirs: true,
        }),
        'denied',
        '.git',
      );
    });

    it("the runtime's data folder cannot be changed", async () => {
      expectError(
        await fx().call('fs:write', { path: '.loom/runtime.json', content: '{}', create_dirs: true }),
        'denied',
        'data folder',
      );
    });
  });
});

describe('tools: sandbox with an extra root', () => {
  let extra = '';
  const fx = withFixture((c) => {
    extra = path.join(path.dirname(c.workspace), 'extra');
    fs.mkdirSync(extra);
    fs.writeFileSync(path.join(extra, 'shared.txt'), 'shared');
    c.runtime.roots = ['../extra'];
  });

  it('reads inside config.runtime.roots but not next to it', async () => {
    assert.equal(expectOk(await fx().call('fs:read', { path: '../extra/shared.txt' })).content, 'shared');
    expectError(await fx().call('fs:read', { path: '../extra/../outside/secret.txt' }), 'denied');
  });

  it('refuses deleting the extra root itself', async () => {
    expectError(await fx().call('fs:delete', { path: extra, recursive: true }), 'denied', 'workspace root');
    assert.ok(fs.existsSync(path.join(extra, 'shared.txt')));
  });
});

describe('tools: sandbox attacks on system:shell', () => {
  describe('with the default allowlist', () => {
    const fx = withFixture();
    const shell = (command: string, args: string[], more: Record<string, unknown> = {}) =>
      fx().call('system:shell', { command, args, ...more });

    for (const [label, arg] of [
      ['";"', 'hello; touch pwned-semicolon'],
      ['"&&"', 'hello && touch pwned-and'],
      ['"|"', 'hello | tee pwned-pipe'],
      ['"$(…)"', '$(touch pwned-subst)'],
      ['backticks', '`touch pwned-backtick`'],
      ['newlines', 'hello\ntouch pwned-newline'],
    ] as const) {
      it(`${label} in an argument is passed literally, never interpreted`, async () => {
        const out = expectOk(await shell('echo', [arg]));
        assert.equal(out.stdout, `${arg}\n`);
        assert.deepEqual(
          fs.readdirSync(fx().ws).filter((n) => n.startsWith('pwned')),
          [],
        );
      });
    }

    it('">" redirection is an argument, not a redirection', async () => {
      const out = expectOk(await shell('echo', ['hello', '>', 'redirected.txt']));
      assert.equal(out.stdout, 'hello > redirected.txt\n');
      assert.equal(fs.existsSync(path.join(fx().ws, 'redirected.txt')), false);
    });

    it('glob characters are not expanded', async () => {
      assert.equal(expectOk(await shell('echo', ['*.txt'])).stdout, '*.txt\n');
    });

    for (const command of ['rm', 'sh', 'bash', 'python3', 'node', 'curl', 'env']) {
      it(`"${command}" is refused: not on the allowlist`, async () => {
        expectError(await shell(command, ['-c', 'id']), 'denied', `command "${command}" is not on the allowlist`);
      });
    }

    for (const command of ['/bin/rm', '/usr/bin/echo', './x', '../bin/echo', 'bin/echo']) {
      it(`the command ${JSON.stringify(command)} is refused: a path, not a bare name`, async () => {
        expectError(await shell(command, ['hi']), 'denied', 'must be a bare program name');
      });
    }

    it('a workspace script named like an allowlisted program is not run ("./echo")', async () => {
      fs.writeFileSync(path.join(fx().ws, 'echo'), '#!/bin/sh\ntouch pwned\n', { mode: 0o755 });
      expectError(await shell('./echo', []), 'denied', 'bare program name');
      // The bare name runs the system program from the fixed PATH, not the workspace file.
      assert.equal(expectOk(await shell('echo', ['x'])).stdout, 'x\n');
      assert.equal(fs.existsSync(path.join(fx().ws, 'pwned')), false);
    });

    it('a command name with shell syntax is refused', async () => {
      expectError(await shell('echo;id', []), 'denied');
    });

    it('cat /etc/passwd is refused: an absolute path argument outside the roots', async () => {
      expectError(await shell('cat', ['/etc/passwd']), 'denied', 'argument "/etc/passwd" of cat is refused');
    });

    it('cat ../outside/secret.txt is refused', async () => {
      assertNoSecret(expectError(await shell('cat', ['../outside/secret.txt']), 'denied', '../outside/secret.txt'));
    });

    it('a path argument through a symlink to outside is refused', async () => {
      fs.symlinkSync(fx().outside, path.join(fx().ws, 'out'));
      assertNoSecret(expectError(await shell('cat', ['out/secret.txt']), 'denied'));
    });

    it('a path hidden in "--opt=value" is checked', async () => {
      expectError(await shell('grep', ['--file=/etc/passwd', 'hello.txt']), 'denied', '"/etc/passwd"');
    });

    it('a path glued to a short option ("-f/etc/passwd") is checked', async () => {
      expectError(await shell('grep', ['-f/etc/passwd', 'hello.txt']), 'denied', '"/etc/passwd"');
    });

    it('a path after "--" is checked', async () => {
      expectError(await shell('cat', ['--', '../outside/secret.txt']), 'denied');
    });

    it('grep -R (follows every symlink) is refused, also inside a cluster', async () => {
      expectError(await shell('grep', ['-R', 'x', '.']), 'denied', 'option "-R"');
      expectError(await shell('grep', ['-inR', 'x', '.']), 'denied', 'option "-inR"');
      expectError(await shell('grep', ['--dereference-rec', 'x', '.']), 'denied', '--dereference-rec');
    });

    it('wc --files0-from (file names read from a file) is refused', async () => {
      fs.writeFileSync(path.join(fx().ws, 'names'), `${path.join(fx().outside, 'secret.txt')}\0`);
      expectError(await shell('wc', ['--files0-from=names']), 'denied', '--files0-from');
    });

    it('cwd ".." is refused', async () => {
      expectError(await shell('ls', [], { cwd: '..' }), 'denied', '".."');
    });

    it('cwd /etc is refused', async () => {
      expectError(await shell('cat', ['passwd'], { cwd: '/etc' }), 'denied', '"/etc"');
    });

    it('cwd through a symlink to outside is refused', async () => {
      fs.symlinkSync(fx().outside, path.join(fx().ws, 'outdir'));
      expectError(await shell('cat', ['secret.txt'], { cwd: 'outdir' }), 'denied', '"outdir"');
    });

    it('relative arguments are judged from cwd, not from the workspace', async () => {
      fs.mkdirSync(path.join(fx().ws, 'sub'));
      expectError(await shell('cat', ['../../outside/secret.txt'], { cwd: 'sub' }), 'denied');
      assert.equal(expectOk(await shell('cat', ['../hello.txt'], { cwd: 'sub' })).stdout, 'hello\n');
    });

    it('huge output is capped at maxOutputBytes and flagged truncated', async () => {
      const cap = fx().config.tools.shell.maxOutputBytes;
      fs.writeFileSync(path.join(fx().ws, 'big.txt'), Buffer.alloc(cap * 3, 'a'));
      const out = expectOk(await shell('cat', ['big.txt', 'big.txt']));
      assert.equal(out.stdout.length, cap);
      assert.equal(out.truncated, true);
      assert.equal(out.exit_code, 0);
    });
  });

  describe('git', () => {
    const fx = withFixture();
    const git = (args: string[], more: Record<string, unknown> = {}) =>
      fx().call('system:shell', { command: 'git', args, ...more });
    beforeEach(() => {
      execFileSync('git', ['init', '-q'], { cwd: fx().ws });
    });

    it('-c (config on the command line, e.g. core.pager) is refused', async () => {
      expectError(await git(['-c', 'core.pager=touch pwned', 'log']), 'denied', 'git option "-c"');
    });

    it('--config-env is refused', async () => {
      expectError(await git(['--config-env=core.editor=HOME', 'status']), 'denied', '--config-env');
    });

    it('--exec-path is refused', async () => {
      expectError(await git(['--exec-path=.', 'status']), 'denied', '--exec-path');
    });

    it('--upload-pack is refused, even abbreviated after an allowed subcommand', async () => {
      expectError(await git(['log', '--upload-p=touch pwned']), 'denied', '--upload-p');
    });

    it('ls-remote (network and --upload-pack) is not an allowed subcommand', async () => {
      expectError(await git(['ls-remote', '--upload-pack=touch pwned', '.']), 'denied', 'git ls-remote is not allowed');
    });

    it('-C outside the roots is refused', async () => {
      expectError(await git(['-C', '/etc', 'status']), 'denied', '"/etc"');
      expectError(await git(['-C', '../outside', 'status']), 'denied', '"../outside"');
      expectError(await git(['-C/etc', 'status']), 'denied', '"/etc"');
    });

    it('--git-dir and --work-tree are refused', async () => {
      expectError(await git(['--git-dir=../outside', 'status']), 'denied', '--git-dir');
      expectError(await git(['--work-tree=/', 'status']), 'denied', '--work-tree');
    });

    it('config, aliases and other subcommands off the list are refused', async () => {
      expectError(await git(['config', 'core.fsmonitor', 'touch pwned']), 'denied', 'git config is not allowed');
      expectError(await git(['pwn-alias']), 'denied', 'git pwn-alias is not allowed');
    });

    it('git grep -O (opens matches with a program) is refused', async () => {
      expectError(await git(['grep', '-Otouch', 'hello']), 'denied', '-Otouch');
      expectError(await git(['grep', '--open-files-in-pager=touch', 'hello']), 'denied');
    });

    it('an fsmonitor command in the repo config is not run (pinned off on the command line)', async () => {
      execFileSync('git', ['config', 'core.fsmonitor', `touch ${path.join(fx().ws, 'pwned-fsmonitor')}`], {
        cwd: fx().ws,
      });
      expectOk(await git(['status']));
      assert.equal(fs.existsSync(path.join(fx().ws, 'pwned-fsmonitor')), false);
    });

    it('-C inside the workspace works (control)', async () => {
      fs.mkdirSync(path.join(fx().ws, 'sub'));
      const out = expectOk(await git(['-C', 'sub', 'rev-parse', '--show-toplevel']));
      assert.equal(out.stdout.trim(), fx().ws);
    });
  });

  describe('processes, environment and trust', () => {
    const fx = withFixture((c) => {
      // Test-only allowlist: `node` to run a script that forks, `env` to print the environment.
      c.tools.shell.allow = [...c.tools.shell.allow, 'node', 'env'];
      c.tools.shell.maxOutputBytes = 4096;
    });
    const GRANDPARENT = `
      const { spawn } = require('node:child_process');
      const fs = require('node:fs');
      const child = spawn('sleep', [process.argv[3]], { stdio: 'inherit' });
      fs.writeFileSync(process.argv[2], String(child.pid));
      process.stdout.write('grandchild started\\n');
      setInterval(() => {}, 1000);
    `;

    async function startGrandparent(more: Record<string, unknown>, timeoutMs?: number) {
      fs.writeFileSync(path.join(fx().ws, 'grandparent.js'), GRANDPARENT);
      const pidFile = path.join(fx().ws, 'grandchild.pid');
      // sleep's argument (1000 s and a unique fraction) finds the grandchild among the host's processes.
      const grandchild = `1000.${Date.now()}${process.pid}`;
      const outcome = await fx().call(
        'system:shell',
        { command: 'node', args: ['grandparent.js', pidFile, grandchild], ...more },
        timeoutMs,
      );
      assert.ok(
        fs.existsSync(pidFile),
        'the script did not get to start its grandchild before the timeout; the machine is too slow for this timeout',
      );
      return { outcome, grandchild };
    }

    it("a grandchild outliving the shell's timeout_ms is killed with the whole group (the outcome is timeout, with the partial output)", async function () {
      this.timeout(60_000);
      const { outcome, grandchild } = await startGrandparent({ timeout_ms: 4000 });
      try {
        expectError(outcome, 'timeout', 'node did not finish within its timeout_ms of 4000 ms');
        const details = outcome.status === 'error' ? (outcome.error.details ?? {}) : {};
        assert.equal(details.command, 'node');
        assert.equal(details.timeout_ms, '4000');
        assert.equal(details.signal, 'SIGKILL');
        assert.equal(details.exit_code, 'null');
        assert.equal(details.stdout, 'grandchild started\n');
        assert.equal(details.truncated, 'false');
        await eventually(
          () => processesWithArg(grandchild).length === 0,
          `grandchild "sleep ${grandchild}" to be gone from /proc`,
        );
      } finally {
        killLeftover(grandchild);
      }
    });

    it('the partial output a shell timeout reports is capped like any output', async function () {
      this.timeout(60_000);
      fs.writeFileSync(
        path.join(fx().ws, 'flood.js'),
        "process.stdout.write('x'.repeat(10000), () => process.stderr.write('flooded', () => setInterval(() => {}, 1000)));",
      );
      const pidFile = path.join(fx().ws, 'unused.pid');
      const outcome = await fx().call('system:shell', {
        command: 'node',
        args: ['flood.js', pidFile],
        timeout_ms: 3000,
      });
      expectError(outcome, 'timeout', 'node did not finish within its timeout_ms of 3000 ms');
      const details = outcome.status === 'error' ? (outcome.error.details ?? {}) : {};
      assert.equal(details.stdout, 'x'.repeat(4096));
      assert.equal(details.stderr, 'flooded');
      assert.equal(details.truncated, 'true');
    });

    it("a grandchild outliving the call's timeout is killed too (the outcome is timeout at once)", async function () {
      this.timeout(60_000);
      const { outcome, grandchild } = await startGrandparent({}, 4000);
      try {
        expectError(outcome, 'timeout', 'system:shell timed out after 4000 ms');
        await eventually(
          () => processesWithArg(grandchild).length === 0,
          `grandchild "sleep ${grandchild}" to be gone from /proc`,
        );
      } finally {
        killLeftover(grandchild);
      }
    });

    it('secrets in the runtime environment do not reach the program', async () => {
      process.env.LOOM_TEST_SECRET = 'hunter2-secret-value';
      try {
        const out = expectOk(await fx().call('system:shell', { command: 'env', args: [] }));
        assert.ok(!out.stdout.includes('LOOM_TEST_SECRET'), 'secret variable passed through');
        assert.ok(!out.stdout.includes('hunter2'), 'secret value passed through');
        const names = out.stdout
          .trim()
          .split('\n')
          .map((l: string) => l.split('=')[0]);
        // bubblewrap sets PWD to the folder it changed into: the working folder, no secret.
        for (const name of names)
          assert.ok(fx().config.tools.shell.envAllow.includes(name) || name === 'PWD', `unexpected variable ${name}`);
        if (names.includes('PWD')) assert.ok(out.stdout.includes(`PWD=${fx().ws}\n`), 'PWD is the working folder');
        assert.ok(out.stdout.includes('PATH=/usr/local/bin:/usr/bin:/bin\n'), 'PATH is the fixed one');
      } finally {
        delete process.env.LOOM_TEST_SECRET;
      }
    });

    it('env cannot be used as a launcher', async () => {
      expectError(
        await fx().call('system:shell', { command: 'env', args: ['sh', '-c', 'touch pwned'] }),
        'denied',
        'env may only print',
      );
    });

    it('stderr is capped as well as stdout', async () => {
      fs.writeFileSync(
        path.join(fx().ws, 'noisy.js'),
        'process.stderr.write("e".repeat(100000)); process.stdout.write("o".repeat(100000));',
      );
      const out = expectOk(await fx().call('system:shell', { command: 'node', args: ['noisy.js'] }));
      assert.equal(out.stderr.length, 4096);
      assert.equal(out.stdout.length, 4096);
      assert.equal(out.truncated, true);
    });
  });

  describe('in an untrusted workspace', () => {
    const fx = withFixture((c) => {
      c.runtime.trusted = false;
    });

    it('system:shell is listed but every call is denied, saying why', async () => {
      assert.ok(fx().registry.get('system:shell'));
      expectError(
        await fx().call('system:shell', { command: 'echo', args: ['hi'] }),
        'denied',
        'unavailable in an untrusted workspace',
      );
    });
  });
});
