// The runtime follows its loom.toml: on save, [agents] takes effect at once (new tables start,
// removed ones stop, changed ones restart), and [adhoc_agents] at the next start of an ad-hoc
// agent's process; other sections need a restart, and the runtime says which. A file that no
// longer parses changes nothing: the error is logged and published, and the runtime keeps running
// on what it had.
import { watch, type FSWatcher } from 'node:fs';
import { CONFIG_FILE } from './load';
import { ConfigError } from './errors';
import type { AgentConfig, LoomConfig } from './types';
import { messageOf } from '../contract/errors';

export interface ReloadOutcome {
  added: string[];
  removed: string[];
  changed: string[];
  /** Sections that differ from what the runtime started with; they apply after a restart. */
  restartNeeded: string[];
  /** Why the file was not taken (ConfigError's message); nothing changed then. */
  error?: string;
}

export interface ConfigFollowerOptions {
  /** The running config: its `agents` and `adhocAgents` are updated in place (its other sections are not). */
  current: LoomConfig;
  load(): Promise<LoomConfig>;
  apply(agents: Record<string, AgentConfig>): Promise<{ added: string[]; removed: string[]; changed: string[] }>;
  /** Every reload's outcome (logged and published by the composition root). */
  report(outcome: ReloadOutcome): void;
  debounceMs?: number;
}

export interface ConfigFollower {
  /** Reads loom.toml now (also used before an unknown agent id is refused). */
  reload(): Promise<ReloadOutcome>;
  close(): void;
}

const SECTIONS_NEEDING_RESTART = [
  'runtime',
  'bridge',
  'bus',
  'tools',
  'watcher',
  'timers',
  'mcp',
  'llm',
  'dashboard',
  'cluster',
] as const;

export function followConfig(opts: ConfigFollowerOptions): ConfigFollower {
  const started = opts.current;
  let chain: Promise<unknown> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;

  const reloadNow = async (): Promise<ReloadOutcome> => {
    let next: LoomConfig;
    try {
      next = await opts.load();
    } catch (err) {
      const outcome = { added: [], removed: [], changed: [], restartNeeded: [], error: messageOf(err) };
      opts.report(outcome);
      return outcome;
    }
    const restartNeeded = SECTIONS_NEEDING_RESTART.filter(
      (k) => JSON.stringify(next[k]) !== JSON.stringify(started[k]),
    );
    const agents = next.agents;
    for (const id of Object.keys(started.agents)) if (!Object.hasOwn(agents, id)) delete started.agents[id];
    Object.assign(started.agents, agents);
    Object.assign(started.adhocAgents, next.adhocAgents);
    const outcome = { ...(await opts.apply(started.agents)), restartNeeded };
    opts.report(outcome);
    return outcome;
  };
  // One reload at a time, in order: two saves in a row must not apply out of order.
  const reload = () => {
    const run = chain.then(reloadNow, reloadNow);
    chain = run;
    return run;
  };

  let watcher: FSWatcher | undefined;
  try {
    // The folder, not the file: editors save by replacing the file, which ends a watch on it.
    watcher = watch(started.workspace, (_event, name) => {
      if (name !== CONFIG_FILE) return;
      clearTimeout(timer);
      timer = setTimeout(() => void reload(), opts.debounceMs ?? 200);
    });
    watcher.on('error', () => watcher?.close());
  } catch {
    watcher = undefined; // no watching here (the folder is gone?): reload() on demand still works
  }
  return {
    reload,
    close() {
      clearTimeout(timer);
      watcher?.close();
    },
  };
}
