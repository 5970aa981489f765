// Workspace watcher: file changes become fs.created / fs.changed / fs.deleted events.
// chokidar 4 watches (it has no globs any more), picomatch decides what counts, and a short
// per-path window folds the bursts editors and tools produce into one event per path.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import picomatch from 'picomatch';
import { createEvent, type Bus } from '../bus';
import type { LoomConfig } from '../config';
import type { Logger } from '../log';

/** Never watched, whatever the config says: VCS internals, dependencies, Loom's own data. */
export const ALWAYS_IGNORED = ['.git', 'node_modules', '.loom'];

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

/**
 * Folds the next change into what is pending for a path: created then changed is still
 * created, created then deleted is nothing, deleted then created is a change (an editor's
 * atomic save), changed then deleted is deleted.
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

export async function startWatcher(bus: Bus, config: LoomConfig, log: Logger): Promise<Watcher> {
  const { enabled, include, ignore, debounceMs } = config.watcher;
  if (!enabled) return { pending: () => [], close: async () => {} };
  const root = path.resolve(config.workspace);
  const relative = (abs: string) => path.relative(root, abs).split(path.sep).join('/');
  const isIgnored = ignoredMatcher(root, config);
  const isIncluded = picomatch(include, { dot: true });

  const pending = new Map<string, { change: Pending; kind: Kind; timer: NodeJS.Timeout }>();
  let publishing: Promise<unknown> = Promise.resolve();

  const flush = (rel: string) => {
    const entry = pending.get(rel);
    if (!entry) return;
    clearTimeout(entry.timer);
    pending.delete(rel);
    if (entry.change === 'none') return;
    // Publish in the order windows close; a batched subscriber's backpressure holds the queue.
    publishing = publishing.then(() => publishChange(rel, entry.change as FsChange, entry.kind));
  };

  const publishChange = async (rel: string, change: FsChange, kind: Kind) => {
    let payload: FsEventPayload = { path: rel, kind };
    if (change !== 'deleted') {
      const stat = await fs.lstat(path.join(root, rel)).catch(() => undefined);
      // Gone again before the window closed: a new path never existed, a changed one is deleted.
      if (!stat && change === 'created') return;
      if (!stat) change = 'deleted';
      else payload = { ...payload, ...(kind === 'file' ? { size: stat.size } : {}), mtime_ms: Math.floor(stat.mtimeMs) };
    }
    const type = `fs.${change}`;
    try {
      await bus.publish(type, createEvent({ type, source: 'watcher', payload }));
    } catch (err) {
      log.warn('watcher event not published', { type, path: rel, error: err as Error });
    }
  };

  const record = (change: FsChange, kind: Kind) => (abs: string) => {
    const rel = relative(abs);
    if (!rel || isOutside(rel) || !isIncluded(rel)) return;
    const entry = pending.get(rel);
    if (entry) clearTimeout(entry.timer);
    const next = coalesce(entry?.change ?? 'none', change);
    pending.set(rel, { change: next, kind, timer: setTimeout(() => flush(rel), debounceMs) });
  };

  const watcher: FSWatcher = watch(root, {
    ignoreInitial: true,
    followSymlinks: false,
    ignored: (abs: string) => isIgnored(relative(abs)),
  });
  watcher
    .on('add', record('created', 'file'))
    .on('addDir', record('created', 'directory'))
    .on('change', record('changed', 'file'))
    .on('unlink', record('deleted', 'file'))
    .on('unlinkDir', record('deleted', 'directory'))
    .on('error', (err) => log.warn('watcher error', { error: err as Error }));
  await new Promise<void>((resolve) => watcher.once('ready', () => resolve()));
  log.info('watching workspace', { root, include, ignore, debounceMs });

  let closing: Promise<void> | undefined;
  return {
    pending: () => [...pending.keys()],
    close: () =>
      (closing ??= (async () => {
        await watcher.close();
        // Changes seen but still inside their window are published, not lost.
        for (const rel of [...pending.keys()]) flush(rel);
        await publishing;
      })()),
  };
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
