// Resolves a path the way the kernel would, one component at a time, from HELD directories, so
// what was checked is what gets used: there is no path string to re-resolve later, and nothing an
// agent swaps in between two steps can lead outside the roots.
//
// - A relative path starts at the first root, opened with O_DIRECTORY. Each component is opened
//   relative to the directory before it with O_NOFOLLOW|O_DIRECTORY (chain.ts).
// - A symlink is never followed by the kernel: its target is read and followed BY HAND. A relative
//   target is spliced into the components still to walk; an absolute one starts again from "/".
//   At most 40 hops, as the kernel allows.
// - `..` goes back to the held directory before (so "link/.." is the link target's parent, as in
//   the kernel). Above the root the chain started at, the walk goes on by name outside every root:
//   nothing there is an agent's to change, and it only ever leads back into a root (say a second
//   root next to the workspace) or ends outside, which is refused naming the path.
// - A root another root holds is never opened by its path (an agent could swap a folder on that
//   path): walks reach it from the outer root like any folder.
// - Past a name that does not exist nothing more can exist; the rest is kept as names to make
//   (fs:write create_dirs), and a later `..` drops the last of them.
// - The runtime's data folder is refused wherever the walk enters it or would make it (places.ts).
import {
  closeSync,
  constants,
  fstatSync,
  lstatSync,
  openSync,
  readlinkSync,
  realpathSync,
  statSync,
  type BigIntStats,
} from 'node:fs';
import path from 'node:path';
import { ToolError } from '../errors';
import { checkInput, isWithin } from '../../contract/sandbox';
import { missingGitPlaces } from '../../contract/protectedPlaces';
import { Chain, FINAL_FLAGS, identityOf, procFdWorks, RootHolder, type Identity } from './chain';
import {
  dataFolderDenied,
  findDataPlace,
  isDataFolder,
  protectedIdentities,
  wouldMakeDataFolder,
  type DataPlace,
  type ProtectedPlace,
} from './places';

const MAX_SYMLINK_HOPS = 40;

export interface ConfinedFsOptions {
  /** The workspace roots; the first is the base for relative paths. Each must exist. */
  roots: readonly string[];
  /** The runtime's data folder: `[runtime] data_dir` resolved against the workspace. Need not exist. */
  dataPath: string;
  /** Use /proc/self/fd (default: wherever it works). false forces the fallback, for tests. */
  procFd?: boolean;
}

export interface Want {
  /** Follow a symlink in the last component (by hand). Intermediate ones are always followed. */
  follow: boolean;
  /** The last component must be a directory to enter (fs:list); otherwise it is an entry in the top directory. */
  dir: boolean;
  /**
   * Open the last component for reading (fs:read) instead of looking at it first: the open, by
   * its name in the held folder with O_NOFOLLOW, is the look. Located.fd is then the open file
   * and Located.stat its fstat; the caller closes it.
   */
  read?: boolean;
}

/** Where a path leads: the held directories down to it, and the entry in the last of them. */
export interface Located {
  chain: Chain;
  /** Names below the top that do not exist yet (or, see notDir, are not folders), outermost first. */
  missing: string[];
  /** One of `missing` exists but is not a folder: the path cannot be walked. */
  notDir: boolean;
  /** The last name, in the top directory (or below `missing`); undefined when the path names the top directory itself. */
  name?: string;
  /** lstat of `name` in the top directory (fstat of `fd`); null when it does not exist (or lies below `missing`). */
  stat: BigIntStats | null;
  /** Want.read: `name` opened read-only (never through a symlink there); the caller closes it. */
  fd?: number;
  /** The data folder as found at the start of this call. */
  data: DataPlace | undefined;
  /** The real path of the target, for output and messages. */
  real: string;
}

export class ConfinedFs {
  readonly roots: readonly string[];
  readonly viaProc: boolean;
  private readonly dataPath: string;
  private readonly rootByPath = new Map<string, number>();
  private readonly rootById = new Map<Identity, number>();
  /** Root i lies inside another root. */
  private readonly nested: boolean[];
  /** The roots no other root holds, kept open across calls (chain.ts RootHolder). */
  private readonly holders: RootHolder[];

  constructor(options: ConfinedFsOptions) {
    if (!options.roots.length) throw new Error('file tools need at least one root');
    this.roots = [...new Set(options.roots.map((r) => realpathSync.native(r)))];
    this.roots.forEach((root, i) => {
      this.rootByPath.set(root, i);
      this.rootById.set(identityOf(statSync(root, { bigint: true })), i);
    });
    this.nested = this.roots.map((root) => this.roots.some((other) => other !== root && isWithin(other, root)));
    this.dataPath = options.dataPath;
    this.viaProc = options.procFd ?? procFdWorks();
    this.holders = this.roots.map((root) => new RootHolder(root));
    // A ConfinedFs dropped without close() must not keep its roots' descriptors.
    heldRoots.register(this, this.holders, this);
  }

  /** Lets go of the held roots (each once no call walks from it). Calls still work, opening their root each time. */
  close(): void {
    heldRoots.unregister(this);
    for (const holder of this.holders) holder.close();
  }

  /** Whether the top of `chain` is a workspace root (the one it started at, or one it reached). */
  isRoot(chain: Chain): boolean {
    return chain.depth === 1 || this.rootById.has(chain.top.id);
  }

  /** The root with this identity, if any. */
  rootWithId(id: Identity): string | undefined {
    const i = this.rootById.get(id);
    return i === undefined ? undefined : this.roots[i];
  }

  /** How output names a path: relative to the workspace when inside it. */
  display(real: string): string {
    const ws = this.roots[0];
    if (real === ws) return '.';
    // Both are normalized (a real path, and path.join's): the part after the root is the relative path.
    const prefix = ws.endsWith(path.sep) ? ws : ws + path.sep;
    if (real.startsWith(prefix)) return real.slice(prefix.length).split(path.sep).join('/');
    return real;
  }

  /** The data folder as it is now (it may appear or be replaced while the runtime runs). */
  dataPlace(): DataPlace | undefined {
    return findDataPlace(this.dataPath);
  }

  /** loom.toml, .git and .vscode of every root by identity, wherever symlinks or a gitdir file put them. */
  protectedIds(): Map<Identity, ProtectedPlace> {
    return protectedIdentities(this.roots);
  }

  /** What the roots' git configs name that is not there yet (missingGitPlaces): a write must not make it. */
  missingGitPlaces(): string[] {
    return missingGitPlaces(this.roots);
  }

  /**
   * Walks `input` and returns the held chain; the caller must `located.chain.close()`. Throws
   * ToolError("denied") for a path that ends outside every root, the data folder, or too many
   * symlinks.
   */
  locate(input: string, want: Want): Located {
    checkInput(input);
    const data = this.dataPlace();
    let rest = input.split('/');
    let chain: Chain | undefined;
    /** Want.read: the last component, opened. */
    let fd: number | undefined;
    /** Outside every root: where the walk is, by real path (names past a missing one appended as they are). */
    let cursor = '/';
    const missing: Array<{ name: string; notDir: boolean }> = [];
    let hops = 0;
    const hop = () => {
      if (++hops > MAX_SYMLINK_HOPS)
        throw new ToolError('denied', `path ${JSON.stringify(input)} has too many levels of symbolic links`, {
          path: input,
        });
    };
    const enterRoot = (i: number) => {
      const opened = Chain.fromHolder(this.holders[i], i, this.viaProc, input);
      if (isDataFolder(data, opened.top.id)) {
        opened.close();
        throw dataFolderDenied(input);
      }
      return opened;
    };
    try {
      if (!path.isAbsolute(input)) {
        if (this.nested[0]) rest = [...this.roots[0].split('/'), ...rest];
        else chain = enterRoot(0);
      } else if (this.rootByPath.has('/')) chain = enterRoot(this.rootByPath.get('/')!);
      let name: string | undefined;
      let stat: BigIntStats | null = null;
      while (rest.length) {
        const c = rest.shift()!;
        if (c === '' || c === '.') continue;

        if (!chain) {
          // Outside every root, by name. Nothing here belongs to an agent; the walk either enters a
          // root (by its real path: the first root met is one no other root holds) or is refused.
          if (c === '..') {
            cursor = path.dirname(cursor);
            continue;
          }
          const next = path.join(cursor, c);
          const root = this.rootByPath.get(next);
          if (root !== undefined) {
            chain = enterRoot(root);
            continue;
          }
          const st = lstatOrNull(next);
          if (st?.isSymbolicLink()) {
            hop();
            const target = readlinkSync(next);
            if (path.isAbsolute(target)) cursor = '/';
            rest = [...target.split('/'), ...rest];
            continue;
          }
          cursor = next;
          continue;
        }

        if (c === '..') {
          if (missing.length) missing.pop();
          else if (chain.depth > 1) chain.pop();
          else {
            // Above a root no other root holds: its parent is outside every root.
            cursor = path.dirname(chain.rootPath);
            chain.close();
            chain = undefined;
          }
          continue;
        }

        if (rest.length === 0 && !want.dir) {
          // The last component: an entry in the top directory.
          if (missing.length) {
            name = c;
            break;
          }
          if (want.read && want.follow) {
            const opened = openFinal(chain, c);
            if (opened !== undefined) {
              if (opened !== null) {
                fd = opened.fd;
                if (isDataFolder(data, identityOf(opened.stat))) throw dataFolderDenied(input);
              }
              name = c;
              stat = opened?.stat ?? null;
              break;
            }
          }
          const st = chain.lstat(c);
          if (st?.isSymbolicLink() && want.follow) {
            hop();
            const target = chain.readlink(c);
            if (target === null)
              rest = [c]; // no longer a symlink: look again
            else {
              if (path.isAbsolute(target)) ({ chain, cursor } = outside(chain));
              rest = target.split('/');
            }
            continue;
          }
          if (st && isDataFolder(data, identityOf(st))) throw dataFolderDenied(input);
          name = c;
          stat = st;
          break;
        }

        if (missing.length) {
          missing.push({ name: c, notDir: false });
          continue;
        }
        const entered = chain.enter(c);
        if (typeof entered !== 'string') {
          if (isDataFolder(data, entered.id)) throw dataFolderDenied(input);
        } else if (entered === 'symlink') {
          hop();
          const target = chain.readlink(c);
          if (target === null) rest.unshift(c);
          else {
            if (path.isAbsolute(target)) ({ chain, cursor } = outside(chain));
            rest = [...target.split('/'), ...rest];
          }
        } else if (entered === 'changed') {
          hop();
          rest.unshift(c);
        } else missing.push({ name: c, notDir: entered === 'not-dir' });
      }

      if (!chain)
        throw new ToolError(
          'denied',
          `path ${JSON.stringify(input)} is outside the workspace roots (it resolves to ${cursor})`,
          { path: input, resolved: cursor },
        );
      const made = missing.map((m) => m.name);
      if (name !== undefined && !stat) made.push(name);
      if (made.length && wouldMakeDataFolder(data, chain.top.id, made)) throw dataFolderDenied(input);
      const below = name === undefined ? missing.map((m) => m.name) : [...missing.map((m) => m.name), name];
      return {
        chain,
        missing: missing.map((m) => m.name),
        notDir: missing.some((m) => m.notDir),
        name,
        stat,
        fd,
        data,
        real: path.join(chain.path(), ...below),
      };
    } catch (err) {
      if (fd !== undefined) closeSync(fd);
      chain?.close();
      throw err;
    }
  }
}

/**
 * Opens `name` in the top of `chain` for reading, never through a symlink there (O_NOFOLLOW),
 * never blocking on a FIFO (O_NONBLOCK), never taking a terminal as the runtime's own (O_NOCTTY);
 * what it is comes from fstat of what was opened, so nothing swapped in between a look and the
 * open can be read. null: there is no such entry. undefined: a symlink (ELOOP) or another error,
 * for the caller's lstat to follow or report as it always did.
 */
function openFinal(chain: Chain, name: string): { fd: number; stat: BigIntStats } | null | undefined {
  let fd: number;
  try {
    fd = openSync(chain.at(name), constants.O_RDONLY | FINAL_FLAGS | constants.O_NOCTTY);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT' ? null : undefined;
  }
  try {
    chain.verifyParent();
    return { fd, stat: fstatSync(fd, { bigint: true }) };
  } catch (err) {
    closeSync(fd);
    throw err;
  }
}

const heldRoots = new FinalizationRegistry<RootHolder[]>((holders) => {
  for (const holder of holders) holder.close();
});

/** An absolute symlink target: the walk starts again from "/", by name. */
function outside(chain: Chain): { chain: undefined; cursor: string } {
  chain.close();
  return { chain: undefined, cursor: '/' };
}

function lstatOrNull(p: string): BigIntStats | null {
  try {
    return lstatSync(p, { bigint: true });
  } catch {
    return null;
  }
}
