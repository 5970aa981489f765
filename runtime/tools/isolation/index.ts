// OS isolation for the processes tools (and, opted in, agents and MCP servers) start. The
// per-program argument rules in builtin/shell-policy.ts cannot win alone (git has hundreds of
// options); here the kernel is the boundary. See SECURITY.md for the threat model.
import { otherLiveDataFolders } from '../../contract/liveRuntimes';
import { spawn, spawnSync } from 'node:child_process';
import {
  accessSync,
  constants,
  existsSync,
  lstatSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmdirSync,
  statSync,
  unlinkSync,
} from 'node:fs';
import path from 'node:path';
import type { IsolationMode, LoomConfig } from '../../config';
import { ToolError } from '../errors';
import { realIfExists } from '../../contract/sandbox';
import {
  gitPlacesOfRoot,
  PROTECTED_ENTRIES,
  repositoriesOfGitFile,
  suffixProtectedFiles,
} from '../../contract/protectedPlaces';
import { bwrapArguments, entryKind, SANDBOX_HOME, type Confinement, type Protected } from './bubblewrap';

export { confineProcess, workspaceRoots } from './process';
export { bwrapArguments, SANDBOX_HOME, type Confinement, type Protected } from './bubblewrap';

/** Where bubblewrap is looked for; a fixed list (not PATH), like the programs system:shell runs. `LOOM_BWRAP` names another. */
export const BWRAP_LOCATIONS = ['/usr/bin/bwrap', '/usr/local/bin/bwrap', '/bin/bwrap'];

/**
 * Descriptors the runtime holds without close-on-exec (LevelDB opens the store's files so; Node
 * cannot mark them) would pass through bwrap into the sandbox, and /proc/self/fd/N would reopen the
 * store behind the hidden data folder. Neither Node nor bwrap closes them, so a closer runs first,
 * closes every descriptor above 2 and execs bwrap in its place (same pid: the timeout still kills
 * the right process): Loom's own (close-fds.c, built into <dist>/bin/loom-close-fds), or, where it
 * was not built or cannot run, bash, about a millisecond slower a call.
 */
interface Closer {
  /** Its real path. */
  file: string;
  /** Its arguments before bwrap's command line. */
  lead: string[];
}

const CLOSE_FDS_NAME = 'loom-close-fds';

const BASH_CLOSER: Closer = {
  file: '/bin/bash',
  // -p: bash takes no functions, SHELLOPTS, BASHOPTS or BASH_ENV from the environment, which the
  // program's (an agent's or an MCP server's configured env) may set: they would run here, outside.
  lead: [
    '-p',
    '-c',
    'for p in /proc/self/fd/*; do n=${p##*/}; [ "$n" -gt 2 ] && eval "exec $n>&-"; done; exec "$@"',
    'loom-sandbox',
  ],
};

/** bash's exec sets SHLVL, and BASH_ENV is for shells outside; bwrap takes both out of the program's environment, whichever closer ran. */
const UNSET_SHELL_ENV = ['--unsetenv', 'SHLVL', '--unsetenv', 'BASH_ENV'];

/**
 * The closers to try, best first. Loom's launcher lies beside the bundle (dist/bin; run from the
 * sources, as the unit tests do, in the build's dist/bin); LOOM_CLOSE_FDS names another, and
 * empty, or a path with nothing there, leaves bash. The launcher runs outside the sandbox on every
 * call, so it is passed over unless only its owner (this user or root) can change it or its folder.
 */
function closers(explicit = process.env.LOOM_CLOSE_FDS): Closer[] {
  const fromSources = __dirname.endsWith(path.join('runtime', 'tools', 'isolation'));
  const own =
    explicit ?? path.join(__dirname, ...(fromSources ? ['..', '..', '..', 'dist'] : []), 'bin', CLOSE_FDS_NAME);
  const real = own !== '' && executable(own) ? realIfExists(own) : undefined;
  return [
    ...(real && changedOnlyByOwner(real) && changedOnlyByOwner(path.dirname(real)) ? [{ file: real, lead: [] }] : []),
    ...(executable(BASH_CLOSER.file) ? [BASH_CLOSER] : []),
  ];
}

function changedOnlyByOwner(p: string): boolean {
  const st = statSync(p, { throwIfNoEntry: false });
  return st !== undefined && (st.mode & 0o022) === 0 && (st.uid === 0 || st.uid === process.getuid?.());
}

/**
 * The probe's closer for a launch whose sandbox makes `writable` writable: never a launcher the
 * sandboxed program could replace (a runtime run from a checkout that is itself a workspace
 * root), which bash then stands in for.
 */
function closerFor(probed: Closer, writable: readonly string[]): Closer {
  if (probed === BASH_CLOSER || !writable.some((w) => probed.file === w || probed.file.startsWith(w + path.sep)))
    return probed;
  if (!executable(BASH_CLOSER.file))
    throw new ToolError(
      'unavailable',
      `refusing to start a confined process: ${probed.file} lies inside a folder the sandbox makes writable, and ${BASH_CLOSER.file}, which would close descriptors in its place, is missing`,
      { reason: 'isolation_unavailable' },
    );
  return BASH_CLOSER;
}

export interface IsolationStatus {
  /** The setting in force. */
  mode: IsolationMode;
  /** The OS mechanism works on this machine. */
  available: boolean;
  /** "bubblewrap" when available, else "none". */
  mechanism: 'bubblewrap' | 'none';
  /** The bwrap path, or what is missing and how to get it. */
  detail: string;
}

interface Availability {
  ok: boolean;
  bwrap?: string;
  /** What closes inherited descriptors and then starts bwrap (when ok). */
  closer?: Closer;
  detail: string;
}

const probed = new Map<string, Availability>();

const probeKey = (explicit: string | undefined) => JSON.stringify([explicit ?? '', process.env.LOOM_CLOSE_FDS ?? null]);

/**
 * Whether bubblewrap is installed AND can build the sandbox here (a container or a kernel may
 * forbid user namespaces): it is run once, with the same namespaces as a real call and through the
 * closer a real call uses (the next one if that one cannot run here), and the answer is kept for
 * the life of the process.
 */
export function probeBubblewrap(explicit = process.env.LOOM_BWRAP): Availability {
  const key = probeKey(explicit);
  const known = probed.get(key);
  if (known) return known;
  const result = probeOnce(explicit);
  probed.set(key, result);
  return result;
}

/**
 * probeBubblewrap without blocking: the start-up report uses it, so the runtime does not wait for
 * a bwrap process before it serves. The answer lands in the same cache; a call that needs it
 * sooner probes synchronously, and the answer cached first is the one kept.
 */
export async function probeBubblewrapAsync(explicit = process.env.LOOM_BWRAP): Promise<Availability> {
  const key = probeKey(explicit);
  const known = probed.get(key);
  if (known) return known;
  const trial = prepareTrial(explicit);
  let result: Availability = { ok: false, detail: '' };
  if ('ok' in trial) result = trial;
  else
    for (const closer of trial.closers) {
      const run = await new Promise<TrialRun>((resolve) => {
        let stderr = '';
        const child = spawn(closer.file, [...closer.lead, trial.bwrap, ...trial.args], { stdio: TRIAL_STDIO });
        const timer = setTimeout(() => child.kill('SIGKILL'), TRIAL_TIMEOUT_MS);
        child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
        child.on('error', (error) => {
          clearTimeout(timer);
          resolve({ status: null, error, stderr });
        });
        child.on('close', (status, signal) => {
          clearTimeout(timer);
          resolve({ status, signal, stderr });
        });
      });
      result = judgeTrial(trial.bwrap, closer, run);
      if (result.ok) break;
    }
  const settled = probed.get(key) ?? result;
  probed.set(key, settled);
  return settled;
}

interface TrialRun {
  status: number | null;
  signal?: NodeJS.Signals | null;
  error?: Error;
  stderr: string;
}

/**
 * The trial hands the closer a descriptor 3 (a pipe) and checks inside the sandbox that it is
 * gone: a closer that runs bwrap without closing (a wrapper named by LOOM_CLOSE_FDS, a close_range
 * a seccomp filter turns into a no-op) is passed over, not trusted for the life of the process.
 */
const TRIAL_STDIO: ['ignore', 'ignore', 'pipe', 'pipe'] = ['ignore', 'ignore', 'pipe', 'pipe'];
const TRIAL_TIMEOUT_MS = 10_000;
const LEAKED = 'descriptor 3 reached the sandbox';
const TRIAL_PROGRAM = ['/bin/sh', '-c', `if [ -e /proc/self/fd/3 ]; then echo "${LEAKED}" >&2; exit 1; fi`];

function probeOnce(explicit: string | undefined): Availability {
  const trial = prepareTrial(explicit);
  if ('ok' in trial) return trial;
  let result: Availability = { ok: false, detail: '' };
  for (const closer of trial.closers) {
    const run = spawnSync(closer.file, [...closer.lead, trial.bwrap, ...trial.args], {
      encoding: 'utf8',
      timeout: TRIAL_TIMEOUT_MS,
      stdio: TRIAL_STDIO,
    });
    result = judgeTrial(trial.bwrap, closer, {
      status: run.status,
      signal: run.signal,
      error: run.error,
      stderr: run.stderr ?? '',
    });
    if (result.ok) break;
  }
  return result;
}

/** What is missing (an answer already), or the bwrap to try, its arguments and the closers to try it through. */
function prepareTrial(
  explicit: string | undefined,
): Availability | { bwrap: string; args: string[]; closers: Closer[] } {
  if (process.platform !== 'linux')
    return {
      ok: false,
      detail: `OS isolation uses bubblewrap, which runs on Linux only (this is ${process.platform})`,
    };
  const candidates = explicit ? [explicit] : BWRAP_LOCATIONS;
  const bwrap = candidates.find(executable);
  const tries = closers();
  if (tries.length === 0)
    return {
      ok: false,
      detail: `neither ${CLOSE_FDS_NAME} (built with the runtime) nor ${BASH_CLOSER.file} is here; the sandbox needs one of them to close descriptors before bubblewrap starts`,
    };
  if (!bwrap) {
    return {
      ok: false,
      detail: `bubblewrap (bwrap) is not installed (looked for ${candidates.join(', ')}); install it with "apt-get install bubblewrap" (Debian/Ubuntu) or "dnf install bubblewrap" (Fedora)`,
    };
  }
  const trial = bwrapArguments({
    writable: [],
    pin: [],
    protect: [],
    hide: [],
    readOnly: [],
    network: false,
    placeholders: false,
    cwd: '/',
    home: SANDBOX_HOME,
  });
  // The closers exec it without a PATH search.
  return { bwrap: path.resolve(bwrap), args: [...trial, ...TRIAL_PROGRAM], closers: tries };
}

function judgeTrial(bwrap: string, closer: Closer, run: TrialRun): Availability {
  if (run.status === 0) return { ok: true, bwrap, closer, detail: bwrap };
  if (run.stderr.includes(LEAKED))
    return { ok: false, bwrap, detail: `${closer.file} started bubblewrap without closing inherited descriptors` };
  const why = (run.error?.message ?? run.stderr ?? '').trim() || `exit ${run.status ?? run.signal}`;
  return {
    ok: false,
    bwrap,
    detail: `bubblewrap (${bwrap}) cannot create the sandbox here: ${why}; unprivileged user namespaces may be disabled (sysctl kernel.unprivileged_userns_clone=1, or on Ubuntu 24.04+ kernel.apparmor_restrict_unprivileged_userns=0), or the container forbids them`,
  };
}

function executable(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return lstatSync(p).isFile() || realpathSync(p) !== p;
  } catch {
    return false;
  }
}

export function isolationStatus(mode: IsolationMode): IsolationStatus {
  return statusOf(mode, probeBubblewrap());
}

/** isolationStatus without blocking the event loop on the first probe. */
export async function isolationStatusAsync(mode: IsolationMode): Promise<IsolationStatus> {
  return statusOf(mode, await probeBubblewrapAsync());
}

function statusOf(mode: IsolationMode, a: Availability): IsolationStatus {
  return { mode, available: a.ok, mechanism: a.ok ? 'bubblewrap' : 'none', detail: a.detail };
}

/** How to start one program: confined (through bwrap), or as it is where the setting allows that. */
export interface Launch {
  file: string;
  args: string[];
  /** Environment the program needs on top of its own: inside the sandbox $HOME is a private scratch folder (the real one is absent). */
  env: Record<string, string>;
  isolated: boolean;
  /** Why it is not isolated ("" when it is). */
  unconfinedBecause: string;
  /** After the process (and so its whole namespace) has ended: removes the placeholders this launch created. */
  cleanup(): void;
}

/**
 * The launch of `executable argv` under `mode`. `who` and `setting` name the caller and the key
 * in the refusal, e.g. ("system:shell", "tools.shell.isolation"). The confinement may be given as
 * a function: it is then worked out only when the program really runs confined.
 */
export function confine(
  mode: IsolationMode,
  confinement: Confinement | (() => Confinement),
  executablePath: string,
  argv: string[],
  who: string,
  setting: string,
): Launch {
  const plain = (why: string): Launch => ({
    file: executablePath,
    args: argv,
    env: {},
    isolated: false,
    unconfinedBecause: why,
    cleanup() {},
  });
  if (mode === 'off') return plain(`${setting} = "off"`);
  const a = probeBubblewrap();
  if (!a.ok) {
    if (mode === 'best-effort') return plain(`${setting} = "best-effort" and isolation is unavailable: ${a.detail}`);
    throw new ToolError(
      'unavailable',
      `${who} refuses to run unconfined: OS isolation is required (${setting} = "required") and unavailable: ${a.detail}. To run without it, set ${setting} = "best-effort" or "off" in loom.toml`,
      {
        setting,
        reason: 'isolation_unavailable',
      },
    );
  }
  const c = typeof confinement === 'function' ? confinement() : confinement;
  const held = holdPlaceholders([...(c.placeholders ? c.protect.map((p) => p.path) : []), ...c.hide]);
  const closer = closerFor(a.closer!, c.writable);
  const options = bwrapArguments(c);
  options.splice(options.length - 1, 0, ...UNSET_SHELL_ENV); // before the closing "--"
  return {
    file: closer.file,
    args: [...closer.lead, a.bwrap!, ...options, executablePath, ...argv],
    env: { HOME: c.home },
    isolated: true,
    unconfinedBecause: '',
    cleanup: once(() => releasePlaceholders(held)),
  };
}

/**
 * Placeholders bwrap makes on the host (an empty .git where there was none) and the calls that use
 * them. A later call sees one as an existing entry and mounts it read-only; were the first call to
 * remove it when it ends, the kernel would drop the later call's mount with it (unlinking a mount
 * point detaches it in every namespace) and leave .git writable there. So it goes with its last user.
 */
const placeholderUsers = new Map<string, number>();

function holdPlaceholders(candidates: string[]): string[] {
  const held = candidates.filter((p) => placeholderUsers.has(p) || entryKind(p) === 'none');
  for (const p of held) placeholderUsers.set(p, (placeholderUsers.get(p) ?? 0) + 1);
  return held;
}

function releasePlaceholders(held: string[]): void {
  for (const p of held) {
    const left = (placeholderUsers.get(p) ?? 1) - 1;
    if (left > 0) placeholderUsers.set(p, left);
    else {
      placeholderUsers.delete(p);
      removeIfEmpty(p);
    }
  }
}

function once(fn: () => void): () => void {
  let done = false;
  return () => {
    if (!done) fn();
    done = true;
  };
}

/** bwrap made an empty folder or file to mount over; it goes again unless someone filled it meanwhile. */
function removeIfEmpty(p: string): void {
  try {
    const st = lstatSync(p);
    if (st.isDirectory() && readdirSync(p).length === 0) rmdirSync(p);
    else if (st.isFile() && st.size === 0) unlinkSync(p);
  } catch {
    // gone already, or not ours to remove
  }
}

/**
 * The sandbox of a workspace: its roots writable, their loom.toml/.vscode/.git read-only, the data
 * folder hidden. `roots` are real paths (the Sandbox's); `extraReadOnly` may be relative to the
 * workspace; missing ones are skipped.
 */
export function workspaceConfinement(
  config: LoomConfig,
  roots: readonly string[],
  o: { cwd: string; network: boolean; extraReadOnly?: string[]; placeholders?: boolean },
): Confinement {
  const protect: Protected[] = [];
  // Only the outermost roots are mounted: a root inside another is a folder of the outer one here.
  const outermost = roots.filter((r) => !roots.some((o) => o !== r && r.startsWith(o + path.sep)));
  // But every root keeps its protected places, and the workspace too wherever a root holds it
  // (with roots = [".."] its loom.toml was an ordinary file, and a command added an agent to it).
  // The folders between an outer root and each are pinned below: the kernel locks a mount point,
  // not its ancestors, so a rename above it would carry the mount off.
  const workspace = realIfExists(config.workspace);
  const within = (p: string) => outermost.some((r) => p === r || p.startsWith(r + path.sep));
  const guarded = [...new Set([...roots, workspace])].filter(within);
  for (const root of guarded) {
    const places = [
      ...PROTECTED_ENTRIES.map(({ name, dir }) => ({ name, dir, p: path.join(root, name), bySuffix: false })),
      ...suffixProtectedFiles(root).map((p) => ({ name: path.basename(p), dir: false, p, bySuffix: true })),
    ];
    for (const { name, dir, p, bySuffix } of places) {
      const kind = entryKind(p);
      // Any command may make a new "x.code-workspace" (a mount needs a name): were its link to
      // refuse every later confined start, one `ln -s` would stop them all. The file tools refuse
      // writes to it by name.
      if (kind === 'symlink' && bySuffix) continue;
      // A mount cannot hold a symlink itself read-only (bwrap follows it), and a writable root lets
      // the link be replaced by a real loom.toml or .git: refuse rather than pretend.
      if (kind === 'symlink') {
        throw new ToolError(
          'denied',
          `refusing to start a confined process: ${p} is a symbolic link, which the sandbox cannot keep read-only (it could be replaced); make it a real ${dir ? 'folder' : 'file'}`,
          { path: p, reason: 'protected_symlink' },
        );
      }
      protect.push({ path: p, dir });
      if (name === '.git' && kind === 'file')
        for (const repo of gitdirsOf(p, roots)) protect.push({ path: repo, dir: true });
    }
    // What the repository's config includes and its hooks folder, where they lie in the roots:
    // git runs what they name as it runs what .git/config names.
    // One not there yet gets a placeholder where its folder exists (a command that makes the
    // folder first is not held: a mount needs a place).
    const { includes, hooks } = gitPlacesOfRoot(root);
    for (const [p, dir] of [...includes.map((f) => [f, false] as const), ...(hooks ? [[hooks, true] as const] : [])]) {
      const real = realIfExists(p);
      const kind = entryKind(real);
      const placeable = kind === 'none' && entryKind(path.dirname(real)) === 'dir';
      if ((kind === 'dir' || kind === 'file' || placeable) && roots.some((r) => real.startsWith(r + path.sep)))
        protect.push({ path: real, dir: kind === 'none' ? dir : kind === 'dir' });
    }
  }
  const readOnly = (o.extraReadOnly ?? [])
    .map((p) => path.resolve(config.workspace, p))
    .filter(existsSync)
    .map((p) => realIfExists(p));
  // Other runtimes' data folders inside the roots (a runtime serving a subfolder) hold their tokens.
  const inner = otherLiveDataFolders().filter((f) => outermost.some((r) => f.startsWith(r + path.sep)));
  const hide = [dataFolder(config), ...inner.filter((f) => !roots.some((r) => r === f || r.startsWith(f + path.sep)))];
  const pin = [...hide, ...protect.map((p) => p.path)].flatMap((p) => foldersBetween(outermost, p));
  return {
    writable: outermost,
    pin,
    protect,
    hide,
    readOnly,
    network: o.network,
    placeholders: o.placeholders ?? true,
    cwd: o.cwd,
    home: SANDBOX_HOME,
  };
}

/** The folders strictly between the root that holds `p` and `p` ("state" for <root>/state/loom). */
function foldersBetween(roots: readonly string[], p: string): string[] {
  const root = roots.find((r) => p.startsWith(r + path.sep));
  if (!root) return [];
  const out: string[] = [];
  for (let dir = path.dirname(p); dir !== root && dir.startsWith(root + path.sep); dir = path.dirname(dir))
    out.push(dir);
  return out;
}

/**
 * The repository a "gitdir: <path>" .git file names and, for a linked worktree, the one its
 * "commondir" names (whose config and hooks git uses there): those inside the roots (elsewhere
 * they are not in the sandbox at all).
 */
function gitdirsOf(gitFile: string, roots: readonly string[]): string[] {
  return repositoriesOfGitFile(gitFile)
    .filter(existsSync)
    .map(realIfExists)
    .filter((real) => roots.some((r) => real.startsWith(r + path.sep)));
}

/** The data folder's real path, whether or not it exists yet (its parent is resolved). */
export function dataFolder(config: LoomConfig): string {
  const p = path.resolve(config.workspace, config.runtime.dataDir);
  if (existsSync(p)) return realIfExists(p);
  return path.join(realIfExists(path.dirname(p)), path.basename(p));
}
