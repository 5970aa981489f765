// Defence in depth: each hole of issue 10 that the per-program rules (builtin/shell-policy.ts)
// now close, tried three ways on real files with real programs:
//   1. isolation "off": the policy alone must refuse it, naming the argument;
//   2. isolation "required": the same call is refused the same way;
//   3. isolation "required" with the policy out of the way (the identical argv run from a
//      script by an allowlisted sh): the OS alone must contain it.
// attackFixture asserts after each case that nothing guarded changed and the marker is nowhere.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { IsolationMode } from '../../../runtime/config/types';
import { type Attack, assertNoLeak, attackFixture, expectError, expectOk, hostGit, SECRET, withEnv } from './helpers';

interface Hole {
  name: string;
  command: string;
  args(a: Attack): string[];
  cwd?: string;
  /** What the refusal must name. Absent: the call is not refused, it must simply not run the payload. */
  named?: (a: Attack) => string;
  /** Extra checks when the OS alone faces the attack (the policy bypassed); the default: it failed and leaked nothing. */
  contained?(a: Attack, out: { exit_code: number | null; stdout: string; stderr: string }): void;
}

const secret = (a: Attack) => path.join(a.p.outside, 'secret.txt');
const failedWithoutLeak = (a: Attack, out: { exit_code: number | null }) => {
  assert.notEqual(out.exit_code, 0, 'the OS should have made it fail');
  assertNoLeak(out, a.p.token);
};
const ranConfined = (a: Attack) =>
  assert.equal(a.ran(), true, 'the payload should have run (inside the sandbox) for this case to prove containment');
const listFile = (a: Attack) => {
  fs.writeFileSync(path.join(a.p.ws, 'list'), `${secret(a)}\n`);
  return 'list';
};

/** A file the agent wrote, whose content would run or configure something if it became a protected place. */
const agentFile = (a: Attack, name: string) => {
  fs.writeFileSync(path.join(a.p.ws, name), `[agents.evil]\ncommand = "${a.payload()}"\n`);
  return name;
};

const HOLES: Hole[] = [
  {
    name: 'git -C chain from src/deep: "-C .. -C .. -C .." (each fine alone) to read the outside',
    command: 'git',
    cwd: 'src/deep',
    args: () => ['-C', '..', '-C', '..', '-C', '..', 'diff', '--no-index', 'outside/secret.txt', 'ws/hello.txt'],
    named: () => 'applied after -C ".." -C ".."',
  },
  {
    name: 'git -C chain "-C src -C .. -C .."',
    command: 'git',
    args: () => ['-C', 'src', '-C', '..', '-C', '..', 'diff', '--no-index', 'outside/secret.txt', 'ws/hello.txt'],
    named: () => 'git option -C ".." (applied after -C "src" -C "..", as git does)',
  },
  {
    name: 'git paths judged from where -C leads: cwd src, "-C .. diff --no-index ../outside/secret.txt"',
    command: 'git',
    cwd: 'src',
    args: () => ['-C', '..', 'diff', '--no-index', '../outside/secret.txt', 'hello.txt'],
    named: () => 'argument "../outside/secret.txt" of git',
  },
  {
    name: 'git commit -qF<file outside> (a grouped cluster hides the path)',
    command: 'git',
    args: (a) => ['commit', '--allow-empty', `-qF${secret(a)}`],
    named: (a) => `argument "-qF${secret(a)}" of git is refused: the value "${secret(a)}"`,
    contained(a, out) {
      failedWithoutLeak(a, out);
      assert.equal(hostGit(a.p.ws, ['log', '--format=%s']), 'first\n', 'no commit was made');
    },
  },
  {
    name: 'grep -xf<file outside> (grouped)',
    command: 'grep',
    args: (a) => [`-xf${secret(a)}`, 'hello.txt'],
    named: (a) => `-xf${secret(a)}`,
  },
  {
    name: 'sort -uo/tmp/<marker> (grouped write)',
    command: 'sort',
    args: (a) => ['hello.txt', `-uo/tmp/${a.m}`],
    named: () => '-uo/tmp/pwned-',
    contained: (_a, out) => assert.equal(out.exit_code, 0, 'sort wrote its file, into the private /tmp'),
  },
  {
    name: 'sort -o .git/config',
    command: 'sort',
    args: () => ['-o', '.git/config', 'hello.txt'],
    named: () => 'sort option "-o"',
  },
  {
    name: 'sort --output=loom.toml',
    command: 'sort',
    args: () => ['--output=loom.toml', 'hello.txt'],
    named: () => '"--output=loom.toml"',
  },
  {
    name: 'the headline: git log --format=<config> --output=.git/config',
    command: 'git',
    args: (a) => ['log', '-1', `--format=[diff]%n\texternal = sh ${a.payload()}`, '--output=.git/config'],
    named: () => 'git option "--output=.git/config"',
  },
  {
    name: "git diff --output=.loom/runtime.json (the bridge token's file)",
    command: 'git',
    args: () => ['diff', 'HEAD', '--output=.loom/runtime.json'],
    named: () => '"--output=.loom/runtime.json"',
  },
  {
    name: 'git show --output .vscode/settings.json (value apart)',
    command: 'git',
    args: () => ['show', '--output', '.vscode/settings.json'],
    named: () => '"--output"',
  },
  {
    name: 'tar -T list (names read from a file)',
    command: 'tar',
    args: (a) => ['-cf', 'out.tar', '-T', listFile(a)],
    named: () => 'tar option "-T"',
    contained(a, out) {
      failedWithoutLeak(a, out);
      const archive = path.join(a.p.ws, 'out.tar');
      assert.ok(!fs.existsSync(archive) || !fs.readFileSync(archive).includes(SECRET), 'the archive holds the secret');
    },
  },
  {
    name: 'tar old-style "cIf PROG out.tar x" (first argument without a dash)',
    command: 'tar',
    args: (a) => ['cIf', a.payload(), 'out.tar', 'hello.txt'],
    named: () => '"-cIf"',
    contained: (a) => ranConfined(a),
  },
  {
    name: 'tar old-style "cTf list out.tar"',
    command: 'tar',
    args: (a) => ['cTf', listFile(a), 'out.tar'],
    named: () => '"-cTf"',
  },
  {
    name: 'find -newer <file outside> (path options stay path-checked)',
    command: 'find',
    args: (a) => ['.', '-newer', secret(a)],
    named: (a) => `"${secret(a)}"`,
  },
  {
    name: 'find -- . -exec (find reads its expression after "--")',
    command: 'find',
    args: (a) => ['--', '.', '-maxdepth', '0', '-exec', 'sh', a.payload(), ';'],
    named: () => 'find option "-exec"',
    contained: (a) => ranConfined(a),
  },
  {
    name: 'sed --in-place=loom.* on a file named "toml" (the backup is renamed onto loom.toml)',
    command: 'sed',
    args: (a) => [`--in-place=loom.*`, '-e', '', agentFile(a, 'toml')],
    named: () => 'sed option "--in-place=loom.*" is not allowed: a backup suffix',
  },
  {
    name: 'sed -ni.toml on a file named "loom" (a suffix in a cluster)',
    command: 'sed',
    args: (a) => ['-ni.toml', 'p', agentFile(a, 'loom')],
    named: () => 'sed option "-ni.toml"',
  },
  {
    name: 'sed --in=.vsc*/settings.json (an abbreviation, a suffix with a folder)',
    command: 'sed',
    args: (a) => ['--in=.vsc*/settings.json', '-e', '', agentFile(a, 'code')],
    named: () => 'sed option "--in=.vsc*/settings.json"',
  },
  {
    name: 'sed -f -- -iloom.* toml (a "--" that is the value of -f does not end the options)',
    command: 'sed',
    args: (a) => {
      fs.writeFileSync(path.join(a.p.ws, '--'), '');
      return ['-f', '--', '-iloom.*', agentFile(a, 'toml')];
    },
    named: () => 'sed option "-iloom.*"',
  },
  {
    name: 'tar -f -- -c --checkpoint-action=exec=… (the "--" is the archive\'s name)',
    command: 'tar',
    args: (a) => ['-f', '--', '-c', `--checkpoint-action=exec=${a.payload()}`, '--checkpoint=1', 'hello.txt'],
    named: () => 'tar option "--checkpoint-action=exec=./evil.sh"',
    contained: (a) => ranConfined(a),
  },
  {
    name: 'git add --pathspec-from-file (names read from a file)',
    command: 'git',
    args: (a) => {
      fs.writeFileSync(path.join(a.p.ws, 'list'), 'loom.toml\n');
      return ['add', '--pathspec-from-file=list'];
    },
    named: () => 'git option "--pathspec-from-file=list"',
  },
  {
    name: "vim -es -c '!cmd'",
    command: 'vim',
    args: (a) => ['-es', '-c', `!sh ${a.payload()}`, '-c', 'q!', 'hello.txt'],
    named: () => 'vim runs other programs',
    contained: (a) => ranConfined(a),
  },
  {
    name: 'less with LESSOPEN in its environment (LESSSECURE)',
    command: 'less',
    args: () => ['hello.txt'],
    contained: (a, out) => {
      assert.equal(out.stdout, 'hello\n');
      assert.equal(a.ran(), false, 'LESSSECURE holds inside the sandbox too');
    },
  },
];

function quote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The identical argv, run from a script by sh: the policy sees only "sh attack.sh". */
function bypass(a: Attack, hole: Hole): string {
  const env = hole.command === 'less' ? 'LESSSECURE=1 ' : '';
  const script = `cd ${quote(path.join(a.p.ws, hole.cwd ?? '.'))} && ${env}exec ${[hole.command, ...hole.args(a)].map(quote).join(' ')}\n`;
  fs.writeFileSync(path.join(a.p.ws, 'attack.sh'), script);
  return 'attack.sh';
}

describe('shell policy: each closed hole, by the policy alone and by the OS alone', function () {
  this.timeout(20_000);
  const programs = ['tar', 'sort', 'find', 'vim', 'less', 'sed'];
  const installed = (p: string) => ['/usr/local/bin', '/usr/bin', '/bin'].some((d) => fs.existsSync(path.join(d, p)));
  let savedLessOpen: string | undefined;
  beforeEach(() => {
    savedLessOpen = process.env.LESSOPEN;
  });
  afterEach(() => {
    if (savedLessOpen === undefined) delete process.env.LESSOPEN;
    else process.env.LESSOPEN = savedLessOpen;
  });

  for (const mode of ['off', 'required'] as IsolationMode[]) {
    describe(`isolation "${mode}", through the policy`, () => {
      const fx = attackFixture((c) => {
        c.tools.shell.isolation = mode;
        c.tools.shell.allow.push(...programs);
        c.tools.shell.envAllow.push('LESSOPEN');
      });
      for (const hole of HOLES) {
        it(`${hole.name}: ${hole.named ? 'refused, naming it' : 'runs nothing'}`, async function () {
          if (!installed(hole.command)) this.skip(); // not installed here: nothing to attack
          const a = fx();
          if (hole.cwd) fs.mkdirSync(path.join(a.p.ws, hole.cwd), { recursive: true });
          process.env.LESSOPEN = `|sh ${a.payload()} %s`;
          const out = await a.shell(hole.command, hole.args(a), hole.cwd ? { cwd: hole.cwd } : {});
          if (hole.named) assertNoLeak(expectError(out, 'denied', hole.named(a)), a.p.token);
          else {
            const result = expectOk(out);
            assert.equal(result.isolated, mode !== 'off');
            hole.contained?.(a, result);
          }
          assert.equal(a.ran(), false, 'the payload ran');
        });
      }
    });
  }

  describe('isolation "required" with the policy bypassed (the same argv from a script run by sh)', () => {
    const fx = attackFixture((c) => {
      c.tools.shell.allow.push('sh');
      c.tools.shell.envAllow.push('LESSOPEN');
    });
    for (const hole of HOLES) {
      it(`${hole.name}: contained by the OS`, async function () {
        if (!installed(hole.command)) this.skip(); // not installed here: nothing to attack
        const a = fx();
        if (hole.cwd) fs.mkdirSync(path.join(a.p.ws, hole.cwd), { recursive: true });
        process.env.LESSOPEN = `|sh ${a.payload()} %s`;
        const out = expectOk(await a.shell('sh', [bypass(a, hole)]));
        assert.equal(out.isolated, true);
        assertNoLeak(out, a.p.token);
        (hole.contained ?? failedWithoutLeak)(a, out);
      });
    }
  });
});

// Unconfined (isolation "off", or "best-effort" without bubblewrap), the policy alone keeps an
// agent off loom.toml, .vscode and .git, which isolation makes read-only: a loom.toml rewritten
// through an allowlisted program names an agent the runtime then starts unconfined (found by a
// red-team pass with the default allowlist: "git mv -f evil.toml loom.toml").
describe('shell policy: unconfined, the protected places', function () {
  this.timeout(20_000);
  const evilToml = '[agents.evil]\ncommand = "/bin/sh"\nargs = ["-c", "id > pwned"]\n';
  describe('isolation "best-effort" without bubblewrap', () => {
    const fx = attackFixture((c) => (c.tools.shell.isolation = 'best-effort'));
    it('judges the command as the unconfined one it will be', async () => {
      const a = fx();
      const out = await withEnv('LOOM_BWRAP', path.join(a.p.outside, 'no-bwrap'), () =>
        a.shell('git', ['mv', '-f', 'hello.txt', 'loom.toml']),
      );
      expectError(out, 'denied', 'git mv runs only under OS isolation');
    });
  });

  for (const mode of ['off', 'required'] as IsolationMode[]) {
    describe(`isolation "${mode}"`, () => {
      const fx = attackFixture((c) => {
        c.tools.shell.isolation = mode;
        c.tools.shell.allow.push('sed', 'tar', 'rg');
      });
      /** Unconfined: refused, naming `named`; isolated: it ran, and the OS kept the place as it was. */
      const refusedOrReadOnly = (out: Awaited<ReturnType<Attack['shell']>>, named: string) => {
        if (mode === 'off') expectError(out, 'denied', named);
        else assert.equal(expectOk(out).isolated, true);
      };

      it('git mv -f onto loom.toml (the red-team exploit)', async () => {
        const a = fx();
        fs.writeFileSync(path.join(a.p.ws, 'evil.toml'), evilToml);
        hostGit(a.p.ws, ['add', 'evil.toml']);
        refusedOrReadOnly(
          await a.shell('git', ['mv', '-f', 'evil.toml', 'loom.toml']),
          'git mv runs only under OS isolation',
        );
      });

      it('git checkout and stash, which write files they are not given by name', async () => {
        const a = fx();
        for (const args of [
          ['checkout', 'HEAD', '--', '.'],
          ['stash', 'pop'],
          ['reset', '--hard'],
          ['restore', '.'],
        ])
          refusedOrReadOnly(await a.shell('git', args), `git ${args[0]} runs only under OS isolation`);
      });

      it('sed -i on loom.toml, and on a symlink to it', async () => {
        const a = fx();
        fs.symlinkSync('loom.toml', path.join(a.p.ws, 'innocent.toml'));
        refusedOrReadOnly(await a.shell('sed', ['-i', 's/info/debug/', 'loom.toml']), 'argument "loom.toml" of sed');
        refusedOrReadOnly(await a.shell('sed', ['-i', 's/info/debug/', 'innocent.toml']), 'argument "innocent.toml"');
        refusedOrReadOnly(await a.shell('sed', ['-i', 's/x/y/', '.git/config']), 'argument ".git/config" of sed');
      });

      it('tar extracting an archive that holds a loom.toml', async () => {
        const a = fx();
        const stage = fs.mkdtempSync(path.join(a.p.ws, 'stage-'));
        fs.writeFileSync(path.join(stage, 'loom.toml'), evilToml);
        execFileSync('tar', ['-cf', path.join(a.p.ws, 'evil.tar'), '-C', stage, 'loom.toml']);
        refusedOrReadOnly(await a.shell('tar', ['-xf', 'evil.tar']), 'tar option "-xf" is not allowed: it extracts');
        refusedOrReadOnly(await a.shell('tar', ['xf', 'evil.tar']), 'tar option "-xf" is not allowed: it extracts');
        refusedOrReadOnly(await a.shell('tar', ['--extract', '-f', 'evil.tar']), 'tar option "--extract"');
      });

      it('grep -r, git grep --no-index, git add -f and rg, which would read the data folder (the token)', async () => {
        const a = fx();
        for (const [command, args, named] of [
          ['grep', ['-r', 'token', '.'], 'grep option "-r" is not allowed: it reads every file below'],
          ['grep', ['--directories=recurse', 'token'], 'grep option "--directories=recurse"'],
          // A "--" that is the value of -e does not end grep's options.
          ['grep', ['-e', '--', '-r', '-e', 'token', '.'], 'grep option "-r"'],
          ['git', ['grep', '--no-index', 'token'], 'git option "--no-index" is not allowed'],
          ['git', ['diff', '--no-index', '.', 'src'], 'git option "--no-index"'],
          ['git', ['add', '-f', '.'], 'git option "-f"'],
          ['rg', ['token'], 'rg runs only under OS isolation'],
        ] as const) {
          const out = await a.shell(command, [...args]);
          assertNoLeak(out, a.p.token);
          if (mode === 'off') expectError(out, 'denied', named);
          else assert.equal(expectOk(out).isolated, true, `${command} ${args.join(' ')}`);
        }
      });

      it('git in a repository an agent made below the root (its config names a program git runs)', async () => {
        const a = fx();
        const nested = path.join(a.p.ws, 'src', 'wt');
        fs.mkdirSync(nested);
        hostGit(nested, ['init', '-q']);
        fs.writeFileSync(path.join(nested, 'f.txt'), 'one\n');
        hostGit(nested, ['add', 'f.txt']);
        hostGit(nested, ['-c', 'user.email=a@b', '-c', 'user.name=a', 'commit', '-qm', 'one']);
        fs.writeFileSync(path.join(nested, 'f.txt'), 'two\n');
        hostGit(nested, ['config', 'diff.external', path.join(a.p.ws, a.payload().slice(2))]);
        const out = await a.shell('git', ['diff'], { cwd: 'src/wt/' });
        if (mode === 'off') {
          expectError(out, 'denied', `git may not run in the repository at ${nested}/.git, inside the workspace`);
          assert.equal(a.ran(), false, 'the nested config ran its program as the user');
          expectError(await a.shell('git', ['-C', 'src/wt', 'status']), 'denied', 'git may not run in the repository');
        } else {
          assert.equal(expectOk(out).isolated, true);
          assert.equal(
            a.ran(),
            true,
            'it ran, inside the sandbox (the checks after this test find nothing it changed)',
          );
        }
        // The root's own repository, from a folder below it, as before.
        assert.equal(expectOk(await a.shell('git', ['status', '--short'], { cwd: 'src' })).exit_code, 0);
      });

      it('a working directory inside .git', async () => {
        const a = fx();
        refusedOrReadOnly(await a.shell('sed', ['-n', '1p', 'config'], { cwd: '.git' }), 'inside a .git folder');
      });

      it('what touches no protected place runs as before', async () => {
        const a = fx();
        assert.equal(expectOk(await a.shell('git', ['status', '--short'])).exit_code, 0);
        assert.equal(expectOk(await a.shell('sed', ['-n', '1p', 'hello.txt'])).stdout, 'hello\n');
        assert.equal(expectOk(await a.shell('git', ['log', '--oneline'])).exit_code, 0);
        // Isolated, git mv is the policy's to allow (the OS then keeps .git read-only).
        if (mode === 'required') expectOk(await a.shell('git', ['mv', 'src/main.txt', 'src/moved.txt']));
      });
    });
  }
});

// Unconfined, outside any repository "git diff a b" compares folders as plain files (git's own
// no-index mode, without the flag), the data folder among them (found by review).
describe('shell policy: unconfined git outside a repository', function () {
  this.timeout(20_000);
  const fx = attackFixture((c) => (c.tools.shell.isolation = 'off'), ['git']);
  it('refuses git diff and git grep; git status says there is no repository, as before', async () => {
    const a = fx();
    for (const args of [
      ['diff', 'src', '.'],
      ['grep', 'token'],
    ]) {
      const out = await a.shell('git', args);
      assertNoLeak(out, a.p.token);
      expectError(out, 'denied', `git ${args[0]} outside a repository compares and searches folders as plain files`);
    }
    assert.notEqual(expectOk(await a.shell('git', ['status'])).exit_code, 0);
  });
});

// Unconfined, nothing but the argument rules keeps a program from making a file the repository's
// config includes but that is not there yet (found by a red-team pass): git would then read it,
// and run what it names.
describe('shell policy: unconfined, a config include not there yet', function () {
  this.timeout(20_000);
  const fx = attackFixture((c) => {
    c.tools.shell.isolation = 'off';
    c.tools.shell.allow.push('cp');
  });
  it('refuses a copy that would make it, and copies elsewhere', async () => {
    const a = fx();
    const config = path.join(a.p.ws, '.git', 'config');
    const before = fs.readFileSync(config, 'utf8');
    fs.appendFileSync(config, '[include]\n\tpath = ../extra.cfg\n');
    try {
      expectError(
        await a.shell('cp', ['src/main.txt', 'extra.cfg']),
        'denied',
        "which the workspace's git config names (an included config or the hooks folder, not there yet)",
      );
      assert.equal(fs.existsSync(path.join(a.p.ws, 'extra.cfg')), false);
      expectOk(await a.shell('cp', ['src/main.txt', 'copy.txt']));
      assert.equal(fs.readFileSync(path.join(a.p.ws, 'copy.txt'), 'utf8'), 'one\ntwo\nthree\n');
    } finally {
      fs.writeFileSync(config, before); // the fixture checks that no call changed it
    }
  });
});
