// Workspace watcher: file changes become fs.created / fs.changed / fs.deleted events.
//
// Built for churn: a build or a script can change 10 000 files a second, and none of that may
// reach the tool calls sharing this event loop. So one fs.watch per directory (never per file),
// and a raw event costs a map update and nothing else: no stat, no directory re-read, no timer.
// Paths wait in one insertion-ordered map until their window (watcher.debounceMs after their
// last raw event) has closed; a sweep then lstats each due path once, a few at a time, and
// compares with what it knew of the path (kind, size, mtime) to tell created, changed, deleted
// or nothing (created then deleted inside one window). The map is bounded: past MAX_PENDING_PATHS
// a raw event is counted instead, its folder re-listed at the next sweep (created and deleted
// are still found), and one `fs.overflow` event says how many changes were summarised.
// picomatch decides what is reported (include) and what is never watched (ignore).
import { promises as fs, watch as fsWatch, type Dirent, type FSWatcher, type Stats } from 'node:fs';
import * as path from 'node:path';
import picomatch from 'picomatch';
import { createEvent, type Bus } from '../bus';
import type { LoomConfig } from '../config';
import type { Logger } from '../log';

/** Never watched, whatever the config says: VCS internals, dependencies, Loom's own data. */
export const ALWAYS_IGNORED = ['.git', 'node_modules', '.loom'];

/** Paths waiting for their window to close, at most; raw events past it are summarised (fs.overflow). */
export const MAX_PENDING_PATHS = 10_000;
/** lstat calls a sweep has in flight at once (the libuv pool has 4 threads, shared with every tool). */
const STAT_CONCURRENCY = 4;

export type FsChange = 'created' | 'changed' | 'deleted';
/** What a window of changes to one path amounts to; `none` = it came and went. */
type Pending = FsChange | 'none';
type Kind = 'file' | 'directory';

export interface FsEventPayload {
  /** Relative to the workspace, with forward slashes. */
  path: string;
  kind: Kind;
  size?: number;
  mtime_ms?: number;
}

/** `fs.overflow`: raw changes not tracked one by one because too many paths were pending. */
export interface FsOverflowPayload {
  /** Raw change notifications summarised since the last fs.overflow. */
  dropped: number;
  /** The folders they happened in (re-listed, so created and deleted entries are still reported), at most 100. */
  directories: string[];
  directories_total: number;
}

/**
 * What a window's changes to one path amount to, as the sweep finds them by comparing the path
 * before and after: created then changed is still created, created then deleted is nothing,
 * deleted then created is a change (an editor's atomic save), changed then deleted is deleted.
 */
export function coalesce(pending: Pending, next: FsChange): Pending {
  if (pending === 'none') return next;
  if (pending === 'created') return next === 'deleted' ? 'none' : 'created';
  if (pending === 'deleted') return next === 'deleted' ? 'deleted' : 'changed';
  return next === 'deleted' ? 'deleted' : 'changed';
}

export interface Watcher {
  /** Paths with changes still inside their debounce window (for diagnostics and tests). */
  pending(): string[];
  /** Stops watching; changes still inside their window are published first. Idempotent. */
  close(): Promise<void>;
}

export interface WatcherOptions {
  /** Bound of the pending map (tests use a small one). Default MAX_PENDING_PATHS. */
  maxPending?: number;
}

/** What the watcher last knew of an entry; size and mtime only once it has been stat'ed. */
interface Known {
  kind: Kind;
  size?: number;
  mtimeMs?: number;
}

interface WatchedDir {
  handle: FSWatcher;
  children: Map<string, Known>;
}

export async function startWatcher(
  bus: Bus,
  config: LoomConfig,
  log: Logger,
  options: WatcherOptions = {},
): Promise<Watcher> {
  const { enabled, include, ignore, debounceMs, maxFolders } = config.watcher;
  if (!enabled) return { pending: () => [], close: async () => {} };
  const root = path.resolve(config.workspace);
  const isIgnored = ignoredMatcher(root, config);
  const isIncluded = picomatch(include, { dot: true });
  const maxPending = Math.max(1, options.maxPending ?? MAX_PENDING_PATHS);
  const windowMs = Math.max(0, debounceMs);

  const dirs = new Map<string, WatchedDir>();
  /** rel → time of its last raw event; re-inserted on every event, so the oldest come first. */
  const pending = new Map<string, number>();
  const rescan = new Set<string>();
  let dropped = 0;
  let closing = false;
  let folderLimitLogged = false;

  const abs = (rel: string) => (rel ? path.join(root, rel) : root);
  const join = (dir: string, name: string) => (dir ? `${dir}/${name}` : name);
  const parentOf = (rel: string) => rel.slice(0, Math.max(0, rel.lastIndexOf('/')));
  const nameOf = (rel: string) => rel.slice(rel.lastIndexOf('/') + 1);

  // The hot path: called by libuv for every raw notification. A map update, nothing more.
  const raw = (dirRel: string, name: string | Buffer | null) => {
    if (closing) return;
    if (name === null) return void rescan.add(dirRel);
    const rel = join(dirRel, String(name).split(path.sep).join('/'));
    if (isIgnored(rel)) return;
    if (pending.delete(rel) || pending.size < maxPending) return void pending.set(rel, Date.now());
    dropped++;
    rescan.add(dirRel);
  };

  const watchDir = (rel: string): WatchedDir | undefined => {
    if (closing) return undefined;
    const existing = dirs.get(rel);
    if (existing) return existing;
    if (dirs.size >= maxFolders) {
      if (!folderLimitLogged)
        log.warn(
          `watcher: ${maxFolders} folders watched, the most watcher.max_folders allows; changes in further folders are not reported (add generated trees to watcher.ignore, or raise the limit)`,
          { path: rel },
        );
      folderLimitLogged = true;
      return undefined;
    }
    let handle: FSWatcher;
    try {
      handle = fsWatch(abs(rel), { persistent: true }, (_type, name) => raw(rel, name));
    } catch (err) {
      log.warn('folder not watched', { path: rel || '.', error: err as Error });
      return undefined;
    }
    handle.on('error', (err) => {
      log.warn('watcher error', { path: rel || '.', error: err });
      rescan.add(parentOf(rel));
    });
    const dir: WatchedDir = { handle, children: new Map() };
    dirs.set(rel, dir);
    return dir;
  };

  const unwatch = (rel: string) => {
    dirs.get(rel)?.handle.close();
    dirs.delete(rel);
  };

  const publish = async (change: FsChange, rel: string, kind: Kind, stat?: Stats) => {
    if (!isIncluded(rel)) return;
    const payload: FsEventPayload = { path: rel, kind };
    if (stat && change !== 'deleted') {
      if (kind === 'file') payload.size = stat.size;
      payload.mtime_ms = Math.floor(stat.mtimeMs);
    }
    const type = `fs.${change}`;
    try {
      await bus.publish(type, createEvent({ type, source: 'watcher', payload }));
    } catch (err) {
      log.warn('watcher event not published', { type, path: rel, error: err as Error });
    }
  };

  /** Lists a folder just watched; `report` publishes what it holds as created (a folder that appeared). */
  const scan = async (rel: string, dir: WatchedDir, report: boolean): Promise<void> => {
    let entries: Dirent[];
    try {
      entries = await fs.readdir(abs(rel), { withFileTypes: true });
    } catch {
      return; // gone already: its parent's notification will tell
    }
    for (const entry of entries) {
      const childRel = join(rel, entry.name);
      if (isIgnored(childRel) || dir.children.has(entry.name)) continue;
      const kind: Kind = entry.isDirectory() ? 'directory' : 'file';
      if (!report) {
        dir.children.set(entry.name, { kind });
      } else {
        const stat = await fs.lstat(abs(childRel)).catch(() => undefined);
        if (!stat) continue;
        dir.children.set(entry.name, known(stat));
        await publish('created', childRel, kind, stat);
      }
      if (kind === 'directory') {
        const sub = watchDir(childRel);
        if (sub) await scan(childRel, sub, report);
      }
    }
  };

  /** An entry that is gone: its descendants first (files, then their folders), then itself. */
  const removed = async (rel: string, kind: Kind) => {
    const dir = kind === 'directory' ? dirs.get(rel) : undefined;
    if (dir) {
      unwatch(rel);
      for (const [name, child] of dir.children) await removed(join(rel, name), child.kind);
    }
    await publish('deleted', rel, kind);
  };

  /** Compares a due path with what was known of it and publishes the difference. */
  const settle = async (rel: string, stat: Stats | undefined) => {
    const parent = dirs.get(parentOf(rel));
    if (!parent) return; // its folder went away; that folder's deletion covered it
    const name = nameOf(rel);
    let before = parent.children.get(name);
    const kind: Kind | undefined = stat ? (stat.isDirectory() ? 'directory' : 'file') : undefined;
    if (before && before.kind !== kind) {
      parent.children.delete(name);
      await removed(rel, before.kind);
      before = undefined;
    }
    if (!stat || !kind) return;
    parent.children.set(name, known(stat));
    if (!before) {
      await publish('created', rel, kind, stat);
      if (kind === 'directory') {
        const sub = watchDir(rel);
        if (sub) await scan(rel, sub, true);
      }
    } else if (kind === 'file' && (before.mtimeMs !== stat.mtimeMs || before.size !== stat.size)) {
      await publish('changed', rel, kind, stat);
    }
  };

  /** The entries of an overflowed folder that appeared or disappeared since it was last known. */
  const differences = async (rel: string): Promise<string[]> => {
    const dir = dirs.get(rel);
    if (!dir) return [];
    const names = await fs.readdir(abs(rel)).catch(() => undefined);
    if (!names) return rel ? [rel] : [];
    const present = new Set<string>();
    const out: string[] = [];
    for (const name of names) {
      const childRel = join(rel, name);
      if (isIgnored(childRel)) continue;
      present.add(name);
      if (!dir.children.has(name)) out.push(childRel);
    }
    for (const name of dir.children.keys()) if (!present.has(name)) out.push(join(rel, name));
    return out;
  };

  /** Settles every path whose window has closed (every pending path when `all`). */
  const sweep = async (all: boolean) => {
    const cutoff = Date.now() - windowMs;
    const due: string[] = [];
    for (const [rel, seen] of pending) {
      if (!all && seen > cutoff) break;
      due.push(rel);
      pending.delete(rel);
    }
    if (dropped > 0) {
      const directories = [...rescan];
      const payload: FsOverflowPayload = {
        dropped,
        directories: directories.slice(0, 100).map((d) => d || '.'),
        directories_total: directories.length,
      };
      dropped = 0;
      log.warn('watcher overflow: changes summarised', {
        dropped: payload.dropped,
        directories: payload.directories_total,
        maxPending,
      });
      await bus
        .publish('fs.overflow', createEvent({ type: 'fs.overflow', source: 'watcher', payload }))
        .catch((err: Error) => log.warn('watcher event not published', { type: 'fs.overflow', error: err }));
    }
    for (const rel of [...rescan]) {
      rescan.delete(rel);
      for (const found of await differences(rel)) if (!pending.has(found)) due.push(found);
    }
    for (let i = 0; i < due.length; i += STAT_CONCURRENCY) {
      const chunk = due.slice(i, i + STAT_CONCURRENCY);
      const stats = await Promise.all(chunk.map((rel) => fs.lstat(abs(rel)).catch(() => undefined)));
      for (let j = 0; j < chunk.length; j++) await settle(chunk[j], stats[j]);
    }
  };

  const rootDir = watchDir('');
  if (!rootDir) throw new Error(`cannot watch the workspace ${root}`);
  await scan('', rootDir, false);
  log.info('watching workspace', { root, include, ignore, debounceMs, folders: dirs.size });

  let sweeping: Promise<void> | undefined;
  const period = Math.min(250, Math.max(10, Math.floor(windowMs / 4)));
  const timer = setInterval(() => {
    if (sweeping || pending.size + rescan.size === 0) return;
    sweeping = sweep(false)
      .catch((err: Error) => log.warn('watcher sweep failed', { error: err }))
      .finally(() => (sweeping = undefined));
  }, period);

  let closed: Promise<void> | undefined;
  return {
    pending: () => [...pending.keys()],
    close: () =>
      (closed ??= (async () => {
        clearInterval(timer);
        await sweeping;
        closing = true;
        for (const dir of dirs.values()) dir.handle.close(); // what was known of each folder stays, for the last sweep
        // Changes seen but still inside their window are published, not lost.
        await sweep(true).catch((err: Error) => log.warn('watcher sweep failed', { error: err }));
        dirs.clear();
      })()),
  };
}

function known(stat: Stats): Known {
  return stat.isDirectory() ? { kind: 'directory' } : { kind: 'file', size: stat.size, mtimeMs: stat.mtimeMs };
}

/**
 * True for a path (relative to the root, forward slashes) that leads out of the root. A name
 * merely starting with ".." ("..x") is inside; on Windows another drive comes back absolute.
 */
function isOutside(rel: string): boolean {
  return rel === '..' || rel.startsWith('../') || path.isAbsolute(rel);
}

/** True for a workspace-relative path that is never reported (its subtree is not even watched). */
function ignoredMatcher(root: string, config: LoomConfig): (rel: string) => boolean {
  const dataDir = path.relative(root, path.resolve(root, config.runtime.dataDir)).split(path.sep).join('/');
  const byGlob = picomatch(config.watcher.ignore, { dot: true });
  return (rel: string) => {
    if (!rel || isOutside(rel)) return false;
    if (rel.split('/').some((segment) => ALWAYS_IGNORED.includes(segment))) return true;
    if (dataDir && !isOutside(dataDir) && (rel === dataDir || rel.startsWith(dataDir + '/'))) return true;
    return byGlob(rel);
  };
}
