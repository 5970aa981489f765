// Starts the REAL built runtime (`node dist/runtime.js`) in a temporary workspace and talks to
// it over real gRPC. Built once per mocha process.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const REPO = resolve(__dirname, '..', '..', '..');
export const RUNTIME_JS = join(REPO, 'dist', 'runtime.js');
/** The Python with the SDK that agents and fixtures run on (`.venv`, made by the setup). */
export const PYTHON = process.env.LOOM_PYTHON ?? join(REPO, '.venv', 'bin', 'python');

let built = false;
/** Builds dist/runtime.js with the project's esbuild script (once per test process). */
export function buildRuntime(): void {
  if (built) return;
  const r = spawnSync(process.execPath, ['esbuild.mjs'], { cwd: REPO, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`esbuild failed:\n${r.stdout}\n${r.stderr}`);
  built = true;
}

const workspaces: string[] = [];

/** A fresh workspace folder with the given loom.toml (none when undefined). */
export function makeWorkspace(toml?: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'loom-it-'));
  workspaces.push(dir);
  if (toml !== undefined) writeFileSync(join(dir, 'loom.toml'), toml);
  return dir;
}

export function removeWorkspaces(): void {
  for (const dir of workspaces.splice(0)) rmSync(dir, { recursive: true, force: true });
}

export interface Discovery {
  address: string;
  token: string;
  pid: number;
  version: string;
}

export interface LogRecord {
  level: string;
  msg: string;
  component?: string;
  [key: string]: unknown;
}

export class RuntimeProcess {
  readonly stdoutLines: string[] = [];
  readonly logs: LogRecord[] = [];
  readonly stderrText: string[] = [];
  exitCode: number | null = null;
  exitSignal: NodeJS.Signals | null = null;
  readonly exited: Promise<void>;
  private waiters: (() => void)[] = [];

  constructor(
    readonly workspace: string,
    readonly proc: ChildProcess,
  ) {
    const lines = (chunkStream: NodeJS.ReadableStream, onLine: (l: string) => void) => {
      let buf = '';
      chunkStream.setEncoding('utf8');
      chunkStream.on('data', (chunk: string) => {
        buf += chunk;
        let i: number;
        while ((i = buf.indexOf('\n')) >= 0) {
          onLine(buf.slice(0, i));
          buf = buf.slice(i + 1);
        }
        this.wake();
      });
    };
    lines(proc.stdout!, (l) => this.stdoutLines.push(l));
    lines(proc.stderr!, (l) => {
      this.stderrText.push(l);
      try {
        this.logs.push(JSON.parse(l) as LogRecord);
      } catch {
        // not a log line (a crash trace); kept in stderrText
      }
    });
    this.exited = new Promise((res) =>
      proc.on('exit', (code, signal) => {
        this.exitCode = code;
        this.exitSignal = signal;
        this.wake();
        res();
      }),
    );
  }

  get discoveryFile(): string {
    return join(this.workspace, '.loom', 'runtime.json');
  }

  discovery(): Discovery {
    return JSON.parse(readFileSync(this.discoveryFile, 'utf8')) as Discovery;
  }

  /** The VS Code window's credential, which the runtime writes beside the discovery file. */
  windowToken(): string {
    return (JSON.parse(readFileSync(join(this.workspace, '.loom', 'window.json'), 'utf8')) as { token: string }).token;
  }

  /** Resolves once `check` returns a value (re-checked on output, exit and every 50 ms). */
  async waitFor<T>(what: string, check: () => T | undefined | false, timeoutMs = 20_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = check();
      if (v !== undefined && v !== false) return v;
      if (Date.now() > deadline)
        throw new Error(`timed out waiting for ${what}\n--- stderr ---\n${this.stderrText.slice(-30).join('\n')}`);
      await new Promise<void>((res) => {
        const t = setTimeout(res, 50);
        this.waiters.push(() => {
          clearTimeout(t);
          res();
        });
      });
    }
  }

  waitForLog(what: string, pred: (r: LogRecord) => boolean, timeoutMs?: number): Promise<LogRecord> {
    return this.waitFor(what, () => this.logs.find(pred), timeoutMs);
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (this.exitCode === null && this.exitSignal === null) this.proc.kill(signal);
    await this.exited;
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}

const running = new Set<RuntimeProcess>();

/** Spawns the runtime; resolves once its discovery file is written (or rejects if it exits first). */
export async function startRuntime(
  workspace: string,
  args: string[] = [],
  opts: { ready?: boolean; env?: NodeJS.ProcessEnv } = {},
): Promise<RuntimeProcess> {
  buildRuntime();
  const proc = spawn(process.execPath, [RUNTIME_JS, '--workspace', workspace, '--log-level', 'debug', ...args], {
    cwd: REPO,
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const rt = new RuntimeProcess(workspace, proc);
  running.add(rt);
  void rt.exited.then(() => running.delete(rt));
  if (opts.ready === false) return rt;
  await rt.waitFor('the runtime to write its discovery file', () => {
    if (rt.exitCode !== null || rt.exitSignal !== null)
      throw new Error(`runtime exited early (${rt.exitCode ?? rt.exitSignal}):\n${rt.stderrText.join('\n')}`);
    return existsSync(rt.discoveryFile) && rt.logs.some((l) => l.msg === 'runtime started');
  });
  return rt;
}

/** How long a runtime gets to stop its agents and flush its store before it is killed. */
const STOP_GRACE_MS = 10_000;

/**
 * Stops whatever runtime a test left running: SIGTERM first, so it stops the agents it spawned
 * (a runtime killed outright leaves them orphaned, and the suite must leave no process behind),
 * SIGKILL only if it has not exited within the grace period.
 */
export async function stopAllRuntimes(): Promise<void> {
  await Promise.all(
    [...running].map(async (rt) => {
      const killer = setTimeout(() => rt.proc.kill('SIGKILL'), STOP_GRACE_MS);
      try {
        await rt.stop('SIGTERM');
      } finally {
        clearTimeout(killer);
      }
    }),
  );
}
