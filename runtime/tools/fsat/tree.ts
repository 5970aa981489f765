// Walking a whole tree below a held directory: listing it and deleting it. Every step goes from a
// held directory to a name in it with O_NOFOLLOW, and every removal is unlink/rmdir of a name in a
// held directory (chain.at(name)), never of a path string the kernel could resolve again through
// a folder swapped for a symlink meanwhile (as fs.rm's recursive delete would).
import { promises as fsp, type BigIntStats } from 'node:fs';
import { ToolError } from '../errors';
import { changed, identityOf, type Chain, type Identity } from './chain';
import { isDataFolder, protectedPlace, type DataPlace, type ProtectedPlace } from './places';

export interface ListEntry {
  path: string;
  type: 'file' | 'dir' | 'symlink' | 'other';
  size: number;
}

export function kindOf(st: BigIntStats): ListEntry['type'] {
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isDirectory()) return 'dir';
  if (st.isFile()) return 'file';
  return 'other';
}

/**
 * Lists the top of `chain`, breadth first (a cut at `max` keeps the shallow entries). A folder is
 * descended by entering its names again from the listed folder, each with O_NOFOLLOW, so one
 * swapped for a symlink after it was listed is not descended. The data folder is left out.
 */
export async function listTree(
  chain: Chain,
  data: DataPlace | undefined,
  options: { recursive: boolean; max: number; signal?: AbortSignal },
): Promise<{ entries: ListEntry[]; truncated: boolean }> {
  const base = chain.depth;
  const entries: ListEntry[] = [];
  const queue: string[][] = [[]];
  let seen = 0;
  while (queue.length) {
    options.signal?.throwIfAborted();
    const rel = queue.shift()!;
    try {
      if (!descend(chain, rel, data)) continue;
      for (const name of (await fsp.readdir(chain.at())).sort()) {
        if (entries.length >= options.max) return { entries, truncated: true };
        if (++seen % YIELD_EVERY === 0) await turn(options.signal);
        const st = chain.lstat(name);
        if (!st) continue;
        const type = kindOf(st);
        if (type === 'dir' && isDataFolder(data, identityOf(st))) continue;
        entries.push({ path: [...rel, name].join('/'), type, size: Number(st.size) });
        if (options.recursive && type === 'dir') queue.push([...rel, name]);
      }
    } finally {
      chain.popTo(base);
    }
  }
  return { entries, truncated: false };
}

/**
 * The chain's lookups are synchronous (chain.ts), so a folder of 100 000 entries would hold the
 * event loop, and a call's timeout could not fire, until it is through: every YIELD_EVERY entries
 * the walk lets the loop turn, and stops there if the call has ended.
 */
const YIELD_EVERY = 256;

async function turn(signal: AbortSignal | undefined): Promise<void> {
  await new Promise<void>((resolve) => setImmediate(resolve));
  signal?.throwIfAborted();
}

/** Enters `names` one by one from the top; false when one is no longer a real folder (or is the data folder). */
function descend(chain: Chain, names: string[], data: DataPlace | undefined): boolean {
  for (const name of names) {
    const entered = chain.enter(name);
    if (typeof entered === 'string' || isDataFolder(data, entered.id)) return false;
  }
  return true;
}

export interface TreeGuard {
  /** The path the caller gave, named in refusals. */
  input: string;
  data: DataPlace | undefined;
  /** The workspace root with this identity, if any. */
  rootWithId(id: Identity): string | undefined;
  /** loom.toml, .git and .vscode by identity (ConfinedFs.protectedIds). */
  protectedIds: Map<Identity, ProtectedPlace>;
  /** Protected entries (named .git or .vscode, or in protectedIds) may go: a person agreed. */
  protectedAllowed: boolean;
  signal?: AbortSignal;
}

/**
 * Looks through the tree below the top before anything is deleted, so a delete that must be
 * refused is refused whole: the data folder or a workspace root inside refuses; the protected
 * folders found (.git, .vscode) are returned, to ask about.
 */
export async function surveyTree(
  chain: Chain,
  guard: TreeGuard,
  rel: string[] = [],
): Promise<Array<{ path: string; place: ProtectedPlace }>> {
  const found: Array<{ path: string; place: ProtectedPlace }> = [];
  let seen = 0;
  for (const name of await fsp.readdir(chain.at())) {
    if (++seen % YIELD_EVERY === 0) await turn(guard.signal);
    guard.signal?.throwIfAborted();
    const st = chain.lstat(name);
    if (!st) continue;
    const place = protectedEntry(guard, name, st);
    if (place) {
      found.push({ path: [...rel, name].join('/'), place });
      continue;
    }
    if (!st.isDirectory()) continue;
    refuseHeld(guard, identityOf(st));
    const entered = chain.enter(name);
    if (typeof entered === 'string') continue;
    try {
      refuseHeld(guard, entered.id);
      found.push(...(await surveyTree(chain, guard, [...rel, name])));
    } finally {
      chain.pop();
    }
  }
  return found;
}

/** Deletes everything below the top of `chain`, depth first, over held directories. */
export async function emptyTree(chain: Chain, guard: TreeGuard): Promise<void> {
  for (const name of await fsp.readdir(chain.at())) {
    guard.signal?.throwIfAborted();
    await removeEntry(chain, name, guard);
  }
}

/** How often one entry may change under a delete before it gives up. */
const MAX_ATTEMPTS = 40;

/** Removes `name` from the top of `chain`: a file or symlink by unlink, a folder by emptying it held and then rmdir. */
export async function removeEntry(chain: Chain, name: string, guard: TreeGuard): Promise<void> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const st = chain.lstat(name);
    if (!st) return;
    if (!guard.protectedAllowed && protectedEntry(guard, name, st))
      throw new ToolError(
        'denied',
        `refusing to delete ${JSON.stringify(guard.input)}: ${name}, a protected place, appeared inside it while it was being deleted`,
        { path: guard.input },
      );
    if (!st.isDirectory()) {
      // unlink never follows a symlink: the link goes, its target stays. A second hard link's other name stays too.
      try {
        await fsp.unlink(chain.at(name));
        return;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') return;
        // EISDIR (Linux) or EPERM (macOS): it became a folder meanwhile, so look again.
        if ((code === 'EISDIR' || code === 'EPERM') && chain.lstat(name)?.isDirectory()) continue;
        throw err;
      }
    }
    refuseHeld(guard, identityOf(st));
    const entered = chain.enter(name);
    if (typeof entered === 'string') continue; // swapped for a symlink or a file: look again
    try {
      refuseHeld(guard, entered.id);
      await emptyTree(chain, guard);
    } finally {
      chain.pop();
    }
    // rmdir of a name in the held parent: a symlink swapped in answers ENOTDIR and is looked at again.
    // ENOTEMPTY: something was added meanwhile; look again.
    try {
      await fsp.rmdir(chain.at(name));
      return;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? '';
      if (code === 'ENOENT') return;
      if (!['ENOTDIR', 'ENOTEMPTY', 'EEXIST'].includes(code)) throw err;
    }
  }
  throw changed(guard.input);
}

/** An entry named .git or .vscode, or one of the protected places by identity. */
function protectedEntry(guard: TreeGuard, name: string, st: BigIntStats): ProtectedPlace | undefined {
  return protectedPlace([name], false) ?? guard.protectedIds.get(identityOf(st));
}

function refuseHeld(guard: TreeGuard, id: Identity): void {
  if (isDataFolder(guard.data, id))
    throw new ToolError(
      'denied',
      `refusing to delete ${JSON.stringify(guard.input)}: it holds the runtime's data folder, which tools cannot see or change`,
      { path: guard.input },
    );
  const root = guard.rootWithId(id);
  if (root)
    throw new ToolError(
      'denied',
      `refusing to delete ${JSON.stringify(guard.input)}: it holds the workspace root ${root}`,
      { path: guard.input },
    );
}
