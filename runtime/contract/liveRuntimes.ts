// Contract: the data folders of the Loom runtimes this user runs now. A runtime serving a folder
// inside another's workspace (a monorepo package, an example) keeps its tokens in its own data
// folder, which the outer runtime's tools saw as an ordinary folder: a confined command read the
// inner window's credential and, through it, started an unconfined agent. Each runtime lists its
// data folder here while it runs (from before it writes a secret there), and every runtime's
// tools hide every listed one.
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ownProcessAlive } from './process';

/**
 * Where runtimes list themselves: under $XDG_RUNTIME_DIR when set, and under ~/.cache always, so
 * that runtimes started with and without the variable (a login shell, cron) see each other. Each
 * writes to the first and reads both.
 */
function registryFolders(): string[] {
  const cache = join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'loom', 'runtimes');
  const runtime = process.env.XDG_RUNTIME_DIR ? join(process.env.XDG_RUNTIME_DIR, 'loom', 'runtimes') : undefined;
  return [...new Set([runtime, cache].filter((f): f is string => f !== undefined))];
}

/** The folder made private, or undefined when it is another user's or others may change it (it could name anything). */
function usable(folder: string, make: boolean): string | undefined {
  try {
    if (make) mkdirSync(folder, { recursive: true, mode: 0o700 });
    const st = statSync(folder);
    const uid = process.getuid?.();
    return (uid !== undefined && st.uid !== uid) || (st.mode & 0o022) !== 0 ? undefined : folder;
  } catch {
    return undefined;
  }
}

/** Lists `dataFolder` (a real path) as this process's until the returned function is called. */
export function listLiveRuntime(dataFolder: string): () => void {
  const folder = usable(registryFolders()[0]!, true);
  if (!folder) return () => undefined;
  const file = join(folder, `${process.pid}.json`);
  try {
    writeFileSync(file, JSON.stringify({ pid: process.pid, dataFolder }) + '\n', { mode: 0o600 });
  } catch {
    return () => undefined;
  }
  return () => rmSync(file, { force: true });
}

/** How often whether a listed runtime still runs is looked at again (a listing change is seen at once). */
const RECHECK_MS = 10_000;
/** A line whose pid is gone is removed once this old (a pid of another PID namespace looks gone too). */
const PRUNE_MS = 7 * 24 * 3_600_000;
let cached: { key: string; atMs: number; folders: string[] } | undefined;

/**
 * The data folders of the other runtimes of this user that are running now (real paths). Listed
 * again whenever a registry folder changes (its mtime, one stat each: file tools ask on every
 * call), and at least every RECHECK_MS; a runtime that was killed left its line, and its folder
 * stays hidden until then, which costs nothing.
 */
export function otherLiveDataFolders(): string[] {
  const folders = registryFolders().flatMap((f) => usable(f, false) ?? []);
  const key = folders.map((f) => `${f}:${statSync(f, { throwIfNoEntry: false })?.mtimeMs ?? 0}`).join('|');
  const now = Date.now();
  if (cached?.key !== key || now - cached.atMs >= RECHECK_MS)
    cached = { key, atMs: now, folders: folders.flatMap((f) => running(f, now)) };
  return cached.folders;
}

/** The data folders the lines of one registry folder name, but this process's own and those whose pid is gone. */
function running(folder: string, now: number): string[] {
  let names: string[];
  try {
    names = readdirSync(folder);
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const name of names) {
    const pid = Number(/^(\d+)\.json$/.exec(name)?.[1]);
    if (!pid || pid === process.pid) continue;
    const file = join(folder, name);
    try {
      if (!ownProcessAlive(pid)) {
        if (now - statSync(file).mtimeMs > PRUNE_MS) rmSync(file, { force: true });
        continue;
      }
      const entry = JSON.parse(readFileSync(file, 'utf8')) as { pid?: unknown; dataFolder?: unknown };
      if (entry.pid === pid && typeof entry.dataFolder === 'string' && entry.dataFolder.startsWith('/'))
        out.push(entry.dataFolder);
    } catch {
      // half written, gone meanwhile, or not one of ours
    }
  }
  return out;
}
