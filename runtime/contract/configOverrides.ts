// Contract: settings that win over loom.toml, as the extension passes them to the runtime it starts
// (`--overrides <JSON>`, runtime/cli.ts). Named as LoomConfig names them (camelCase); the runtime
// checks what it is given as it checks the file (runtime/config/load.ts, applyOverrides), so only
// the sections the extension sets are spelt out here.

type QoSName = 'realtime' | 'batched' | 'background';

export interface ConfigOverrides {
  tools?: { shell?: { allow?: string[] } };
  watcher?: { include?: string[] };
  bus?: { queueSizes?: Partial<Record<QoSName, number>> };
  /** Any other section of LoomConfig, as the runtime's ConfigOverrides types it. */
  [section: string]: unknown;
}
