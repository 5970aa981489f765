// The OS boundary itself (runtime/tools/isolation over real bubblewrap), attacked with the policy
// out of the way: either the isolation layer is driven directly (confine(...) around
// "/bin/sh -c <attack>") or an allowlisted sh runs the attack through system:shell. Classes:
// process escapes (nothing a call started outlives it: normal end, timeout, cancel), filesystem
// and kernel containment, and isolation being unavailable (a missing bubblewrap is simulated
// with LOOM_BWRAP; the probe is cached per value). attackFixture checks after every case that the
// outside secret, loom.toml, .vscode, .git's config/hooks/HEAD and the data folder are
// byte-identical (absent ones still absent) and that the marker was planted nowhere on the host.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { LoomConfig } from '../../../runtime/config/types';
import { silentLogger } from '../../../runtime/log';
import { openStore } from '../../../runtime/store';
import {
  confine,
  confineProcess,
  isolationStatus,
  SANDBOX_HOME,
  workspaceConfinement,
} from '../../../runtime/tools/isolation';
import {
  anotherRuntimeInside,
  type Attack,
  assertNoLeak,
  attackFixture,
  eventually,
  expectError,
  expectOk,
  type ProjectPart,
  processesWith,
  SECRET,
  uniqueMarker,
  withEnv,
} from './helpers';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The workspace's roots as the runtime has them: real paths, the workspace first. */
function rootsOf(config: LoomConfig): string[] {
  return [config.workspace, ...config.runtime.roots.map((r) => path.resolve(config.workspace, r))].map((r) =>
    fs.realpathSync(r),
  );
}

/** Runs `/bin/sh -c script` confined exactly as system:shell confines a program (isolation "required"). */
function confined(a: Attack, script: string, o: { network?: boolean; cwd?: string } = {}): Promise<Run> {
  const cwd = o.cwd ?? a.p.ws;
  const launch = confine(
    'required',
    workspaceConfinement(a.p.config, rootsOf(a.p.config), { cwd, network: o.network ?? false }),
    '/bin/sh',
    ['-c', script],
    'test',
    'tools.shell.isolation',
  );
  assert.equal(launch.isolated, true);
  return new Promise((resolve, reject) => {
    const child = spawn(launch.file, launch.args, {
      cwd,
      env: { PATH: '/usr/bin:/bin', HOME: SANDBOX_HOME, LANG: 'C' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      launch.cleanup();
      resolve({ code, stdout, stderr });
    });
  });
}

/** The attack failed inside the sandbox (a command of it exited non-zero) and printed no secret. */
function refusedByTheOs(
  run: Run,
  why: RegExp = /Read-only file system|Permission denied|No such file|Operation not permitted|Invalid cross-device link|Device or resource busy|must be superuser/,
): void {
  assert.notEqual(run.code, 0, `expected the OS to refuse: ${JSON.stringify(run)}`);
  assert.match(run.stderr, why);
  assertNoLeak(run);
}

const stat = (p: string) => fs.lstatSync(p, { throwIfNoEntry: false });

/** The launcher the build makes (esbuild.mjs): copied by the tests that plant one elsewhere. */
const BUILT_LAUNCHER = path.join(__dirname, '..', '..', '..', 'dist', 'bin', 'loom-close-fds');

describe('isolation: the OS boundary under attack (real bubblewrap)', function () {
  this.timeout(30_000);

  describe('process escapes: nothing a call started outlives it', () => {
    const fx = attackFixture((c) => c.tools.shell.allow.push('sh'));
    /** A unique sleep duration: its digits mark every process of the call in /proc/<pid>/cmdline. */
    const sleeper = () => `8${uniqueMarker('').replace(/\D/g, '').slice(-8)}`;
    const gone = (marker: string) =>
      eventually(() => processesWith(marker).length === 0, `every process marked ${marker} to be gone`, 5000);
    /** The classic daemon: fork, setsid, fork again, chdir /, close stdin/stdout/stderr. */
    const daemon = (n: string) =>
      `python3 -c 'import os,sys,time\nif os.fork(): sys.exit(0)\nos.setsid()\nif os.fork(): sys.exit(0)\nos.chdir("/"); os.closerange(0, 3); time.sleep(300)' ${n}`;
    const escapes = (n: string) =>
      [
        `setsid sleep ${n} &`,
        `nohup sleep ${n} >/dev/null 2>&1 &`,
        `(sleep ${n} &)`,
        `sh -c 'setsid sleep ${n} &'`,
        `sh -c 'trap "" TERM HUP INT; exec sleep ${n}' &`,
        daemon(n),
      ].join('\n');

    for (const [label, script] of [
      ['setsid', (n: string) => `setsid sleep ${n} &`],
      ['a double fork', (n: string) => `(sleep ${n} &)`],
      ['nohup', (n: string) => `nohup sleep ${n} >/dev/null 2>&1 &`],
      ["a daemonising child (sh -c 'setsid sleep N &')", (n: string) => `sh -c 'setsid sleep ${n} &'`],
      ['a real daemon (fork, setsid, fork, chdir /, close its fds)', (n: string) => daemon(n)],
      ['a child ignoring TERM/HUP/INT', (n: string) => `sh -c 'trap "" TERM HUP INT; exec sleep ${n}' &`],
      ['twenty background children', (n: string) => `for i in $(seq 20); do sleep ${n} & done`],
    ] as const) {
      it(`${label}: gone after the call ends normally`, async () => {
        const n = sleeper();
        // The pause lets the escape complete (setsid, the second fork) before the call ends.
        const count = `for p in /proc/[0-9]*; do tr '\\0\\n' '  ' < $p/cmdline; echo; done | grep -c '^\\(sleep\\|python3\\) .*${n}'`;
        const out = expectOk(await fx().shell('sh', ['-c', `${script(n)}\nsleep 0.3\n${count}`]));
        assert.ok(Number(out.stdout) >= 1, `the escapes were not running when the call ended: ${JSON.stringify(out)}`);
        assert.equal(out.isolated, true);
        await gone(n);
      });
    }

    it("all of them at once: gone after the shell's timeout_ms (outcome timeout)", async () => {
      const n = sleeper();
      const out = await fx().shell('sh', ['-c', `${escapes(n)}\nsleep ${n}`], { timeout_ms: 700 });
      expectError(out, 'timeout', 'sh did not finish within its timeout_ms of 700 ms');
      await gone(n);
    });

    it("all of them at once: gone after the call's own timeout", async () => {
      const n = sleeper();
      const out = await fx().p.call('system:shell', { command: 'sh', args: ['-c', `${escapes(n)}\nsleep ${n}`] }, 900);
      expectError(out, 'timeout');
      await gone(n);
    });

    it('all of them at once: gone after a cancel through an AbortSignal', async () => {
      const n = sleeper();
      const abort = new AbortController();
      const call = fx().p.registry.call({
        name: 'system:shell',
        arguments: { command: 'sh', args: ['-c', `${escapes(n)}\nsleep ${n}`] },
        signal: abort.signal,
      });
      await eventually(() => processesWith(n).length >= 6, 'the attack to have started its processes');
      abort.abort();
      expectError(await call, 'failed', 'cancelled');
      await gone(n);
    });

    it('control: with isolation "off" a setsid child does outlive the call (so the scan above can see survivors)', async () => {
      const n = sleeper();
      fx().p.config.tools.shell.isolation = 'off';
      expectOk(await fx().shell('sh', ['-c', `setsid sleep ${n} >/dev/null 2>&1 & sleep 0.3`]));
      try {
        await new Promise((r) => setTimeout(r, 300));
        assert.equal(processesWith(n).length, 1, 'the unconfined setsid child should still run');
      } finally {
        processesWith(n).forEach((pid) => process.kill(pid, 'SIGKILL'));
      }
    });

    it('a background writer left behind never gets to write after the call returned', async () => {
      const late = path.join(fx().p.ws, `late-${fx().m}`);
      expectOk(
        await fx().shell('sh', [
          '-c',
          `(sleep 0.8; touch '${late}') & setsid sh -c 'sleep 0.8; touch "${late}"' & echo started`,
        ]),
      );
      await new Promise((r) => setTimeout(r, 1500));
      assert.equal(fs.existsSync(late), false, 'a process of the call survived it and wrote');
    });

    it('"kill -9 -1" inside kills nothing outside the sandbox', async () => {
      const n = sleeper();
      const host = spawn('sleep', [n], { stdio: 'ignore' });
      try {
        await eventually(() => processesWith(n).length === 1, 'the host sleeper to start');
        await fx().shell('sh', ['-c', 'kill -9 -1; echo survived']);
        assert.deepEqual(processesWith(n), [host.pid]);
      } finally {
        host.kill('SIGKILL');
      }
    });
  });

  for (const [where, adjust] of [
    ['', undefined],
    // Protected only under the outermost roots, the workspace's own loom.toml was an ordinary file here.
    [', a root enclosing the workspace (roots = [".."])', (c: LoomConfig) => void (c.runtime.roots = ['..'])],
  ] as const)
    describe(`filesystem: loom.toml, .vscode and .git present${where}`, () => {
      const fx = attackFixture(adjust);
      for (const [label, script] of [
        ['append to loom.toml', 'echo "[agents.evil]" >> loom.toml'],
        ['replace loom.toml', 'rm -f loom.toml'],
        ['rename loom.toml away', 'mv loom.toml loom.old'],
        ['overwrite .vscode/settings.json', 'echo "{}" > .vscode/settings.json'],
        ['add .vscode/tasks.json', 'echo "{}" > .vscode/tasks.json'],
        ['remove .vscode', 'rm -rf .vscode'],
        ['append to .git/config', 'printf "[core]\\n\\tfsmonitor = touch x\\n" >> .git/config'],
        ['plant .git/hooks/pre-commit', 'printf "#!/bin/sh\\ntouch x\\n" > .git/hooks/pre-commit'],
        ['replace .git/HEAD', 'echo "ref: refs/heads/evil" > .git/HEAD'],
        ['remove .git', 'rm -rf .git'],
        ['rename .git away', 'mv .git git.old'],
        ['git config core.fsmonitor (git inside)', 'git config core.fsmonitor "touch x"'],
        ['unmount the read-only .git, then write its config', 'umount .git || umount -l .git; echo x >> .git/config'],
        ['mount a tmpfs over .git', 'mount -t tmpfs none .git'],
        ['bind a writable folder over .git', 'mkdir -p fake && mount --bind fake .git'],
        ['hard-link .git/config into the workspace (to write it later)', 'ln .git/config cfg'],
        // Absent here: their read-only placeholders keep them from being made.
        [
          'make .devcontainer/devcontainer.json',
          'mkdir -p .devcontainer && echo "{}" > .devcontainer/devcontainer.json',
        ],
        ['make .devcontainer.json', 'echo "{}" > .devcontainer.json'],
        ['make .env', 'echo "NODE_OPTIONS=--require=./x.js" > .env'],
      ] as const) {
        it(`${label}: refused by the OS, nothing changes`, async () => {
          refusedByTheOs(
            await confined(fx(), script),
            /Read-only file system|permission denied|must be superuser|Invalid cross-device link|Device or resource busy|Operation not permitted|Is a directory/i,
          );
          assert.equal(stat(path.join(fx().p.ws, 'cfg')), undefined);
        });
      }
    });

  describe('filesystem: loom.toml, .vscode, .git and the data folder absent', () => {
    const absent: ProjectPart[] = ['git', 'loom.toml', '.vscode', 'data'];
    const fx = attackFixture(() => {}, absent);
    for (const [label, script] of [
      ['create loom.toml', 'echo "[agents.evil]" > loom.toml'],
      ['create .vscode/tasks.json', 'mkdir -p .vscode && echo "{}" > .vscode/tasks.json'],
      ['create .git/hooks', 'mkdir -p .git/hooks'],
      ['git init', 'git init -q .'],
      ['create the data folder with a discovery file', 'mkdir -p .loom && echo "{}" > .loom/runtime.json'],
      ['create .env', 'echo "NODE_OPTIONS=--require=./x.js" > .env'],
    ] as const) {
      it(`${label}: refused by the OS, and nothing is left on the host afterwards`, async () => {
        refusedByTheOs(await confined(fx(), script));
        for (const name of ['loom.toml', '.vscode', '.git', '.loom', '.env', '.devcontainer.json'])
          assert.equal(stat(path.join(fx().p.ws, name)), undefined, `${name} exists on the host`);
      });
    }
    it('a workspace file (*.code-workspace) at the root cannot be overwritten, removed or renamed', async () => {
      const file = path.join(fx().p.ws, 'team.code-workspace');
      fs.writeFileSync(file, '{}\n');
      try {
        for (const script of ['echo x > team.code-workspace', 'rm -f team.code-workspace', 'mv team.code-workspace t'])
          refusedByTheOs(await confined(fx(), script));
        assert.equal(fs.readFileSync(file, 'utf8'), '{}\n');
      } finally {
        fs.rmSync(file, { force: true });
      }
    });

    it('a symbolic link named *.code-workspace (any command may make one) does not stop confined starts', async () => {
      const link = path.join(fx().p.ws, 'made.code-workspace');
      fs.symlinkSync('notes.txt', link);
      try {
        const run = await confined(fx(), 'echo started');
        assert.deepEqual([run.code, run.stdout], [0, 'started\n'], run.stderr);
      } finally {
        fs.rmSync(link, { force: true });
      }
    });

    it('a missing protected file reads as an empty file (cat, grep -r and .env readers work)', async () => {
      const run = await confined(
        fx(),
        'for f in .env .devcontainer.json loom.toml; do test -f $f && cat $f && echo "$f: empty file"; done; grep -r nothing-here . ; echo "grep=$?"',
      );
      assert.deepEqual(
        [run.code, run.stdout],
        [0, '.env: empty file\n.devcontainer.json: empty file\nloom.toml: empty file\ngrep=1\n'],
        run.stderr,
      );
    });
  });

  describe('filesystem: the data folder', () => {
    const fx = attackFixture();
    it('is an empty folder inside', async () => {
      const run = await confined(fx(), 'ls -A .loom; echo end');
      assert.deepEqual([run.code, run.stdout], [0, 'end\n']);
    });
    for (const spelling of [
      '.loom/runtime.json',
      './src/../.loom/runtime.json',
      'dl/runtime.json',
      '$PWD/.loom/runtime.json',
    ]) {
      it(`its discovery file (${spelling}) cannot be read`, async () => {
        fs.symlinkSync('.loom', path.join(fx().p.ws, 'dl'));
        const run = await confined(fx(), `cat ${spelling}`);
        refusedByTheOs(run, /No such file/);
        assertNoLeak(run, fx().p.token);
      });
    }
    it('cannot be written, removed or replaced', async () => {
      for (const script of ['touch .loom/x', 'rm -rf .loom', 'mv .loom loom.old', 'umount .loom'])
        refusedByTheOs(await confined(fx(), script));
    });
    it('a grep of the whole workspace for the token finds nothing', async () => {
      const run = await confined(fx(), `grep -r '${fx().p.token}' . ; echo "grep=$?"`);
      assert.equal(run.stdout, 'grep=1\n');
    });
  });

  describe('filesystem: a data folder configured elsewhere in the workspace', () => {
    const fx = attackFixture((c) => {
      c.runtime.dataDir = 'state/loom-data';
    });
    it('is hidden and read-only at its configured place', async () => {
      assert.ok(fs.existsSync(path.join(fx().p.ws, 'state/loom-data/runtime.json')));
      const run = await confined(fx(), 'ls -A state/loom-data; touch state/loom-data/x');
      refusedByTheOs(run);
      assert.equal(run.stdout, '');
    });

    it('cannot be carried off by renaming the folder above it (the mask would move, the real folder come back)', async () => {
      const run = await confined(
        fx(),
        'mv state elsewhere; ls -A elsewhere/loom-data 2>&1; cat state/loom-data/runtime.json elsewhere/loom-data/runtime.json; echo end',
      );
      assert.match(run.stderr + run.stdout, /busy/i, 'the rename is refused: the folder is pinned as a mount point');
      assert.ok(!run.stdout.includes('token'), run.stdout);
      assert.ok(fs.existsSync(path.join(fx().p.ws, 'state/loom-data/runtime.json')), 'the data folder is where it was');
      assert.equal(fs.existsSync(path.join(fx().p.ws, 'elsewhere')), false);
    });
  });

  describe("filesystem: another running runtime's data folder inside the workspace", () => {
    const fx = attackFixture();
    anotherRuntimeInside(() => fx().p.ws, 'inner-window-token');

    it('is empty inside: its window credential cannot be read or copied out', async () => {
      const run = await confined(fx(), 'ls -A packages/app/.loom; cp packages/app/.loom/window.json stolen.json');
      refusedByTheOs(run, /No such file/);
      assert.equal(run.stdout, '');
      assert.equal(stat(path.join(fx().p.ws, 'stolen.json')), undefined);
    });
  });

  describe('filesystem: home, /tmp, system folders, other roots', () => {
    let extra = '';
    const fx = attackFixture((c) => {
      extra = path.join(path.dirname(c.workspace), 'extra');
      fs.mkdirSync(extra);
      c.runtime.roots = ['../extra'];
    });

    it('$HOME is a private scratch folder; the real home (/root) is absent', async () => {
      const run = await confined(fx(), `echo "$HOME"; ls ${os.homedir()}`);
      assert.equal(run.stdout, `${SANDBOX_HOME}\n`);
      refusedByTheOs(run, /No such file/);
    });

    it('what is written to $HOME, /root and /tmp stays in the sandbox', async () => {
      const run = await confined(
        fx(),
        `touch "$HOME/${fx().m}" /tmp/${fx().m}; mkdir -p /root && touch /root/${fx().m}; ls "$HOME" /tmp /root`,
      );
      assert.equal(run.code, 0, run.stderr);
      assert.ok(run.stdout.includes(fx().m), 'the writes succeeded inside');
    });

    it("the host's /tmp, /var/tmp and /run are not visible", async () => {
      const probe = path.join(os.tmpdir(), `visible-${fx().m}`);
      fs.writeFileSync(probe, 'x');
      try {
        const run = await confined(fx(), `ls -A /tmp /var/tmp /run; cat ${probe}`);
        refusedByTheOs(run, /No such file/);
        assert.ok(!run.stdout.includes('visible-'));
      } finally {
        fs.rmSync(probe);
      }
    });

    it('the outside folder next to the workspace is absent', async () => {
      refusedByTheOs(
        await confined(fx(), `ls ../outside; cat ${path.join(fx().p.outside, 'secret.txt')}`),
        /No such file/,
      );
    });

    it('another root is writable; its parent shows only the roots', async () => {
      const run = await confined(fx(), `touch ../extra/ok && ls -A ..`);
      assert.equal(run.code, 0, run.stderr);
      assert.deepEqual(run.stdout.trim().split('\n').sort(), ['extra', 'ws']);
      assert.ok(fs.existsSync(path.join(extra, 'ok')));
    });

    it('/etc/shadow and /etc/gshadow are masked (empty); /etc/ssh shows only what every user may read', async () => {
      const run = await confined(fx(), 'cat /etc/shadow /etc/gshadow; echo end');
      assert.deepEqual([run.code, run.stdout], [0, 'end\n']);
      const privateKeys = spawnSync('find', ['/etc/ssh', '-type', 'f', '!', '-perm', '-o=r'], { encoding: 'utf8' })
        .stdout.trim()
        .split('\n')
        .filter(Boolean);
      if (privateKeys.length) {
        const keys = await confined(fx(), `cat ${privateKeys.join(' ')}; echo end`);
        assert.equal(keys.stdout, 'end\n', 'host keys are masked');
      }
    });

    it('no file under /etc or /opt that the host keeps from other users is readable inside (the runtime may run as root)', async function () {
      const hidden = spawnSync('find', ['/etc', '/opt', '-type', 'f', '!', '-perm', '-o=r'], { encoding: 'utf8' })
        .stdout.trim()
        .split('\n')
        .filter(Boolean);
      if (!hidden.length) this.skip(); // nothing here to protect
      const run = await confined(
        fx(),
        `for f in ${hidden.map((f) => `'${f}'`).join(' ')}; do [ -s "$f" ] && head -c1 "$f" >/dev/null 2>&1 && echo "$f"; done; true`,
      );
      assert.deepEqual(
        run.stdout.trim().split('\n').filter(Boolean),
        [],
        `readable inside although not readable by others on the host (mask them): ${run.stdout}`,
      );
    });

    for (const target of ['/etc/passwd', '/usr/bin/loom-planted', '/etc/profile.d/evil.sh']) {
      it(`writing ${target} fails read-only`, async () => {
        refusedByTheOs(await confined(fx(), `echo x >> ${target}`), /Read-only file system/);
        if (target !== '/etc/passwd') assert.equal(stat(target), undefined);
      });
    }

    it('/sys is absent', async () => {
      refusedByTheOs(await confined(fx(), 'ls /sys'), /No such file/);
    });
  });

  describe('kernel: processes, network, privileges', () => {
    const fx = attackFixture((c) => c.tools.shell.allow.push('sh'));

    it("/proc shows only the sandbox's own processes (pid 1 is bubblewrap, the test runner is not there)", async () => {
      const run = await confined(fx(), 'for p in /proc/[0-9]*; do tr "\\0" " " < $p/cmdline; echo; done');
      const lines = run.stdout.trim().split('\n');
      assert.ok(lines.length <= 6, `too many processes visible: ${lines.length}`);
      assert.ok(
        lines.every((l) => !l.includes('mocha')),
        run.stdout,
      );
      assert.match(lines[0], /bwrap/);
    });

    it("/proc/1/environ is the sandbox's, without the runtime's secrets", async () => {
      await withEnv('LOOM_TEST_SECRET', SECRET, async () => {
        const out = expectOk(await fx().shell('sh', ['-c', 'tr "\\0" "\\n" < /proc/1/environ; cat /proc/*/environ']));
        assertNoLeak(out);
      });
    });

    const launchOfTrue = (a: Attack) => {
      const launch = confine(
        'required',
        workspaceConfinement(a.p.config, rootsOf(a.p.config), { cwd: a.p.ws, network: false }),
        '/bin/true',
        [],
        'test',
        'tools.shell.isolation',
      );
      launch.cleanup();
      return launch;
    };

    // Two closers stand between the runtime and bwrap (runtime/tools/isolation/index.ts): the
    // launcher the build makes (dist/bin/loom-close-fds) and bash where there is none; both are attacked.
    const closers = [
      { label: 'loom-close-fds', closeFds: undefined, runs: /\/dist\/bin\/loom-close-fds$/ },
      { label: 'bash (LOOM_CLOSE_FDS="")', closeFds: '', runs: /^\/bin\/bash$/ },
    ];
    for (const { label, closeFds, runs } of closers) {
      describe(`descriptors closed by ${label}`, () => {
        it(`the launch runs ${label} first, then bwrap`, () =>
          withEnv('LOOM_CLOSE_FDS', closeFds, () => {
            const launch = launchOfTrue(fx());
            assert.match(launch.file, runs, closeFds === undefined ? 'build the launcher first: node esbuild.mjs' : '');
            // bwrap follows the closer's own arguments (bash: -p -c <script> <$0>).
            assert.equal(launch.args[launch.file.endsWith('bash') ? 4 : 0], isolationStatus('required').detail);
          }));

        it("the store's descriptors (LevelDB opens them without close-on-exec) do not reach the program: the store cannot be reopened through /proc/self/fd", async () => {
          const store = await openStore(path.join(fx().p.base, 'store-under-attack'), silentLogger);
          try {
            await store.putState('victim', 'api_key', Buffer.from('sk-VICTIM-SECRET'));
            const linkOf = (fd: string) => {
              try {
                return fs.readlinkSync(`/proc/self/fd/${fd}`);
              } catch {
                return ''; // the folder listing's own descriptor, closed by now
              }
            };
            const own = fs
              .readdirSync('/proc/self/fd')
              .map(linkOf)
              .filter((t) => t.includes('store-under-attack'));
            assert.ok(own.length > 0, 'control: the runtime holds the store files open');
            const run = await withEnv('LOOM_CLOSE_FDS', closeFds, () =>
              confined(fx(), 'for f in /proc/self/fd/*; do readlink "$f"; cat "$f" 2>/dev/null; done; echo end'),
            );
            assert.ok(!run.stdout.includes('store-under-attack'), run.stdout);
            assert.ok(!run.stdout.includes('sk-VICTIM-SECRET'), 'the store was read through an inherited descriptor');
          } finally {
            await store.close();
          }
        });

        it('no file descriptor the runtime opened reaches the program (a listening socket, an open file)', async () => {
          const server = net.createServer();
          await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
          const file = fs.openSync(path.join(fx().p.base, 'runtime-file'), 'w');
          try {
            // ls lists its own descriptors: what it got from bwrap, plus the folder it reads.
            const out = expectOk(
              await withEnv('LOOM_CLOSE_FDS', closeFds, () => fx().shell('sh', ['-c', 'exec ls -l /proc/self/fd/'])),
            );
            const lines = (out.stdout as string).split('\n').filter((l) => l.includes(' -> '));
            const inside = lines.map((l) => l.split(' -> ')).map(([left, target]) => [left.split(' ').at(-1)!, target]);
            assert.ok(inside.length >= 3, out.stdout);
            // Besides stdio nothing passes, not even what the test runner inherited from its parent
            // without close-on-exec: the launcher closes every descriptor above 2 before bwrap.
            const extra = inside.filter(
              ([fd, target]) => !['0', '1', '2'].includes(fd) && !target.startsWith('/proc/'),
            );
            assert.deepEqual(extra, [], out.stdout);
          } finally {
            fs.closeSync(file);
            server.close();
          }
        });
      });
    }

    it('a launcher that cannot run here (exit 126, as loom-close-fds on a Linux without close_range) is passed over for bash', async () => {
      const broken = path.join(fx().p.base, 'broken-close-fds');
      fs.writeFileSync(broken, '#!/bin/sh\necho "loom-close-fds: close_range failed" >&2\nexit 126\n', { mode: 0o755 });
      const run = await withEnv('LOOM_CLOSE_FDS', broken, async () => {
        assert.equal(launchOfTrue(fx()).file, '/bin/bash');
        return confined(fx(), 'echo "$0 ran"');
      });
      assert.equal(run.code, 0, run.stderr);
      assert.equal(run.stdout, '/bin/sh ran\n');
    });

    it("a launcher that starts bwrap without closing descriptors fails the probe's check and is passed over for bash", () =>
      withEnv('LOOM_CLOSE_FDS', '/usr/bin/env', () => assert.equal(launchOfTrue(fx()).file, '/bin/bash')));

    it('a launcher others could change (group- or world-writable) is passed over for bash', () => {
      const loose = path.join(fx().p.base, 'loose-close-fds');
      fs.copyFileSync(BUILT_LAUNCHER, loose);
      fs.chmodSync(loose, 0o777);
      return withEnv('LOOM_CLOSE_FDS', loose, () => assert.equal(launchOfTrue(fx()).file, '/bin/bash'));
    });

    it('a launcher inside a folder the sandbox makes writable is not used for that launch (the program could replace it): bash is', async () => {
      const inside = path.join(fx().p.ws, 'tools-bin');
      fs.mkdirSync(inside);
      const planted = path.join(inside, 'loom-close-fds');
      fs.copyFileSync(BUILT_LAUNCHER, planted);
      fs.chmodSync(planted, 0o755);
      await withEnv('LOOM_CLOSE_FDS', planted, async () => {
        assert.equal(launchOfTrue(fx()).file, '/bin/bash');
        const run = await confined(fx(), `echo replaced > ${JSON.stringify(planted)}; echo done`);
        assert.equal(run.stdout, 'done\n', run.stderr);
      });
    });

    it('bash, where it closes the descriptors, takes no functions or options from the environment (they would run outside the sandbox)', async () => {
      const marker = path.join(fx().p.base, uniqueMarker('bash-env'));
      const launch = await withEnv('LOOM_CLOSE_FDS', '', () => launchOfTrue(fx()));
      assert.equal(launch.file, '/bin/bash');
      const run = spawnSync(launch.file, launch.args, {
        cwd: fx().p.ws,
        encoding: 'utf8',
        env: {
          PATH: '/usr/bin:/bin',
          ...launch.env,
          'BASH_FUNC_exec%%': `() { touch ${marker}; }`,
          SHELLOPTS: 'xtrace',
          PS4: `$(touch ${marker})`,
        },
      });
      assert.equal(run.status, 0, run.stderr);
      assert.equal(fs.existsSync(marker), false, 'code from the environment ran outside the sandbox');
    });

    it('NoNewPrivs is 1 and every capability set is empty', async () => {
      const run = await confined(fx(), 'grep -E "^(NoNewPrivs|Cap(Inh|Prm|Eff|Bnd|Amb)):" /proc/self/status');
      const fields = Object.fromEntries(
        run.stdout
          .trim()
          .split('\n')
          .map((l) => l.split(/:\s+/)),
      );
      assert.deepEqual(fields, {
        CapInh: '0000000000000000',
        CapPrm: '0000000000000000',
        CapEff: '0000000000000000',
        CapBnd: '0000000000000000',
        CapAmb: '0000000000000000',
        NoNewPrivs: '1',
      });
    });

    for (const [label, script] of [
      ['a new user namespace (unshare -U)', 'unshare -U true'],
      ['a new user namespace as root (unshare -r)', 'unshare -r true'],
      ['chroot', 'chroot / true'],
      ['mount a tmpfs', 'mkdir -p m && mount -t tmpfs none m'],
      ['a hard link to a system file', 'ln /etc/passwd hl'],
    ] as const) {
      it(`${label} is impossible`, async () => {
        refusedByTheOs(await confined(fx(), script), /./);
        assert.equal(stat(path.join(fx().p.ws, 'hl')), undefined);
      });
    }

    it('a symlink planted in the workspace pointing outside leads nowhere', async () => {
      const run = await confined(
        fx(),
        `ln -s ${path.join(fx().p.outside, 'secret.txt')} s && ln -s ${os.homedir()} h && cat s; ls h/`,
      );
      refusedByTheOs(run, /No such file/);
    });

    it('there is no controlling terminal to inject keystrokes into (TIOCSTI): /dev/tty cannot be opened', async () => {
      refusedByTheOs(await confined(fx(), 'exec 3</dev/tty'), /No such device or address/);
    });

    it('the only network interface is loopback', async () => {
      const run = await confined(fx(), 'tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " "');
      assert.equal(run.stdout, 'lo\n');
    });

    describe("a server on the host's 127.0.0.1", () => {
      let server: net.Server;
      let port = 0;
      let received: string[] = [];
      beforeEach(async () => {
        received = [];
        server = net.createServer((socket) => socket.on('data', (d) => received.push(String(d))));
        await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
        port = (server.address() as net.AddressInfo).port;
      });
      afterEach(() => new Promise<void>((r) => server.close(() => r())));
      const connect = (m: string) => `bash -c 'exec 3<>/dev/tcp/127.0.0.1/${port} && echo ${m} >&3' && echo connected`;

      it('cannot be reached with network = false', async () => {
        refusedByTheOs(await confined(fx(), connect(fx().m)), /Connection refused/);
        assert.deepEqual(received, []);
      });

      it('is reached with network = true (control: the setting works)', async () => {
        const run = await confined(fx(), connect(fx().m), { network: true });
        assert.equal(run.stdout, 'connected\n', run.stderr);
        await eventually(() => received.join('').includes(fx().m), 'the server to receive the marker');
      });

      it('through system:shell, follows [tools.shell] network', async () => {
        const refused = expectOk(await fx().shell('sh', ['-c', connect(fx().m)]));
        refusedByTheOs(
          { code: refused.exit_code, stdout: refused.stdout, stderr: refused.stderr },
          /Connection refused/,
        );
        fx().p.config.tools.shell.network = true;
        assert.equal(expectOk(await fx().shell('sh', ['-c', connect(fx().m)])).stdout, 'connected\n');
        await eventually(() => received.join('').includes(fx().m), 'the server to receive the marker');
      });
    });
  });

  describe('isolation unavailable (LOOM_BWRAP names a missing bubblewrap)', () => {
    const missing = () => `/nonexistent/${uniqueMarker('bwrap')}/bwrap`;
    const modes = { required: 'required', 'best-effort': 'best-effort', off: 'off' } as const;
    let mode: keyof typeof modes = 'required';
    const fx = attackFixture(
      (c) => {
        c.tools.shell.isolation = mode;
        c.tools.shell.allow.push('sh');
      },
      ['git', 'loom.toml', '.vscode'],
    );
    const bwrapBefore = process.env.LOOM_BWRAP;
    afterEach(() => assert.equal(process.env.LOOM_BWRAP, bwrapBefore, 'LOOM_BWRAP was not restored'));

    describe('required', () => {
      before(() => (mode = 'required'));
      it('refuses with "unavailable", naming bubblewrap, what is missing and the setting; nothing runs', async () => {
        const bwrap = missing();
        const out = await withEnv('LOOM_BWRAP', bwrap, async () => fx().shell('sh', [fx().payload()]));
        const msg = expectError(out, 'unavailable', 'bubblewrap');
        for (const part of ['tools.shell.isolation', '"required"', bwrap, 'best-effort'])
          assert.ok(msg.includes(part), `the refusal should name ${part}: ${msg}`);
        assert.deepEqual(out.status === 'error' && out.error.details, {
          setting: 'tools.shell.isolation',
          reason: 'isolation_unavailable',
        });
        assert.equal(fx().ran(), false);
      });
      it('the refusal creates no placeholder (.git, .vscode, loom.toml stay absent)', async () => {
        await withEnv('LOOM_BWRAP', missing(), async () =>
          expectError(await fx().shell('sh', ['-c', 'true']), 'unavailable'),
        );
      });
      it('a bubblewrap that cannot build the sandbox here is refused too, saying why', async () => {
        const fake = path.join(fx().p.base, 'bwrap');
        fs.writeFileSync(fake, '#!/bin/sh\necho "bwrap: No permissions to creating new namespace" >&2\nexit 1\n', {
          mode: 0o755,
        });
        const out = await withEnv('LOOM_BWRAP', fake, async () => fx().shell('sh', [fx().payload()]));
        expectError(out, 'unavailable', `bubblewrap (${fake}) cannot create the sandbox here`);
        assert.equal(fx().ran(), false);
      });
      it('a LOOM_BWRAP that is not executable counts as missing', async () => {
        const plain = path.join(fx().p.base, 'bwrap-plain');
        fs.writeFileSync(plain, '', { mode: 0o644 });
        expectError(
          await withEnv('LOOM_BWRAP', plain, async () => fx().shell('sh', ['-c', 'true'])),
          'unavailable',
          'is not installed',
        );
      });
      it('isolationStatus says unavailable, mechanism none', async () => {
        const status = await withEnv('LOOM_BWRAP', missing(), () => isolationStatus('required'));
        assert.deepEqual([status.available, status.mechanism, status.mode], [false, 'none', 'required']);
        assert.match(status.detail, /bubblewrap \(bwrap\) is not installed/);
      });
      it('with bubblewrap present it runs isolated (control)', async () => {
        assert.equal(expectOk(await fx().shell('sh', ['-c', 'true'])).isolated, true);
        assert.deepEqual(
          [isolationStatus('required').available, isolationStatus('required').mechanism],
          [true, 'bubblewrap'],
        );
      });
    });

    describe('best-effort', () => {
      before(() => (mode = 'best-effort'));
      it('runs unconfined, saying so: isolated false and unconfined_because naming the setting and what is missing', async () => {
        const bwrap = missing();
        const out = expectOk(
          await withEnv('LOOM_BWRAP', bwrap, async () => fx().shell('sh', ['-c', `touch ran-${fx().m}; echo "$HOME"`])),
        );
        assert.equal(out.isolated, false);
        assert.match(
          out.unconfined_because,
          /tools\.shell\.isolation = "best-effort" and isolation is unavailable: bubblewrap/,
        );
        assert.ok(out.unconfined_because.includes(bwrap));
        assert.equal(fx().ran(), true);
        assert.notEqual(out.stdout, `${SANDBOX_HOME}\n`, 'HOME is the real one: it really ran unconfined');
      });
      it('the argument policy still holds unconfined', async () => {
        await withEnv('LOOM_BWRAP', missing(), async () => {
          expectError(await fx().shell('cat', ['/etc/shadow']), 'denied', '"/etc/shadow"');
          expectError(await fx().shell('git', ['log', '--output=.git/config']), 'denied', '--output');
        });
      });
      it('with bubblewrap present it runs isolated (control)', async () => {
        const out = expectOk(await fx().shell('sh', ['-c', 'true']));
        assert.deepEqual([out.isolated, out.unconfined_because], [true, undefined]);
      });
    });

    describe('off', () => {
      before(() => (mode = 'off'));
      it('runs unconfined whether or not bubblewrap exists, saying the setting', async () => {
        for (const bwrap of [missing(), undefined]) {
          const out = expectOk(
            await withEnv('LOOM_BWRAP', bwrap, async () => fx().shell('sh', ['-c', 'echo "$HOME"'])),
          );
          assert.deepEqual([out.isolated, out.unconfined_because], [false, 'tools.shell.isolation = "off"']);
          assert.equal(out.stdout, `${process.env.HOME}\n`);
        }
      });
    });
  });

  describe('long-lived processes (agents, MCP servers) confined by confineProcess', () => {
    const fx = attackFixture(() => {}, ['git', '.vscode']);
    /** Runs `command args` in the workspace as an isolated agent's process is run. */
    /** Runs `command args` in the workspace as an isolated agent's process is run; `meanwhile` between working out the sandbox and starting it. */
    const runAsAgent = (command: string, args: string[], meanwhile = () => {}) => {
      const { ws, config } = fx().p;
      const iso = { isolation: 'required' as const, network: false, readOnlyPaths: [] };
      const launch = confineProcess(config, iso, command, args, ws, 'agent test', 'agents.test.isolation');
      meanwhile();
      const env = { PATH: '/usr/bin:/bin', ...launch.env };
      const run = spawnSync(launch.file, launch.args, { cwd: ws, env, encoding: 'utf8' });
      launch.cleanup();
      return run;
    };

    it('cannot create an absent .git or .vscode (their placeholders last as long as the process)', () => {
      const ws = fx().p.ws;
      const run = runAsAgent('/bin/sh', [
        '-c',
        'mkdir -p .git/hooks .vscode; printf "[core]\\n\\tfsmonitor = touch x\\n" > .git/config; echo "{}" > .vscode/tasks.json; echo done',
      ]);
      assert.match(run.stdout, /done/);
      assert.match(run.stderr, /Read-only file system/);
      assert.equal(stat(path.join(ws, '.git')), undefined, '.git was created on the host');
      assert.equal(stat(path.join(ws, '.vscode')), undefined, '.vscode was created on the host');
    });

    it("binds the base Python a workspace venv names, and nothing else its pyvenv.cfg (the agent's to rewrite) names", function () {
      this.timeout(60_000);
      const { ws, outside } = fx().p;
      const venv = path.join(ws, '.venv');
      const made = spawnSync('python3', ['-m', 'venv', '--without-pip', venv], { encoding: 'utf8' });
      assert.equal(made.status, 0, made.stderr);
      const cfg = path.join(venv, 'pyvenv.cfg');
      const secret = JSON.stringify(path.join(outside, 'secret.txt'));
      const run = () =>
        runAsAgent(path.join(venv, 'bin', 'python'), [
          '-c',
          `import json; print("stdlib", json.dumps(1)); print(open(${secret}).read())`,
        ]);
      // As made: the venv runs (its base installation is bound) and the outside folder is not there.
      const first = run();
      assert.match(first.stdout, /stdlib 1/, first.stderr);
      assert.match(first.stderr, /No such file or directory/);
      assertNoLeak({ stdout: first.stdout, stderr: first.stderr });
      // What an agent inside it could write: "home" naming the outside folder, as a folder and as a
      // "bin" under it (the base installation is home's parent).
      const original = fs.readFileSync(cfg, 'utf8');
      for (const home of [path.join(outside, 'bin'), path.join(outside, 'x', 'bin'), outside]) {
        fs.writeFileSync(cfg, original.replace(/^home\s*=.*$/m, `home = ${home}`));
        const after = run();
        assertNoLeak({ stdout: after.stdout, stderr: after.stderr });
        assert.doesNotMatch(after.stdout, new RegExp(SECRET), `home = ${home}`);
      }
      // bin/python pointed at a file of the outside folder while the sandbox is worked out, and
      // back at the interpreter when it starts (a second process of the workspace could time it).
      fs.writeFileSync(cfg, original);
      const python = path.join(venv, 'bin', 'python');
      const interpreter = fs.readlinkSync(python);
      const point = (to: string) => (fs.unlinkSync(python), fs.symlinkSync(to, python));
      point(path.join(outside, 'secret.txt'));
      const raced = runAsAgent(python, ['-c', `print(open(${secret}).read())`], () => point(interpreter));
      assertNoLeak({ stdout: raced.stdout, stderr: raced.stderr });
      assert.match(raced.stderr, /No such file or directory/);
    });
  });

  describe('protected names that are not plain entries, and concurrent calls', () => {
    const fx = attackFixture((c) => c.tools.shell.allow.push('sh'), ['loom.toml', 'git', '.vscode']);

    it('loom.toml as a symlink to a file in the workspace: the sandbox refuses to start (a mount cannot hold the link), naming it, and nothing changes', async () => {
      const ws = fx().p.ws;
      fs.mkdirSync(path.join(ws, 'conf'));
      fs.writeFileSync(path.join(ws, 'conf', 'loom.toml'), '# the real config\n');
      fs.symlinkSync('conf/loom.toml', path.join(ws, 'loom.toml'));
      fx().rebaseline();
      assert.throws(
        () => confined(fx(), 'rm -f loom.toml; echo "[agents.evil]" > loom.toml; echo x >> conf/loom.toml'),
        (err: Error) => /loom\.toml is a symbolic link/.test(err.message),
      );
      expectError(
        await fx().shell('sh', ['-c', 'rm -f loom.toml; echo "[agents.evil]" > loom.toml']),
        'denied',
        'is a symbolic link',
      );
      assert.ok(stat(path.join(ws, 'loom.toml'))?.isSymbolicLink(), 'the symlink loom.toml is still the link');
      assert.equal(fs.readFileSync(path.join(ws, 'conf', 'loom.toml'), 'utf8'), '# the real config\n');
    });

    it('.git as a symlink to a repository outside the roots: the sandbox refuses to start, and the link stays', async () => {
      const ws = fx().p.ws;
      fs.mkdirSync(path.join(fx().p.outside, 'repo.git'));
      fs.symlinkSync(path.join(fx().p.outside, 'repo.git'), path.join(ws, '.git'));
      fx().rebaseline();
      assert.throws(
        () =>
          confined(
            fx(),
            'rm -f .git; mkdir -p .git/hooks && printf "[core]\\n\\tfsmonitor = touch x\\n" > .git/config',
          ),
        (err: Error) => /\.git is a symbolic link/.test(err.message),
      );
      assert.ok(stat(path.join(ws, '.git'))?.isSymbolicLink(), 'the .git symlink is still the link');
    });

    it('.git as a "gitdir:" file pointing into the workspace: the repository it names is read-only too', async () => {
      const ws = fx().p.ws;
      fs.mkdirSync(path.join(ws, 'repo-data'));
      fs.writeFileSync(path.join(ws, 'repo-data', 'config'), '[core]\n\tbare = false\n');
      fs.writeFileSync(path.join(ws, '.git'), 'gitdir: repo-data\n');
      fx().rebaseline();
      const run = await confined(fx(), 'printf "\\tfsmonitor = touch x\\n" >> repo-data/config');
      assert.equal(
        fs.readFileSync(path.join(ws, 'repo-data', 'config'), 'utf8'),
        '[core]\n\tbare = false\n',
        `git's config behind the gitdir file was changed (${JSON.stringify(run)})`,
      );
    });

    it('.git naming a linked worktree\'s folder: the repository its "commondir" names (config, hooks) is read-only too', async () => {
      const ws = fx().p.ws;
      fs.mkdirSync(path.join(ws, 'repo-store', 'worktrees', 'w'), { recursive: true });
      fs.writeFileSync(path.join(ws, 'repo-store', 'config'), '[core]\n\tbare = false\n');
      fs.writeFileSync(path.join(ws, 'repo-store', 'worktrees', 'w', 'commondir'), '../..\n');
      fs.writeFileSync(path.join(ws, '.git'), 'gitdir: repo-store/worktrees/w\n');
      fx().rebaseline();
      const run = await confined(fx(), 'printf "\\tfsmonitor = touch x\\n" >> repo-store/config');
      assert.equal(
        fs.readFileSync(path.join(ws, 'repo-store', 'config'), 'utf8'),
        '[core]\n\tbare = false\n',
        `the shared repository's config was changed (${JSON.stringify(run)})`,
      );
    });

    it("the hooks folder core.hooksPath names in the work tree (husky's .husky/_) is read-only too", async () => {
      const ws = fx().p.ws;
      fs.mkdirSync(path.join(ws, '.git'));
      fs.writeFileSync(path.join(ws, '.git', 'config'), '[core]\n\thooksPath = .husky/_\n');
      fs.mkdirSync(path.join(ws, '.husky', '_'), { recursive: true });
      fs.writeFileSync(path.join(ws, '.husky', '_', 'pre-commit'), '#!/bin/sh\n');
      fx().rebaseline();
      for (const script of [
        'printf "touch pwned\\n" >> .husky/_/pre-commit',
        'printf "#!/bin/sh\\ntouch pwned\\n" > .husky/_/post-checkout',
        'rm -rf .husky/_',
        'mv .husky husky.old',
        // husky 9's wrappers in .husky/_ run .husky/<hook>
        'printf "#!/bin/sh\\ntouch pwned\\n" > .husky/pre-commit',
      ])
        refusedByTheOs(await confined(fx(), script));
      assert.equal(fs.readFileSync(path.join(ws, '.husky', '_', 'pre-commit'), 'utf8'), '#!/bin/sh\n');
      assert.equal(stat(path.join(ws, '.husky', '_', 'post-checkout')), undefined);
      assert.equal(stat(path.join(ws, '.husky', 'pre-commit')), undefined);
    });

    it('an include target not there yet, in a folder that is, cannot be made by a command', async () => {
      const ws = fx().p.ws;
      fs.mkdirSync(path.join(ws, '.git'));
      fs.writeFileSync(path.join(ws, '.git', 'config'), '[include]\n\tpath = ../local.gitconfig\n');
      fx().rebaseline();
      refusedByTheOs(await confined(fx(), 'printf "[core]\\n\\tfsmonitor = touch pwned\\n" > local.gitconfig'));
      assert.equal(
        stat(path.join(ws, 'local.gitconfig')),
        undefined,
        'the placeholder outlived the call, or it was made',
      );
    });

    it('a file the repository config includes (include.path) is read-only too: git runs what it names', async () => {
      const ws = fx().p.ws;
      fs.mkdirSync(path.join(ws, '.git'));
      fs.writeFileSync(path.join(ws, '.git', 'config'), '[include]\n\tpath = ../team.gitconfig\n');
      fs.writeFileSync(path.join(ws, 'team.gitconfig'), '[user]\n\tname = team\n');
      fx().rebaseline();
      refusedByTheOs(await confined(fx(), 'printf "[core]\\n\\tfsmonitor = touch pwned\\n" >> team.gitconfig'));
      assert.equal(fs.readFileSync(path.join(ws, 'team.gitconfig'), 'utf8'), '[user]\n\tname = team\n');
    });

    it("the person's git config where a root holds it (GIT_CONFIG_GLOBAL in a dotfiles repository) is read-only too", async () => {
      const ws = fx().p.ws;
      fs.mkdirSync(path.join(ws, 'dotfiles'));
      fs.writeFileSync(path.join(ws, 'dotfiles', 'gitconfig'), '[user]\n\tname = me\n');
      fx().rebaseline();
      const saved = process.env.GIT_CONFIG_GLOBAL;
      process.env.GIT_CONFIG_GLOBAL = path.join(ws, 'dotfiles', 'gitconfig');
      try {
        refusedByTheOs(await confined(fx(), 'printf "[core]\\n\\tfsmonitor = touch pwned\\n" >> dotfiles/gitconfig'));
      } finally {
        if (saved === undefined) delete process.env.GIT_CONFIG_GLOBAL;
        else process.env.GIT_CONFIG_GLOBAL = saved;
      }
      assert.equal(fs.readFileSync(path.join(ws, 'dotfiles', 'gitconfig'), 'utf8'), '[user]\n\tname = me\n');
    });

    it('two concurrent calls: the end of the first does not unprotect the second (placeholders)', async () => {
      const ws = fx().p.ws;
      // The first runs until the second has started; the second attacks once the first has ended.
      const first = fx().shell('sh', ['-c', 'while [ ! -e started ]; do sleep 0.05; done'], { timeout_ms: 10_000 });
      await eventually(
        () => fs.existsSync(path.join(ws, '.git')),
        'the first call to be running (its placeholders made)',
      );
      const attack =
        'mkdir -p .git/hooks .vscode; echo "[core] fsmonitor = touch x" > .git/config; echo "[agents.evil]" > loom.toml; echo "{}" > .vscode/tasks.json';
      const second = fx().shell('sh', ['-c', `touch started; while [ ! -e go ]; do sleep 0.05; done; ${attack}`], {
        timeout_ms: 10_000,
      });
      expectOk(await first);
      fs.writeFileSync(path.join(ws, 'go'), '');
      expectOk(await second);
      // (the data folder existed before: attackFixture checks it is unchanged)
      for (const name of ['.git', 'loom.toml', '.vscode'])
        assert.equal(stat(path.join(ws, name)), undefined, `${name} was created on the host by the second call`);
    });
  });
});
