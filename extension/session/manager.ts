// The runtime session's state machine: stopped → starting → running, and from running to
// reconnecting (the link dropped), stopping, or failed. It attaches to a live runtime of the
// workspace or launches one, reconnects with backoff after a lost link (to the same runtime while
// it lives), restarts a runtime this window started when it crashes (until it crashes too often),
// and stops what this window owns on Stop and on shutdown, unless loom.runtime.keepAlive lets the
// runtime outlive the window.
import * as vscode from 'vscode';
import { notify } from '../notify';
import { join } from 'node:path';
import { messageOf, processAlive } from '../../runtime/contract';
import type { ConfigOverrides } from '../../runtime/contract';
import { RuntimeConnection, type ProvidedTool } from '../bridge/client';
import { ConfigProblems, markReported } from '../errors';
import { CrashCounter } from '../runtime/crashes';
import { attached, findRunning, keptAliveLog, launch, runtimeScriptOf, type RuntimeHandle } from '../runtime/launcher';
import type { RuntimeLog } from '../runtime/runtimeLog';
import type { LoomSettings } from '../settings';
import { clusterOverrides } from '../settingsApply';
import type { RuntimeState } from '../api';
import type { ConfigDiagnostics } from '../config/diagnostics';
import { Reconnector } from './reconnect';
import { RuntimeSession } from './session';

/** What the state machine needs of the window. */
export interface SessionHost {
  readonly log: vscode.LogOutputChannel;
  readonly runtimeLog: RuntimeLog;
  readonly workspace: string | undefined;
  readonly trusted: boolean;
  readonly settings: LoomSettings;
  readonly extensionPath: string;
  readonly configDiagnostics: ConfigDiagnostics;
  /** The window's failure notifications, oldest first. */
  readonly notices: string[];
  /** The agents' interpreter (LOOM_PYTHON of a launched runtime). */
  python(): Promise<string>;
  /** What a launched runtime gets on top of the window's environment: API keys, MCP inputs. */
  launchEnvironment(workspace: string): Promise<Record<string, string>>;
  /** The tools and topics the window registers with, and where its deliveries go. */
  readonly link: {
    tools(): ProvidedTool[];
    topics: string[];
    onDelivery(topic: string, type: string, payload: Buffer): void;
  };
  /** The state to show (status bar, context key, onDidChangeState). */
  showState(state: RuntimeState, detail: string): void;
  /** A session is up: its editor event sources, the workspace's trust said to the runtime. */
  opened(session: RuntimeSession): void;
  /** The session runs: the interpreter check, the views. */
  ready(session: RuntimeSession): Promise<void>;
  /** The session ended: the views show no runtime. */
  closed(): void;
}

export class RuntimeSessions {
  private current: RuntimeSession | undefined;
  private pending: Promise<RuntimeSession> | undefined;
  /**
   * The runtime this window started, while its link is down: reconnecting goes back to it (it
   * stays this window's, stopped with it), and Stop and Restart act on it.
   */
  private lost: RuntimeHandle | undefined;
  /** After the link drops: attempts 0.5, 1, 2, 4, 8, 10, 10, 10 s apart, then a warning. */
  private readonly reconnector = new Reconnector({
    attempt: () => this.start(true),
    scheduled: (n, max, delay, reason) => {
      this.host.log.info(`reconnecting in ${delay} ms (attempt ${n} of ${max})`);
      this.setState('reconnecting', `${reason}; attempt ${n} of ${max}`);
    },
    reconnected: () => this.host.log.info('reconnected to the runtime'),
    gaveUp: (reason) => {
      this.setState('failed', reason);
      const message = `Loom: lost the runtime and could not reconnect (${reason.split('\n')[0]}).`;
      void notify('warning', message, 'Restart Runtime', 'Show Log').then((choice) => {
        if (choice === 'Restart Runtime') void this.restart().catch(() => undefined);
        if (choice === 'Show Log') this.host.runtimeLog.show();
      });
    },
  });
  private _state: RuntimeState = 'stopped';
  /** Crashes of runtimes this window started: restarted until they come too often. */
  private readonly crashes = new CrashCounter();
  private readonly watchedExits = new WeakSet<RuntimeHandle>();
  /** The last start failed on loom.toml's problems: saving a valid file starts the runtime again. */
  configBroken = false;

  constructor(private readonly host: SessionHost) {}

  get state(): RuntimeState {
    return this._state;
  }

  get session(): RuntimeSession | undefined {
    return this.current;
  }

  private setState(state: RuntimeState, detail = ''): void {
    this._state = state;
    this.host.showState(state, detail);
  }

  /** The running session, starting (or attaching to) the runtime first when needed. */
  async ensureRuntime(): Promise<RuntimeSession> {
    if (this.current?.conn.isOpen) return this.current;
    return this.start();
  }

  /** `quiet`: a reconnect attempt, whose failure the retry schedule reports (no toast per attempt). */
  start(quiet = false): Promise<RuntimeSession> {
    if (this.current?.conn.isOpen) return Promise.resolve(this.current);
    if (!quiet) {
      this.reconnector.cancel();
      this.crashes.reset(); // asked for: earlier crashes no longer count
    }
    this.pending ??= this.startSession(quiet).finally(() => (this.pending = undefined));
    return this.pending;
  }

  private async startSession(quiet: boolean): Promise<RuntimeSession> {
    const { host } = this;
    const workspace = host.workspace;
    if (!workspace) throw new Error('Loom needs a folder open in the workspace (File > Open Folder)');
    this.setState('starting');
    let handle: RuntimeHandle | undefined;
    let output: vscode.Disposable | undefined;
    try {
      handle = await this.attachOrLaunch(workspace);
      output = this.followOutput(handle, workspace);
      const conn = await RuntimeConnection.connect(handle.info, handle.windowToken, {
        tools: host.link.tools(),
        topics: host.link.topics,
        onDelivery: (topic, type, payload) => host.link.onDelivery(topic, type, payload),
        onClosed: (reason) => this.onConnectionLost(reason),
        log: (m) => host.log.warn(m),
      });
      const session = new RuntimeSession(handle, conn);
      this.current = session;
      session.add(output);
      session.add({ dispose: () => conn.dispose() });
      host.log.info(
        `${handle.owned ? 'started' : 'attached to'} the runtime at ${handle.info.address} (pid ${handle.info.pid}, version ${handle.info.version || '?'})`,
      );
      const launched = handle;
      if (launched.owned && !this.watchedExits.has(launched)) {
        this.watchedExits.add(launched);
        void launched.exited.then((code) => this.onRuntimeExited(launched, code));
      }
      if (!host.trusted)
        host.log.warn('workspace not trusted: the runtime runs without agents and without the shell tool');
      host.opened(session);
      await this.readStats(session);
      this.setState('running', handle.info.address);
      await host.ready(session);
      return session;
    } catch (err) {
      output?.dispose();
      if (handle?.owned) await handle.stop().catch(() => undefined);
      if (handle === this.lost) this.lost = undefined;
      const message = messageOf(err);
      host.log.error(`cannot start the runtime: ${message}`);
      this.configBroken = err instanceof ConfigProblems;
      if (!quiet) {
        this.setState('failed', message);
        const actions = this.configBroken ? ['Show Problems', 'Open loom.toml'] : ['Show Log'];
        markReported(err);
        const shown = `Loom: cannot start the runtime: ${message.split('\n')[0]}`;
        host.notices.push(shown);
        void notify('error', shown, ...actions).then((a) => {
          if (a === 'Show Log') host.runtimeLog.show();
          if (a === 'Show Problems') void vscode.commands.executeCommand('workbench.actions.view.problems');
          if (a === 'Open loom.toml')
            void vscode.window.showTextDocument(vscode.Uri.file(join(workspace, 'loom.toml')));
        });
      }
      throw err;
    }
  }

  /**
   * The runtime's isolation of system:shell (logged when the shell refuses every command or runs
   * unconfined) and its cluster's health, for the status bar.
   */
  private async readStats(session: RuntimeSession): Promise<void> {
    try {
      const { isolation, cluster } = await session.conn.stats();
      if (isolation?.trusted && isolation.mode !== 'off' && !isolation.available) {
        const effect = isolation.mode === 'required' ? 'refuses every command' : 'runs commands unconfined';
        this.host.log.warn(
          `system:shell ${effect}: OS isolation is unavailable (tools.shell.isolation = "${isolation.mode}"): ${isolation.detail}`,
        );
      }
      session.isolation = isolation;
      if (cluster?.enabled)
        session.cluster = {
          node: cluster.node,
          state: cluster.state,
          server: cluster.server,
          error: cluster.lastError,
          nodes: cluster.nodes,
        };
    } catch (err) {
      this.host.log.warn(`cannot read the runtime's stats: ${messageOf(err)}`);
    }
  }

  /** The runtime's output reaches the channel over pipes (see launch's onOutput), or from here. */
  private followOutput(handle: RuntimeHandle, workspace: string): vscode.Disposable {
    if (handle.logFile) return this.host.runtimeLog.follow(handle.logFile.path, handle.logFile.offset);
    if (!handle.owned) return this.host.runtimeLog.attach(handle.info.pid, keptAliveLog(workspace));
    return { dispose: () => undefined };
  }

  private async attachOrLaunch(workspace: string): Promise<RuntimeHandle> {
    const lost = this.lost;
    if (lost) {
      // Ours and alive: only it may hold the workspace's store, so it is this one or none.
      if (processAlive(lost.info.pid)) {
        if (!(await RuntimeConnection.probe(lost.info)))
          throw new Error(`the runtime this window started (pid ${lost.info.pid}) is running but does not answer`);
        this.lost = undefined;
        return lost;
      }
      this.lost = undefined;
    }
    const running = await findRunning(
      workspace,
      (info) => RuntimeConnection.probe(info),
      (why) => this.host.log.warn(`not attaching to the runtime the workspace's discovery file names: ${why}`),
    );
    if (running) return attached(workspace, running);
    // A file the runtime would refuse: its problems go to the Problems panel instead of an exit code.
    const diagnostics = this.host.configDiagnostics;
    if (!(await diagnostics.check(workspace))) {
      const first = diagnostics.problems(workspace)[0];
      throw new ConfigProblems(
        `loom.toml has problems (see Problems): ${first ? `line ${first.range.start.line + 1}: ${first.message}` : ''}`,
      );
    }
    const settings = this.host.settings;
    return launch({
      workspace,
      runtimeScript: runtimeScriptOf(this.host.extensionPath),
      port: settings.runtimePort,
      trusted: this.host.trusted,
      keepAlive: settings.keepAlive,
      python: await this.host.python(),
      env: await this.host.launchEnvironment(workspace),
      overrides: overridesFrom(settings),
      onOutput: (line, stream) => this.host.runtimeLog.write(line, stream),
    });
  }

  /**
   * The link dropped (the runtime exited, or stopped answering): reconnect with backoff, to the
   * same runtime while it lives, else to a new one; the status bar says so meanwhile. After
   * MAX_RECONNECTS failed attempts, one warning with actions.
   */
  private onConnectionLost(reason: string): void {
    const session = this.current;
    if (!session) return;
    this.current = undefined;
    session.dispose();
    if (session.handle.owned) this.lost = session.handle;
    this.host.log.warn(`lost the runtime: ${reason}`);
    this.host.closed();
    this.reconnector.schedule(reason);
  }

  /** Stops the runtime, also one this window attached to (the user asked), or the one whose link dropped. */
  async stop(): Promise<void> {
    this.reconnector.cancel();
    await this.pending?.catch(() => undefined);
    const session = this.current;
    const lost = this.lost;
    this.lost = undefined;
    if (!session) {
      if (lost) {
        this.setState('stopping');
        await lost.stop();
        this.host.log.info(`stopped the runtime (pid ${lost.info.pid}), whose link had dropped`);
      }
      this.setState('stopped');
      return;
    }
    this.setState('stopping');
    this.current = undefined;
    session.dispose();
    await session.handle.stop();
    this.host.log.info(`stopped the runtime (pid ${session.handle.info.pid})`);
    this.host.closed();
    this.setState('stopped');
  }

  async restart(): Promise<RuntimeSession> {
    await this.stop();
    return this.start();
  }

  /**
   * A runtime this window started exited without being asked to: it crashed. Restarted (through
   * the reconnect path) until it crashed more than MAX_CRASH_RESTARTS times in CRASH_WINDOW_MS;
   * then the window stops and says so.
   */
  private onRuntimeExited(handle: RuntimeHandle, code: number | null): void {
    if (this.current?.handle !== handle && this.lost !== handle) return; // stopped on purpose, or replaced
    const exit = code === null ? 'killed' : `code ${code}`;
    const reason = `the runtime exited (${exit})`;
    const minutes = this.crashes.windowMs / 60_000;
    if (this.crashes.record()) {
      this.host.log.warn(
        `${reason}: restarting it (crash ${this.crashes.count} of at most ${this.crashes.max} in ${minutes} minutes)`,
      );
      if (this.current?.handle === handle) this.onConnectionLost(reason);
      return; // else the link dropped first, and the reconnect already under way starts a new one
    }
    const count = this.crashes.count;
    this.crashes.reset();
    const message = `Loom: the runtime crashed ${count} times in the last ${minutes} minutes and will not be restarted (last exit: ${exit}).`;
    this.host.log.error(message);
    void this.stop().then(() => {
      this.setState('failed', message);
      this.host.notices.push(message);
      void notify('error', message, 'Show Log', 'Restart Runtime').then((choice) => {
        if (choice === 'Show Log') this.host.runtimeLog.show();
        if (choice === 'Restart Runtime') void this.restart().catch(() => undefined);
      });
    });
  }

  /**
   * deactivate: the window's link ends (the runtime stops the agents this window started, those
   * kept alive aside), and the runtime this window started stops unless keepAlive lets it outlive the window.
   */
  async shutdown(): Promise<void> {
    this.reconnector.cancel();
    await this.pending?.catch(() => undefined);
    const session = this.current;
    this.current = undefined;
    const lost = this.lost;
    this.lost = undefined;
    const keepAlive = this.host.settings.keepAlive;
    if (lost && !keepAlive) await lost.stop();
    if (session) {
      session.dispose();
      if (session.handle.owned && !keepAlive) await session.handle.stop();
    }
  }
}

function overridesFrom(s: LoomSettings): ConfigOverrides {
  const o: ConfigOverrides = {};
  if (s.shellAllow.length) o.tools = { shell: { allow: s.shellAllow } };
  if (s.watcherInclude.length) o.watcher = { include: s.watcherInclude };
  if (s.queueSizes) o.bus = { queueSizes: s.queueSizes };
  const cluster = clusterOverrides(s.cluster);
  if (cluster) o.cluster = cluster;
  return o;
}
