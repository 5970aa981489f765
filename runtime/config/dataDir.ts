// Where a workspace's runtime keeps its store, discovery file and log: `[runtime] data_dir`, read on
// its own and synchronously, because clients (the extension, the CLI's attach mode) must find the
// discovery file before any runtime answers. A missing or unreadable loom.toml means the default;
// a bad one is the runtime's to report.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultConfig } from './defaults';
import { CONFIG_FILE } from './load';

// smol-toml is ESM-only: the bundles inline it, and Node 20.19+ can require() an ES module.
const { parse } = require('smol-toml') as typeof import('smol-toml', { with: { 'resolution-mode': 'import' } });

export function dataDirOf(workspace: string): string {
  const fallback = defaultConfig(workspace).runtime.dataDir;
  try {
    const doc = parse(readFileSync(join(workspace, CONFIG_FILE), 'utf8')) as { runtime?: { data_dir?: unknown } };
    const dir = doc.runtime?.data_dir;
    return typeof dir === 'string' && dir.trim() !== '' ? dir : fallback;
  } catch {
    return fallback;
  }
}
