// The places file tools treat specially, whatever name reaches them.
//
// The runtime's data folder (`[runtime] data_dir`, `.loom` by default) holds the bridge token and
// the store: no tool may see it. It is recognised by WHAT it is, (st_dev, st_ino), not by how a
// path spells it, so `./.loom`, `sub/../.loom`, an absolute path, a symlink to it or a custom
// data_dir all meet the same check. It may not exist yet (it is made when the runtime starts, and
// tests run without it), so it is looked up on every call: where it is missing, the deepest folder
// above it that exists and the names below that are kept, and making those names is refused.
//
// Protected places are the ones something EXECUTES from: git runs what `.git/config` and
// `.git/hooks/*` name, VS Code runs `.vscode/tasks.json` and reads settings that name programs,
// and the runtime starts what `loom.toml` names. Writing there is how an injected agent would
// turn a file write into code execution, so `tools.fs.protected_writes` decides ("deny", or "ask"
// a person).
import { statSync, type BigIntStats } from 'node:fs';
import path from 'node:path';
import { ToolError } from '../errors';
import { identityOf, type Identity } from './chain';
import {
  gitPlacePaths,
  PROTECTED_ENTRIES,
  protectedRootFile,
  repositoriesOfGitFile,
  suffixProtectedFiles,
} from '../../contract/protectedPlaces';
import { otherLiveDataFolders } from '../../contract/liveRuntimes';

/**
 * Where the data folder is: its identity (`below` empty), or the deepest existing folder above it
 * and the names still to be made; and the data folders of the other runtimes running now.
 */
export interface DataPlace {
  anchor: Identity;
  below: string[];
  others: ReadonlySet<Identity>;
}

/**
 * Looks up the data folder now, following symlinks as the runtime's own path would. Synchronous:
 * one stat of a path the runtime itself made, on every file tool call (see chain.ts on why).
 */
export function findDataPlace(dataPath: string): DataPlace | undefined {
  const below: string[] = [];
  for (let p = dataPath; ; p = path.dirname(p)) {
    try {
      return { anchor: identityOf(statSync(p, { bigint: true })), below, others: otherDataFolders() };
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if ((code !== 'ENOENT' && code !== 'ENOTDIR') || p === path.dirname(p)) return undefined;
      below.unshift(path.basename(p));
    }
  }
}

/**
 * The identities of the other runtimes' data folders (see contract/liveRuntimes): one serving a
 * folder inside these roots keeps its tokens there, and a tool that read them acted as its owner.
 * Looked up on every call, as this runtime's own is: a few stats while none is listed.
 */
function otherDataFolders(): ReadonlySet<Identity> {
  const ids = new Set<Identity>();
  for (const folder of otherLiveDataFolders()) {
    try {
      ids.add(identityOf(statSync(folder, { bigint: true })));
    } catch {
      // gone since it was listed
    }
  }
  return ids;
}

/** True when `id` is the data folder itself, or another running runtime's. */
export function isDataFolder(place: DataPlace | undefined, id: Identity): boolean {
  return place !== undefined && ((place.below.length === 0 && place.anchor === id) || place.others.has(id));
}

/** True when making `names` inside the folder `id` would make the data folder or something in it. */
export function wouldMakeDataFolder(place: DataPlace | undefined, id: Identity, names: string[]): boolean {
  if (!place || !place.below.length || place.anchor !== id || names.length < place.below.length) return false;
  return place.below.every((name, i) => names[i] === name);
}

export function dataFolderDenied(input: string): ToolError {
  return new ToolError(
    'denied',
    `path ${JSON.stringify(input)} is the runtime's data folder or inside it; tools cannot see or change it`,
    { path: input },
  );
}

/** Folder names, compared case-insensitively (case-insensitive file systems reach `.GIT` as `.git`), and why. */
const PROTECTED_FOLDERS = new Map(PROTECTED_ENTRIES.filter((e) => e.dir).map((e) => [e.name, e.why]));

export interface ProtectedPlace {
  /** The protected name it is (".git" for what the repository config names too, "loom.toml", "team.code-workspace"). */
  place: string;
  why: string;
  /** For a tree being deleted: where inside it the protected places are. */
  inside?: string;
}

/**
 * The protected place a write at `names` (from a workspace root down) would change. `atRoot`:
 * the last name is directly in a workspace root.
 */
export function protectedPlace(names: string[], atRoot: boolean): ProtectedPlace | undefined {
  for (const name of names) {
    const folder = name.toLowerCase();
    const why = PROTECTED_FOLDERS.get(folder);
    if (why) return { place: folder, why };
  }
  const file = atRoot ? names.at(-1)?.toLowerCase() : undefined;
  const why = file === undefined ? undefined : protectedRootFile(file);
  return why ? { place: file!, why } : undefined;
}

/** protectedPlace, or the place one of `ids` (the folders on the way and the entry itself) really is. */
export function protectedPlaceOf(
  names: string[],
  atRoot: boolean,
  ids: Identity[],
  known: Map<Identity, ProtectedPlace>,
): ProtectedPlace | undefined {
  return protectedPlace(names, atRoot) ?? ids.map((id) => known.get(id)).find((p) => p !== undefined);
}

/**
 * The protected places of each root by IDENTITY, where they really are: `loom.toml` and `.vscode`
 * may be symlinks and `.git` a symlink or a "gitdir: <path>" file, so the file git or the runtime
 * reads can carry an innocent name ("cfg.toml", "repo/config"). Looked up on every call, by the
 * path the runtime and git themselves would follow.
 */
export function protectedIdentities(roots: readonly string[]): Map<Identity, ProtectedPlace> {
  const found = new Map<Identity, ProtectedPlace>();
  const add = (st: BigIntStats | null, place: string) => {
    if (st) found.set(identityOf(st), protectedPlace([place], true)!);
  };
  for (const root of roots) {
    for (const { name } of PROTECTED_ENTRIES.filter((e) => !e.dir)) add(statOrNull(path.join(root, name)), name);
    for (const at of suffixProtectedFiles(root)) add(statOrNull(at), path.basename(at));
    for (const folder of PROTECTED_FOLDERS.keys()) {
      const at = path.join(root, folder);
      const st = statOrNull(at);
      if (st?.isFile()) for (const repo of repositoriesOfGitFile(at)) add(statOrNull(repo), folder);
      else add(st, folder);
    }
    for (const p of gitPlacePaths(root)) add(statOrNull(p), '.git');
  }
  return found;
}

/** The protected place a write at `real` would make: one of `missing` (missingGitPlaces), a folder above one, or a file in one. */
export function missingPlaceAt(real: string, missing: readonly string[]): ProtectedPlace | undefined {
  const near = (m: string) => m === real || m.startsWith(real + path.sep) || real.startsWith(m + path.sep);
  return missing.some(near) ? protectedPlace(['.git'], true) : undefined;
}

function statOrNull(p: string): BigIntStats | null {
  try {
    return statSync(p, { bigint: true });
  } catch {
    return null;
  }
}
