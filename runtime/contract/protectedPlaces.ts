// Contract: where a workspace root's loom.toml, .vscode, .git and Dev Containers files really are. Each may be a
// symbolic link, and .git a "gitdir: <path>" file, which for a linked worktree names a folder whose
// "commondir" names the repository git takes its config and hooks from: the file the runtime or
// git reads can carry an innocent name ("cfg.toml", ".bare/config"). The runtime's file tools
// compare identities (runtime/tools/fsat/places.ts), the OS isolation binds these read-only
// (runtime/tools/isolation), and the path sandbox (./sandbox.ts) refuses writes into them.
import { readdirSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { gitPlaces, outerGitConfigs, statOrUndefined, type GitPlaces } from './gitConfig';
import { headOfPlainFile } from './plainFile';

export interface ProtectedEntry {
  name: string;
  /** A folder (protected at any depth of a root, as git and VS Code look for them) or a file of the root. */
  dir: boolean;
  /** Why: what runs a program it names. */
  why: string;
}

/**
 * What each root keeps from tools: each names programs that run later, outside any sandbox. The
 * one list the file tools, the path sandbox and the OS isolation all protect.
 */
export const PROTECTED_ENTRIES: readonly ProtectedEntry[] = [
  { name: 'loom.toml', dir: false, why: 'the runtime starts the agents and programs it names' },
  { name: '.vscode', dir: true, why: 'VS Code runs the tasks and programs its settings name' },
  { name: '.git', dir: true, why: 'git runs the commands its config and hooks name' },
  {
    name: '.devcontainer',
    dir: true,
    why: "VS Code's Dev Containers run the commands its devcontainer.json names (initializeCommand on this machine)",
  },
  {
    name: '.devcontainer.json',
    dir: false,
    why: "VS Code's Dev Containers run the commands it names (initializeCommand on this machine)",
  },
  {
    name: '.env',
    dir: false,
    why: "its variables reach the programs started from here (NODE_OPTIONS, PYTHONPATH, a proxy): the Python SDK, VS Code's Python extension and Docker Compose read it",
  },
];

/**
 * A root's files protected by the end of their name. VS Code offers to open a folder's workspace
 * file and then applies the settings, tasks and launch configurations it holds, as .vscode's. The
 * OS sandbox keeps those that exist read-only; it cannot keep a command from making a new one
 * (a mount needs a name), which the file tools refuse.
 */
export const PROTECTED_SUFFIXES: readonly { suffix: string; why: string }[] = [
  {
    suffix: '.code-workspace',
    why: 'VS Code applies the settings, tasks and launch configurations it holds when the person opens it (and offers to)',
  },
];

const bySuffix = (name: string) => {
  const lower = name.toLowerCase();
  return PROTECTED_SUFFIXES.find((s) => lower.endsWith(s.suffix) && lower.length > s.suffix.length);
};

/** Why a root's file of this name (any case) is protected, or undefined. */
export function protectedRootFile(name: string): string | undefined {
  return PROTECTED_ENTRIES.find((e) => !e.dir && e.name === name.toLowerCase())?.why ?? bySuffix(name)?.why;
}

const listed = new Map<string, { stamp: string; files: string[] }>();

/**
 * The files of `root` protected by their suffix (PROTECTED_SUFFIXES) there now: absolute paths.
 * Listed again only when the folder changed (the file tools ask on every call).
 */
export function suffixProtectedFiles(root: string): string[] {
  const st = statOrUndefined(root);
  if (!st?.isDirectory()) return [];
  const stamp = `${st.ino}:${st.mtimeMs}:${st.ctimeMs}`;
  const known = listed.get(root);
  if (known?.stamp === stamp) return known.files;
  let files: string[] = [];
  try {
    files = readdirSync(root)
      .filter((n) => bySuffix(n))
      .map((n) => path.join(root, n));
  } catch {
    // not a folder we can read: nothing there to protect
  }
  if (listed.size > 256) listed.clear();
  listed.set(root, { stamp, files });
  return files;
}

/**
 * The repositories a ".git" file names: its "gitdir: <path>" (relative to the folder holding
 * it) and, for a linked worktree, the one that folder's "commondir" names. Absolute, as written
 * (neither need exist); none for a file that names nothing.
 */
export function repositoriesOfGitFile(gitFile: string): string[] {
  const line = (file: string, re: RegExp) => re.exec(headOfPlainFile(file))?.[1]?.trim() || undefined;
  const gitdir = line(gitFile, /^gitdir:\s*(.+)$/m);
  if (!gitdir) return [];
  const repo = path.resolve(path.dirname(gitFile), gitdir);
  const common = line(path.join(repo, 'commondir'), /^(.+)$/m);
  return common ? [repo, path.resolve(repo, common)] : [repo];
}

/**
 * What git run in a root reads config from besides .git/config, and so runs programs from: the
 * system's and the person's configs (where a root holds them), the files any config includes, the
 * hooks folder.
 */
export function gitPlacesOfRoot(root: string): GitPlaces {
  const git = path.join(root, '.git');
  const outer = outerGitConfigs();
  // A linked worktree's repository (the last a .git file names) holds the config git reads.
  // config.worktree too: git reads it where extensions.worktreeConfig is on (sparse-checkout sets it).
  const own = [git, ...repositoriesOfGitFile(git)].flatMap((repo) => [
    path.join(repo, 'config'),
    path.join(repo, 'config.worktree'),
  ]);
  // In git's order, so that the repository's core.hooksPath wins over the person's.
  const places = gitPlaces(root, [...outer, ...own]);
  return { ...places, includes: [...outer, ...places.includes] };
}

/** gitPlacesOfRoot's paths: each is .git's as much as .git/config is. */
export function gitPlacePaths(root: string): string[] {
  const { includes, hooks } = gitPlacesOfRoot(root);
  return hooks ? [...includes, hooks] : includes;
}

/**
 * Where what the roots' git configs name (an included file, the hooks folder) would be, for those
 * not there yet: a write that makes one makes git run what it names. Real paths: the deepest
 * existing folder's, then the names below it.
 */
export function missingGitPlaces(roots: readonly string[]): string[] {
  return roots.flatMap((root) => missingOf(gitPlacePaths(root)));
}

const missingOf = (paths: string[]) => paths.filter((p) => !statOrUndefined(p)).map(realOfMissing);

function realOfMissing(p: string): string {
  const below: string[] = [];
  for (let at = path.resolve(p); ; at = path.dirname(at)) {
    if (statOrUndefined(at)) {
      try {
        return path.join(realpathSync.native(at), ...below.reverse());
      } catch {
        // gone meanwhile: one folder up
      }
    }
    if (path.dirname(at) === at) return path.resolve(p);
    below.push(path.basename(at));
  }
}

/**
 * A root's protected places, each with the name it stands for: the real paths of those that exist,
 * and (`missing`) where the git places its configs name but that are not there yet would be.
 */
export function protectedRealPaths(root: string): Array<{ place: string; real: string; missing?: true }> {
  const out: Array<{ place: string; real: string; missing?: true }> = [];
  const add = (place: string, p: string) => {
    try {
      // Most are absent: a stat says so without the exception realpath would throw.
      if (statOrUndefined(p)) out.push({ place, real: realpathSync.native(p) });
    } catch {
      // absent: nothing there to protect
    }
  };
  for (const { name: place } of PROTECTED_ENTRIES) {
    const at = path.join(root, place);
    add(place, at);
    if (place === '.git') for (const repo of repositoriesOfGitFile(at)) add(place, repo);
  }
  const git = gitPlacePaths(root);
  for (const p of git) add('.git', p);
  for (const real of missingOf(git)) out.push({ place: '.git', real, missing: true });
  for (const at of suffixProtectedFiles(root)) add(path.basename(at), at);
  return out;
}
