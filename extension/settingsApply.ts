// Which `loom.*` settings apply at once and which need a runtime restart (as rust-analyzer's
// extension tells them apart): the ones handed to the runtime when it is launched (as
// --overrides, its interpreter, its port, how it is spawned) take effect only in a new runtime;
// the rest the extension reads itself, and applies when they change. Also how loom.cluster.* become
// the runtime's [cluster] overrides.
import type { ClusterOverrides } from '../runtime/contract';
import type { ClusterSettings, SETTING_KEYS } from './settings';
import { secretNameProblem } from './secrets';

export type SettingKey = (typeof SETTING_KEYS)[number];

export const SETTING_APPLIES: Record<SettingKey, 'restart' | 'live'> = {
  'runtime.port': 'restart',
  'runtime.keepAlive': 'restart',
  pythonPath: 'restart',
  'shell.allow': 'restart',
  'watcher.include': 'restart',
  'bus.queueSizes': 'restart',
  'cluster.servers': 'restart',
  'cluster.node': 'restart',
  'cluster.namespace': 'restart',
  'cluster.share': 'restart',
  'cluster.shareRealtime': 'restart',
  'cluster.offerTools': 'restart',
  'cluster.credsFile': 'restart',
  'cluster.tokenSecret': 'restart',
  'runtime.autoStart': 'live',
  'editor.changeDebounceMs': 'live',
  'editor.selectionDebounceMs': 'live',
  'editor.sendFullText': 'live',
};

/** The changed settings (`affects` is onDidChangeConfiguration's affectsConfiguration), as `loom.<key>`, by how they apply. */
export function classifySettingChange(affects: (section: string) => boolean): { restart: string[]; live: string[] } {
  const out = { restart: [] as string[], live: [] as string[] };
  for (const [key, applies] of Object.entries(SETTING_APPLIES))
    if (affects(`loom.${key}`)) out[applies].push(`loom.${key}`);
  return out;
}

/** Only what is set: an empty setting leaves loom.toml's value (or the default) alone. */
export function clusterOverrides(c: ClusterSettings): ClusterOverrides | undefined {
  const o: ClusterOverrides = {};
  if (c.servers.length) o.servers = c.servers;
  if (c.node) o.node = c.node;
  if (c.namespace) o.namespace = c.namespace;
  if (c.share) o.share = c.share;
  if (c.shareRealtime) o.shareRealtime = c.shareRealtime;
  if (c.offerTools) o.offerTools = c.offerTools;
  if (c.credsFile) o.credsFile = c.credsFile;
  const problem = c.tokenSecret ? secretNameProblem(c.tokenSecret) : undefined;
  if (problem) throw new Error(`loom.cluster.tokenSecret: ${problem} (as Loom: Set API Key stores them)`);
  // Never the secret itself on a command line: the runtime reads it from its environment.
  if (c.tokenSecret) o.token = `\${${c.tokenSecret}}`;
  return Object.keys(o).length ? o : undefined;
}
