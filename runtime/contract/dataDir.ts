// Contract: the data-folder rule. `[runtime] data_dir` of loom.toml names a folder inside the
// workspace where the runtime keeps its store, discovery file and log. Clients (the extension, the
// CLI's attach mode) must find the discovery file before any runtime answers, so dataDirOf reads it
// on its own and synchronously; the runtime's loader refuses the same spellings (dataDirProblem),
// and the runtime checks the real path again when it creates the folder (runtime/config/dataDir.ts).
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe } from './describe';

// smol-toml is ESM-only: the bundles inline it, and Node 20.19+ can require() an ES module.
const { parse } = require('smol-toml') as typeof import('smol-toml', { with: { 'resolution-mode': 'import' } });

/** The workspace's configuration file. */
export const CONFIG_FILE = 'loom.toml';

/** `[runtime] data_dir` when loom.toml does not say. */
export const DEFAULT_DATA_DIR = '.loom';

/**
 * The data folder relative to the workspace. A missing or unreadable loom.toml, or a data_dir the
 * runtime would refuse, means the default: never a folder outside the workspace. Creates nothing.
 */
export function dataDirOf(workspace: string): string {
  const fallback = DEFAULT_DATA_DIR;
  try {
    const doc = parse(readFileSync(path.join(workspace, CONFIG_FILE), 'utf8')) as { runtime?: { data_dir?: unknown } };
    const dir = doc.runtime?.data_dir;
    return typeof dir === 'string' && dataDirProblem(dir) === undefined ? dir : fallback;
  } catch {
    return fallback;
  }
}

/**
 * Why a `[runtime] data_dir` is refused, or undefined for a folder inside the workspace. Checked on
 * the spelling alone (clients use it before any runtime runs); the runtime checks the real path
 * again when it creates the folder (runtime/config/dataDir.ts), which catches symbolic links.
 */
export function dataDirProblem(dir: unknown): string | undefined {
  if (typeof dir !== 'string' || dir.trim() === '') return `must be a non-empty folder name (got ${describe(dir)})`;
  const normalised = path.normalize(dir);
  const outside = path.isAbsolute(dir)
    ? 'is an absolute path'
    : isOutside(normalised)
      ? 'leads out of the workspace with ".."'
      : undefined;
  if (outside)
    return `${outside} (got ${describe(dir)}): it must name a folder inside the workspace, or the runtime would keep its token and store outside the folder the tools protect`;
  if (normalised === '.')
    return `is the workspace itself (got ${describe(dir)}): it must name a folder inside the workspace, one the tools never see`;
  return undefined;
}

/** True for a path relative to a folder (path.relative, or normalised) that leads out of it. */
export function isOutside(rel: string): boolean {
  return rel === '..' || rel.startsWith('..' + path.sep) || path.isAbsolute(rel);
}
