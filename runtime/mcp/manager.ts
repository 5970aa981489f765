// All configured MCP servers: starts one connection each, publishes every state change on the bus
// as `mcp.<server>.state`, and answers state queries for the views and the dashboard.
import { createEvent, type Bus } from '../bus';
import type { Logger } from '../log';
import type { ToolRegistry } from '../tools';
import { parseMcpConfig, type McpConfig, type SecretResolver } from './config';
import { McpConnection, type ConnectionDeps, type McpServerState } from './connection';
import type { ConfirmFn } from './policy';

export interface StartMcpOptions {
  registry: ToolRegistry;
  bus: Bus;
  /** The raw `mcp` table of LoomConfig (loom.toml `[mcp.*]`). */
  mcp: Record<string, unknown>;
  workspace: string;
  /** How to start a stdio server with `isolation` (see ConnectionDeps.confine). */
  confine?: ConnectionDeps['confine'];
  /** The MCP part's logger (the composition root passes log.child('mcp')); servers log under <name>, serving under serve. */
  log: Logger;
  /** Answers `ask` policies (the extension's dialog); headless when absent. */
  confirm?: ConfirmFn;
  /** Answers `${...}` references before the environment (the extension's SecretStorage). */
  resolveSecret?: SecretResolver;
  /** Reported to servers in `initialize`. */
  version?: string;
}

export interface McpManager {
  readonly config: McpConfig;
  states(): McpServerState[];
  state(name: string): McpServerState | undefined;
  onDidChangeState(listener: (state: McpServerState) => void): { dispose(): void };
  /**
   * Resolves once every server's first start has finished (ready, failed or waiting to restart).
   * Starting never waits for it: the runtime comes up while servers connect.
   */
  settled(): Promise<void>;
  /** Stops and starts one server now (resets nothing but its connection). */
  restart(name: string): Promise<void>;
  close(): Promise<void>;
}

export const STATE_EVENT_TYPE = 'mcp.state';
export const stateTopic = (server: string): string => `mcp.${server}.state`;

/**
 * Validates the config and starts every enabled server in the background; state events (and
 * settled()) report how each start goes. A bad server entry becomes a failed server and the others
 * run; a bad [mcp.settings] or [mcp.serve] table throws McpConfigError (the CLI exits with 2).
 */
export async function startMcp(opts: StartMcpOptions): Promise<McpManager> {
  const log = opts.log;
  const { config, problems } = parseMcpConfig(opts.mcp, opts.workspace);
  const listeners = new Set<(state: McpServerState) => void>();
  const latest = new Map<string, McpServerState>();

  const publish = (state: McpServerState): void => {
    latest.set(state.name, state);
    for (const l of listeners) {
      try {
        l(state);
      } catch (err) {
        log.warn('mcp state listener threw', { error: err as Error });
      }
    }
    // Agents may follow mcp.*.state; what the server said on stderr is the person's (McpServerState.stderr).
    const { stderr: _personal, ...shared } = state;
    const event = createEvent({ type: STATE_EVENT_TYPE, source: 'runtime.mcp', payload: shared });
    opts.bus
      .publish(stateTopic(state.name), event)
      .catch((err: Error) => log.warn('mcp state not published', { server: state.name, error: err }));
  };

  for (const problem of problems) {
    log.error('mcp config problem', { server: problem.server, error: problem.message });
    if (problem.server && !latest.has(problem.server) && !config.servers.some((s) => s.name === problem.server)) {
      publish({
        name: problem.server,
        status: 'failed',
        transport: problem.transport ?? 'stdio',
        source: problem.source ?? 'loom.toml',
        tools: [],
        skipped: [],
        restarts: 0,
        lastError: problem.message,
        sinceMs: Date.now(),
      });
    }
  }

  const connections = new Map<string, McpConnection>();
  for (const server of config.servers) {
    connections.set(
      server.name,
      new McpConnection(server, {
        registry: opts.registry,
        log,
        workspace: opts.workspace,
        resolveSecret: opts.resolveSecret,
        policy: { confirm: opts.confirm, headlessAsk: config.settings.headlessAsk },
        clientInfo: { name: 'loom', version: opts.version ?? '0.1.0' },
        onState: publish,
        confine: opts.confine,
      }),
    );
  }
  const firstStarts = Promise.all([...connections.values()].map((c) => c.start())).then(() => {});

  return {
    config,
    settled: () => firstStarts,
    states: () => [...latest.values()].sort((a, b) => a.name.localeCompare(b.name)),
    state: (name) => latest.get(name),
    onDidChangeState: (listener) => {
      listeners.add(listener);
      return { dispose: () => void listeners.delete(listener) };
    },
    restart: async (name) => {
      const connection = connections.get(name);
      if (!connection)
        throw new Error(`mcp: no server named "${name}" (configured: ${[...connections.keys()].join(', ') || 'none'})`);
      await connection.stop();
      await connection.start();
    },
    close: async () => {
      await Promise.all([...connections.values()].map((c) => c.stop()));
      listeners.clear();
    },
  };
}
