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

let cached: { key: string; folders: string[] } | undefined;

/**
 * The data folders of the other runtimes of this user that are running now (real paths). Read
 * again whenever a registry folder changes (its mtime), which one stat each tells: file tools ask
 * on every call. A pid this process cannot see (another PID namespace) is left listed, and not
 * counted as running.
 */
export function otherLiveDataFolders(): string[] {
  const folders = registryFolders().flatMap((f) => usable(f, false) ?? []);
  const key = folders.map((f) => `${f}:${statSync(f, { throwIfNoEntry: false })?.mtimeMs ?? 0}`).join('|');
  if (cached?.key !== key) cached = { key, folders: folders.flatMap(listed) };
  // A listed pid may have ended since (killed, so it left its line): looked at on every ask.
  return cached.folders.filter((entry) => ownProcessAlive(Number(entry.split('\0')[0]))).map((e) => e.split('\0')[1]!);
}

/** "<pid>\0<data folder>" for each entry of one registry folder but this process's own. */
function listed(folder: string): string[] {
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
    try {
      const entry = JSON.parse(readFileSync(join(folder, name), 'utf8')) as { pid?: unknown; dataFolder?: unknown };
      if (entry.pid === pid && typeof entry.dataFolder === 'string' && entry.dataFolder.startsWith('/'))
        out.push(`${pid}\0${entry.dataFolder}`);
    } catch {
      // half written, or not one of ours
    }
  }
  return out;
}
