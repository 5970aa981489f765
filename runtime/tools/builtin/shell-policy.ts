// What system:shell lets a program be asked to do. No shell runs, so metacharacters are plain
// bytes; what remains is (1) every argument that could name a file must resolve inside the
// roots, by real path, and (2) options that make an allowlisted program run other programs,
// follow symlinks out, or read file names from a file are refused per program.
import { ToolError } from '../errors';
import type { Sandbox } from '../sandbox';

interface CommandRule {
  /** Long options refused; also matched as GNU-style abbreviations ("--files0" for "--files0-from"). */
  long?: string[];
  /** Single-dash options matched whole (find's "-exec"). */
  exact?: string[];
  /** Letters refused anywhere in a single-dash cluster ("-rR"). */
  letters?: string;
}

const RULES: Record<string, CommandRule> = {
  grep: { long: ['--dereference-recursive'], letters: 'R' },
  egrep: { long: ['--dereference-recursive'], letters: 'R' },
  fgrep: { long: ['--dereference-recursive'], letters: 'R' },
  ls: { long: ['--dereference'], letters: 'L' },
  wc: { long: ['--files0-from'] },
  du: { long: ['--files0-from', '--dereference'], letters: 'L' },
  sort: { long: ['--compress-program', '--files0-from'] },
  find: { exact: ['-exec', '-execdir', '-ok', '-okdir', '-delete', '-fprint', '-fprint0', '-fprintf', '-fls', '-L', '-follow', '-files0-from'] },
  rg: { long: ['--pre', '--follow'], letters: 'L' },
  tar: { long: ['--to-command', '--checkpoint-action', '--use-compress-program', '--info-script', '--new-volume-script', '--rsh-command'], letters: 'IF' },
};

/** Programs whose job is to run another program: allowing one would bypass the allowlist. */
const LAUNCHERS = new Set(['xargs', 'nice', 'nohup', 'timeout', 'time', 'stdbuf', 'setsid', 'sudo', 'doas', 'su', 'chroot', 'flock', 'watch', 'strace', 'ltrace', 'ionice', 'taskset', 'unshare', 'nsenter', 'script', 'busybox', 'command', 'exec']);

// git reads commands to run from its config (pager, fsmonitor, hooks, aliases, editor) and
// takes options that run programs; only a read-and-commit subset runs, with the config that
// could launch anything pinned off on the command line (command-line config wins).
const GIT_SUBCOMMANDS = new Set([
  'status', 'log', 'diff', 'show', 'branch', 'tag', 'rev-parse', 'ls-files', 'ls-tree', 'blame', 'grep', 'shortlog', 'describe',
  'cat-file', 'rev-list', 'merge-base', 'show-ref', 'reflog', 'add', 'commit', 'restore', 'rm', 'mv', 'switch', 'checkout', 'reset', 'stash', 'version',
]);
const GIT_GLOBAL_OPTIONS = new Set(['--no-pager', '-P', '--no-replace-objects', '--literal-pathspecs', '--glob-pathspecs', '--noglob-pathspecs', '--icase-pathspecs', '--no-optional-locks', '--version']);
const GIT_RULE: CommandRule = { long: ['--upload-pack', '--receive-pack', '--exec', '--exec-path', '--open-files-in-pager', '--config-env'] };
const GIT_SAFE_PREFIX = ['--no-pager', '-c', 'core.fsmonitor=false', '-c', 'core.hooksPath=/dev/null', '-c', 'core.pager=cat', '-c', 'core.editor=false', '-c', 'core.sshCommand=false', '-c', 'safe.bareRepository=explicit', '-c', 'protocol.allow=never'];

/** Environment a program needs beyond the allowlisted variables. */
export function extraEnvFor(command: string): Record<string, string> {
  return command === 'git' ? { GIT_TERMINAL_PROMPT: '0', GIT_CONFIG_NOSYSTEM: '1' } : {};
}

/**
 * Checks a command line and returns the argv to run. Throws ToolError("denied") naming the
 * offending argument.
 */
export async function checkCommandLine(command: string, args: string[], cwd: string, sandbox: Sandbox): Promise<string[]> {
  if (LAUNCHERS.has(command)) throw denied(`${command} runs other programs and is never allowed`);
  if (command === 'env' && args.length) throw denied('env may only print the environment (no arguments): it would run other programs');
  args.forEach((arg) => {
    if (arg.includes('\0')) throw denied(`argument ${JSON.stringify(arg)} contains a NUL byte`);
  });
  let argv = args;
  if (command === 'git') {
    checkGit(args);
    argv = [...GIT_SAFE_PREFIX, ...args];
  } else {
    refuseOptions(command, args, RULES[command]);
  }
  for (const value of pathCandidates(args)) {
    try {
      await sandbox.resolve(value, cwd);
    } catch (err) {
      if (err instanceof ToolError && err.code === 'denied') throw denied(`argument ${JSON.stringify(value)} of ${command} is refused: ${err.message}`, { argument: value });
      throw err;
    }
  }
  return argv;
}

function checkGit(args: string[]): void {
  let i = 0;
  for (; i < args.length && args[i].startsWith('-'); i++) {
    const a = args[i];
    if (a === '-C') i++;
    else if (a.startsWith('-C')) continue;
    else if (!GIT_GLOBAL_OPTIONS.has(a)) throw denied(`git option ${JSON.stringify(a)} is not allowed (allowed before the subcommand: -C <dir inside the workspace>, ${[...GIT_GLOBAL_OPTIONS].join(', ')})`, { argument: a });
  }
  const sub = args[i];
  if (sub === undefined) return;
  if (!GIT_SUBCOMMANDS.has(sub)) throw denied(`git ${sub} is not allowed (allowed: ${[...GIT_SUBCOMMANDS].join(', ')})`, { argument: sub });
  const rest = args.slice(i + 1);
  refuseOptions('git', rest, sub === 'grep' ? { ...GIT_RULE, letters: 'O' } : GIT_RULE);
}

function refuseOptions(command: string, args: string[], rule: CommandRule | undefined): void {
  if (!rule) return;
  for (const arg of args) {
    if (arg === '--') return;
    if (!arg.startsWith('-') || arg === '-') continue;
    if (rule.exact?.includes(arg)) throw refusedOption(command, arg);
    if (arg.startsWith('--')) {
      const name = arg.split('=', 1)[0];
      if (name.length > 2 && rule.long?.some((flag) => flag.startsWith(name))) throw refusedOption(command, arg);
    } else if (rule.letters) {
      if ([...arg.slice(1)].some((ch) => rule.letters!.includes(ch))) throw refusedOption(command, arg);
    }
  }
}

/**
 * Everything that could be a file name: operands, the value of "--opt=value", and what follows
 * a short option letter ("-f/etc/x"). Checking too much costs nothing: a word that is not a
 * path resolves inside the working directory.
 */
function pathCandidates(args: string[]): string[] {
  const out: string[] = [];
  let operandsOnly = false;
  for (const arg of args) {
    if (operandsOnly || !arg.startsWith('-') || arg === '-') {
      if (arg !== '-' && arg !== '') out.push(arg);
    } else if (arg === '--') operandsOnly = true;
    else if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      if (eq > 0 && eq < arg.length - 1) out.push(arg.slice(eq + 1));
    } else if (arg.length > 2) out.push(arg.slice(2));
  }
  return out;
}

function refusedOption(command: string, arg: string): ToolError {
  return denied(`${command} option ${JSON.stringify(arg)} is not allowed: it can run other programs, follow symlinks out of the workspace or read file names from a file`, { argument: arg });
}

function denied(message: string, details?: Record<string, string>): ToolError {
  return new ToolError('denied', message, details);
}
