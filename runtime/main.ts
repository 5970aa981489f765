// The composition root: builds every runtime part in dependency order and tears them down in
// reverse. config → store → bus → tools (+ built-ins) → sources → agents → bridge → supervisor
// → discovery file. stop() undoes it from the end; the store closes last, so it is flushed.
import {
  AgentDirectory,
  Supervisor,
  describeAgents,
  reapOrphans,
  registerAgentTools,
  runtimeMark,
  type LifecycleEmitter,
} from './agents';
import {
  DISCOVERY_FILE,
  readDiscoveryFile,
  removeDiscoveryFile,
  WINDOW_CREDENTIAL_FILE,
  writeDiscoveryFile,
  writeWindowCredential,
} from './contract/discovery';
import { Credentials } from './bridge/identity';
import { generateToken } from './localAuth';
import { startBridgeServer } from './bridge/server';
import { EventBus, createEvent, type Bus } from './bus';
import {
  followConfig,
  loadConfig,
  openDataDir,
  restrictForUntrusted,
  type ConfigFollower,
  type ConfigOverrides,
  type LoomConfig,
  type ReloadOutcome,
} from './config';
import { createLogger, type Logger } from './log';
import { startTimers, startWatcher } from './sources';
import { openStore, privateFiles, type Store } from './store';
import { Feed } from './feed';
import { processAlive } from './contract/process';
import { listLiveRuntime } from './contract/liveRuntimes';
import { startDashboardServer } from './dashboard/server';
import { dashboardActions } from './dashboard/actions';
import { mcpStateToWire, startMcpForRuntime, type ConfirmFn, type McpRuntime } from './mcp';
import { confineProcess, DefaultToolRegistry, isolationStatus, registerBuiltinTools, type ToolRegistry } from './tools';
import { workspaceRoots } from './tools/isolation';
import { join } from 'node:path';
import { version as packageVersion } from '../package.json';
import { messageOf } from './contract/errors';
// Types only: the cluster part (and its NATS client) is required below, and only when [cluster] is set.
import type { ClusterHandle } from './cluster';

export const VERSION: string = packageVersion;

export interface StartOptions {
  workspace: string;
  overrides?: ConfigOverrides;
  /** Default: JSON lines on stderr at the configured level. */
  log?: Logger;
  /** Serve the dashboard over HTTP on 127.0.0.1 (port 0 = any free one); its URL goes into the discovery file. */
  dashboard?: { port?: number };
  /** Where webview.js and webview.css are (default: beside this bundle, dist/). */
  assetsDir?: string;
}

export interface RuntimeHandle {
  readonly config: LoomConfig;
  readonly bus: Bus;
  readonly tools: ToolRegistry;
  readonly store: Store;
  readonly directory: AgentDirectory;
  readonly supervisor: Supervisor;
  readonly feed: Feed;
  readonly mcp: McpRuntime;
  /** The dashboard's URL (token included) when one is served. */
  readonly dashboardUrl?: string;
  /** "127.0.0.1:PORT". */
  readonly address: string;
  readonly token: string;
  /** The VS Code window's credential (written beside the discovery file, WINDOW_CREDENTIAL_FILE). */
  readonly windowToken: string;
  readonly discoveryFile: string;
  readonly version: string;
  readonly log: Logger;
  /** Idempotent. */
  stop(): Promise<void>;
}

type Closer = [name: string, close: () => unknown];

/** Throws ConfigError for a bad loom.toml before anything starts. */
export async function startRuntime(opts: StartOptions): Promise<RuntimeHandle> {
  const { config, ignored } = restrictForUntrusted(await loadConfig(opts.workspace, opts.overrides));
  const log = opts.log ?? createLogger({ level: config.runtime.logLevel });
  if (ignored.length)
    log.warn('workspace not trusted: these loom.toml settings are ignored (Workspace Trust)', { ignored });
  for (const note of config.notes) log.info(`${note.key}: ${note.message}`);
  const startedAtMs = Date.now();
  // Undo stack: whatever started is stopped again if a later part fails to start.
  const closers: Closer[] = [];
  const stopAll = async () => {
    for (const [name, close] of closers.splice(0).reverse()) {
      try {
        await close();
      } catch (err) {
        log.error('stop failed', { part: name, error: messageOf(err) });
      }
    }
  };

  try {
    // The real path, checked inside the workspace and made private, is used from here on.
    const dataFolder = await openDataDir(config.workspace, config.runtime.dataDir);
    // Before any secret is written there: another runtime whose roots hold this workspace then hides it.
    closers.push(['live runtimes', listLiveRuntime(dataFolder)]);
    await privateFiles(dataFolder); // a log or file an earlier version left readable
    const store = await openStore(join(dataFolder, 'store'), log.child('store'), {
      maxBytes: config.runtime.storeMaxBytes,
    });
    closers.push(['store', () => store.close()]);

    const bus = new EventBus({
      queueSizes: config.bus.queueSizes,
      queueBytes: config.bus.queueBytes,
      maxHops: config.bus.maxHops,
      requestTimeoutMs: config.bus.requestTimeoutMs,
    });
    closers.push(['bus', () => bus.close()]);

    const tools = new DefaultToolRegistry({ defaultTimeoutMs: config.tools.defaultTimeoutMs, log: log.child('tools') });
    const builtins = registerBuiltinTools(tools, config, log.child('tools'), { confirm: askTheWindow(tools) });
    closers.push(['builtin tools', () => builtins.dispose()]);

    const watcher = await startWatcher(bus, config, log.child('watcher'));
    closers.push(['watcher', () => watcher.close()]);
    const timers = startTimers(bus, config, log.child('timers'));
    closers.push(['timers', () => timers.close()]);

    const emit = lifecycleEmitter(bus, log, config.cluster?.node);
    const directory = new AgentDirectory({
      bus,
      tools,
      heartbeatTimeoutMs: config.bridge.heartbeatTimeoutMs,
      emit,
      log: log.child('agents'),
      maxSubscriptionsPerClient: config.bridge.maxSubscriptionsPerClient,
      maxToolsPerClient: config.bridge.maxToolsPerClient,
      isSupervised: (agentId) => Object.hasOwn(config.agents, agentId),
      // MCP servers from every source: loom.toml, .vscode/mcp.json, LOOM_MCP_SERVERS.
      namespaceOwner: (namespace) =>
        Object.hasOwn(config.agents, namespace)
          ? namespace
          : Object.hasOwn(config.mcp, namespace) || mcp?.states().some((s) => s.name === namespace)
            ? `mcp:${namespace}`
            : undefined,
    });

    let supervisor: Supervisor | undefined;
    let mcp: McpRuntime | undefined;
    let follower: ConfigFollower | undefined;
    let cluster: ClusterHandle | undefined;
    const localAgents = () => describeAgents(directory, supervisor);
    const allAgents = () => (cluster ? cluster.agents(localAgents()) : localAgents());
    const feed = new Feed({
      bus,
      tools,
      agents: allAgents,
      storeBytes: () => store.sizeBytes(),
      startedAtMs,
      ...(config.cluster
        ? {
            cluster: () =>
              cluster?.health() ?? {
                enabled: true,
                node: config.cluster!.node,
                namespace: config.cluster!.namespace,
                state: 'connecting',
              },
          }
        : {}),
      mcpServers: () => mcp?.states().map((state) => mcpStateToWire(state, 'person')) ?? [],
      isolation: () => ({ ...isolationStatus(config.tools.shell.isolation), trusted: config.runtime.trusted }),
    });
    const token = generateToken();
    const credentials = new Credentials(token);
    const bridge = await startBridgeServer({
      settings: config.bridge,
      credentials,
      agents: config.agents,
      reloadConfig: () => follower?.reload(),
      bus,
      tools,
      store,
      directory,
      supervisor: () => supervisor,
      mcp: () => mcp,
      feed,
      log: log.child('bridge'),
      ...(config.cluster ? { listAgents: allAgents } : {}),
    });
    closers.push(['bridge', () => bridge.stop()]);
    // Before the server stops: closing every agent's stream (Error{code:"shutdown"}) lets it stop at once.
    closers.push(['agents', () => directory.dispose()]);
    closers.push(['feed', () => feed.close()]);

    supervisor = new Supervisor({
      agents: config.agents,
      workspace: config.workspace,
      adHocIsolation: config.adhocAgents,
      trusted: config.runtime.trusted,
      withheldEnv: config.cluster?.secretEnv,
      bridge: {
        address: bridge.address,
        credentialFor: (agentId) => credentials.mintAgent(agentId),
        mark: runtimeMark(token),
        heartbeatTimeoutMs: config.bridge.heartbeatTimeoutMs,
      },
      emit,
      onProcessExit: (agentId, how) => {
        credentials.revokeAgent(agentId); // a process's credential ends with it
        directory.processExited(agentId, how);
      },
      confine: (agentId, isolation, command, args, cwd, setting) =>
        confineProcess(config, isolation, command, args, cwd, `agent ${agentId}`, setting),
      log: log.child('supervisor'),
    });
    closers.push(['supervisor', () => supervisor!.stopAll()]);
    follower = followConfig({
      current: config,
      load: async () => restrictForUntrusted(await loadConfig(opts.workspace, opts.overrides)).config,
      apply: (agents) => supervisor!.reconcile(agents),
      report: reportReload(bus, log),
    });
    closers.push(['config follower', () => follower!.close()]);
    const agentTools = registerAgentTools(
      tools,
      supervisor,
      (caller, id) =>
        caller === id || (Object.hasOwn(config.agents, caller) && config.agents[caller]!.stateAccess.includes(id)),
    );
    closers.push(['agent tools', () => agentTools.dispose()]);

    // MCP servers' tools join the registry beside the built-ins as each server comes up (never
    // waited for); a bad server entry fails that server only (reported in its state), a bad
    // [mcp.settings]/[mcp.serve] stops the start.
    mcp = await startMcpForRuntime({
      registry: tools,
      bus,
      config,
      log: log.child('mcp'),
      token,
      version: VERSION,
      confirm: askTheWindow(tools),
    });
    closers.push(['mcp', () => mcp!.close()]);

    if (config.cluster && !config.runtime.trusted)
      log.warn('workspace not trusted: [cluster] is ignored (no event, tool or agent leaves this runtime)');
    else if (config.cluster) {
      // require, not import(): loaded only here, and TypeScript's node16 rules want an extension on a relative import().
      const { startCluster } = require('./cluster') as typeof import('./cluster');
      cluster = await startCluster({
        config: config.cluster,
        workspace: config.workspace,
        roots: workspaceRoots(config),
        bus,
        tools,
        localAgents,
        log: log.child('cluster'),
      });
      closers.push(['cluster', () => cluster!.close()]);
    }

    let dashboardUrl: string | undefined;
    // --dashboard wins; [dashboard] enabled asks for it in the file, and a port taken there is not worth failing the start.
    const dashboardFromFile = !opts.dashboard && config.dashboard.enabled;
    const dashboardPort = opts.dashboard?.port ?? config.dashboard.port;
    if (opts.dashboard || dashboardFromFile) {
      const sv = supervisor;
      const controlAgent = async (agentId: string, action: 'start' | 'stop' | 'restart') => {
        if (!sv.view(agentId))
          throw new Error(
            `no agent "${agentId}" is declared in loom.toml: only supervised agents can be started, stopped or restarted`,
          );
        if (action === 'start') sv.start(agentId);
        else await sv[action](agentId);
        return sv.view(agentId);
      };
      const serve = (port: number) =>
        startDashboardServer({
          feed,
          token,
          port,
          assetsDir: opts.assetsDir ?? __dirname,
          log: log.child('dashboard'),
          actions: dashboardActions({ bus, tools, controlAgent }),
        });
      const dashboard = await serve(dashboardPort).catch((err: NodeJS.ErrnoException) => {
        if (!dashboardFromFile || err.code !== 'EADDRINUSE') throw err;
        log.warn(`dashboard.port ${dashboardPort} is taken; serving the dashboard on another port`);
        return serve(0);
      });
      closers.push(['dashboard', () => dashboard.close()]);
      dashboardUrl = dashboard.url;
    }

    const discoveryFile = join(dataFolder, DISCOVERY_FILE);
    const stale = readDiscoveryFile(discoveryFile);
    if (stale && stale.pid !== process.pid && !processAlive(stale.pid))
      reapOrphans(stale.token, log.child('supervisor'));
    const ours = {
      address: bridge.address,
      token,
      pid: process.pid,
      version: VERSION,
      heartbeatTimeoutMs: config.bridge.heartbeatTimeoutMs,
      ...(dashboardUrl ? { dashboard: dashboardUrl } : {}),
      ...(mcp.serve ? { mcp: mcp.serve.url } : {}),
    };
    // The window's credential first: a window that finds the discovery file finds it too.
    const windowFile = join(dataFolder, WINDOW_CREDENTIAL_FILE);
    writeWindowCredential(windowFile, { pid: process.pid, token: credentials.window });
    closers.push([
      'window credential',
      () => removeDiscoveryFile(windowFile, { pid: process.pid, token: credentials.window }),
    ]);
    writeDiscoveryFile(discoveryFile, ours);
    closers.push(['discovery', () => removeDiscoveryFile(discoveryFile, ours)]);

    if (!config.runtime.trusted && Object.keys(config.agents).length > 0) {
      log.warn('workspace not trusted: declared agents are not spawned', { agents: Object.keys(config.agents) });
    }
    supervisor.startAll();
    log.info('runtime started', {
      workspace: config.workspace,
      address: bridge.address,
      version: VERSION,
      pid: process.pid,
      discoveryFile,
    });

    let stopping: Promise<void> | undefined;
    return {
      config,
      bus,
      tools,
      store,
      directory,
      supervisor,
      feed,
      mcp,
      dashboardUrl,
      token,
      windowToken: credentials.window,
      discoveryFile,
      log,
      address: bridge.address,
      version: VERSION,
      stop: () => (stopping ??= stopAll().then(() => log.info('runtime stopped'))),
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/**
 * `ask` policies go to the VS Code window through the extension's ui:confirm tool (a modal naming
 * the tool and its arguments). Only the extension's own ui:confirm is trusted to answer; with no
 * window connected nobody can be asked, and the headless rule decides.
 */
function askTheWindow(tools: ToolRegistry): ConfirmFn {
  return async (tool, args, reason, caller) => {
    if (tools.get(CONFIRM_TOOL)?.owner !== EXTENSION_AGENT) return undefined;
    const out = await tools.call({
      name: CONFIRM_TOOL,
      caller: 'runtime',
      // The question names the agent that asks (the window's schema takes up to 200 characters).
      arguments: { tool, arguments: args, reason, ...(caller ? { caller: caller.slice(0, 200) } : {}) },
      timeoutMs: CONFIRM_TIMEOUT_MS,
    });
    return out.status === 'ok' && (out.output as { allowed?: unknown })?.allowed === true;
  };
}

const CONFIRM_TOOL = 'ui:confirm';
const EXTENSION_AGENT = 'vscode';
/** A person may take a while to read the question; an unanswered one is a no. */
const CONFIRM_TIMEOUT_MS = 120_000;

/** A loom.toml reload, in the log and on the bus (runtime.config) for the window and agents. */
function reportReload(bus: Bus, log: Logger): (outcome: ReloadOutcome) => void {
  return (outcome) => {
    if (outcome.error) log.error('loom.toml changed but is not valid: nothing was applied', { error: outcome.error });
    else log.info('loom.toml reloaded', { added: outcome.added, removed: outcome.removed, changed: outcome.changed });
    if (outcome.restartNeeded.length)
      log.warn('loom.toml changes that apply after a runtime restart', { sections: outcome.restartNeeded });
    const event = createEvent({
      type: 'runtime.config.reloaded',
      source: 'runtime',
      sender: 'runtime',
      payload: { ...outcome, restart_needed: outcome.restartNeeded },
    });
    bus
      .publish('runtime.config', event)
      .catch((err: Error) => log.debug('config event not published', { error: err.message }));
  };
}

/** Agent lifecycle goes on the bus as agent.<id>.<kind> (see agents/types.ts). */
function lifecycleEmitter(bus: Bus, log: Logger, node?: string): LifecycleEmitter {
  return (agentId, kind, payload) => {
    const event = createEvent({
      type: `agent.${kind}`,
      source: 'runtime',
      sender: 'runtime',
      payload: { agent_id: agentId, ...(node ? { node } : {}), ...payload },
    });
    bus
      .publish(`agent.${agentId}.${kind}`, event)
      .catch((err: Error) => log.debug('lifecycle event not published', { agent: agentId, kind, error: err.message }));
  };
}
