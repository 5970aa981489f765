// The extension's one owner. Two lifetimes, each with its own disposables (as rust-analyzer's
// extension does): the extension's (commands, views, status bar; made in activate, cheap) and the
// runtime session's (the runtime process or attachment, the bridge connection, editor sources,
// agent scripts started from the palette), made on start and torn down on stop.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, watch } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { processAlive } from '../runtime/contract';
import type { DiscoveryInfo } from '../runtime/contract';
import type { ConfigOverrides } from '../runtime/contract';
import { listAgentEntries, type AgentEntry } from './agents/catalog';
import { AGENT_ID, RuntimeConnection } from './bridge/client';
import { ApiKeys } from './secrets';
import { readSettings, resolvePython, type LoomSettings } from './settings';
import { watchEditorEvents } from './sources/editorEvents';
import { MCP_TOPICS, McpFeatures } from './mcp';
import { editorTools } from './tools/editorTools';
import type { IsolationFacts } from './views/isolationText';
import { StatusBar } from './views/statusBar';
import { AgentsTree, ToolsTree, type AgentRow } from './views/trees';
import { attached, findRunning, keptAliveLog, launch, runtimeScriptOf, type RuntimeHandle } from './runtime/launcher';
import { KeptLog, RuntimeLog } from './runtime/runtimeLog';
import { ConfigDiagnostics } from './config/diagnostics';
import { bundledSdk, checkSdk, installSdk } from './python/sdk';
import { CrashCounter } from './runtime/crashes';
import { classifySettingChange } from './settingsApply';
import { LoomError, messageOf } from '../runtime/contract';

/** Test-mode commands (registered only when the extension runs under test): what the views and channels hold. */
/** (channel name) → its recent lines [{level, text}], undefined when there is no such channel. */
export const TEST_CHANNEL_COMMAND = 'loom.test.channel';
export const TEST_AGENTS_TREE_COMMAND = 'loom.test.agentsTree';
/** () → the context keys this window set for the manifest's `when` clauses: { hasConfig }. */
export const TEST_CONTEXT_COMMAND = 'loom.test.context';
const AGENTS_POLL_MS = 5000;
/** Where the runtime says how a loom.toml reload went (runtime/main.ts reportReload). */
const CONFIG_TOPIC = 'runtime.config';
/** Changes this close together make one restart offer. */
const RESTART_OFFER_DEBOUNCE_MS = 500;

/** SIGTERM to a script agent's whole process group (it was spawned detached, as its group's leader). */
function stopGroup(child: ChildProcess): boolean {
  if (child.exitCode !== null || child.signalCode !== null || !child.pid) return false;
  try {
    process.kill(-child.pid, 'SIGTERM');
  } catch {
    child.kill('SIGTERM');
  }
  return true;
}

/** Workspace Trust refuses it; the message says why and what to do. */
export class UntrustedError extends LoomError {
  constructor(what: string) {
    super('untrusted', `${what}: this workspace is not trusted, and Loom spawns no agents and runs no shell commands in an untrusted workspace (Manage Workspace Trust to change it)`);
  }
}

/** A supervised agent that stopped for good: restarts exhausted, or ended with an error and no restart. */
function agentFailed(info: { state: string; lastError: string; supervised: boolean }): boolean {
  return info.state === 'failed' || (info.supervised && info.state === 'stopped' && info.lastError !== '');
}

const INSTALL_SDK = 'Install Loom SDK into this interpreter';

/** Failures already shown to the person (with their actions): a command that fails with one does not show it again. */
const reportedErrors = new WeakSet<object>();

export function alreadyReported(err: unknown): boolean {
  return typeof err === 'object' && err !== null && reportedErrors.has(err);
}

/** The start was refused for loom.toml's problems (shown in the Problems panel). */
class ConfigProblems extends LoomError {
  constructor(message: string) {
    super('config_problems', message);
  }
}

/** Reconnect attempts after the link drops: 0.5, 1, 2, 4, 8, 10, 10, 10 s apart. */
const MAX_RECONNECTS = 8;
const RECONNECT_FIRST_MS = 500;
const RECONNECT_MAX_MS = 10_000;

export const UNTRUSTED_VIEW_MESSAGE = 'This workspace is not trusted: Loom starts no agents and runs no shell commands here.';

export type RuntimeState = 'stopped' | 'starting' | 'running' | 'reconnecting' | 'stopping' | 'failed';

/** What `activate` returns: read by the extension-host tests, and usable by other extensions. */
export interface LoomApi {
  readonly state: RuntimeState;
  /** The runtime this window is connected to. */
  readonly runtime: (DiscoveryInfo & { owned: boolean }) | undefined;
  readonly onDidChangeState: vscode.Event<RuntimeState>;
  readonly statusText: string;
  /** The runtime status bar item's tooltip and background (a theme color id: the error or warning look). */
  readonly statusTooltip: string;
  readonly statusBackground: string | undefined;
  readonly agentStatusText: string;
  /** The command the runtime status bar item runs when clicked. */
  readonly statusCommand: string | undefined;
  readonly trusted: boolean;
  /** The failure notifications this window showed, oldest first. */
  readonly notices: readonly string[];
  /** Whether the runtime status item shows (only where a loom.toml exists, or a runtime runs). */
  readonly statusVisible: boolean;
  /** The restart offers this window showed (changed settings, loom.toml sections), oldest first. */
  readonly restartOffers: readonly string[];
}

class Disposer implements vscode.Disposable {
  private items: vscode.Disposable[] = [];
  add<T extends vscode.Disposable>(d: T): T {
    this.items.push(d);
    return d;
  }
  dispose(): void {
    for (const d of this.items.splice(0).reverse()) {
      try {
        d.dispose();
      } catch {
        // one failing disposal must not keep the others from running
      }
    }
  }
}

/** Everything that lives exactly as long as one runtime connection. */
class RuntimeSession extends Disposer {
  readonly scripts = new Map<string, ChildProcess>();
  /** How the runtime confines system:shell (GetStats, read once: it is fixed for the runtime's life); null from a runtime that does not say. */
  isolation: IsolationFacts | null = null;
  /** The editor event sources, made again when their settings change. */
  editorEvents: vscode.Disposable | undefined;
  /** loom.toml sections whose restart was last offered for this runtime (each save reports them all again). */
  offeredSections = '';
  constructor(readonly handle: RuntimeHandle, readonly conn: RuntimeConnection) {
    super();
  }
}

export class Loom implements vscode.Disposable {
  readonly log: vscode.LogOutputChannel;
  readonly runtimeLog: RuntimeLog;
  readonly statusBar: StatusBar;
  readonly agents = new AgentsTree();
  readonly tools = new ToolsTree();
  readonly apiKeys: ApiKeys;
  readonly mcp: McpFeatures;
  readonly configDiagnostics: ConfigDiagnostics;
  private readonly life = new Disposer();
  private hasConfig = false;
  /** Interpreters whose missing SDK was already said: once each. */
  private readonly sdkNotices = new Set<string>();
  /** Agents with a failure notification on screen: one at a time each. */
  private readonly agentNotices = new Set<string>();
  /** The failure notifications shown, oldest first (read by the tests through the API; commands add theirs). */
  readonly notices: string[] = [];
  /** The last start failed on loom.toml's problems: saving a valid file starts the runtime again. */
  private configBroken = false;
  private readonly agentLogs = new Map<string, KeptLog>();
  private readonly stateChanged = new vscode.EventEmitter<RuntimeState>();
  private session: RuntimeSession | undefined;
  private pending: Promise<RuntimeSession> | undefined;
  /**
   * The runtime this window started, while its link is down: reconnecting goes back to it (it
   * stays this window's, stopped with it), and Stop and Restart act on it.
   */
  private lost: RuntimeHandle | undefined;
  private reconnects = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private _state: RuntimeState = 'stopped';
  private refreshTimer: NodeJS.Timeout | undefined;
  private agentsPoll: NodeJS.Timeout | undefined;
  private readonly agentsView: vscode.TreeView<unknown>;
  /** Crashes of runtimes this window started: restarted until they come too often. */
  private readonly crashes = new CrashCounter();
  private readonly watchedExits = new WeakSet<RuntimeHandle>();
  /** What needs a runtime restart, gathered over a burst of changes: one offer for the burst. */
  private readonly restartItems = new Set<string>();
  private restartOfferTimer: NodeJS.Timeout | undefined;
  /** The runtime session the pending burst of changes was made under. */
  private restartBurstSession: RuntimeSession | undefined;
  readonly restartOffers: string[] = [];

  constructor(readonly context: vscode.ExtensionContext) {
    this.log = this.life.add(vscode.window.createOutputChannel('Loom', { log: true }));
    this.runtimeLog = this.life.add(new RuntimeLog());
    this.statusBar = this.life.add(new StatusBar());
    this.life.add(this.agents);
    this.life.add(this.tools);
    this.life.add(this.stateChanged);
    this.apiKeys = new ApiKeys(context.secrets, context.globalState);
    this.mcp = this.life.add(new McpFeatures(context, this, this.stateChanged.event));
    this.configDiagnostics = this.life.add(new ConfigDiagnostics());
    // Loom's views and status item belong to folders with a loom.toml (elsewhere: the commands).
    const root = vscode.workspace.workspaceFolders?.find((f) => f.uri.scheme === 'file');
    if (root) {
      // The folder, not the file (as the runtime's follower): a file replaced or renamed away and
      // back is no longer reliably reported by a watch on its own path.
      try {
        const watcher = watch(root.uri.fsPath, (_event, name) => {
          if (name !== 'loom.toml') return;
          this.configChanged();
          this.scheduleRefresh();
        });
        watcher.on('error', () => watcher.close());
        this.life.add({ dispose: () => watcher.close() });
      } catch (err) {
        this.log.warn(`cannot watch ${root.uri.fsPath} for loom.toml: ${messageOf(err)}`);
      }
    }
    this.life.add(vscode.workspace.onDidSaveTextDocument((doc) => void this.onSaved(doc)));
    this.life.add(vscode.workspace.onDidChangeConfiguration((e) => this.onSettingsChanged(e)));
    this.life.add({ dispose: () => clearTimeout(this.restartOfferTimer) });
    this.agentsView = this.life.add(vscode.window.createTreeView('loom.agents', { treeDataProvider: this.agents, showCollapseAll: false }));
    this.life.add(vscode.window.createTreeView('loom.tools', { treeDataProvider: this.tools, showCollapseAll: true }));
    this.life.add(
      vscode.workspace.onDidGrantWorkspaceTrust(() => {
        this.setTrustContext();
        this.setState(this._state);
        if (this.session) void this.offerRestartAfterTrust();
      }),
    );
    this.life.add(this.agentsView.onDidChangeVisibility(() => this.pollAgentsWhileVisible()));
    this.pollAgentsWhileVisible();
    if (context.extensionMode === vscode.ExtensionMode.Test) {
      this.life.add(
        vscode.commands.registerCommand(TEST_CHANNEL_COMMAND, (name: string) => {
          const channel = name === this.runtimeLog.name ? this.runtimeLog : [...this.agentLogs.values()].find((c) => c.name === name);
          return channel?.lines.map((l) => ({ ...l }));
        }),
      );
      this.life.add(
        vscode.commands.registerCommand(TEST_AGENTS_TREE_COMMAND, () =>
          this.agents.getChildren().map((item) => ({ label: item.label, description: item.description, contextValue: item.contextValue, info: item.row.info })),
        ),
      );
      this.life.add(vscode.commands.registerCommand(TEST_CONTEXT_COMMAND, () => ({ hasConfig: this.hasConfig })));
    }
    this.setTrustContext();
    this.setState('stopped');
    this.configChanged();
  }

  /** Whether the workspace has a loom.toml: context key loom.hasConfig, and the status item with it. */
  configChanged(): void {
    const ws = this.workspace;
    this.hasConfig = !!ws && existsSync(join(ws, 'loom.toml'));
    void vscode.commands.executeCommand('setContext', 'loom.hasConfig', this.hasConfig);
    this.statusBar.setVisible(this.hasConfig || this._state !== 'stopped');
  }

  /** loom.toml saved: its problems go to the Problems panel; a valid file after a failed start starts the runtime. */
  private async onSaved(doc: vscode.TextDocument): Promise<void> {
    const ws = this.workspace;
    if (!ws || doc.uri.fsPath !== join(ws, 'loom.toml')) return;
    const valid = await this.configDiagnostics.check(ws).catch(() => false);
    if (valid && this.configBroken && !this.session) {
      this.log.info('loom.toml is valid again: starting the runtime');
      await this.start().catch(() => undefined);
    }
  }

  /** Heartbeats age by the second: while the Agents view shows, re-read it every few seconds. */
  private pollAgentsWhileVisible(): void {
    clearInterval(this.agentsPoll);
    this.agentsPoll = undefined;
    if (!this.agentsView.visible) return;
    this.agentsPoll = setInterval(() => this.session && void this.refresh(), AGENTS_POLL_MS);
  }

  get state(): RuntimeState {
    return this._state;
  }

  get connection(): RuntimeConnection | undefined {
    return this.session?.conn;
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

  get api(): LoomApi {
    const self = this;
    return {
      get state() {
        return self.state;
      },
      get runtime() {
        return self.session ? { ...self.session.handle.info, owned: self.session.handle.owned } : undefined;
      },
      onDidChangeState: this.stateChanged.event,
      get statusText() {
        return self.statusBar.text;
      },
      get statusTooltip() {
        return self.statusBar.tooltip;
      },
      get statusBackground() {
        return self.statusBar.background;
      },
      get agentStatusText() {
        return self.statusBar.agentText;
      },
      get statusCommand() {
        return self.statusBar.command;
      },
      get trusted() {
        return self.trusted;
      },
      get notices() {
        return self.notices;
      },
      get statusVisible() {
        return self.statusBar.visible;
      },
      get restartOffers() {
        return self.restartOffers;
      },
    };
  }

  /** Runs after activation returns: activation itself starts nothing. */
  autoStart(): void {
    const ws = this.workspace;
    if (!ws || !this.settings.autoStart || !existsSync(join(ws, 'loom.toml'))) return;
    this.start().catch(() => undefined); // start() reports its own failure
  }

  private setState(state: RuntimeState, detail = ''): void {
    this._state = state;
    const agents = this.agents.current.filter((r) => r.id !== AGENT_ID);
    const connected = agents.filter((r) => r.info?.state === 'connected').length;
    const failed = agents.filter((r) => r.info && agentFailed(r.info)).length;
    this.statusBar.update(state, connected, detail, this.trusted, this.session?.isolation, failed);
    this.statusBar.setVisible(this.hasConfig || state !== 'stopped');
    this.setContext();
    this.stateChanged.fire(state);
  }

  private setContext(): void {
    void vscode.commands.executeCommand('setContext', 'loom.runtimeState', this._state);
  }

  private setTrustContext(): void {
    void vscode.commands.executeCommand('setContext', 'loom.trusted', this.trusted);
    this.agentsView.message = this.trusted ? undefined : UNTRUSTED_VIEW_MESSAGE;
  }

  /** The running session, starting (or attaching to) the runtime first when needed. */
  async ensureRuntime(): Promise<RuntimeSession> {
    if (this.session?.conn.isOpen) return this.session;
    return this.start();
  }

  /** `quiet`: a reconnect attempt, whose failure the retry schedule reports (no toast per attempt). */
  start(quiet = false): Promise<RuntimeSession> {
    if (this.session?.conn.isOpen) return Promise.resolve(this.session);
    if (!quiet) {
      this.cancelReconnect();
      this.crashes.reset(); // asked for: earlier crashes no longer count
    }
    this.pending ??= this.startSession(quiet).finally(() => (this.pending = undefined));
    return this.pending;
  }

  private async startSession(quiet: boolean): Promise<RuntimeSession> {
    const workspace = this.workspace;
    if (!workspace) throw new Error('Loom needs a folder open in the workspace (File > Open Folder)');
    this.setState('starting');
    let handle: RuntimeHandle | undefined;
    let output: vscode.Disposable | undefined;
    try {
      handle = await this.attachOrLaunch(workspace);
      output = this.followOutput(handle, workspace);
      const conn = await RuntimeConnection.connect(handle.info, handle.windowToken, {
        tools: [...editorTools({ setAgentStatus: (text, tooltip) => this.statusBar.setAgentStatus(text, tooltip) }), ...this.mcp.tools],
        topics: ['agent.*.*', CONFIG_TOPIC, ...MCP_TOPICS],
        onDelivery: (topic, _type, payload) => (topic.startsWith('mcp.') ? this.mcp.onDelivery(topic) : topic === CONFIG_TOPIC ? this.onConfigReloaded(payload) : this.onLifecycle(topic, payload)),
        onClosed: (reason) => this.onConnectionLost(reason),
        log: (m) => this.log.warn(m),
      });
      const session = new RuntimeSession(handle, conn);
      this.session = session;
      session.add(output);
      this.watchEditor(session);
      session.add({ dispose: () => session.editorEvents?.dispose() });
      session.add({ dispose: () => conn.dispose() });
      this.log.info(`${handle.owned ? 'started' : 'attached to'} the runtime at ${handle.info.address} (pid ${handle.info.pid}, version ${handle.info.version || '?'})`);
      const launched = handle;
      if (launched.owned && !this.watchedExits.has(launched)) {
        this.watchedExits.add(launched);
        void launched.exited.then((code) => this.onRuntimeExited(launched, code));
      }
      if (!this.trusted) this.log.warn('workspace not trusted: the runtime runs without agents and without the shell tool');
      conn.publish('workspace.trust', 'workspace.trust', { trusted: this.trusted });
      session.isolation = await this.readIsolation(conn);
      if (this.trusted) void this.checkAgentsPython();
      this.setState('running', handle.info.address);
      await this.refresh();
      return session;
    } catch (err) {
      output?.dispose();
      if (handle?.owned) await handle.stop().catch(() => undefined);
      if (handle === this.lost) this.lost = undefined;
      const message = messageOf(err);
      this.log.error(`cannot start the runtime: ${message}`);
      this.configBroken = err instanceof ConfigProblems;
      if (!quiet) {
        this.setState('failed', message);
        const actions = this.configBroken ? ['Show Problems', 'Open loom.toml'] : ['Show Log'];
        if (typeof err === 'object' && err !== null) reportedErrors.add(err);
        const shown = `Loom: cannot start the runtime: ${message.split('\n')[0]}`;
        this.notices.push(shown);
        void vscode.window.showErrorMessage(shown, ...actions).then((a) => {
          if (a === 'Show Log') this.runtimeLog.show();
          if (a === 'Show Problems') void vscode.commands.executeCommand('workbench.actions.view.problems');
          if (a === 'Open loom.toml') void vscode.window.showTextDocument(vscode.Uri.file(join(workspace, 'loom.toml')));
        });
      }
      throw err;
    }
  }

  /** The runtime's isolation of system:shell, said in the log too when the shell refuses every command or runs unconfined. */
  private async readIsolation(conn: RuntimeConnection): Promise<IsolationFacts | null> {
    try {
      const isolation = (await conn.stats()).isolation;
      if (isolation?.trusted && isolation.mode !== 'off' && !isolation.available) {
        this.log.warn(`system:shell ${isolation.mode === 'required' ? 'refuses every command' : 'runs commands unconfined'}: OS isolation is unavailable (tools.shell.isolation = "${isolation.mode}"): ${isolation.detail}`);
      }
      return isolation;
    } catch (err) {
      this.log.warn(`cannot read the runtime's stats: ${messageOf(err)}`);
      return null;
    }
  }

  /** The runtime's output reaches the channel over pipes (see launch's onOutput), or from here. */
  private followOutput(handle: RuntimeHandle, workspace: string): vscode.Disposable {
    if (handle.logFile) return this.runtimeLog.follow(handle.logFile.path, handle.logFile.offset);
    if (!handle.owned) return this.runtimeLog.attach(handle.info.pid, keptAliveLog(workspace));
    return { dispose: () => undefined };
  }

  private async attachOrLaunch(workspace: string): Promise<RuntimeHandle> {
    const lost = this.lost;
    if (lost) {
      // Ours and alive: only it may hold the workspace's store, so it is this one or none.
      if (processAlive(lost.info.pid)) {
        if (!(await RuntimeConnection.probe(lost.info))) throw new Error(`the runtime this window started (pid ${lost.info.pid}) is running but does not answer`);
        this.lost = undefined;
        return lost;
      }
      this.lost = undefined;
    }
    const running = await findRunning(workspace, (info) => RuntimeConnection.probe(info));
    if (running) return attached(workspace, running);
    // A file the runtime would refuse: its problems go to the Problems panel instead of an exit code.
    if (!(await this.configDiagnostics.check(workspace))) {
      const first = this.configDiagnostics.problems(workspace)[0];
      throw new ConfigProblems(`loom.toml has problems (see Problems): ${first ? `line ${first.range.start.line + 1}: ${first.message}` : ''}`);
    }
    const settings = this.settings;
    return launch({
      workspace,
      runtimeScript: runtimeScriptOf(this.context.extensionPath),
      port: settings.runtimePort,
      trusted: this.trusted,
      keepAlive: settings.keepAlive,
      python: await resolvePython(settings, vscode.workspace.workspaceFolders?.[0]?.uri),
      env: { ...(await this.apiKeys.environment()), ...(await this.mcp.environment(workspace)) },
      overrides: overridesFrom(settings),
      onOutput: (line, stream) => this.runtimeLog.write(line, stream),
    });
  }

  /**
   * The link dropped (the runtime exited, or stopped answering): reconnect with backoff, to the
   * same runtime while it lives, else to a new one; the status bar says so meanwhile. After
   * MAX_RECONNECTS failed attempts, one warning with actions.
   */
  private onConnectionLost(reason: string): void {
    const session = this.session;
    if (!session) return;
    this.session = undefined;
    this.stopScripts(session);
    session.dispose();
    if (session.handle.owned) this.lost = session.handle;
    this.log.warn(`lost the runtime: ${reason}`);
    this.agents.set([]);
    this.tools.set([]);
    this.scheduleReconnect(reason);
  }

  private scheduleReconnect(reason: string): void {
    this.reconnects++;
    if (this.reconnects > MAX_RECONNECTS) {
      this.reconnects = 0;
      this.setState('failed', reason);
      void vscode.window.showWarningMessage(`Loom: lost the runtime and could not reconnect (${reason.split('\n')[0]}).`, 'Restart Runtime', 'Show Log').then((choice) => {
        if (choice === 'Restart Runtime') void this.restart().catch(() => undefined);
        if (choice === 'Show Log') this.runtimeLog.show();
      });
      return;
    }
    const delay = Math.min(RECONNECT_FIRST_MS * 2 ** (this.reconnects - 1), RECONNECT_MAX_MS);
    this.log.info(`reconnecting in ${delay} ms (attempt ${this.reconnects} of ${MAX_RECONNECTS})`);
    this.setState('reconnecting', `${reason}; attempt ${this.reconnects} of ${MAX_RECONNECTS}`);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.start(true).then(
        () => {
          this.reconnects = 0;
          this.log.info('reconnected to the runtime');
        },
        (err: Error) => this.scheduleReconnect(err.message),
      );
    }, delay);
  }

  private cancelReconnect(): void {
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    this.reconnects = 0;
  }

  /** Stops the runtime, also one this window attached to (the user asked), or the one whose link dropped. */
  async stop(): Promise<void> {
    this.cancelReconnect();
    await this.pending?.catch(() => undefined);
    const session = this.session;
    const lost = this.lost;
    this.lost = undefined;
    if (!session) {
      if (lost) {
        this.setState('stopping');
        await lost.stop();
        this.log.info(`stopped the runtime (pid ${lost.info.pid}), whose link had dropped`);
      }
      this.setState('stopped');
      return;
    }
    this.setState('stopping');
    this.session = undefined;
    this.stopScripts(session);
    session.dispose();
    await session.handle.stop();
    this.log.info(`stopped the runtime (pid ${session.handle.info.pid})`);
    this.agents.set([]);
    this.tools.set([]);
    this.setState('stopped');
  }

  async restart(): Promise<RuntimeSession> {
    await this.stop();
    return this.start();
  }

  private async offerRestartAfterTrust(): Promise<void> {
    const choice = await vscode.window.showInformationMessage('Loom: the workspace is trusted now. Restart the runtime so agents and the shell tool can run?', 'Restart Runtime');
    if (choice) await this.restart();
  }

  /**
   * A runtime this window started exited without being asked to: it crashed. Restarted (through
   * the reconnect path) until it crashed more than MAX_CRASH_RESTARTS times in CRASH_WINDOW_MS;
   * then the window stops and says so.
   */
  private onRuntimeExited(handle: RuntimeHandle, code: number | null): void {
    if (this.session?.handle !== handle && this.lost !== handle) return; // stopped on purpose, or replaced
    const exit = code === null ? 'killed' : `code ${code}`;
    const reason = `the runtime exited (${exit})`;
    if (this.crashes.record()) {
      this.log.warn(`${reason}: restarting it (crash ${this.crashes.count} of at most ${this.crashes.max} in ${this.crashes.windowMs / 60_000} minutes)`);
      if (this.session?.handle === handle) this.onConnectionLost(reason);
      return; // else the link dropped first, and the reconnect already under way starts a new one
    }
    const count = this.crashes.count;
    this.crashes.reset();
    const message = `Loom: the runtime crashed ${count} times in the last ${this.crashes.windowMs / 60_000} minutes and will not be restarted (last exit: ${exit}).`;
    this.log.error(message);
    void this.stop().then(() => {
      this.setState('failed', message);
      this.notices.push(message);
      void vscode.window.showErrorMessage(message, 'Show Log', 'Restart Runtime').then((choice) => {
        if (choice === 'Show Log') this.runtimeLog.show();
        if (choice === 'Restart Runtime') void this.restart().catch(() => undefined);
      });
    });
  }

  /** Settings the extension reads itself apply now; those a runtime gets at launch get a restart offer. */
  private onSettingsChanged(e: vscode.ConfigurationChangeEvent): void {
    const folder = vscode.workspace.workspaceFolders?.[0];
    const { restart, live } = classifySettingChange((section) => e.affectsConfiguration(section, folder));
    const session = this.session;
    if (session && live.some((k) => k.startsWith('loom.editor.'))) {
      this.watchEditor(session);
      this.log.info(`applied ${live.join(', ')}`);
    }
    if (restart.length && session) this.offerRestart(restart);
  }

  /** (Re)makes the session's editor event sources with the current settings. */
  private watchEditor(session: RuntimeSession): void {
    session.editorEvents?.dispose();
    session.editorEvents = watchEditorEvents((topic, type, payload) => session.conn.publish(topic, type, payload), this.settings);
  }

  /** The runtime reloaded loom.toml: the views follow; sections it applies only after a restart get an offer. */
  private onConfigReloaded(payload: Buffer): void {
    this.scheduleRefresh();
    const session = this.session;
    let sections: string[] = [];
    try {
      const outcome = JSON.parse(payload.toString('utf8')) as { restart_needed?: unknown; restartNeeded?: unknown };
      const list = outcome.restart_needed ?? outcome.restartNeeded;
      if (Array.isArray(list)) sections = list.map(String);
    } catch {
      return; // not an outcome this window understands
    }
    if (!session) return;
    const key = [...sections].sort().join(',');
    if (!sections.length || key === session.offeredSections) return;
    session.offeredSections = key;
    this.offerRestart(sections.map((s) => `loom.toml [${s}]`));
  }

  /** One "restart to apply" notification per burst of changes, naming all of them. */
  private offerRestart(items: string[]): void {
    // A runtime (re)started after the changes already has them: the burst belongs to this session.
    if (this.restartBurstSession !== this.session) this.restartItems.clear();
    this.restartBurstSession = this.session;
    for (const item of items) this.restartItems.add(item);
    clearTimeout(this.restartOfferTimer);
    this.restartOfferTimer = setTimeout(() => {
      this.restartOfferTimer = undefined;
      const what = [...this.restartItems];
      this.restartItems.clear();
      if (!this.session || this.session !== this.restartBurstSession || !what.length) return;
      const message = `Restart the Loom runtime to apply ${what.join(', ')}?`;
      this.restartOffers.push(message);
      this.log.info(`${what.join(', ')} changed: applies after a runtime restart`);
      void vscode.window.showInformationMessage(message, 'Restart').then((choice) => {
        if (choice === 'Restart') void this.restart().catch(() => undefined);
      });
    }, RESTART_OFFER_DEBOUNCE_MS);
  }

  private onLifecycle(topic: string, payload: Buffer): void {
    const [, agentId, kind] = topic.split('.');
    if (!agentId || !kind) return;
    if (kind === 'log') {
      let line = payload.toString('utf8');
      try {
        const parsed = JSON.parse(line) as { line?: string; stream?: string };
        line = parsed.stream === 'stderr' ? `[stderr] ${parsed.line}` : String(parsed.line);
      } catch {
        // not JSON: show it as it came
      }
      this.agentLog(agentId).info(line);
      return;
    }
    let reason = '';
    try {
      reason = String((JSON.parse(payload.toString('utf8')) as { reason?: unknown }).reason ?? '');
    } catch {
      // no reason given
    }
    // The agent's own log says why it stopped, not only that it did.
    this.agentLog(agentId).info(`— ${kind}${reason ? `: ${reason}` : ''}`);
    if (kind === 'failed' || (kind === 'stopped' && reason && reason !== 'stop requested' && !/ code 0$/.test(reason))) this.notifyAgentFailure(agentId, kind, reason);
    this.scheduleRefresh();
  }

  /**
   * Before agents need it: does their interpreter import a compatible Loom SDK? If not, one
   * notification per interpreter, with the way out. Resolves to whether it does.
   */
  async checkAgentsPython(): Promise<boolean> {
    const python = await resolvePython(this.settings, vscode.workspace.workspaceFolders?.[0]?.uri);
    const sdk = bundledSdk(this.context.extensionPath);
    const check = await checkSdk(python, sdk?.version);
    if (check.ok) {
      this.sdkNotices.delete(python);
      return true;
    }
    this.log.warn(`agents cannot start: ${check.problem}`);
    if (this.sdkNotices.has(python)) return false;
    this.sdkNotices.add(python);
    const message = `Loom: agents cannot start: ${check.problem}.`;
    this.notices.push(message);
    const install = sdk ? [INSTALL_SDK] : [];
    void vscode.window.showWarningMessage(message, ...install, 'Select Interpreter', 'Open Settings').then((choice) => {
      if (choice === INSTALL_SDK) void vscode.commands.executeCommand('loom.installSdk', { python });
      if (choice === 'Select Interpreter') {
        const selector = vscode.extensions.getExtension('ms-python.python') ? 'python.setInterpreter' : 'workbench.action.openSettings';
        void vscode.commands.executeCommand(selector, ...(selector === 'workbench.action.openSettings' ? ['loom.pythonPath'] : []));
      }
      if (choice === 'Open Settings') void vscode.commands.executeCommand('workbench.action.openSettings', 'loom.pythonPath');
    });
    return false;
  }

  /** Installs the bundled SDK into `python` (default: the agents' interpreter), then restarts the agents that could not run. */
  async installSdk(python?: string): Promise<{ python: string; version: string }> {
    const target = python ?? (await resolvePython(this.settings, vscode.workspace.workspaceFolders?.[0]?.uri));
    const sdk = bundledSdk(this.context.extensionPath);
    if (!sdk) throw new Error('this build of the extension carries no Loom SDK wheel (dist/sdk); install sdk/python with pip instead');
    await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Loom: installing the Loom SDK ${sdk.version} into ${target}`, cancellable: false }, () => installSdk(target, sdk));
    const check = await checkSdk(target, sdk.version);
    if (!check.ok) throw new Error(`installed, but ${check.problem}`);
    this.sdkNotices.delete(target);
    this.log.info(`installed the Loom SDK ${check.version} into ${target}`);
    void vscode.window.showInformationMessage(`Loom: the Loom SDK ${check.version} is installed into ${target}.`);
    await this.restartStuckAgents();
    return { python: target, version: check.version };
  }

  /** Supervised agents that crashed or failed for want of the SDK get another go. */
  private async restartStuckAgents(): Promise<void> {
    const conn = this.session?.conn;
    if (!conn) return;
    for (const a of await conn.listAgents().catch(() => [])) {
      if (!a.supervised || !(agentFailed(a) || a.state === 'crashed' || a.state === 'backoff')) continue;
      await conn.controlAgent(a.agentId, 'restart').catch((err: Error) => this.log.warn(`cannot restart agent ${a.agentId}: ${err.message}`));
    }
    await this.refresh();
  }

  /** One notification per failed agent (none again until it is dismissed), with what to do next. */
  private notifyAgentFailure(agentId: string, kind: string, reason: string): void {
    if (this.agentNotices.has(agentId)) return;
    this.agentNotices.add(agentId);
    const message = `Loom: agent ${agentId} ${kind === 'failed' ? 'failed' : 'stopped'}: ${reason}`;
    this.notices.push(message);
    void vscode.window.showErrorMessage(message, 'Show Logs', 'Restart Agent', 'Open loom.toml').then((choice) => {
      this.agentNotices.delete(agentId);
      if (choice === 'Show Logs') void vscode.commands.executeCommand('loom.showAgentLogs', agentId);
      if (choice === 'Restart Agent') void vscode.commands.executeCommand('loom.restartAgent', agentId);
      if (choice === 'Open loom.toml' && this.workspace) void vscode.window.showTextDocument(vscode.Uri.file(join(this.workspace, 'loom.toml')));
    });
  }

  /** Whether this window already has an output channel for the agent. */
  hasAgentLog(agentId: string): boolean {
    return this.agentLogs.has(agentId);
  }

  /** Fills a new agent channel with what the supervisor kept of the agent's output (agents:logs). */
  async backfillAgentLog(agentId: string): Promise<void> {
    const conn = this.session?.conn;
    if (!conn) return;
    const res = await conn.callTool('agents:logs', { agent_id: agentId, limit: 1000 });
    if (res.status !== 'TOOL_OK') return; // not supervised by the runtime (e.g. a script of this window)
    const { lines } = JSON.parse(res.output) as { lines: { stream: string; line: string }[] };
    const channel = this.agentLog(agentId);
    for (const l of lines) channel.info(l.stream === 'stderr' ? `[stderr] ${l.line}` : l.line);
  }

  agentLog(agentId: string): KeptLog {
    let channel = this.agentLogs.get(agentId);
    if (!channel) {
      channel = this.life.add(new KeptLog(`Loom Agent: ${agentId}`));
      this.agentLogs.set(agentId, channel);
    }
    return channel;
  }

  private scheduleRefresh(): void {
    clearTimeout(this.refreshTimer);
    this.refreshTimer = setTimeout(() => void this.refresh(), 250);
  }

  /** Re-reads agents and tools from the runtime for the views and the status bar. */
  async refresh(): Promise<void> {
    const conn = this.session?.conn;
    const ws = this.workspace;
    const entries = ws ? await listAgentEntries(ws).catch((err: Error) => (this.log.warn(`loom.toml: ${err.message}`), [] as AgentEntry[])) : [];
    if (!conn) {
      this.agents.set(entries.map((entry) => ({ id: entry.id, entry })));
      return;
    }
    try {
      const [infos, tools] = await Promise.all([conn.listAgents(), conn.listTools()]);
      const rows = new Map<string, AgentRow>();
      for (const entry of entries) rows.set(entry.id, { id: entry.id, entry });
      for (const info of infos) if (info.agentId !== AGENT_ID) rows.set(info.agentId, { ...rows.get(info.agentId), id: info.agentId, info });
      this.agents.set([...rows.values()]);
      this.tools.set(tools);
      if (this._state === 'running') this.setState('running', conn.info.address);
    } catch (err) {
      this.log.warn(`refresh failed: ${messageOf(err)}`);
    }
  }

  /** Starts a script under agents/ that loom.toml does not declare: a process of this window. */
  async startScript(entry: AgentEntry): Promise<void> {
    if (!this.trusted) throw new UntrustedError(`agent "${entry.id}" is not started`);
    const session = await this.ensureRuntime();
    void this.checkAgentsPython(); // says so (once) if the script's interpreter cannot run it
    const ws = this.workspace!;
    if (!entry.script) throw new Error(`agent "${entry.id}" has no script to run`);
    if (session.scripts.get(entry.id)?.exitCode === null) throw new Error(`agent "${entry.id}" is already running`);
    const python = await resolvePython(this.settings, vscode.workspace.workspaceFolders?.[0]?.uri);
    const child = spawn(python, [entry.script], {
      cwd: ws,
      env: { ...process.env, ...(await this.apiKeys.environment()), LOOM_BRIDGE_ADDR: session.handle.info.address, LOOM_TOKEN: session.handle.info.token, LOOM_AGENT_ID: entry.id },
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group, so stopping it stops whatever it started too.
      detached: true,
    });
    session.scripts.set(entry.id, child);
    const channel = this.agentLog(entry.id);
    child.stdout?.on('data', (d: Buffer) => channel.info(d.toString().trimEnd()));
    child.stderr?.on('data', (d: Buffer) => channel.info(`[stderr] ${d.toString().trimEnd()}`));
    child.once('error', (err) => channel.error(`cannot run ${python}: ${err.message}`));
    child.once('exit', (code, signal) => {
      channel.info(`— exited (${signal ?? code})`);
      if (session.scripts.get(entry.id) === child) session.scripts.delete(entry.id);
      this.scheduleRefresh();
    });
    session.add({ dispose: () => void stopGroup(child) });
  }

  /** True when it stopped a script this window started. */
  stopScript(agentId: string): boolean {
    const child = this.session?.scripts.get(agentId);
    if (!child || child.exitCode !== null) return false;
    stopGroup(child);
    return true;
  }

  private stopScripts(session: RuntimeSession): void {
    for (const child of session.scripts.values()) stopGroup(child);
  }

  /** deactivate: stop what this window started unless keepAlive lets the runtime outlive it. */
  async shutdown(): Promise<void> {
    this.cancelReconnect();
    await this.pending?.catch(() => undefined);
    const session = this.session;
    this.session = undefined;
    const lost = this.lost;
    this.lost = undefined;
    if (lost && !this.settings.keepAlive) await lost.stop();
    clearTimeout(this.refreshTimer);
    clearInterval(this.agentsPoll);
    if (session) {
      this.stopScripts(session);
      session.dispose();
      if (session.handle.owned && !this.settings.keepAlive) await session.handle.stop();
    }
    this.life.dispose();
  }

  dispose(): void {
    void this.shutdown();
  }
}

function overridesFrom(s: LoomSettings): ConfigOverrides {
  const o: ConfigOverrides = {};
  if (s.shellAllow.length) o.tools = { shell: { allow: s.shellAllow } };
  if (s.watcherInclude.length) o.watcher = { include: s.watcherInclude };
  if (s.queueSizes) o.bus = { queueSizes: s.queueSizes };
  return o;
}
