// Contract: where a workspace root's loom.toml, .vscode and .git really are. Each may be a
// symbolic link, and .git a "gitdir: <path>" file, which for a linked worktree names a folder whose
// "commondir" names the repository git takes its config and hooks from: the file the runtime or
// git reads can carry an innocent name ("cfg.toml", ".bare/config"). The runtime's file tools
// compare identities (runtime/tools/fsat/places.ts), the OS isolation binds these read-only
// (runtime/tools/isolation), and the path sandbox (./sandbox.ts) refuses writes into them.
import { realpathSync } from 'node:fs';
import path from 'node:path';
import { headOfPlainFile } from './plainFile';

/** loom.toml, .vscode, .git: what each root keeps from tools. */
export const PROTECTED_ENTRIES = ['loom.toml', '.vscode', '.git'] as const;

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

/** The real paths of a root's protected places that exist, each with the name it stands for. */
export function protectedRealPaths(root: string): Array<{ place: string; real: string }> {
  const out: Array<{ place: string; real: string }> = [];
  const add = (place: string, p: string) => {
    try {
      out.push({ place, real: realpathSync.native(p) });
    } catch {
      // absent: nothing there to protect
    }
  };
  for (const place of PROTECTED_ENTRIES) {
    const at = path.join(root, place);
    add(place, at);
    if (place === '.git') for (const repo of repositoriesOfGitFile(at)) add(place, repo);
  }
  return out;
}
