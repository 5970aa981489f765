// Contract: where a workspace root's loom.toml, .vscode, .git and Dev Containers files really are. Each may be a
// symbolic link, and .git a "gitdir: <path>" file, which for a linked worktree names a folder whose
// "commondir" names the repository git takes its config and hooks from: the file the runtime or
// git reads can carry an innocent name ("cfg.toml", ".bare/config"). The runtime's file tools
// compare identities (runtime/tools/fsat/places.ts), the OS isolation binds these read-only
// (runtime/tools/isolation), and the path sandbox (./sandbox.ts) refuses writes into them.
import { readdirSync, realpathSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
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

/** Why a root's file of this name (any case) is protected, or undefined. */
export function protectedRootFile(name: string): string | undefined {
  const lower = name.toLowerCase();
  return (
    PROTECTED_ENTRIES.find((e) => !e.dir && e.name === lower)?.why ??
    PROTECTED_SUFFIXES.find((s) => lower.endsWith(s.suffix) && lower.length > s.suffix.length)?.why
  );
}

/** The files of `root` protected by their suffix (PROTECTED_SUFFIXES) there now: absolute paths. */
export function suffixProtectedFiles(root: string): string[] {
  try {
    return readdirSync(root)
      .filter((n) => PROTECTED_SUFFIXES.some((s) => n.toLowerCase().endsWith(s.suffix) && n.length > s.suffix.length))
      .map((n) => path.join(root, n));
  } catch {
    return []; // not a folder we can read: nothing there to protect
  }
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
 * The folder git takes the hooks of the repository at `root` from when its config sets
 * core.hooksPath (husky's `.husky/_`, a project's `.githooks`): absolute, or undefined. The config
 * is protected with .git, but the folder it names lies in the work tree, where a hook written
 * runs at the person's next commit.
 */
export function hooksFolderOf(root: string): string | undefined {
  const git = path.join(root, '.git');
  // A linked worktree's repository (the last a .git file names) holds the config git reads.
  const configs = [git, ...repositoriesOfGitFile(git)].map((repo) => path.join(repo, 'config'));
  let value: string | undefined;
  for (const config of configs) value = coreHooksPath(headOfPlainFile(config, GIT_CONFIG_BYTES)) ?? value;
  if (!value) return undefined;
  return value.startsWith('~/') ? path.join(homedir(), value.slice(2)) : path.resolve(root, value);
}

const GIT_CONFIG_BYTES = 256 * 1024;

/** core.hooksPath as a git config text sets it last (git's syntax: sections, quotes, # and ; comments). */
export function coreHooksPath(config: string): string | undefined {
  let inCore = false;
  let found: string | undefined;
  for (const raw of config.split('\n')) {
    let line = raw.trim();
    const section = /^\[([^\]]*)\]/.exec(line);
    if (section) {
      inCore = section[1]!.trim().toLowerCase() === 'core';
      line = line.slice(section[0].length).trim(); // git takes "[core] hooksPath = x" on one line
    }
    const entry = inCore ? /^hookspath\s*=\s*(.*)$/i.exec(line) : null;
    if (entry) found = gitConfigValue(entry[1]!);
  }
  return found || undefined;
}

function gitConfigValue(text: string): string {
  let out = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\\' && i + 1 < text.length) out += text[++i];
    else if (c === '"') quoted = !quoted;
    else if ((c === '#' || c === ';') && !quoted) break;
    else out += c;
  }
  return out.trim();
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
  for (const { name: place } of PROTECTED_ENTRIES) {
    const at = path.join(root, place);
    add(place, at);
    if (place === '.git') for (const repo of repositoriesOfGitFile(at)) add(place, repo);
  }
  const hooks = hooksFolderOf(root);
  if (hooks) add('.git', hooks);
  for (const at of suffixProtectedFiles(root)) add(path.basename(at), at);
  return out;
}
