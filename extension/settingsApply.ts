// Which `loom.*` settings apply at once and which need a runtime restart (as rust-analyzer's
// extension tells them apart): the ones handed to the runtime when it is launched (as
// --overrides, its interpreter, its port, how it is spawned) take effect only in a new runtime;
// the rest the extension reads itself, and applies when they change.
import type { SETTING_KEYS } from './settings';

export type SettingKey = (typeof SETTING_KEYS)[number];

export const SETTING_APPLIES: Record<SettingKey, 'restart' | 'live'> = {
  'runtime.port': 'restart',
  'runtime.keepAlive': 'restart',
  pythonPath: 'restart',
  'shell.allow': 'restart',
  'watcher.include': 'restart',
  'bus.queueSizes': 'restart',
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
