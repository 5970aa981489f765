// bubblewrap (bwrap) as the boundary of every process a tool starts. The argument list built
// here IS the sandbox: a new mount namespace assembled from nothing, so whatever is not bound
// below does not exist for the program ($HOME, other users' files, the runtime's data folder),
// plus new PID/IPC/UTS/cgroup/user namespaces (and network unless allowed). Everything the
// program starts dies with it: bwrap's init is PID 1 of the namespace and the kernel kills the
// rest when it goes, and --die-with-parent ties that init to the process Loom holds.
import { lstatSync, mkdtempSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { processAlive } from '../../contract/process';

/** What one confined process may see and do. Every path is absolute and real (symlinks resolved). */
export interface Confinement {
  /** Bound read-write: the workspace roots. */
  writable: string[];
  /** Inside the writable roots, bound read-only over them: loom.toml, .vscode/, .git/. A missing one gets an empty read-only placeholder of its kind, so it cannot be created either. */
  protect: Protected[];
  /**
   * Folders inside the writable roots bound onto themselves, still writable: the kernel refuses to
   * rename a mount point, so the folders above a hidden or protected place cannot be renamed to carry
   * its mount away (and leave the real data folder, or a fresh .git, where the path used to lead).
   */
  pin: string[];
  /** Replaced by an empty read-only folder: the runtime's data folder. */
  hide: string[];
  /** Bound read-only before the roots (an interpreter's environment). */
  readOnly: string[];
  network: boolean;
  /** Mount empty read-only placeholders over protected names that do not exist, so they cannot be made (removed when their last user ends). */
  placeholders: boolean;
  /** The program's working folder; must lie in a writable root or a read-only path. */
  cwd: string;
  /** Inside the sandbox, the private scratch folder HOME points to. */
  home: string;
}

/** System folders a program needs to run, read-only. A symlink (merged /usr) is recreated as a symlink. */
const SYSTEM_PATHS = ['/usr', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32', '/etc', '/opt'];
/** Where the machine keeps secrets among the system folders bound read-only. */
const SECRET_HOLDERS = ['/etc', '/opt'];
/** A bound on the walk below, so a huge /opt cannot stall a call; past it the rest is not masked (and said so in SECURITY.md). */
const MAX_WALK_ENTRIES = 50_000;

export interface Protected {
  path: string;
  /** Its kind, and so a missing one's placeholder: an empty folder (.git, .vscode) or an empty file (loom.toml, .env). */
  dir: boolean;
}

export const SANDBOX_HOME = '/tmp/home';

/**
 * bwrap's arguments, up to and including the "--" that precedes the program. Order matters: a
 * later mount covers an earlier one, so the roots come after the system folders and the
 * read-only extras, and the protected and hidden places come last.
 */
export function bwrapArguments(c: Confinement): string[] {
  const args = [
    '--die-with-parent',
    '--new-session',
    '--unshare-all',
    '--unshare-user',
    '--disable-userns',
    '--cap-drop',
    'ALL',
  ];
  if (c.network) args.push('--share-net');
  args.push(...systemMounts());
  args.push(
    '--proc',
    '/proc',
    '--dev',
    '/dev',
    '--tmpfs',
    '/tmp',
    '--tmpfs',
    '/var/tmp',
    '--tmpfs',
    '/run',
    '--dir',
    c.home,
  );
  for (const p of shortestFirst(c.readOnly)) args.push('--ro-bind', p, p);
  for (const p of shortestFirst(c.writable)) args.push('--bind', p, p);
  for (const p of shortestFirst(c.pin)) if (entryKind(p) === 'dir') args.push('--bind', p, p);
  for (const { path: p, dir } of [...c.protect].sort((a, b) => a.path.length - b.path.length)) {
    const kind = entryKind(p);
    if (kind === 'dir' || kind === 'file') args.push('--ro-bind', p, p);
    else if (kind === 'none' && c.placeholders)
      args.push(...(dir ? ['--tmpfs', p, '--remount-ro', p] : ['--ro-bind', emptyFile(), p]));
    // A symlink there is left as it is: bwrap would follow it when mounting, and a link only
    // leads somewhere the sandbox already allows or hides.
  }
  for (const p of shortestFirst(c.hide)) args.push('--tmpfs', p, '--remount-ro', p);
  args.push('--chdir', c.cwd, '--');
  return args;
}

let empty: string | undefined;
/** The folder of a process's placeholder file: `loom-empty-<pid>-<random>` in the temporary folder. */
const EMPTY_FOLDER = /^loom-empty-(\d+)-/;

/**
 * An empty read-only regular file of this process's, the placeholder of a missing protected file:
 * /dev/null, bound with bwrap's nodev, cannot even be opened (cat fails, grep -r exits 2, a .env
 * reader throws). Made again if something (a /tmp cleaner) removed it.
 */
function emptyFile(): string {
  if (empty && lstatSync(empty, { throwIfNoEntry: false })?.isFile()) return empty;
  removeKilledOnesFolders();
  const dir = mkdtempSync(path.join(tmpdir(), `loom-empty-${process.pid}-`));
  empty = path.join(dir, 'empty');
  writeFileSync(empty, '', { mode: 0o444 });
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  return empty;
}

/** The placeholder folders of this user's processes that are gone: a SIGKILL skips the exit hook. */
function removeKilledOnesFolders(): void {
  const uid = process.getuid?.();
  let names: string[];
  try {
    names = readdirSync(tmpdir());
  } catch {
    return;
  }
  for (const name of names) {
    const pid = EMPTY_FOLDER.exec(name)?.[1];
    if (!pid || processAlive(Number(pid))) continue;
    const folder = path.join(tmpdir(), name);
    const st = lstatSync(folder, { throwIfNoEntry: false });
    if (st?.isDirectory() && st.uid === uid) rmSync(folder, { recursive: true, force: true });
  }
}

let systemMountArgs: readonly string[] | undefined;

/**
 * The system folders read-only (a symlink, as on merged-/usr systems, as a symlink) and the
 * private entries under them masked. Looked at once per process, as privateSystemEntries is: only
 * root changes these, and a kind seen wrongly later binds less or the same, never more writable.
 */
function systemMounts(): readonly string[] {
  if (systemMountArgs) return systemMountArgs;
  const args: string[] = [];
  for (const p of SYSTEM_PATHS) {
    const kind = entryKind(p);
    if (kind === 'symlink') args.push('--symlink', readlinkSync(p), p);
    else if (kind === 'dir') args.push('--ro-bind', p, p);
  }
  const masked = privateSystemEntries();
  for (const p of masked.files) args.push('--ro-bind', '/dev/null', p);
  for (const p of masked.dirs) args.push('--tmpfs', p, '--remount-ro', p);
  systemMountArgs = args;
  return args;
}

let privateEntries: { files: string[]; dirs: string[] } | undefined;

/**
 * What the host keeps from other users under /etc and /opt (shadow, sudoers, TLS and SSH private
 * keys, database configs): not readable by "other". The runtime may run as root, and root is the
 * owner of these, so read-only is not enough: each is masked (a file by /dev/null, a folder by an
 * empty read-only mount). Found once per process, by permission rather than by a list of names.
 */
export function privateSystemEntries(): { files: string[]; dirs: string[] } {
  if (privateEntries) return privateEntries;
  const files: string[] = [];
  const dirs: string[] = [];
  let seen = 0;
  const walk = (dir: string) => {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const name of names) {
      if (++seen > MAX_WALK_ENTRIES) return;
      const p = path.join(dir, name);
      let st;
      try {
        st = lstatSync(p);
      } catch {
        continue;
      }
      if (st.isDirectory()) {
        if ((st.mode & 0o005) !== 0o005) dirs.push(p);
        else walk(p);
      } else if (st.isFile() && (st.mode & 0o004) === 0) files.push(p);
    }
  };
  for (const top of SECRET_HOLDERS) if (entryKind(top) === 'dir') walk(top);
  privateEntries = { files, dirs };
  return privateEntries;
}

type Kind = 'dir' | 'file' | 'symlink' | 'other' | 'none';

export function entryKind(p: string): Kind {
  try {
    const st = lstatSync(p);
    if (st.isSymbolicLink()) return 'symlink';
    if (st.isDirectory()) return 'dir';
    if (st.isFile()) return 'file';
    return 'other';
  } catch {
    return 'none';
  }
}

function shortestFirst(paths: string[]): string[] {
  return [...new Set(paths)].sort((a, b) => a.length - b.length || a.localeCompare(b));
}
