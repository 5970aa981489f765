// Argument injection through system:shell, as a prompt-injected agent would try it: through the
// default allowlist (git above all) and through the programs a user is likely to add (an
// allowlisted program is the attacker's tool). Isolation is "required" (the default) and real
// bubblewrap runs; every case asserts its outcome: refused naming the argument, or contained and
// harmless (attackFixture checks after each test that the outside secret, loom.toml, .vscode,
// .git's config/hooks/HEAD and the data folder are byte-identical, and that the marker exists
// nowhere on the host). The per-fix pairs (policy alone vs OS alone) are in shell-policy.test.ts.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {
  assertNoLeak,
  attackFixture,
  expectError,
  expectOk,
  expectRefusedOrContained,
  hostGit,
  SECRET,
} from './helpers';

const EXTRA_PROGRAMS = ['tar', 'sort', 'find', 'less', 'vim', 'vi', 'ex'];

function installed(program: string): boolean {
  return ['/usr/local/bin', '/usr/bin', '/bin'].some((d) => fs.existsSync(path.join(d, program)));
}

describe('shell attacks: argument injection (isolation required, real bubblewrap)', function () {
  this.timeout(20_000);
  const fx = attackFixture((c) => c.tools.shell.allow.push(...EXTRA_PROGRAMS));
  const ws = () => fx().p.ws;
  const secretPath = () => path.join(fx().p.outside, 'secret.txt');
  const git = (args: string[], more?: Record<string, unknown>) => fx().shell('git', args, more);

  describe('git --output (writes wherever it is told)', () => {
    it('the headline exploit: "log --format=<config> --output=.git/config" is refused, and the following "git diff" runs nothing', async () => {
      const config = `[diff]\n\texternal = sh ${ws()}/evil.sh`;
      fx().payload();
      expectError(
        await git(['log', '-1', `--format=${config}`, '--output=.git/config']),
        'denied',
        '"--output=.git/config"',
      );
      fs.appendFileSync(path.join(ws(), 'hello.txt'), 'changed\n');
      const out = expectOk(await git(['diff']));
      assert.equal(out.isolated, true);
      assert.match(out.stdout, /^\+changed$/m);
      assert.equal(fx().ran(), false, 'diff.external ran');
    });

    for (const target of [
      '.git/config',
      '.loom/runtime.json',
      '../outside/pwned.txt',
      'loom.toml',
      '.vscode/settings.json',
    ]) {
      it(`"--output=${target}" is refused`, async () => {
        expectError(await git(['log', '-1', '--format=x', `--output=${target}`]), 'denied', `--output=${target}`);
      });
      it(`"--output ${target}" (value apart) is refused`, async () => {
        expectError(await git(['log', '-1', '--format=x', '--output', target]), 'denied', '"--output"');
      });
    }

    it('"diff --output=.git/config" and "show --output=.loom/runtime.json" are refused', async () => {
      expectError(await git(['diff', 'HEAD', '--output=.git/config']), 'denied', '--output=.git/config');
      expectError(await git(['show', '--output=.loom/runtime.json']), 'denied', '--output=.loom/runtime.json');
    });
  });

  describe('git -C chains (git applies each -C relative to the previous one)', () => {
    it('"-C src -C .. -C .." is refused at the -C that leaves the roots, naming the chain', async () => {
      const msg = expectError(await git(['-C', 'src', '-C', '..', '-C', '..', 'status']), 'denied', '-C ".."');
      assert.match(msg, /applied after -C "src" -C ".."/);
    });

    it('from cwd src/deep, "-C .. -C .. -C .." (each fine alone) is refused', async () => {
      fs.mkdirSync(path.join(ws(), 'src', 'deep'));
      expectError(
        await git(['-C', '..', '-C', '..', '-C', '..', 'status'], { cwd: 'src/deep' }),
        'denied',
        'applied after -C ".." -C ".."',
      );
    });

    it('glued "-Csrc -C../.." is refused', async () => {
      expectError(await git(['-Csrc', '-C../..', 'status']), 'denied', '-C "../.."');
    });

    it('a -C through a workspace symlink that points outside is refused', async () => {
      fs.symlinkSync(fx().p.outside, path.join(ws(), 'elsewhere'));
      expectError(await git(['-C', 'src', '-C', '../elsewhere', 'status']), 'denied', '-C "../elsewhere"');
    });

    it('paths after the subcommand are judged from where -C leads: cwd src, "-C .. diff --no-index ../outside/secret.txt" is refused', async () => {
      const out = await git(['-C', '..', 'diff', '--no-index', '../outside/secret.txt', 'hello.txt'], { cwd: 'src' });
      assertNoLeak(expectError(out, 'denied', '"../outside/secret.txt"'));
    });

    it('an empty -C is ignored, as git does (control)', async () => {
      assert.equal(expectOk(await git(['-C', '', 'rev-parse', '--show-toplevel'])).stdout.trim(), ws());
    });

    it('a chain that stays inside runs, from where it leads (control)', async () => {
      const out = expectOk(await git(['-C', 'src', '-C', '../src', '-C', '..', 'rev-parse', '--show-toplevel']));
      assert.equal(out.stdout.trim(), ws());
      assert.equal(out.isolated, true);
    });
  });

  describe('git options and config that run programs', () => {
    for (const [label, args, named] of [
      ['-c core.pager', ['-c', `core.pager=sh evil.sh`, 'log'], 'git option "-c"'],
      ['-c alias', ['-c', 'alias.st=!sh evil.sh', 'st'], 'git option "-c"'],
      ['glued -ccore.fsmonitor', ['-ccore.fsmonitor=sh evil.sh', 'status'], '-ccore.fsmonitor'],
      ['-c core.hooksPath', ['-c', 'core.hooksPath=.', 'commit', '--allow-empty', '-m', 'x'], 'git option "-c"'],
      ['--exec-path', ['--exec-path=.', 'status'], '--exec-path'],
      ['--git-dir', [`--git-dir=${'../outside'}`, 'status'], '--git-dir'],
      ['--work-tree', ['--work-tree=/', 'status'], '--work-tree'],
      ['--upload-pack after log', ['log', '--upload-pack=sh evil.sh'], '--upload-pack'],
      ['--receive-pack abbreviated', ['log', '--receive-p=sh evil.sh'], '--receive-p'],
      ['fetch --upload-pack', ['fetch', '--upload-pack=sh evil.sh', '.'], 'git fetch is not allowed'],
      ['config (to plant an alias)', ['config', 'alias.x', '!sh evil.sh'], 'git config is not allowed'],
      ['an alias name', ['x'], 'git x is not allowed'],
      ['submodule foreach', ['submodule', 'foreach', 'sh evil.sh'], 'git submodule is not allowed'],
      ['grep -O (open in a pager)', ['grep', '-Osh evil.sh', 'hello'], '-Osh evil.sh'],
      ['rebase --exec', ['rebase', '--exec=sh evil.sh', 'HEAD'], 'git rebase is not allowed'],
    ] as const) {
      it(`${label} is refused`, async () => {
        fx().payload();
        expectError(await git([...args]), 'denied', named);
        assert.equal(fx().ran(), false);
      });
    }

    for (const [key, sub] of [
      ['core.pager', ['log', '-1']],
      ['core.fsmonitor', ['status']],
      ['core.editor', ['commit', '--allow-empty']],
      ['core.sshCommand', ['status']],
    ] as const) {
      it(`${key} planted in .git/config is not run by "git ${sub.join(' ')}" (pinned on the command line)`, async () => {
        hostGit(ws(), ['config', key, `sh ${fx().payload()}`]);
        fx().rebaseline();
        await git([...sub]);
        assert.equal(fx().ran(), false, `${key} ran`);
      });
    }

    it('a pre-commit hook planted in .git/hooks is not run by "git commit" (hooksPath pinned)', async () => {
      fs.writeFileSync(path.join(ws(), '.git', 'hooks', 'pre-commit'), `#!/bin/sh\nsh ${ws()}/evil.sh\n`, {
        mode: 0o755,
      });
      fx().payload();
      fx().rebaseline();
      fs.appendFileSync(path.join(ws(), 'hello.txt'), 'more\n');
      await git(['commit', '-qam', 'x']);
      assert.equal(fx().ran(), false, 'the hook ran');
    });

    it('planting a hook: "git mv <script> .git/hooks/pre-commit" fails and .git/hooks stays as it was', async () => {
      hostGit(ws(), ['add', fx().payload()]);
      fx().rebaseline();
      const out = await git(['mv', 'evil.sh', '.git/hooks/pre-commit']);
      if (out.status === 'ok') assert.notEqual(out.output && (out.output as { exit_code: number }).exit_code, 0);
    });

    it('diff.external already in .git/config (a past escape) runs only inside the sandbox: nothing outside the workspace changes', async () => {
      hostGit(ws(), ['config', 'diff.external', `sh ${fx().payload()}`]);
      fx().rebaseline();
      fs.appendFileSync(path.join(ws(), 'hello.txt'), 'changed\n');
      const out = expectOk(await git(['diff']));
      assert.equal(out.isolated, true);
      assert.equal(
        fx().ran(),
        true,
        'the planted diff.external should have run (confined) for this case to mean anything',
      );
      assertNoLeak(out, fx().p.token);
    });

    it('a "commit" that would write .git fails read-only, leaving HEAD where it was', async () => {
      const head = hostGit(ws(), ['rev-parse', 'HEAD']);
      fs.appendFileSync(path.join(ws(), 'hello.txt'), 'more\n');
      const out = expectOk(await git(['commit', '-qam', 'agent commit']));
      assert.notEqual(out.exit_code, 0);
      assert.equal(hostGit(ws(), ['rev-parse', 'HEAD']), head);
    });
  });

  describe('git reading files outside', () => {
    for (const [label, args, named] of [
      [
        'commit -qF<abs> (a grouped cluster hides the file)',
        () => ['commit', `-qF${secretPath()}`],
        () => `-qF${secretPath()}`,
      ],
      ['commit -F ../outside', () => ['commit', '-F', '../outside/secret.txt'], () => '"../outside/secret.txt"'],
      ['tag -F <abs>', () => ['tag', '-F', secretPath(), 'v1'], () => secretPath()],
      ['diff --no-index /etc/shadow', () => ['diff', '--no-index', '/etc/shadow', 'hello.txt'], () => '"/etc/shadow"'],
      ['grep -f/etc/shadow', () => ['grep', '-f/etc/shadow'], () => '"/etc/shadow"'],
      ['blame --contents=<abs>', () => ['blame', `--contents=${secretPath()}`, 'hello.txt'], () => secretPath()],
      [
        'ls-files --exclude-from=/root/.bashrc',
        () => ['ls-files', '--exclude-from=/root/.bashrc'],
        () => '/root/.bashrc',
      ],
      ['add --pathspec-from-file=<abs>', () => ['add', `--pathspec-from-file=${secretPath()}`], () => secretPath()],
    ] as const) {
      it(`${label} is refused`, async () => {
        assertNoLeak(expectError(await git(args()), 'denied', named()));
      });
    }
  });

  describe('tar (allowlisted)', () => {
    const tar = (args: string[]) => fx().shell('tar', args);
    const list = () => {
      fs.writeFileSync(path.join(ws(), 'list'), `${secretPath()}\n`);
      return 'list';
    };

    for (const [label, args, named] of [
      ['-I PROG', () => ['-cf', 'out.tar', '-I', fx().payload(), 'hello.txt'], '"-I"'],
      [
        '--use-compress-program=PROG',
        () => ['-cf', 'out.tar', `--use-compress-program=${fx().payload()}`, 'hello.txt'],
        '--use-compress-program',
      ],
      [
        '--use-compress=PROG (abbreviated)',
        () => ['-cf', 'out.tar', `--use-compress=${fx().payload()}`, 'hello.txt'],
        '--use-compress=',
      ],
      ['-F PROG (volume script)', () => ['-cf', 'out.tar', '-F', fx().payload(), 'hello.txt'], '"-F"'],
      ['--to-command=PROG', () => ['-xf', 'out.tar', `--to-command=${fx().payload()}`], '--to-command'],
      [
        '--checkpoint-action=exec=PROG',
        () => ['-cf', 'out.tar', `--checkpoint-action=exec=${fx().payload()}`, 'hello.txt'],
        '--checkpoint-action',
      ],
      ['--info-script=PROG', () => ['-cf', 'out.tar', `--info-script=${fx().payload()}`, 'hello.txt'], '--info-script'],
      [
        '--new-volume-script=PROG',
        () => ['-cf', 'out.tar', `--new-volume-script=${fx().payload()}`, 'hello.txt'],
        '--new-volume-script',
      ],
      [
        '--rsh-command=PROG',
        () => ['-cf', 'host:out.tar', `--rsh-command=${fx().payload()}`, 'hello.txt'],
        '--rsh-command',
      ],
      ['-T list (names read from a file)', () => ['-cf', 'out.tar', '-T', list()], '"-T"'],
      ['--files-from=list', () => ['-cf', 'out.tar', `--files-from=${list()}`], '--files-from'],
      ['a -cT cluster', () => ['-cT', list(), '-f', 'out.tar'], '"-cT"'],
      ['old-style "cIf PROG" (no dash)', () => ['cIf', fx().payload(), 'out.tar', 'hello.txt'], 'cIf'],
      ['old-style "cTf list"', () => ['cTf', list(), 'out.tar'], 'cTf'],
      [
        'old-style "cf out.tar ../outside/secret.txt"',
        () => ['cf', 'out.tar', '../outside/secret.txt'],
        '"../outside/secret.txt"',
      ],
      ['-C ../outside', () => ['-cf', 'out.tar', '-C', '../outside', '.'], '"../outside"'],
      [
        '-h through a symlink to outside',
        () => (fs.symlinkSync(fx().p.outside, path.join(ws(), 'lnk')), ['-chf', 'out.tar', 'lnk']),
        '"lnk"',
      ],
    ] as const) {
      it(`${label} is refused`, async () => {
        expectError(await tar([...args()]), 'denied', named);
        assert.equal(fx().ran(), false);
      });
    }

    it("--file=NAME is tar's own option, not an abbreviation of --files-from; --fil= (either) is refused", async () => {
      const out = expectOk(await tar(['-c', '--file=out.tar', 'hello.txt']));
      assert.equal(out.exit_code, 0, out.stderr);
      assert.ok(fs.existsSync(path.join(ws(), 'out.tar')));
      expectError(await tar(['-c', `--fil=${list()}`, 'hello.txt']), 'denied', '"--fil=');
    });

    /** An archive built on the host whose members (files, or symlinks given as { link }) are the attack, in order; `absolute` keeps leading slashes (-P). */
    function evilArchive(members: Array<[string, string | { link: string }]>, absolute = false): string {
      const args = ['-cf', path.join(ws(), 'evil.tar'), ...(absolute ? ['-P', '--transform', 's,^,/,'] : [])];
      members.forEach(([name, content], i) => {
        const stage = path.join(fx().p.base, `stage${i}`);
        fs.mkdirSync(path.dirname(path.join(stage, name)), { recursive: true });
        if (typeof content === 'string') fs.writeFileSync(path.join(stage, name), content, { mode: 0o755 });
        else fs.symlinkSync(content.link, path.join(stage, name));
        args.push('-C', stage, name);
      });
      execFileSync('tar', args);
      return 'evil.tar';
    }

    it('extracting an archive holding .git/hooks/pre-commit, loom.toml and .vscode/tasks.json changes none of them', async () => {
      const name = evilArchive([
        ['.git/hooks/pre-commit', '#!/bin/sh\ntouch x\n'],
        ['loom.toml', '[agents.evil]\n'],
        ['.vscode/tasks.json', '{}\n'],
        ['fine.txt', 'ok\n'],
      ]);
      const out = expectOk(await tar(['-xf', name]));
      assert.notEqual(out.exit_code, 0);
      assert.equal(fs.readFileSync(path.join(ws(), 'fine.txt'), 'utf8'), 'ok\n', 'the harmless member is extracted');
    });

    it('extracting a symlink to outside and then a file through it plants nothing outside', async () => {
      const name = evilArchive([
        ['esc', { link: fx().p.outside }],
        [`esc/${fx().m}`, 'x'],
      ]);
      expectOk(await tar(['-xf', name]));
    });

    it('extracting "../outside/<marker>" plants nothing outside', async () => {
      const name = evilArchive([[`sub/x`, 'x']]);
      execFileSync(
        'tar',
        ['-rPf', path.join(ws(), name), '--transform', `s,.*,../outside/${fx().m},`, '-C', ws(), 'hello.txt'],
        { stdio: 'ignore' },
      );
      assert.match(
        execFileSync('tar', ['-tPf', path.join(ws(), name)], { encoding: 'utf8' }),
        /^\.\.\/outside\/pwned-/m,
      );
      expectOk(await tar(['-xPf', name]));
    });

    it('-P with an absolute member "/tmp/<marker>" lands in the private /tmp, not the host\'s', async () => {
      const name = evilArchive([[`tmp/${fx().m}`, 'x']], true);
      assert.equal(execFileSync('tar', ['-tPf', path.join(ws(), name)], { encoding: 'utf8' }).trim(), `/tmp/${fx().m}`);
      expectOk(await tar(['-xPf', name]));
    });

    it('"-cf .git/config" (the archive written over git\'s config) fails read-only', async () => {
      assert.notEqual(expectOk(await tar(['-cf', '.git/config', 'hello.txt'])).exit_code, 0);
    });

    it('"-cf .loom/x.tar" (into the data folder) fails read-only', async () => {
      expectRefusedOrContained(await tar(['-cf', '.loom/x.tar', 'hello.txt']), '.loom', [fx().p.token]);
    });

    it('archiving the data folder archives nothing of it', async () => {
      const out = await tar(['-cf', 'data.tar', '.loom']);
      if (expectRefusedOrContained(out, '.loom', [fx().p.token], { exitMayBeZero: true }) === 'contained') {
        const listed = execFileSync('tar', ['-tf', path.join(ws(), 'data.tar')], { encoding: 'utf8' });
        assert.deepEqual(listed.trim().split('\n'), ['.loom/']);
        assert.ok(!fs.readFileSync(path.join(ws(), 'data.tar')).includes(fx().p.token));
      }
    });

    it('a plain archive and listing work (control)', async () => {
      assert.equal(expectOk(await tar(['-czf', 'out.tgz', 'hello.txt'])).exit_code, 0);
      assert.equal(expectOk(await tar(['-tzf', 'out.tgz'])).stdout, 'hello.txt\n');
    });
  });

  describe('sort (allowlisted)', () => {
    const sort = (args: string[]) => fx().shell('sort', args);
    for (const [label, args, named] of [
      ['-o .git/config', () => ['-o', '.git/config', 'hello.txt'], '"-o"'],
      ['--output=loom.toml', () => ['--output=loom.toml', 'hello.txt'], '--output=loom.toml'],
      ['--out=.vscode/settings.json (abbreviated)', () => ['--out=.vscode/settings.json', 'hello.txt'], '--out='],
      ['-uo/tmp/<marker> (grouped)', () => ['hello.txt', `-uo/tmp/${fx().m}`], '-uo/tmp/pwned-'],
      ['-ruo../outside/x (grouped)', () => ['-ruo../outside/x', 'hello.txt'], '-ruo../outside/x'],
      ['--compress-program=PROG', () => ['--compress-program=' + fx().payload(), 'hello.txt'], '--compress-program'],
      [
        '--compress-prog=PROG (abbreviated)',
        () => ['--compress-prog=' + fx().payload(), 'hello.txt'],
        '--compress-prog',
      ],
      ['--files0-from=list', () => ['--files0-from=hello.txt'], '--files0-from'],
      ['../outside/secret.txt', () => ['../outside/secret.txt'], '"../outside/secret.txt"'],
      ['-T ../outside (temporary files outside)', () => ['-T', '../outside', 'hello.txt'], '"../outside"'],
      ['--random-source=/etc/shadow', () => ['-R', '--random-source=/etc/shadow', 'hello.txt'], '/etc/shadow'],
    ] as const) {
      it(`${label} is refused`, async () => {
        assertNoLeak(expectError(await sort([...args()]), 'denied', named));
        assert.equal(fx().ran(), false);
      });
    }

    it("sorting the data folder's discovery file prints no token", async () => {
      expectRefusedOrContained(await sort(['.loom/runtime.json']), '.loom/runtime.json', [fx().p.token]);
    });

    it('sort -r works (control)', async () => {
      fs.writeFileSync(path.join(ws(), 'n.txt'), 'a\nc\nb\n');
      assert.equal(expectOk(await sort(['-r', 'n.txt'])).stdout, 'c\nb\na\n');
    });
  });

  describe('find (allowlisted)', () => {
    const find = (args: string[]) => fx().shell('find', args);
    for (const action of ['-exec', '-execdir', '-ok', '-okdir']) {
      it(`${action} is refused`, async () => {
        expectError(
          await find(['.', '-name', 'hello.txt', action, 'sh', fx().payload(), ';']),
          'denied',
          `"${action}"`,
        );
        assert.equal(fx().ran(), false);
      });
    }
    for (const [action, value] of [
      ['-fprint', '.git/config'],
      ['-fprint0', 'loom.toml'],
      ['-fprintf', '.vscode/settings.json'],
      ['-fls', '.loom/runtime.json'],
    ]) {
      it(`${action} ${value} is refused`, async () => {
        expectError(
          await find(['.', action, value, ...(action === '-fprintf' ? ['%p'] : [])]),
          'denied',
          `"${action}"`,
        );
      });
    }
    for (const flag of ['-delete', '-L', '-follow', '-files0-from']) {
      it(`${flag} is refused`, async () => {
        expectError(
          await find(flag === '-L' ? ['-L', '.'] : ['.', flag, ...(flag === '-files0-from' ? ['hello.txt'] : [])]),
          'denied',
          `"${flag}"`,
        );
      });
    }
    for (const test of ['-newer', '-anewer', '-cnewer', '-samefile', '-newermm']) {
      it(`${test} with a file outside stays path-checked and is refused`, async () => {
        expectError(await find(['.', test, secretPath()]), 'denied', secretPath());
      });
    }
    for (const start of ['../outside', '/root', '/']) {
      it(`a search from ${start} is refused`, async () => {
        expectError(await find([start, '-name', 'secret.txt']), 'denied', `"${start}"`);
      });
    }
    it('the data folder is empty to find', async () => {
      const out = await find(['.loom']);
      if (expectRefusedOrContained(out, '.loom', [fx().p.token], { exitMayBeZero: true }) === 'contained') {
        assert.equal((out as { output: { stdout: string } }).output.stdout, '.loom\n');
      }
    });
    it('find . -name hello.txt works (control)', async () => {
      assert.equal(expectOk(await find(['.', '-name', 'hello.txt'])).stdout, './hello.txt\n');
    });
  });

  describe('editors and pagers (allowlisted)', () => {
    for (const [program, label, args] of [
      ['vim', '-c "!cmd"', (evil: string) => ['-c', `!sh ${evil}`, '-c', 'q!', 'hello.txt']],
      ['vim', '"+!cmd"', (evil: string) => [`+!sh ${evil}`, 'hello.txt']],
      ['vim', '--cmd "!cmd"', (evil: string) => ['--cmd', `!sh ${evil}`, 'hello.txt']],
      ['vim', '-es with ":!cmd" on stdin', () => ['-es', 'hello.txt']],
      ['vi', '-c "!cmd"', (evil: string) => ['-c', `!sh ${evil}`, 'hello.txt']],
      ['ex', '-s with ":!cmd" on stdin', () => ['-s', 'hello.txt']],
    ] as const) {
      it(`${program} ${label} is refused (vim runs shell commands of its own)`, async function () {
        if (!installed(program)) this.skip(); // not installed here: nothing to attack
        const evil = fx().payload();
        expectError(
          await fx().shell(program, [...args(evil)], { stdin: `:!sh ${evil}\n:q!\n` }),
          'denied',
          `${program} runs other programs`,
        );
        assert.equal(fx().ran(), false);
      });
    }

    describe('less, with LESSOPEN passed through by the config', () => {
      const lfx = attackFixture((c) => {
        c.tools.shell.allow.push('less');
        c.tools.shell.envAllow.push('LESSOPEN', 'LESSCLOSE');
      });
      let saved: string | undefined;
      beforeEach(function () {
        if (!installed('less')) this.skip(); // not installed here: nothing to attack
        saved = process.env.LESSOPEN;
      });
      afterEach(() => {
        if (saved === undefined) delete process.env.LESSOPEN;
        else process.env.LESSOPEN = saved;
      });

      it('LESSOPEN does not run (LESSSECURE), the file is shown as it is', async () => {
        process.env.LESSOPEN = `|sh ${lfx().payload()} %s`;
        const out = expectOk(await lfx().shell('less', ['hello.txt']));
        assert.equal(out.stdout, 'hello\n');
        assert.equal(lfx().ran(), false, 'LESSOPEN ran');
      });

      it('"+!cmd" runs nothing', async () => {
        const out = expectOk(await lfx().shell('less', [`+!sh ${lfx().payload()}`, 'hello.txt']));
        assert.equal(out.stdout, 'hello\n');
        assert.equal(lfx().ran(), false);
      });

      for (const args of [
        ['-o', 'log.txt', 'hello.txt'],
        ['-Olog.txt', 'hello.txt'],
        ['--log-file=.git/config', 'hello.txt'],
        ['-k', 'keys', 'hello.txt'],
        ['--lesskey-src=keys', 'hello.txt'],
      ]) {
        it(`"${args[0]}" (a log or lesskey file) is refused`, async () => {
          expectError(await lfx().shell('less', args), 'denied', JSON.stringify(args[0]));
        });
      }

      it('less /etc/shadow is refused', async () => {
        expectError(await lfx().shell('less', ['/etc/shadow']), 'denied', '"/etc/shadow"');
      });
    });
  });

  describe('grouped short options hiding a path', () => {
    for (const [command, label, args, named] of [
      ['grep', '-xf/etc/shadow', () => ['-xf/etc/shadow', 'hello.txt'], () => '-xf/etc/shadow'],
      ['grep', '-hxf<absolute outside>', () => [`-hxf${secretPath()}`, 'hello.txt'], () => `-hxf${secretPath()}`],
      [
        'grep',
        '-xf../outside/secret.txt',
        () => ['-xf../outside/secret.txt', 'hello.txt'],
        () => '-xf../outside/secret.txt',
      ],
      [
        'grep',
        '-if<symlink to outside>',
        () => (fs.symlinkSync(secretPath(), path.join(ws(), 'innocent')), ['-ifinnocent', 'hello.txt']),
        () => '-ifinnocent',
      ],
      ['sort', '-uo/etc/x', () => ['-uo/etc/x', 'hello.txt'], () => '-uo/etc/x'],
      [
        'git',
        'commit --allow-empty -qF<absolute outside>',
        () => ['commit', '--allow-empty', `-qF${secretPath()}`],
        () => secretPath(),
      ],
      ['git', 'grep -hf/root/.bashrc', () => ['grep', '-hf/root/.bashrc', 'x'], () => '/root/.bashrc'],
      ['tail', '-c5/etc/shadow', () => ['-qn1', '-c5/etc/shadow'], () => '/etc/shadow'],
    ] as const) {
      it(`${command} ${label} is refused, naming the cluster`, async () => {
        assertNoLeak(expectError(await fx().shell(command, [...args()]), 'denied', named()));
      });
    }
  });

  describe('reading secrets with the default allowlist', () => {
    const readers: Array<[string, string[]]> = [
      ['cat', []],
      ['head', ['-c', '4096']],
      ['tail', ['-n', '50']],
      ['wc', ['-c']],
      ['grep', ['-r', '']],
      ['ls', ['-la']],
    ];
    for (const [command, opts] of readers) {
      for (const target of ['/etc/shadow', '/root/.ssh', '/proc/1/environ']) {
        it(`${command} ${target} is refused`, async () => {
          expectError(await fx().shell(command, [...opts, target]), 'denied', `"${target}"`);
        });
      }
    }

    const spellings = (): string[] => [
      '.loom/runtime.json',
      './.loom/runtime.json',
      '.loom//runtime.json',
      'src/../.loom/runtime.json',
      '.loom/../.loom/runtime.json',
      path.join(ws(), '.loom', 'runtime.json'),
      (fs.symlinkSync('.loom', path.join(ws(), 'dl')), 'dl/runtime.json'),
    ];
    for (let i = 0; i < 7; i++) {
      it(`the data folder's discovery file, spelling #${i + 1}, cannot be read`, async () => {
        const spelling = spellings()[i];
        expectRefusedOrContained(await fx().shell('cat', [spelling]), spelling, [fx().p.token]);
      });
    }

    for (const [command, opts] of readers.slice(1, 4)) {
      it(`${command} of .loom/runtime.json prints nothing of it`, async () => {
        expectRefusedOrContained(await fx().shell(command, [...opts, '.loom/runtime.json']), '.loom/runtime.json', [
          fx().p.token,
        ]);
      });
    }

    it('ls -A .loom shows an empty folder', async () => {
      const out = await fx().shell('ls', ['-A', '.loom']);
      if (expectRefusedOrContained(out, '.loom', [fx().p.token], { exitMayBeZero: true }) === 'contained')
        assert.equal(expectOk(out).stdout, '');
    });

    it('a recursive grep of the workspace for the token finds nothing (the data folder is empty inside)', async () => {
      const out = expectOk(await fx().shell('grep', ['-r', fx().p.token, '.']));
      assert.equal(out.exit_code, 1);
      assert.equal(out.stdout, '');
    });

    it('git grep and git show of the data folder give nothing', async () => {
      assertNoLeak(await fx().shell('git', ['grep', '--no-index', fx().p.token, '.loom']), fx().p.token);
      assertNoLeak(await fx().shell('git', ['show', `:../.loom/runtime.json`]), fx().p.token);
    });

    it('cat hello.txt works and says it ran isolated (control)', async () => {
      const out = expectOk(await fx().shell('cat', ['hello.txt']));
      assert.deepEqual([out.stdout, out.isolated], ['hello\n', true]);
      assert.ok(!JSON.stringify(out).includes(SECRET));
    });
  });
});
