// The one place every default lives. The loader walks these objects to map loom.toml's
// snake_case keys onto LoomConfig, so a key with no default here is not read from the file.
import * as path from 'node:path';
import type { AgentConfig, LoomConfig } from './types';
import { DEFAULT_DATA_DIR } from '../contract/dataDir';

type TimerConfig = LoomConfig['timers'][string];

/** Defaults for one [agents.<id>] table; `command` has none (the file must name it). */
export function defaultAgent(): Omit<AgentConfig, 'command'> {
  return {
    args: [],
    env: {},
    cwd: '.',
    restart: 'on-failure',
    autostart: true,
    maxRestarts: 5,
    restartWindowMs: 60_000,
    backoffInitialMs: 500,
    backoffMaxMs: 30_000,
    stopGraceMs: 5_000,
    logLines: 1_000,
    isolation: 'off',
    network: true,
    readOnlyPaths: [],
    stateAccess: [],
  };
}

/** Defaults for one [timers.<name>] table. Batched: a tick is never dropped under load. */
export function defaultTimer(): Pick<TimerConfig, 'qos'> {
  return { qos: 'batched' };
}

export function defaultConfig(workspace: string): LoomConfig {
  const agent = defaultAgent();
  return {
    workspace: path.resolve(workspace),
    runtime: { logLevel: 'info', dataDir: DEFAULT_DATA_DIR, roots: [], trusted: true, storeMaxBytes: 1024 ** 3 },
    bridge: {
      host: '127.0.0.1',
      port: 0,
      requireToken: true,
      compat: 'none',
      maxMessageBytes: 4 * 1024 * 1024,
      // Three of the reference client's 15 s heartbeats: one late beat never drops a quiet agent.
      heartbeatTimeoutMs: 45_000,
      maxBatch: 256,
      maxSubscriptionsPerClient: 1000,
      maxToolsPerClient: 1000,
    },
    bus: {
      queueSizes: { realtime: 1024, batched: 4096, background: 65536 },
      // A stalled subscriber holds at most this (see DEFAULT_QUEUE_BYTES in runtime/bus/bus.ts).
      queueBytes: { realtime: 16 * 1024 * 1024, batched: 64 * 1024 * 1024, background: 256 * 1024 * 1024 },
      maxHops: 16,
      requestTimeoutMs: 30_000,
    },
    tools: {
      defaultTimeoutMs: 30_000,
      fs: { maxReadBytes: 10 * 1024 * 1024, protectedWrites: 'deny' },
      shell: {
        allow: ['echo', 'ls', 'cat', 'pwd', 'git', 'grep', 'wc', 'head', 'tail'],
        timeoutMs: 30_000,
        maxOutputBytes: 1024 * 1024,
        envAllow: ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TERM', 'TZ'],
        isolation: 'required',
        network: false,
        preset: 'none',
      },
      weather: { baseUrl: 'https://api.open-meteo.com/v1/forecast' },
      webSearch: { baseUrl: 'https://api.search.brave.com/res/v1/web/search', apiKey: '' },
      llm: { provider: '' },
    },
    watcher: { enabled: true, include: ['**/*'], ignore: [], debounceMs: 100, maxFolders: 10_000 },
    timers: {},
    agents: {},
    adhocAgents: { isolation: agent.isolation, network: agent.network, readOnlyPaths: agent.readOnlyPaths },
    mcp: {},
    dashboard: { enabled: false, port: 0 },
    notes: [],
    llm: {},
  };
}
