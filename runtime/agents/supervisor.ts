// Spawns the agents declared in loom.toml ([agents.<id>]) and the ad-hoc ones started over
// Runtime.StartAgent (a script run from the window), and keeps them alive: a crash is restarted
// after an exponential backoff; too many crashes within the window stop the restarts (state
// "failed", with the reason). Each agent runs in its own process group so that stop (SIGTERM,
// then SIGKILL after the grace period) reaches everything it started. One supervisor for both
// kinds, so an agent behaves the same however it was started; an ad-hoc one is forgotten with
// the stream that started it (unless kept alive) and with the runtime.
import { LoomError } from '../contract/errors';
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import type { AgentConfig, ProcessIsolation } from '../config';
import type { Logger } from '../log';
import { forEachLine } from './lines';
import { LogRing, type LogLine } from './logRing';
import type { LifecycleEmitter } from './types';
import { messageOf } from '../contract/errors';

export type ProcessState = 'starting' | 'running' | 'crashed' | 'backoff' | 'stopped' | 'failed';

export interface SupervisedView {
  agentId: string;
  state: ProcessState;
  pid: number;
  restarts: number;
  lastError: string;
  /** Started with Runtime.StartAgent rather than declared in loom.toml. */
  adHoc: boolean;
  /** Its running process is confined by the OS; false while none runs. */
  isolated: boolean;
}

export interface SupervisorOptions {
  agents: Record<string, AgentConfig>;
  workspace: string;
  /**
   * [adhoc_agents]: the isolation of ad-hoc agents, read at each start of their process (the
   * composition root passes the object the config follower updates on save).
   */
  adHocIsolation: ProcessIsolation;
  /** Workspace Trust: an untrusted workspace spawns nothing. */
  trusted: boolean;
  /** Variables of the runtime's environment no agent gets (the [cluster] secrets'). */
  withheldEnv?: readonly string[];
  /**
   * Where spawned agents find the bridge (LOOM_BRIDGE_ADDR) and the credential each spawn gets
   * (LOOM_TOKEN, bound to the agent's id, minted afresh per process); `mark` (LOOM_RUNTIME) names
   * this runtime to the next one, which ends agents a crashed runtime left behind.
   */
  bridge: { address: string; credentialFor(agentId: string): string; mark: string; heartbeatTimeoutMs?: number };
  emit: LifecycleEmitter;
  /**
   * For an agent whose `isolation` is not "off": how to start it confined, by the settings of this
   * start (the composition root passes the isolation part's confineProcess). `setting` names the
   * `isolation` key that asked for it. Throws when isolation is required and missing.
   */
  confine?: (
    agentId: string,
    isolation: ProcessIsolation,
    command: string,
    args: string[],
    cwd: string,
    setting: string,
  ) => ConfinedLaunch;
  /** Told first whenever an agent's process ends, so its bridge link is known dead at once. */
  onProcessExit?: (agentId: string, how: string) => void;
  log: Logger;
}

export class SupervisorError extends LoomError {
  constructor(message: string) {
    super('supervisor_error', message);
  }
}

/** What the isolation part answers (tools/isolation Launch); declared here so agents need not import tools. */
export interface ConfinedLaunch {
  file: string;
  args: string[];
  /** Environment the confined program needs on top of the agent's (its scratch HOME). */
  env: Record<string, string>;
  isolated: boolean;
  unconfinedBecause: string;
  cleanup(): void;
}

/** What an isolated agent gets of the runtime's environment, besides names ending in _API_KEY. */
const ISOLATED_ENV = new Set(['PATH', 'HOME', 'LANG', 'LC_ALL', 'LC_CTYPE', 'TERM', 'TZ']);

/**
 * What an agent inherits from the runtime's environment. Never the MCP inputs the extension hands
 * the runtime (LOOM_INPUT_*) nor LOOM_MCP_SERVERS, secrets for MCP servers, nor the variables
 * `withheld` names ([cluster] token, user, password). An isolated agent gets only a few basics
 * and the LLM API keys (names ending in _API_KEY, as "Loom: Set API Key" suggests them), with its
 * own `env` from loom.toml on top: it held the whole environment, the cluster's token, an MCP
 * server's GITHUB_TOKEN and the D-Bus address included.
 */
export function agentEnvironment(
  env: NodeJS.ProcessEnv,
  o: { isolated: boolean; withheld?: readonly string[] } = { isolated: false },
): NodeJS.ProcessEnv {
  const withheld = new Set(o.withheld);
  const out: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(env)) {
    if (k.startsWith('LOOM_INPUT_') || k === 'LOOM_MCP_SERVERS' || withheld.has(k)) continue;
    if (o.isolated && !ISOLATED_ENV.has(k) && !k.endsWith('_API_KEY')) continue;
    out[k] = v;
  }
  return out;
}

const LOOPBACK_NAMES = ['127.0.0.1', '::1', 'localhost'];

/**
 * `env` with the loopback addresses in no_grpc_proxy. gRPC sends loopback calls through a proxy
 * that http_proxy, https_proxy or grpc_proxy names, and every call carries the agent's credential in
 * plain text: Loom's SDK never takes one, and this keeps other clients (the reference's) off it,
 * whichever proxy the agent's own `env` or a .env it loads later sets.
 */
export function withLoopbackOffProxies(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const names = (env.no_grpc_proxy ?? '').split(',').filter(Boolean);
  return { ...env, no_grpc_proxy: [...new Set([...names, ...LOOPBACK_NAMES])].join(',') };
}

interface Managed {
  id: string;
  config: AgentConfig;
  state: ProcessState;
  child?: ChildProcess;
  /** Resolves when the current child has exited. */
  exited?: Promise<void>;
  stopRequested: boolean;
  crashTimes: number[];
  restarts: number;
  lastError: string;
  backoffTimer?: NodeJS.Timeout;
  ring: LogRing;
  /**
   * Set for an ad-hoc agent; `boundTo` is the agent id whose link ending stops and forgets it
   * (absent when it is kept alive).
   */
  adHoc?: { boundTo?: string };
  /** The last process started was confined by the OS. */
  isolated: boolean;
}

function managedFor(id: string, config: AgentConfig): Managed {
  return {
    id,
    config,
    state: 'stopped',
    stopRequested: false,
    crashTimes: [],
    restarts: 0,
    lastError: '',
    isolated: false,
    ring: new LogRing(config.logLines),
  };
}

export const UNTRUSTED_REASON =
  'the workspace is not trusted (runtime.trusted = false): Loom does not spawn agents in it';

export function resolveCommand(command: string): string {
  return command === 'python' ? process.env.LOOM_PYTHON || 'python3' : command;
}

export class Supervisor {
  private readonly managed = new Map<string, Managed>();
  private disposed = false;

  constructor(private readonly opts: SupervisorOptions) {
    for (const [id, config] of Object.entries(opts.agents)) this.managed.set(id, managedFor(id, config));
  }

  /**
   * loom.toml's [agents] changed: a new table is started (with autostart), a removed one stopped
   * and forgotten, a changed one takes its new settings (restarted when it was running).
   */
  async reconcile(
    agents: Record<string, AgentConfig>,
  ): Promise<{ added: string[]; removed: string[]; changed: string[] }> {
    const added: string[] = [];
    const removed: string[] = [];
    const changed: string[] = [];
    for (const [id, m] of [...this.managed]) {
      // An ad-hoc agent is not loom.toml's to remove, unless the file now declares its id (below).
      if (Object.hasOwn(agents, id) || m.adHoc) continue;
      await this.stop(id);
      this.managed.delete(id);
      removed.push(id);
    }
    for (const [id, config] of Object.entries(agents)) {
      let m = this.managed.get(id);
      if (m?.adHoc) {
        // The file's table wins: the ad-hoc process stops, the declared agent takes the id.
        await this.stop(id);
        this.managed.delete(id);
        m = undefined;
      }
      if (!m) {
        this.managed.set(id, managedFor(id, config));
        added.push(id);
        if (config.autostart && this.opts.trusted && !this.disposed) this.start(id);
        continue;
      }
      if (JSON.stringify(m.config) === JSON.stringify(config)) continue;
      changed.push(id);
      const running = m.child !== undefined;
      m.config = config;
      if (running && !this.disposed) await this.restart(id);
    }
    return { added, removed, changed };
  }

  /** The workspace agents run in (an ad-hoc agent's paths must be inside it). */
  get workspace(): string {
    return this.opts.workspace;
  }

  has(id: string): boolean {
    return this.managed.has(id);
  }

  /** Whether `id` is an ad-hoc agent (Runtime.StartAgent) this supervisor runs. */
  isAdHoc(id: string): boolean {
    return !!this.managed.get(id)?.adHoc;
  }

  /**
   * Runs an agent loom.toml does not declare (`config` from adHocConfig). Refused for a declared
   * id and for an ad-hoc one that runs; a stopped ad-hoc one takes the new settings. `boundTo`:
   * the agent id whose link ending stops and forgets it (see linkEnded); none keeps it alive.
   */
  startAdHoc(id: string, config: AgentConfig, boundTo?: string): void {
    if (this.disposed) throw new SupervisorError(`cannot start agent ${id}: the runtime is stopping`);
    if (!this.opts.trusted) throw new SupervisorError(`cannot start agent ${id}: ${UNTRUSTED_REASON}`);
    const existing = this.managed.get(id);
    if (existing && !existing.adHoc)
      throw new SupervisorError(
        `agent "${id}" is declared in loom.toml ([agents.${id}]): start it with ControlAgent (Loom: Start Agent), not as an ad-hoc agent`,
      );
    if (existing?.child || existing?.state === 'backoff')
      throw new SupervisorError(
        `agent "${id}" is already running (pid ${existing.child?.pid ?? 'restarting'}): stop or restart it first`,
      );
    const m = existing ?? managedFor(id, config);
    m.config = config;
    m.restarts = 0;
    m.adHoc = { boundTo };
    this.managed.set(id, m);
    this.start(id);
  }

  /**
   * The link of `agentId` ended (disconnected, not taken over by a newer stream): the ad-hoc
   * agents bound to it stop and are forgotten. Resolves to their ids.
   */
  async linkEnded(agentId: string): Promise<string[]> {
    const bound = [...this.managed.values()].filter((m) => m.adHoc?.boundTo === agentId);
    await Promise.all(
      bound.map(async (m) => {
        this.opts.log.info('ad-hoc agent stopped: the stream that started it ended', { agent: m.id, boundTo: agentId });
        await this.stop(m.id, `stop requested: the stream of "${agentId}" that started it ended`);
        // Started again meanwhile under another binding: that one stays.
        if (this.managed.get(m.id) === m && m.adHoc?.boundTo === agentId && !m.child) this.managed.delete(m.id);
      }),
    );
    return bound.map((m) => m.id);
  }

  /** Starts every agent with autostart; in an untrusted workspace records why none started. */
  startAll(): void {
    for (const m of this.managed.values()) {
      if (!m.config.autostart) continue;
      try {
        this.start(m.id);
      } catch (err) {
        this.opts.log.warn('agent not started', { agent: m.id, error: messageOf(err) });
      }
    }
  }

  start(id: string): void {
    const m = this.mustGet(id);
    if (!this.opts.trusted) {
      m.lastError = UNTRUSTED_REASON;
      throw new SupervisorError(`cannot start agent ${id}: ${UNTRUSTED_REASON}`);
    }
    if (m.child) return;
    clearTimeout(m.backoffTimer);
    m.crashTimes = [];
    m.lastError = '';
    this.spawn(m);
  }

  async stop(id: string, reason = 'stop requested'): Promise<void> {
    const m = this.mustGet(id);
    clearTimeout(m.backoffTimer);
    m.backoffTimer = undefined;
    m.stopRequested = true;
    const was = m.state;
    if (m.child) await this.terminate(m);
    m.state = 'stopped';
    if (was !== 'stopped') this.opts.emit(id, 'stopped', { state: 'stopped', reason });
  }

  async restart(id: string): Promise<void> {
    await this.stop(id);
    this.start(id);
  }

  view(id: string): SupervisedView | undefined {
    const m = this.managed.get(id);
    return (
      m && {
        agentId: id,
        state: m.state,
        pid: m.child?.pid ?? 0,
        restarts: m.restarts,
        lastError: m.lastError,
        adHoc: !!m.adHoc,
        // A spawn that fails after returning leaves m.child set, without a pid, until 'close'.
        isolated: !!m.child?.pid && m.isolated,
      }
    );
  }

  list(): SupervisedView[] {
    return [...this.managed.keys()].map((id) => this.view(id)!);
  }

  /** The agent's log ring, oldest first, and how many older lines it has let go. */
  logs(id: string): { lines: LogLine[]; discarded: number } {
    const { ring } = this.mustGet(id);
    return { lines: ring.snapshot(), discarded: ring.discarded };
  }

  async stopAll(): Promise<void> {
    this.disposed = true;
    await Promise.all([...this.managed.keys()].map((id) => this.stop(id)));
  }

  private spawn(m: Managed): void {
    // An ad-hoc agent runs under [adhoc_agents] as it is at each start of its process (StartAgent,
    // a start or restart from the window, a restart after a crash): saving the table needs no
    // runtime restart, and a restart from the window after saving it is confined at once.
    const config = m.adHoc ? { ...m.config, ...this.opts.adHocIsolation } : m.config;
    const command = resolveCommand(config.command);
    m.stopRequested = false;
    m.state = 'starting';
    let child: ChildProcess;
    const cwd = resolve(this.opts.workspace, config.cwd);
    let launch: ConfinedLaunch = {
      file: command,
      args: config.args,
      env: {},
      isolated: false,
      unconfinedBecause: '',
      cleanup() {},
    };
    try {
      if (config.isolation !== 'off') {
        const setting = m.adHoc ? 'adhoc_agents.isolation' : `agents.${m.id}.isolation`;
        if (!this.opts.confine)
          throw new Error(`${setting} = "${config.isolation}" but this runtime cannot confine processes`);
        launch = this.opts.confine(m.id, config, command, config.args, cwd, setting);
        if (!launch.isolated)
          this.opts.log.warn('agent runs unconfined', { agent: m.id, why: launch.unconfinedBecause });
      }
      child = spawn(launch.file, launch.args, {
        cwd,
        env: withLoopbackOffProxies({
          ...agentEnvironment(process.env, { isolated: launch.isolated, withheld: this.opts.withheldEnv }),
          ...config.env,
          LOOM_BRIDGE_ADDR: this.opts.bridge.address,
          LOOM_TOKEN: this.opts.bridge.credentialFor(m.id),
          LOOM_RUNTIME: this.opts.bridge.mark,
          LOOM_AGENT_ID: m.id,
          // The SDK pings well within it (a third, at most every 5 s).
          ...(this.opts.bridge.heartbeatTimeoutMs
            ? { LOOM_HEARTBEAT_TIMEOUT_MS: String(this.opts.bridge.heartbeatTimeoutMs) }
            : {}),
          ...launch.env,
        }),
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    } catch (err) {
      // confine() may have made placeholders (an empty .git) that only this launch's end releases.
      launch.cleanup();
      this.onExit(m, null, null, `cannot start "${command}": ${messageOf(err)}`);
      return;
    }
    m.child = child;
    m.isolated = launch.isolated;
    let settle!: () => void;
    m.exited = new Promise((r) => (settle = r));
    let spawnError = '';
    child.on('error', (err) => {
      spawnError = `cannot start "${command}": ${err.message}`;
    });
    child.on('spawn', () => {
      m.state = 'running';
      this.opts.log.info('agent process started', { agent: m.id, pid: child.pid, command });
      this.opts.emit(m.id, 'started', { state: 'starting', pid: child.pid });
    });
    for (const stream of ['stdout', 'stderr'] as const) {
      forEachLine(child[stream]!, (line) => this.onLine(m, stream, line));
    }
    // Whatever the agent left behind in its group goes with it, so a restart never runs twice.
    child.on('exit', () => signalGroup(child, 'SIGKILL'));
    // 'close' comes after the exit and after stdio has ended, so the last lines are in the ring.
    child.on('close', (code, signal) => {
      launch.cleanup();
      if (m.child === child) m.child = undefined;
      settle();
      this.onExit(m, code, signal, spawnError);
    });
  }

  private onLine(m: Managed, stream: LogLine['stream'], line: string): void {
    m.ring.push({ timestampMs: Date.now(), stream, line });
    this.opts.emit(m.id, 'log', { stream, line });
  }

  private onExit(m: Managed, code: number | null, signal: NodeJS.Signals | null, spawnError: string): void {
    const how = spawnError || (signal ? `killed by ${signal}` : `exited with code ${code}`);
    this.opts.onProcessExit?.(m.id, how);
    if (m.stopRequested || this.disposed) {
      m.state = 'stopped';
      return;
    }
    const clean = !spawnError && code === 0;
    const policy = m.config.restart;
    if (policy === 'never' || (policy === 'on-failure' && clean)) {
      m.state = 'stopped';
      m.lastError = clean ? '' : how;
      this.opts.log.info('agent process ended', { agent: m.id, how, restart: policy });
      this.opts.emit(m.id, 'stopped', { state: 'stopped', reason: how });
      return;
    }
    const now = Date.now();
    m.crashTimes = [...m.crashTimes.filter((t) => now - t < m.config.restartWindowMs), now];
    m.lastError = how;
    m.state = 'crashed';
    this.opts.log.warn('agent crashed', { agent: m.id, how, crashesInWindow: m.crashTimes.length });
    this.opts.emit(m.id, 'crashed', { state: 'crashed', reason: how, code, signal });
    if (m.crashTimes.length > m.config.maxRestarts) {
      m.state = 'failed';
      m.lastError = `crashed ${m.crashTimes.length} times within ${m.config.restartWindowMs} ms (limit ${m.config.maxRestarts}); restarts stopped. Last: ${how}`;
      this.opts.log.error('agent failed', { agent: m.id, reason: m.lastError });
      this.opts.emit(m.id, 'failed', { state: 'failed', reason: m.lastError });
      return;
    }
    const delayMs = Math.min(m.config.backoffInitialMs * 2 ** (m.crashTimes.length - 1), m.config.backoffMaxMs);
    m.state = 'backoff';
    this.opts.emit(m.id, 'restarting', { state: 'backoff', delayMs, attempt: m.restarts + 1, reason: how });
    m.backoffTimer = setTimeout(() => {
      m.backoffTimer = undefined;
      if (this.disposed || m.stopRequested) return;
      m.restarts++;
      this.spawn(m);
    }, delayMs);
  }

  /** SIGTERM to the process group, SIGKILL after stopGraceMs. */
  private async terminate(m: Managed): Promise<void> {
    const child = m.child!;
    const exited = m.exited!;
    signalGroup(child, 'SIGTERM');
    const killer = setTimeout(() => {
      this.opts.log.warn('agent ignored SIGTERM; sending SIGKILL', { agent: m.id, graceMs: m.config.stopGraceMs });
      signalGroup(child, 'SIGKILL');
    }, m.config.stopGraceMs);
    await exited;
    clearTimeout(killer);
  }

  private mustGet(id: string): Managed {
    const m = this.managed.get(id);
    if (!m)
      throw new SupervisorError(
        `no agent "${id}" is declared in loom.toml ([agents.${id}]) or was started with StartAgent`,
      );
    return m;
  }
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    if (child.pid) process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      // already gone
    }
  }
}
