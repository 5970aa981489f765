// Contract: settings that win over loom.toml, as the extension passes them to the runtime it starts
// (`--overrides <JSON>`, runtime/cli.ts). Named as LoomConfig names them (camelCase); the runtime
// checks what it is given as it checks the file (runtime/config/load.ts, applyOverrides), so only
// the sections the extension sets are spelt out here.

type QoSName = 'realtime' | 'batched' | 'background';

/**
 * The loom.cluster.* settings. Laid over loom.toml's [cluster] before it is checked, so they meet
 * the same rules and defaults; `servers` alone makes a [cluster] where the file has none, and the
 * others refine one (without servers anywhere they are ignored: there is nothing to join).
 */
export interface ClusterOverrides {
  servers?: string[];
  node?: string;
  namespace?: string;
  share?: string[];
  shareRealtime?: string[];
  offerTools?: string[];
  /** A NATS .creds file. Replaces the credentials loom.toml gives. */
  credsFile?: string;
  /** `${NAME}`: the token is the environment variable NAME (a secret the window stores). Replaces loom.toml's credentials. */
  token?: string;
}

export interface ConfigOverrides {
  tools?: { shell?: { allow?: string[] } };
  watcher?: { include?: string[] };
  bus?: { queueSizes?: Partial<Record<QoSName, number>> };
  cluster?: ClusterOverrides;
  /** Any other section of LoomConfig, as the runtime's ConfigOverrides types it. */
  [section: string]: unknown;
}
