// A chain of HELD directories, from a workspace root down to where a file operation happens. Each
// link is an open descriptor; the next one is opened relative to it, so a name above it that is
// renamed or swapped for a symlink afterwards changes nothing: the kernel never looks the path up
// again. Node has no openat(2), but on Linux `/proc/self/fd/<dirfd>/<name>` is the same thing: the
// magic link /proc/self/fd/<dirfd> jumps to the directory the descriptor holds (not to its name),
// and only `name` is looked up in it. Opened with O_NOFOLLOW, a symlink at `name` is refused
// rather than followed; unlink, rmdir, mkdir, lstat and readlink on such a path act on `name`
// inside the held directory.
//
// Without /proc (macOS, BSD, a Linux without /proc mounted) each name is reached by its full path
// string instead: every component is still opened with O_NOFOLLOW and the parent's path is
// checked to still lead to the held directory afterwards, but a component swapped between that
// check and the next open is not caught. That is the behaviour before this module (check, open
// with O_NOFOLLOW, verify), kept as the documented fallback; the OS isolation of tool processes is
// what such systems rely on.
//
// The steps are synchronous system calls on purpose: each is a lookup of one name in a held
// directory (open, lstat, readlink, fstat, close), microseconds on a local disk, where a trip
// through libuv's thread pool costs tens. A file tool makes several per call, so this is most of
// its cost. Contents are still read and directories listed asynchronously (fs.ts, tree.ts).
import {
  closeSync,
  constants,
  fstatSync,
  lstatSync,
  openSync,
  readlinkSync,
  statSync,
  type BigIntStats,
} from 'node:fs';
import path from 'node:path';
import { ToolError } from '../errors';

/** (st_dev, st_ino): what a file IS, whatever name or symlink reaches it. */
export type Identity = string;

export function identityOf(st: BigIntStats): Identity {
  return `${st.dev}:${st.ino}`;
}

const DIR_FLAGS = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;
/** What the file tools add when they open the final entry at(name): never follow a symlink there, never block on a FIFO. */
export const FINAL_FLAGS = constants.O_NOFOLLOW | constants.O_NONBLOCK;

export interface HeldDir {
  /** The open descriptor (O_DIRECTORY); closed when the chain pops it or closes. */
  readonly fd: number;
  readonly id: Identity;
  /** Its name in the directory before it in the chain ('' for the root the chain starts at). */
  readonly name: string;
}

/** What is at a name in the top directory, when it cannot be entered as a directory. */
export type Blocked = 'missing' | 'symlink' | 'not-dir' | 'changed';

let procFdCache: boolean | undefined;

/** Whether `/proc/self/fd/<fd>/<name>` reaches `name` inside the directory <fd> holds. */
export function procFdWorks(): boolean {
  if (procFdCache !== undefined) return procFdCache;
  let fd: number | undefined;
  try {
    fd = openSync('/', DIR_FLAGS);
    procFdCache =
      identityOf(statSync(`/proc/self/fd/${fd}/.`, { bigint: true })) === identityOf(fstatSync(fd, { bigint: true }));
  } catch {
    procFdCache = false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  return procFdCache;
}

/**
 * One workspace root, held open across calls: each call checks with one stat of the root's path
 * that the folder there is still the one held (as opening it by path each time would find), and
 * reuses the descriptor instead of opening, fstat-ing and closing it again. A root replaced on its
 * path is let go once no call walks from it any more (its descriptor number must not be reused
 * under a walk) and the new folder is held instead.
 */
export class RootHolder {
  private held?: { fd: number; id: Identity; users: number; stale: boolean };
  private closed = false;

  constructor(readonly rootPath: string) {}

  /** The root as it is now, held until `release` is called (once). */
  acquire(input: string): { fd: number; id: Identity; release: () => void } {
    let st: BigIntStats;
    try {
      st = statSync(this.rootPath, { bigint: true });
    } catch (err) {
      throw rootUnavailable(this.rootPath, input, err);
    }
    if (this.held && (this.held.id !== identityOf(st) || this.closed)) this.letGo();
    if (!this.held) {
      const fd = openRoot(this.rootPath, input);
      try {
        this.held = { fd, id: identityOf(fstatSync(fd, { bigint: true })), users: 0, stale: false };
      } catch (err) {
        closeSync(fd);
        throw err;
      }
      if (this.closed) this.held.stale = true; // used by this call only
    }
    const held = this.held;
    held.users++;
    if (held.stale) this.held = undefined;
    let released = false;
    return {
      fd: held.fd,
      id: held.id,
      release: () => {
        if (released) return;
        released = true;
        if (--held.users === 0 && held.stale) closeSync(held.fd);
      },
    };
  }

  /** Lets the root go (once no call walks from it); a later acquire holds it only for that call. */
  close(): void {
    this.closed = true;
    this.letGo();
  }

  private letGo(): void {
    const held = this.held;
    this.held = undefined;
    if (!held) return;
    held.stale = true;
    if (held.users === 0) closeSync(held.fd);
  }
}

function openRoot(rootPath: string, input: string): number {
  try {
    return openSync(rootPath, constants.O_RDONLY | constants.O_DIRECTORY);
  } catch (err) {
    throw rootUnavailable(rootPath, input, err);
  }
}

function rootUnavailable(rootPath: string, input: string, err: unknown): ToolError {
  const e = err as NodeJS.ErrnoException;
  return new ToolError('failed', `the workspace root ${rootPath} cannot be opened: ${e.message}`, {
    path: input,
    ...(e.code ? { errno: e.code } : {}),
  });
}

export class Chain {
  private readonly dirs: HeldDir[] = [];
  /** Set for a chain whose root a RootHolder holds: closing the chain releases it instead. */
  private releaseRoot?: () => void;

  /**
   * @param rootPath the real path of the root the chain starts at (for messages, the tool's output
   *   and the fallback without /proc)
   * @param input the path the caller gave, named in every refusal
   */
  constructor(
    readonly rootPath: string,
    readonly rootIndex: number,
    readonly viaProc: boolean,
    private readonly input: string,
  ) {}

  /** A chain from a root `holder` holds open (the root as it is now, see RootHolder.acquire). */
  static fromHolder(holder: RootHolder, rootIndex: number, viaProc: boolean, input: string): Chain {
    const chain = new Chain(holder.rootPath, rootIndex, viaProc, input);
    const root = holder.acquire(input);
    chain.dirs.push({ fd: root.fd, id: root.id, name: '' });
    chain.releaseRoot = root.release;
    return chain;
  }

  get top(): HeldDir {
    return this.dirs[this.dirs.length - 1];
  }

  /** 1 at the root. */
  get depth(): number {
    return this.dirs.length;
  }

  /** The names from the root down to the top. */
  names(): string[] {
    return this.dirs.slice(1).map((d) => d.name);
  }

  /** The identities from the root down to the top. */
  ids(): Identity[] {
    return this.dirs.map((d) => d.id);
  }

  /** The real path of the top, or of `name` in it: for messages and output, never for access on Linux. */
  path(name?: string, depth = this.depth): string {
    const names = this.dirs.slice(1, depth).map((d) => d.name);
    return path.join(this.rootPath, ...names, ...(name === undefined ? [] : [name]));
  }

  /** How the OS reaches `name` in the directory at `depth` (default the top) without looking up any name above it. */
  at(name?: string, depth = this.depth): string {
    if (!this.viaProc) return this.path(name, depth);
    const fd = this.dirs[depth - 1].fd;
    return name === undefined ? `/proc/self/fd/${fd}` : `/proc/self/fd/${fd}/${name}`;
  }

  /** lstat of `name` in the top; null when there is no such entry. */
  lstat(name: string): BigIntStats | null {
    try {
      const st = lstatSync(this.at(name), { bigint: true });
      this.verifyParent();
      return st;
    } catch (err) {
      if (isGone(err)) return null;
      throw this.osError(err, name);
    }
  }

  /** The target of the symlink `name` in the top; null when it is no longer a symlink (it changed: look again). */
  readlink(name: string): string | null {
    try {
      return readlinkSync(this.at(name));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EINVAL' || isGone(err)) return null;
      throw this.osError(err, name);
    }
  }

  /**
   * Enters `name` as a directory: opened relative to the top with O_NOFOLLOW, so a symlink there
   * is reported (to be followed by hand, or not at all), never followed by the kernel.
   */
  enter(name: string): HeldDir | Blocked {
    let fd: number;
    try {
      fd = openSync(this.at(name), DIR_FLAGS);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return 'missing';
      // O_DIRECTORY|O_NOFOLLOW on a symlink answers ENOTDIR on Linux, ELOOP elsewhere.
      if (code !== 'ENOTDIR' && code !== 'ELOOP') throw this.osError(err, name);
      const st = this.lstat(name);
      if (!st) return 'missing';
      if (st.isSymbolicLink()) return 'symlink';
      return st.isDirectory() ? 'changed' : 'not-dir';
    }
    try {
      this.verifyParent();
      const dir = { fd, id: identityOf(fstatSync(fd, { bigint: true })), name };
      this.dirs.push(dir);
      return dir;
    } catch (err) {
      closeSync(fd);
      throw err;
    }
  }

  pop(): HeldDir {
    if (this.dirs.length <= 1) throw new Error('cannot pop the root of a chain');
    const dir = this.dirs.pop()!;
    closeSync(dir.fd);
    return dir;
  }

  popTo(depth: number): void {
    while (this.dirs.length > depth) this.pop();
  }

  close(): void {
    const dirs = this.dirs.splice(0).reverse();
    if (this.releaseRoot && dirs.length) {
      dirs.pop(); // the root: its holder closes it
      this.releaseRoot();
    }
    for (const dir of dirs) {
      try {
        closeSync(dir.fd);
      } catch {
        // already closed: nothing is held
      }
    }
  }

  /** Fallback only: the path string of the top must still lead to the held directory. */
  verifyParent(): void {
    if (this.viaProc) return;
    let st: BigIntStats | null = null;
    try {
      st = statSync(this.path(), { bigint: true });
    } catch {
      // gone: changed
    }
    if (!st || identityOf(st) !== this.top.id) throw changed(this.input);
  }

  private osError(err: unknown, name: string): ToolError {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'EACCES' || e.code === 'EPERM')
      return new ToolError(
        'denied',
        `the operating system denied access to ${JSON.stringify(this.display(name))} (in ${JSON.stringify(this.input)})`,
        { path: this.input, errno: e.code },
      );
    return new ToolError('failed', `${JSON.stringify(this.input)}: ${e.message ?? String(err)}`, {
      path: this.input,
      ...(e.code ? { errno: e.code } : {}),
    });
  }

  private display(name: string): string {
    return [...this.names(), name].join('/');
  }
}

export function isGone(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

export function changed(input: string): ToolError {
  return new ToolError(
    'denied',
    `path ${JSON.stringify(input)} changed while it was being used (a folder was swapped for a symlink, or moved); nothing was done past that point`,
    { path: input },
  );
}
