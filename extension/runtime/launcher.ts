// Starts the runtime for a workspace as a child process on VS Code's own Node, or attaches to
// the one already serving it (the discovery file names it; its pid must be alive and its bridge
// must answer). LevelDB allows one opener per folder, so a second window always attaches.
import { dataDirOf } from '../../runtime/contract';
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, fstatSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { listensOn, ownProcessAlive, processAlive, splitAddress } from '../../runtime/contract';
import {
  discoveryPath,
  readDiscoveryFile,
  readWindowCredential,
  WINDOW_CREDENTIAL_FILE,
  type DiscoveryInfo,
} from '../../runtime/contract';
import type { ConfigOverrides } from '../../runtime/contract';

export interface LaunchOptions {
  workspace: string;
  /** dist/runtime.js of this extension. */
  runtimeScript: string;
  port: number;
  trusted: boolean;
  /** Survive the window: detached, not stopped on deactivate. */
  keepAlive: boolean;
  python: string;
  /** Extra environment for the runtime and the agents it spawns (API keys). */
  env: Record<string, string>;
  overrides: ConfigOverrides;
  /** One line of the runtime's output at a time. */
  onOutput: (line: string, stream: 'stdout' | 'stderr') => void;
  /** How long to wait for the runtime to write its discovery file. */
  startTimeoutMs?: number;
}

export interface RuntimeHandle {
  readonly info: DiscoveryInfo;
  /** The window's credential: the only one that registers `vscode` (and so answers ui:confirm). */
  readonly windowToken: string;
  /** True when this window started it (and so stops it), false when it attached. */
  readonly owned: boolean;
  /** Resolves when the runtime process ends (known only for a process this window started). */
  readonly exited: Promise<number | null>;
  /** The file a kept-alive runtime this window started writes to, and where this run's output begins. */
  readonly logFile?: { path: string; offset: number };
  stop(graceMs?: number): Promise<void>;
}

export type Probe = (info: DiscoveryInfo) => Promise<boolean>;

/** Where a kept-alive runtime writes its output: it must not write to pipes of a window that closes. */
export function keptAliveLog(workspace: string): string {
  return join(workspace, dataDirOf(workspace), 'runtime.log');
}

export function discoveryFile(workspace: string): string {
  return discoveryPath(workspace, dataDirOf(workspace));
}

/**
 * The window credential the runtime of `info` wrote beside its discovery file. Throws when it
 * wrote none (a runtime older than this extension) or the file is another runtime's.
 */
export function windowCredentialOf(workspace: string, info: DiscoveryInfo, started = false): string {
  const file = join(workspace, dataDirOf(workspace), WINDOW_CREDENTIAL_FILE);
  let refused: string | undefined;
  const credential = readWindowCredential(file, (why) => (refused = why), started ? info.pid : undefined);
  if (refused) throw new Error(`not using the window credential: ${refused}`);
  if (!credential || credential.pid !== info.pid) {
    throw new Error(
      `the runtime (pid ${info.pid}) has no window credential in ${file}: it is older than this extension or was started by another one; stop it (Loom: Stop Runtime, or end pid ${info.pid}) and start Loom again`,
    );
  }
  return credential.token;
}

/**
 * The running runtime of this workspace: its discovery file is this user's own (see
 * readDiscoveryFile) and names a loopback address, its pid is a live process of this user that
 * listens there (where that can be told), and its bridge answers. `onRefused` hears of a file
 * that is there but not used.
 */
export async function findRunning(
  workspace: string,
  probe: Probe,
  onRefused?: (why: string) => void,
): Promise<DiscoveryInfo | undefined> {
  const info = readDiscoveryFile(discoveryFile(workspace), onRefused);
  if (!info || !ownProcessAlive(info.pid)) return undefined; // none, or one a runtime that ended left
  if (!isServing(info)) {
    onRefused?.(`pid ${info.pid} is running but does not listen on ${info.address}`);
    return undefined;
  }
  return (await probe(info).catch(() => false)) ? info : undefined;
}

/** Is the discovery file's pid alive, this user's, and (on Linux) the one listening on its address? */
function isServing(info: DiscoveryInfo): boolean {
  const { host, port } = splitAddress(info.address)!;
  return ownProcessAlive(info.pid) && listensOn(info.pid, host, port) !== false;
}

export function attached(workspace: string, info: DiscoveryInfo): RuntimeHandle {
  return {
    info,
    windowToken: windowCredentialOf(workspace, info),
    owned: false,
    exited: new Promise(() => undefined),
    // Only while the pid still serves the address: a pid the runtime left may be another process's now.
    stop: async (graceMs = 5000) => {
      if (isServing(info)) await terminate(info.pid, graceMs);
    },
  };
}

export function runtimeArgs(
  opts: Pick<LaunchOptions, 'workspace' | 'port' | 'trusted' | 'overrides' | 'keepAlive'>,
): string[] {
  const args = ['--workspace', opts.workspace, '--port', String(opts.port)];
  if (!opts.trusted) args.push('--untrusted');
  // A runtime this window owns ends with it even if the extension host dies without deactivating.
  if (!opts.keepAlive) args.push('--parent-pid', String(process.pid));
  if (Object.keys(opts.overrides).length) args.push('--overrides', JSON.stringify(opts.overrides));
  return args;
}

export async function launch(opts: LaunchOptions): Promise<RuntimeHandle> {
  if (!existsSync(opts.runtimeScript))
    throw new Error(`the runtime bundle is missing: ${opts.runtimeScript} (run "npm run build")`);
  // A runtime that outlives the window writes to a file: pipes to this extension host would break
  // when the window closes, and the next write would take the runtime down.
  const logFile = keptAliveLog(opts.workspace);
  let logFd: number | undefined;
  let logOffset = 0;
  if (opts.keepAlive) {
    mkdirSync(dirname(logFile), { recursive: true, mode: 0o700 });
    logFd = openSync(logFile, 'a', 0o600);
    logOffset = fstatSync(logFd).size;
    opts.onOutput(`the runtime keeps running after this window closes; its output goes to ${logFile}`, 'stdout');
  }
  const child = spawn(process.execPath, [opts.runtimeScript, ...runtimeArgs(opts)], {
    cwd: opts.workspace,
    env: {
      ...process.env,
      ...opts.env,
      // VS Code's executable is Electron (desktop) or Node (server): either runs as plain Node.
      ELECTRON_RUN_AS_NODE: '1',
      LOOM_PYTHON: opts.python,
    },
    stdio: logFd === undefined ? ['ignore', 'pipe', 'pipe'] : ['ignore', logFd, logFd],
    detached: opts.keepAlive,
  });
  if (logFd !== undefined) closeSync(logFd);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let tail: string[] = [];
  pipeLines(child, (line, stream) => {
    tail.push(line);
    if (tail.length > 20) tail.shift();
    opts.onOutput(line, stream);
  });
  if (opts.keepAlive) child.unref();
  const info = await waitForDiscovery(opts.workspace, child, exited, opts.startTimeoutMs ?? 30_000).catch(
    (err: Error) => {
      child.kill('SIGKILL');
      if (opts.keepAlive) tail = readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-20);
      throw new Error(`${err.message}${tail.length ? `\n${tail.join('\n')}` : ''}`);
    },
  );
  return {
    info,
    windowToken: windowCredentialOf(opts.workspace, info, true),
    owned: true,
    exited,
    logFile: opts.keepAlive ? { path: logFile, offset: logOffset } : undefined,
    stop: async (graceMs = 5000) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(killer);
    },
  };
}

function pipeLines(child: ChildProcess, onLine: (line: string, stream: 'stdout' | 'stderr') => void): void {
  for (const stream of ['stdout', 'stderr'] as const) {
    let rest = '';
    child[stream]?.setEncoding('utf8');
    child[stream]?.on('data', (chunk: string) => {
      const lines = (rest + chunk).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) if (line) onLine(line, stream);
    });
    child[stream]?.on('end', () => rest && onLine(rest, stream));
  }
}

/** The runtime writes the discovery file once its bridge listens; ours is the one with our pid. */
async function waitForDiscovery(
  workspace: string,
  child: ChildProcess,
  exited: Promise<number | null>,
  timeoutMs: number,
): Promise<DiscoveryInfo> {
  const file = discoveryFile(workspace);
  let done = false;
  const found = new Promise<DiscoveryInfo>((resolve) => {
    const poll = () => {
      if (done) return;
      const info = readDiscoveryFile(file, undefined, child.pid);
      if (info && info.pid === child.pid) return resolve(info);
      setTimeout(poll, 100);
    };
    poll();
  });
  const died = exited.then((code) =>
    Promise.reject(new Error(`the runtime exited (code ${code}) before it was ready`)),
  );
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the runtime did not write ${file} within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([found, died, late]);
  } finally {
    done = true;
    clearTimeout(timer);
  }
}

/** Stops a runtime this window did not start: SIGTERM, then SIGKILL after the grace period. */
async function terminate(pid: number, graceMs: number): Promise<void> {
  if (!processAlive(pid)) return;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (processAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  if (processAlive(pid)) process.kill(pid, 'SIGKILL');
}

export function runtimeScriptOf(extensionPath: string): string {
  return join(extensionPath, 'dist', 'runtime.js');
}
