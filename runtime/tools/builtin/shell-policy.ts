// What system:shell lets a program be asked to do. No shell runs, so metacharacters are plain
// bytes; what remains is (1) every argument that could name a file must resolve inside the
// roots, by real path, and (2) options that make an allowlisted program run other programs,
// follow symlinks out, read file names from a file or write a file it names are refused per
// program. The OS isolation (../isolation) is the boundary; these rules are defence in depth
// and the only line when a command runs unconfined (tools.shell.isolation "off", or "best-effort"
// without bubblewrap). Then (3) no argument may name a protected place (loom.toml, .vscode, .git,
// the data folder), and what writes files it is not given by name (git's worktree commands, tar's
// extraction) is refused: isolation makes those places read-only, unconfined only this stands
// between an agent and a loom.toml whose next agent the runtime starts unconfined.
import { lstat } from 'node:fs/promises';
import path from 'node:path';
import { isWithin } from '../../contract/sandbox';
import { ToolError } from '../errors';
import type { Sandbox } from '../sandbox';

interface CommandRule {
  /** Long options refused; also matched as GNU-style abbreviations ("--files0" for "--files0-from"). */
  long?: string[];
  /** Long options of the program's own that a refused one starts with: exact, getopt takes them as they are. */
  own?: string[];
  /** Words refused wherever they stand, after "--" too: find reads its expression after it ("find -- . -exec"). */
  exact?: string[];
  /** Letters refused anywhere in a single-dash cluster ("-rR"). */
  letters?: string;
  /** What flags cannot say: throws a refusal. */
  check?: (args: string[]) => void;
}

const RULES: Record<string, CommandRule> = {
  grep: { long: ['--dereference-recursive'], letters: 'R' },
  egrep: { long: ['--dereference-recursive'], letters: 'R' },
  fgrep: { long: ['--dereference-recursive'], letters: 'R' },
  ls: { long: ['--dereference'], letters: 'L' },
  wc: { long: ['--files0-from'] },
  du: { long: ['--files0-from', '--dereference'], letters: 'L' },
  // -o/--output writes the file it names (loom.toml, .git/config…): refused, like the programs it may run.
  sort: { long: ['--compress-program', '--files0-from', '--output'], letters: 'o' },
  find: {
    exact: [
      '-exec',
      '-execdir',
      '-ok',
      '-okdir',
      '-delete',
      '-fprint',
      '-fprint0',
      '-fprintf',
      '-fls',
      '-L',
      '-follow',
      '-files0-from',
    ],
  },
  rg: { long: ['--pre', '--follow'], letters: 'L' },
  // -T/--files-from reads the names to archive from a file, where no check sees them.
  tar: {
    long: [
      '--to-command',
      '--checkpoint-action',
      '--use-compress-program',
      '--info-script',
      '--new-volume-script',
      '--rsh-command',
      '--files-from',
    ],
    own: ['--file'],
    letters: 'IFT',
  },
  // A lesskey file can set LESSOPEN; a log file is a write. LESSSECURE (extraEnvFor) disables the rest.
  less: { long: ['--lesskey-file', '--lesskey-src', '--lesskey-content', '--log-file', '--LOG-FILE'], letters: 'koO' },
  // -f/--files-from reads the names to examine from a file, where no check sees them.
  file: { long: ['--files-from'], letters: 'f' },
  // -D/--diag writes raw socket data to the file it names; -K/--kill closes sockets; -N/--net enters another network namespace.
  ss: { long: ['--diag', '--kill', '--net'], letters: 'DKN' },
  // A second operand is the file uniq writes its output to (loom.toml, .git/config…).
  uniq: { check: uniqOperands },
  sed: { check: sedBackupSuffix },
  // "ip netns exec" and "ip vrf exec" run any program; -batch reads commands from a file; -netns enters another namespace.
  ip: { check: ipArguments },
};

/**
 * Put before the caller's arguments, whatever they are: GNU sed's --sandbox refuses the e, r and w
 * commands (run a program, read or write a file the script names, out of any check's sight), and
 * diff --no-dereference compares symlinks found under a folder as links instead of following them
 * out of the workspace.
 */
const FORCED_FIRST: Record<string, string[]> = { sed: ['--sandbox'], diff: ['--no-dereference'] };

/** Programs whose job is to run another program: allowing one would bypass the allowlist. */
const LAUNCHERS = new Set([
  'xargs',
  'nice',
  'nohup',
  'timeout',
  'time',
  'stdbuf',
  'setsid',
  'sudo',
  'doas',
  'su',
  'chroot',
  'flock',
  'watch',
  'strace',
  'ltrace',
  'ionice',
  'taskset',
  'unshare',
  'nsenter',
  'script',
  'busybox',
  'command',
  'exec',
  // Editors and man run shell commands of their own ("vim -c '!cmd'", ed's "!", "man -P cmd"), from arguments or from stdin.
  'vim',
  'vi',
  'nvim',
  'view',
  'vimdiff',
  'rvim',
  'rview',
  'ex',
  'ed',
  'red',
  'emacs',
  'man',
]);

// git reads commands to run from its config (pager, fsmonitor, hooks, aliases, editor) and
// takes options that run programs; only a read-and-commit subset runs, with the config that
// could launch anything pinned off on the command line (command-line config wins).
const GIT_SUBCOMMANDS = new Set([
  'status',
  'log',
  'diff',
  'show',
  'branch',
  'tag',
  'rev-parse',
  'ls-files',
  'ls-tree',
  'blame',
  'grep',
  'shortlog',
  'describe',
  'cat-file',
  'rev-list',
  'merge-base',
  'show-ref',
  'reflog',
  'add',
  'commit',
  'restore',
  'rm',
  'mv',
  'switch',
  'checkout',
  'reset',
  'stash',
  'version',
]);
/** Subcommands that write work-tree files without naming them (checkout of a commit, stash pop). */
const GIT_WORKTREE_WRITERS = new Set(['restore', 'rm', 'mv', 'switch', 'checkout', 'reset', 'stash']);
const GIT_GLOBAL_OPTIONS = new Set([
  '--no-pager',
  '-P',
  '--no-replace-objects',
  '--literal-pathspecs',
  '--glob-pathspecs',
  '--noglob-pathspecs',
  '--icase-pathspecs',
  '--no-optional-locks',
  '--version',
]);
// --output writes the diff/log where it says: .git/config (then "git diff" runs its diff.external), the data folder's runtime.json.
const GIT_RULE: CommandRule = {
  long: [
    '--upload-pack',
    '--receive-pack',
    '--exec',
    '--exec-path',
    '--open-files-in-pager',
    '--config-env',
    '--output',
    // Reads the names to act on from a file, where no check sees them (as tar -T).
    '--pathspec-from-file',
  ],
};
const GIT_SAFE_PREFIX = [
  '--no-pager',
  '-c',
  'core.fsmonitor=false',
  '-c',
  'core.hooksPath=/dev/null',
  '-c',
  'core.pager=cat',
  '-c',
  'core.editor=false',
  '-c',
  'core.sshCommand=false',
  '-c',
  'safe.bareRepository=explicit',
  '-c',
  'protocol.allow=never',
];

/**
 * Unconfined, what makes git read files it is not given by name, the data folder among them:
 * --no-index compares or searches whole folders, --untracked and --no-exclude-standard search
 * files git does not track, and add --force stages ignored ones (then "diff --cached" shows them).
 */
const GIT_UNCONFINED: CommandRule = { long: ['--no-index', '--untracked', '--no-exclude-standard'] };
const GIT_ADD_UNCONFINED: CommandRule = { long: [...GIT_UNCONFINED.long!, '--force'], letters: 'f' };
const GIT_UNCONFINED_REFUSED =
  "it reads files it is not given by name, the runtime's data folder (the bridge token) among them, which runs only under OS isolation, and this command would run unconfined";

/**
 * Unconfined, git runs only in a root's own repository (or one above the roots), not in one below
 * a root: an agent can make one (a ".git" file naming a folder it wrote) whose config names
 * programs git runs as the user (diff.external, a filter driver). A root's .git is a protected
 * place no argument may name; a root inside another root is an ordinary folder of the outer one,
 * so the walk goes up to the outermost. Outside any repository "git diff" and "git grep" compare
 * and search folders as plain files (no-index), the data folder among them. Isolated, such a
 * program would run inside the sandbox, and the data folder is an empty mount.
 */
async function refuseOtherRepository(dir: string, sub: string | undefined, sandbox: Sandbox): Promise<void> {
  const root = sandbox.roots.filter((r) => isWithin(r, dir)).sort((a, b) => a.length - b.length)[0];
  if (root === undefined) return;
  const exists = (p: string) =>
    lstat(p).then(
      () => true,
      () => false,
    );
  for (let d = dir; d !== root && isWithin(root, d); d = path.dirname(d)) {
    const git = path.join(d, '.git');
    if (await exists(git))
      throw denied(
        `git may not run in the repository at ${git}, inside the workspace: its config could name programs for git to run (diff.external, filters), and this command would run unconfined; open that folder as a workspace root, whose .git is protected, or run under OS isolation`,
        { reason: 'needs_isolation', repository: git },
      );
  }
  if (sub !== 'diff' && sub !== 'grep') return;
  for (let d = root; ; d = path.dirname(d)) {
    if (await exists(path.join(d, '.git'))) return;
    if (path.dirname(d) === d) break;
  }
  throw denied(
    `git ${sub} outside a repository compares and searches folders as plain files, the runtime's data folder (the bridge token) among them, which runs only under OS isolation, and this command would run unconfined`,
    { reason: 'needs_isolation', argument: sub },
  );
}

/**
 * Unconfined, git does not look into submodules: "git add sub" of a folder holding a repository
 * an agent made records it as one, and status and diff would then run git inside it, with its
 * config (filters).
 */
const GIT_UNCONFINED_PREFIX = ['-c', 'diff.ignoreSubmodules=all', '-c', 'submodule.recurse=false'];

/** Environment a program needs beyond the allowlisted variables. */
export function extraEnvFor(command: string): Record<string, string> {
  if (command === 'git') return { GIT_TERMINAL_PROMPT: '0', GIT_CONFIG_NOSYSTEM: '1' };
  // No shell escapes, LESSOPEN/LESSCLOSE, log files or examining other files.
  if (command === 'less') return { LESSSECURE: '1' };
  return {};
}

/**
 * Checks a command line and returns the argv to run. Throws ToolError("denied") naming the
 * offending argument. `unconfined`: the command will run without OS isolation.
 */
export async function checkCommandLine(
  command: string,
  args: string[],
  cwd: string,
  sandbox: Sandbox,
  unconfined: boolean,
): Promise<string[]> {
  if (LAUNCHERS.has(command)) throw denied(`${command} runs other programs and is never allowed`);
  if (command === 'env' && args.length)
    throw denied('env may only print the environment (no arguments): it would run other programs');
  args.forEach((arg) => {
    if (arg.includes('\0')) throw denied(`argument ${JSON.stringify(arg)} contains a NUL byte`);
  });
  if (command === 'git') {
    const { dir, sub, rest } = await checkGit(args, cwd, sandbox, unconfined);
    if (unconfined && sub !== undefined && GIT_WORKTREE_WRITERS.has(sub))
      throw denied(
        `git ${sub} runs only under OS isolation: it writes work-tree files it is not given by name (loom.toml, .vscode), and this command would run unconfined`,
        { argument: sub, reason: 'needs_isolation' },
      );
    // Paths after the subcommand are git's, relative to where the -C options took it.
    await checkPaths(command, rest, dir, sandbox, unconfined);
    if (unconfined) {
      refuseOptions('git', rest, sub === 'add' ? GIT_ADD_UNCONFINED : GIT_UNCONFINED, GIT_UNCONFINED_REFUSED);
      await refuseOtherRepository(dir, sub, sandbox);
    }
    return [...GIT_SAFE_PREFIX, ...(unconfined ? GIT_UNCONFINED_PREFIX : []), ...args];
  }
  const options = command === 'tar' ? tarOptions(args) : args;
  refuseOptions(command, options, RULES[command]);
  RULES[command]?.check?.(options);
  if (unconfined) {
    if (command === 'rg') throw denied(`rg ${RG_UNCONFINED}`, { reason: 'needs_isolation' });
    if (command === 'tar') refuseOptions(command, options, TAR_EXTRACT, TAR_EXTRACT_REFUSED);
    refuseOptions(command, options, RECURSIVE_READERS[command], RECURSIVE_REFUSED);
  }
  await checkPaths(command, options, cwd, sandbox, unconfined);
  return [...(FORCED_FIRST[command] ?? []), ...args];
}

/** uniq [OPTION]... [INPUT [OUTPUT]]: more than one operand names a file to write. */
function uniqOperands(args: string[]): void {
  const valued = ['--skip-fields', '--skip-chars', '--check-chars'];
  let operands = 0;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--') {
      operands += args.length - i - 1;
      break;
    }
    if (a === '-' || !a.startsWith('-')) operands++;
    else if (a.startsWith('--')) {
      if (!a.includes('=') && a.length > 2 && valued.some((v) => v.startsWith(a))) i++; // its value is the next argument
    } else {
      // -f N, -s N, -w N take a value, glued ("-f2") or as the next argument.
      const at = [...a.slice(1)].findIndex((ch) => 'fsw'.includes(ch));
      if (at === a.length - 2) i++;
    }
  }
  if (operands > 1)
    throw denied(
      'uniq may be given one input file: a second operand is a file it writes its output to (leave it out to get the output)',
    );
}

/**
 * GNU sed -i with a suffix keeps each file's old content under a name made from the suffix, where
 * "*" stands for the file's name and a "/" places it in another folder: "--in-place=loom.*" on a
 * file named "toml" renames the agent's file onto loom.toml, a name no argument shows. -i without
 * a suffix rewrites only the files it is given, and those are checked.
 */
function sedBackupSuffix(args: string[]): void {
  // After a "--" too: it may be the value of -e or -f ("sed -f -- -iloom.* toml").
  for (const arg of args) {
    let suffix = '';
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = eq < 0 ? arg : arg.slice(0, eq);
      if (eq > 0 && name.length > 2 && '--in-place'.startsWith(name)) suffix = arg.slice(eq + 1);
    } else if (arg.startsWith('-')) {
      // In a cluster, e, f and l take the rest as their value; i takes the rest as its suffix.
      const at = [...arg.slice(1)].findIndex((ch) => 'efli'.includes(ch)) + 1;
      if (at > 0 && arg[at] === 'i') suffix = arg.slice(at + 1);
    }
    if (suffix)
      throw denied(
        `sed option ${JSON.stringify(arg)} is not allowed: a backup suffix names the file sed renames each original to ("*" and "/" make it any name, loom.toml among them); use -i without a suffix`,
        { argument: arg },
      );
  }
}

/**
 * ip matches objects and options by their first letters ("ip net" is "ip netns", "-b" may be
 * "-batch", "--opt" is "-opt"), so the refusals go by prefix too: the netns and vrf objects
 * (their "exec" runs any program), -batch (commands from a file) and -netns.
 */
function ipArguments(args: string[]): void {
  for (const arg of args) {
    const word = arg.startsWith('--') ? arg.slice(1) : arg;
    const refused = word.startsWith('-')
      ? word.length >= 2 && ['-batch', '-netns'].some((o) => o.startsWith(word))
      : (word.length >= 3 && 'netns'.startsWith(word)) || (word.length >= 1 && 'vrf'.startsWith(word));
    if (refused)
      throw denied(
        `ip ${JSON.stringify(arg)} is not allowed: "ip netns exec" and "ip vrf exec" run other programs, -batch reads commands from a file and -netns enters another network namespace`,
        { argument: arg },
      );
  }
}

/**
 * Unconfined, the data folder (the bridge token's file) is a folder of the workspace like any
 * other: what reads every file below a folder, the working directory by default, reads it too
 * ("grep -r token" printed the token). Isolated, it is an empty mount and these run.
 */
const RECURSIVE_READERS: Record<string, CommandRule> = {
  grep: { long: ['--recursive', '--directories'], letters: 'rd' },
  egrep: { long: ['--recursive', '--directories'], letters: 'rd' },
  fgrep: { long: ['--recursive', '--directories'], letters: 'rd' },
  diff: { long: ['--recursive'], letters: 'r' },
  cp: { long: ['--recursive', '--archive'], letters: 'rRa' },
  tar: { long: ['--create', '--append', '--update', '--catenate', '--concatenate'], letters: 'cruA' },
};
const RECURSIVE_REFUSED =
  "it reads every file below the folders it is given, the runtime's data folder (the bridge token) among them, which runs only under OS isolation, and this command would run unconfined";
const RG_UNCONFINED =
  "runs only under OS isolation: it searches every folder below where it starts, the runtime's data folder (the bridge token) among them (an ignore file the agent writes can un-hide it), and this command would run unconfined";

/** Extraction writes the archive's entries, whatever their names (a loom.toml among them). */
const TAR_EXTRACT: CommandRule = { long: ['--extract', '--get'], letters: 'x' };
const TAR_EXTRACT_REFUSED =
  'it extracts files under the names the archive gives (loom.toml, .vscode), which runs only under OS isolation, and this command would run unconfined';

/**
 * GNU tar reads a first argument without a dash as a cluster of option letters ("tar cIf PROG
 * out.tar x" is "tar -c -I PROG -f out.tar x"); it is judged as the cluster it is.
 */
function tarOptions(args: string[]): string[] {
  return args.length && args[0] !== '' && !args[0].startsWith('-') ? [`-${args[0]}`, ...args.slice(1)] : args;
}

/**
 * Every argument that could name a file must resolve inside the roots, judged from `base`;
 * `unconfined`, outside the protected places too (nothing else keeps the program off them).
 */
async function checkPaths(
  command: string,
  args: string[],
  base: string,
  sandbox: Sandbox,
  unconfined: boolean,
): Promise<void> {
  for (const { arg, value } of pathCandidates(args)) {
    await resolveInside(
      sandbox,
      value,
      base,
      (why) =>
        `argument ${JSON.stringify(arg)} of ${command} is refused: ${arg === value ? '' : `the value ${JSON.stringify(value)} it may carry: `}${why}${unconfined ? UNCONFINED_NOTE : ''}`,
      arg,
      unconfined,
    );
  }
}

const UNCONFINED_NOTE = ' (the command would run unconfined, where a protected place is refused even to read)';

/**
 * sandbox.resolve (resolveForWrite with `forWrite`), with a refusal reworded by `explain` (which
 * gets the sandbox's reason) and naming `argument`.
 */
async function resolveInside(
  sandbox: Sandbox,
  value: string,
  base: string,
  explain: (why: string) => string,
  argument: string,
  forWrite = false,
): Promise<string> {
  try {
    return (await (forWrite ? sandbox.resolveForWrite(value, base) : sandbox.resolve(value, base))).real;
  } catch (err) {
    if (err instanceof ToolError && err.code === 'denied') throw denied(explain(err.message), { argument });
    throw err;
  }
}

/**
 * Git's options before the subcommand: only -C and a harmless few. git applies the -C options
 * one after another (each relative to the previous), so the chain is followed as git does and
 * every directory on it must lie inside the roots. Returns where git ends up and what follows
 * the subcommand.
 */
async function checkGit(
  args: string[],
  cwd: string,
  sandbox: Sandbox,
  unconfined: boolean,
): Promise<{ dir: string; sub?: string; rest: string[] }> {
  let dir = cwd;
  const chain: string[] = [];
  let i = 0;
  for (; i < args.length && args[i].startsWith('-'); i++) {
    const a = args[i];
    if (a.startsWith('-C')) {
      const value = a === '-C' ? args[++i] : a.slice(2);
      if (value === undefined) throw denied('git option "-C" needs a directory', { argument: a });
      chain.push(value);
      if (value === '') continue; // git ignores an empty -C
      const after =
        chain.length > 1
          ? ` (applied after ${chain
              .slice(0, -1)
              .map((c) => `-C ${JSON.stringify(c)}`)
              .join(' ')}, as git does)`
          : '';
      dir = await resolveInside(
        sandbox,
        value,
        dir,
        (why) =>
          `git option -C ${JSON.stringify(value)}${after} is refused: ${why}${unconfined ? UNCONFINED_NOTE : ''}`,
        value,
        unconfined,
      );
    } else if (!GIT_GLOBAL_OPTIONS.has(a)) {
      throw denied(
        `git option ${JSON.stringify(a)} is not allowed (allowed before the subcommand: -C <dir inside the workspace>, ${[...GIT_GLOBAL_OPTIONS].join(', ')})`,
        { argument: a },
      );
    }
  }
  const sub = args[i];
  if (sub === undefined) return { dir, rest: [] };
  if (!GIT_SUBCOMMANDS.has(sub))
    throw denied(`git ${sub} is not allowed (allowed: ${[...GIT_SUBCOMMANDS].join(', ')})`, { argument: sub });
  const rest = args.slice(i + 1);
  refuseOptions('git', rest, sub === 'grep' ? { ...GIT_RULE, letters: 'O' } : GIT_RULE);
  return { dir, sub, rest };
}

/**
 * Every word is judged, after a "--" too: a "--" may be the value of the option before it
 * ("grep -e -- -r token ."), and then the program reads on for options, and find reads its
 * expression after one. An operand that starts with "-" is refused when it reads as a refused
 * option; "./-name" names the same file.
 */
function refuseOptions(command: string, args: string[], rule: CommandRule | undefined, why?: string): void {
  if (!rule) return;
  for (const arg of args) {
    if (rule.exact?.includes(arg)) throw refusedOption(command, arg, why);
    if (!arg.startsWith('-') || arg === '-' || arg === '--') continue;
    if (arg.startsWith('--')) {
      const name = arg.split('=', 1)[0];
      if (name.length > 2 && !rule.own?.includes(name) && rule.long?.some((flag) => flag.startsWith(name)))
        throw refusedOption(command, arg, why);
    } else if (rule.letters) {
      if ([...arg.slice(1)].some((ch) => rule.letters!.includes(ch))) throw refusedOption(command, arg, why);
    }
  }
}

/**
 * Everything that could be a file name: operands, the value of "--opt=value", and whatever a
 * short option may carry glued on: in a cluster any letter may be the one that takes the rest
 * as its value ("-qF/abs/file" is -q -F /abs/file; "-xf/etc/x", "-uo/x"), so every tail that
 * follows a letter is a candidate. Checking too much costs little: a word that is not a path
 * resolves inside the working directory.
 */
function pathCandidates(args: string[]): Array<{ arg: string; value: string }> {
  const out: Array<{ arg: string; value: string }> = [];
  // Whether a "--" before a word ends the options is the program's to say (it may be an option's
  // value, see refuseOptions): each word is judged both as an operand and as an option.
  for (const arg of args) {
    if (arg === '' || arg === '-' || arg === '--') continue;
    out.push({ arg, value: arg });
    if (!arg.startsWith('-')) continue;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      if (eq > 0 && eq < arg.length - 1) out.push({ arg, value: arg.slice(eq + 1) });
    } else {
      for (let i = 1; i < arg.length - 1 && /[A-Za-z0-9]/.test(arg[i]); i++) out.push({ arg, value: arg.slice(i + 1) });
    }
  }
  return out;
}

function refusedOption(
  command: string,
  arg: string,
  why = 'it can run other programs, follow symlinks out of the workspace, read file names from a file or write a file it names',
): ToolError {
  return denied(`${command} option ${JSON.stringify(arg)} is not allowed: ${why}`, { argument: arg });
}

function denied(message: string, details?: Record<string, string>): ToolError {
  return new ToolError('denied', message, details);
}
