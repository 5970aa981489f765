// The extension's one owner. Two lifetimes, each with its own disposables (as rust-analyzer's
// extension does): the extension's (commands, views, status bar; made in activate, cheap) and the
// runtime session's (session/: the runtime process or attachment, the bridge connection, editor
// sources), made on start and torn down on stop. Each feature is its own module and gets a narrow
// host, not this object: the session state machine (session/), the agents' channels, failures,
// interpreter and scripts (agents/), the views' refresher, loom.toml and settings (config/), the
// API (api.ts) and the test hooks (testHooks.ts). This file wires them together.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { notify } from './notify';
import type { AgentInfo__Output } from '../runtime/proto/types';
import { controlScriptAgent } from './agents/adhoc';
import type { AgentEntry } from './agents/catalog';
import { AgentFailureNotices } from './agents/failures';
import { agentFailed } from './agents/lifecycle';
import { AgentLogs } from './agents/logs';
import { AgentsPython } from './agents/python';
import { LoomApiObject, type LoomApi, type RuntimeState } from './api';
import { AGENT_ID, type RuntimeConnection } from './bridge/client';
import { ConfigDiagnostics } from './config/diagnostics';
import { ConfigFollower } from './config/follow';
import { Disposer } from './disposer';
import { MCP_TOPICS, McpFeatures } from './mcp';
import type { KeptLog } from './runtime/runtimeLog';
import { RuntimeLog } from './runtime/runtimeLog';
import { ApiKeys } from './secrets';
import { RuntimeSessions } from './session/manager';
import type { RuntimeSession } from './session/session';
import { readSettings, type LoomSettings } from './settings';
import { watchEditorEvents } from './sources/editorEvents';
import { registerTestHooks } from './testHooks';
import { editorTools } from './tools/editorTools';
import { Refresher } from './views/refresher';
import { clusterFactsOf } from './views/clusterText';
import { StatusBar } from './views/statusBar';
import { AgentsTree, ToolsTree } from './views/trees';

// The names the extension-host tests and commands import from here.
export { TEST_AGENTS_TREE_COMMAND, TEST_CHANNEL_COMMAND, TEST_CONTEXT_COMMAND } from './testHooks';
export { alreadyReported, UntrustedError } from './errors';
export type { LoomApi, RuntimeState } from './api';

/** Where the runtime says how a loom.toml reload went (runtime/main.ts reportReload). */
const CONFIG_TOPIC = 'runtime.config';
/** The runtime's link to its NATS cluster changed (runtime/cluster). */
const CLUSTER_HEALTH_TOPIC = 'cluster.health';

export const UNTRUSTED_VIEW_MESSAGE =
  'This workspace is not trusted: Loom starts no agents and runs no shell commands here.';

export class Loom implements vscode.Disposable {
  readonly log: vscode.LogOutputChannel;
  readonly runtimeLog: RuntimeLog;
  readonly statusBar: StatusBar;
  readonly agents = new AgentsTree();
  readonly tools = new ToolsTree();
  readonly apiKeys: ApiKeys;
  readonly mcp: McpFeatures;
  readonly configDiagnostics: ConfigDiagnostics;
  /** The failure notifications shown, oldest first (read by the tests through the API; commands add theirs). */
  readonly notices: string[] = [];
  readonly api: LoomApi;
  private readonly life = new Disposer();
  private hasConfig = false;
  private readonly stateChanged = new vscode.EventEmitter<RuntimeState>();
  private readonly agentsView: vscode.TreeView<unknown>;
  private readonly sessions: RuntimeSessions;
  private readonly refresher: Refresher;
  private readonly agentLogs: AgentLogs;
  private readonly python: AgentsPython;
  private readonly config: ConfigFollower;

  constructor(readonly context: vscode.ExtensionContext) {
    this.log = this.life.add(vscode.window.createOutputChannel('Loom', { log: true }));
    this.runtimeLog = this.life.add(new RuntimeLog());
    this.statusBar = this.life.add(new StatusBar());
    this.life.add(this.agents);
    this.life.add(this.tools);
    this.life.add(this.stateChanged);
    this.apiKeys = new ApiKeys(context.secrets, context.globalState);
    this.configDiagnostics = this.life.add(new ConfigDiagnostics());
    const self = this;
    this.sessions = new RuntimeSessions({
      log: this.log,
      runtimeLog: this.runtimeLog,
      configDiagnostics: this.configDiagnostics,
      notices: this.notices,
      extensionPath: context.extensionPath,
      get workspace() {
        return self.workspace;
      },
      get trusted() {
        return self.trusted;
      },
      get settings() {
        return self.settings;
      },
      python: () => this.python.interpreter(),
      launchEnvironment: async (workspace) => ({
        ...(await this.apiKeys.environment()),
        ...(await this.mcp.environment(workspace)),
      }),
      link: {
        tools: () => [
          ...editorTools({
            setAgentStatus: (agent, text, tooltip) => this.statusBar.setAgentStatus(agent, text, tooltip),
          }),
          ...this.mcp.tools,
        ],
        // agent.> as ids may hold dots (agent.team.alpha.log).
        topics: ['agent.>', CONFIG_TOPIC, CLUSTER_HEALTH_TOPIC, ...MCP_TOPICS],
        onDelivery: (topic, _type, payload) => {
          if (topic.startsWith('mcp.')) this.mcp.onDelivery(topic);
          else if (topic === CLUSTER_HEALTH_TOPIC) this.clusterHealth(payload);
          else if (topic === CONFIG_TOPIC) this.config.onConfigReloaded(payload);
          else this.agentLogs.onLifecycle(topic, payload);
        },
      },
      showState: (state, detail) => this.showState(state, detail),
      opened: (session) => {
        this.watchEditor(session);
        session.conn.publish('workspace.trust', 'workspace.trust', { trusted: this.trusted });
      },
      ready: async () => {
        if (this.trusted) void this.python.check();
        await this.refresh();
      },
      closed: () => this.refresher.clear(),
    });
    // After the sessions: MCP's host reads the connection.
    this.mcp = this.life.add(new McpFeatures(context, this, this.stateChanged.event));
    this.refresher = this.life.add(
      new Refresher({
        agents: this.agents,
        tools: this.tools,
        log: this.log,
        get connection() {
          return self.connection;
        },
        get workspace() {
          return self.workspace;
        },
        get localNode() {
          return self.sessions.session?.cluster?.node;
        },
        refreshed: () => {
          if (this.state === 'running' && this.connection) this.showState('running', this.connection.info.address);
        },
      }),
    );
    const failures = new AgentFailureNotices({
      notices: this.notices,
      get workspace() {
        return self.workspace;
      },
    });
    this.agentLogs = this.life.add(
      new AgentLogs({
        get connection() {
          return self.connection;
        },
        agentFailed: (agentId, kind, reason) => failures.notify(agentId, kind, reason),
        refreshSoon: () => this.refresher.soon(),
      }),
    );
    this.python = new AgentsPython({
      log: this.log,
      notices: this.notices,
      extensionPath: context.extensionPath,
      get settings() {
        return self.settings;
      },
      get connection() {
        return self.connection;
      },
      refresh: () => this.refresh(),
    });
    this.config = this.life.add(
      new ConfigFollower({
        log: this.log,
        configDiagnostics: this.configDiagnostics,
        get workspace() {
          return self.workspace;
        },
        get session() {
          return self.sessions.session;
        },
        get configBroken() {
          return self.sessions.configBroken;
        },
        start: () => this.start(),
        restart: () => this.restart(),
        configChanged: () => this.configChanged(),
        refreshSoon: () => this.refresher.soon(),
        watchEditor: (session) => this.watchEditor(session),
      }),
    );
    this.api = new LoomApiObject({
      statusBar: this.statusBar,
      notices: this.notices,
      onDidChangeState: this.stateChanged.event,
      get state() {
        return self.state;
      },
      get runtime() {
        const session = self.sessions.session;
        return session ? { ...session.handle.info, owned: session.handle.owned } : undefined;
      },
      get trusted() {
        return self.trusted;
      },
      get restartOffers() {
        return self.config.restartOffers;
      },
    });
    this.agentsView = this.life.add(
      vscode.window.createTreeView('loom.agents', { treeDataProvider: this.agents, showCollapseAll: false }),
    );
    this.life.add(vscode.window.createTreeView('loom.tools', { treeDataProvider: this.tools, showCollapseAll: true }));
    this.life.add(
      vscode.workspace.onDidGrantWorkspaceTrust(() => {
        this.setTrustContext();
        this.showState(this.state, '');
        if (this.sessions.session) void this.offerRestartAfterTrust();
      }),
    );
    this.life.add(this.agentsView.onDidChangeVisibility(() => this.refresher.pollWhile(this.agentsView.visible)));
    this.refresher.pollWhile(this.agentsView.visible);
    for (const hook of registerTestHooks(context.extensionMode, {
      agents: this.agents,
      channel: (name) => (name === this.runtimeLog.name ? this.runtimeLog : this.agentLogs.named(name)),
      get hasConfig() {
        return self.hasConfig;
      },
      get runningToolCalls() {
        return self.connection?.runningToolCalls ?? [];
      },
    }))
      this.life.add(hook);
    this.setTrustContext();
    this.showState('stopped', '');
    this.configChanged();
  }

  /** Whether the workspace has a loom.toml: context key loom.hasConfig, and the status item with it. */
  configChanged(): void {
    const ws = this.workspace;
    this.hasConfig = !!ws && existsSync(join(ws, 'loom.toml'));
    void vscode.commands.executeCommand('setContext', 'loom.hasConfig', this.hasConfig);
    this.statusBar.setVisible(this.hasConfig || this.state !== 'stopped');
  }

  get state(): RuntimeState {
    return this.sessions.state;
  }

  get connection(): RuntimeConnection | undefined {
    return this.sessions.session?.conn;
  }

  get workspace(): string | undefined {
    return vscode.workspace.workspaceFolders?.find((f) => f.uri.scheme === 'file')?.uri.fsPath;
  }

  get trusted(): boolean {
    return vscode.workspace.isTrusted;
  }

  get settings(): LoomSettings {
    return readSettings(vscode.workspace.workspaceFolders?.[0]);
  }

  /** Runs after activation returns: activation itself starts nothing. */
  autoStart(): void {
    const ws = this.workspace;
    if (!ws || !this.settings.autoStart || !existsSync(join(ws, 'loom.toml'))) return;
    this.start().catch(() => undefined); // start() reports its own failure
  }

  /** A cluster.health event: the status bar follows this runtime's link to its cluster. */
  private clusterHealth(payload: Buffer): void {
    const session = this.sessions.session;
    if (!session) return;
    const show = () => this.state === 'running' && this.showState('running', session.conn.info.address);
    session.cluster = clusterFactsOf(payload, session.cluster);
    show();
    // Back in the cluster: who else is in it now (the event does not say).
    if (session.cluster?.state === 'connected')
      session.conn
        .stats()
        .then(({ cluster }) => {
          if (cluster?.enabled && session.cluster) session.cluster = { ...session.cluster, nodes: cluster.nodes };
          show();
        })
        .catch(() => undefined);
  }

  /** The status bar, the runtimeState context key and onDidChangeState follow the session's state. */
  private showState(state: RuntimeState, detail: string): void {
    const agents = this.agents.current.filter((r) => r.id !== AGENT_ID && !r.remote);
    const connected = agents.filter((r) => r.info?.state === 'connected').length;
    const failed = agents.filter((r) => r.info && agentFailed(r.info)).length;
    const session = this.sessions.session;
    this.statusBar.update(state, {
      agents: connected,
      failed,
      detail,
      trusted: this.trusted,
      isolation: session?.isolation,
      cluster: session?.cluster,
    });
    this.statusBar.setVisible(this.hasConfig || state !== 'stopped');
    void vscode.commands.executeCommand('setContext', 'loom.runtimeState', state);
    this.stateChanged.fire(state);
  }

  private setTrustContext(): void {
    void vscode.commands.executeCommand('setContext', 'loom.trusted', this.trusted);
    this.agentsView.message = this.trusted ? undefined : UNTRUSTED_VIEW_MESSAGE;
  }

  /** The running session, starting (or attaching to) the runtime first when needed. */
  ensureRuntime(): Promise<RuntimeSession> {
    return this.sessions.ensureRuntime();
  }

  start(): Promise<RuntimeSession> {
    return this.sessions.start();
  }

  /** Stops the runtime, also one this window attached to (the user asked), or the one whose link dropped. */
  stop(): Promise<void> {
    return this.sessions.stop();
  }

  restart(): Promise<RuntimeSession> {
    return this.sessions.restart();
  }

  private async offerRestartAfterTrust(): Promise<void> {
    const choice = await notify(
      'info',
      'Loom: the workspace is trusted now. Restart the runtime so agents and the shell tool can run?',
      'Restart Runtime',
    );
    if (choice) await this.restart();
  }

  /** (Re)makes the session's editor event sources with the current settings. */
  private watchEditor(session: RuntimeSession): void {
    session.editorEvents?.dispose();
    session.editorEvents = watchEditorEvents(
      (topic, type, payload) => session.conn.publish(topic, type, payload),
      this.settings,
    );
  }

  /** Re-reads agents and tools from the runtime for the views and the status bar. */
  refresh(): Promise<void> {
    return this.refresher.refresh();
  }

  /** Before agents need it: does their interpreter import a compatible Loom SDK? Said once per interpreter. */
  checkAgentsPython(): Promise<boolean> {
    return this.python.check();
  }

  /** Installs the bundled SDK into `python` (default: the agents' interpreter); restarts the agents it held back. */
  installSdk(python?: string): Promise<{ python: string; version: string }> {
    return this.python.install(python);
  }

  /** Whether this window already has an output channel for the agent. */
  hasAgentLog(agentId: string): boolean {
    return this.agentLogs.has(agentId);
  }

  /** Fills a new agent channel with what the supervisor kept of the agent's output (agents:logs). */
  backfillAgentLog(agentId: string): Promise<void> {
    return this.agentLogs.backfill(agentId);
  }

  agentLog(agentId: string): KeptLog {
    return this.agentLogs.channel(agentId);
  }

  /**
   * Starts, stops or restarts a script under agents/ that loom.toml does not declare: the
   * runtime's supervisor runs it as an ad-hoc agent, kept alive with the runtime when
   * loom.runtime.keepAlive is on, else stopped when this window's link ends.
   */
  controlScript(entry: AgentEntry, action: 'start' | 'stop' | 'restart'): Promise<AgentInfo__Output | null> {
    const self = this;
    return controlScriptAgent(
      {
        get trusted() {
          return self.trusted;
        },
        get keepAlive() {
          return self.settings.keepAlive;
        },
        ensureConnection: async () => (await this.ensureRuntime()).conn,
        apiKeys: () => this.apiKeys.environment(),
        checkPython: () => void this.python.check(),
      },
      entry,
      action,
    );
  }

  /** deactivate: the session ends (see RuntimeSessions.shutdown), then everything of the extension's lifetime. */
  async shutdown(): Promise<void> {
    await this.sessions.shutdown();
    this.life.dispose();
  }

  dispose(): void {
    void this.shutdown();
  }
}
