// Shared parts of the stress suite: its settings (short or full), the real runtime started with
// a probe inside it, and summary lines. The runtime is spawned here rather than through the
// integration helper because a stress run sends it a million messages: that helper keeps every
// stderr line, this one keeps only the last few and counts the rest.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { buildRuntime, RUNTIME_JS } from '../integration/helpers/runtime';
import { processAlive } from '../../runtime/contract/process';

export const REPO = resolve(__dirname, '..', '..');
export const PYTHON = process.env.LOOM_PYTHON ?? join(REPO, '.venv', 'bin', 'python');
export const AGENTS = join(__dirname, 'agents');
const PROBE = join(__dirname, 'probe.mjs');

/** `run.ts --short` sets LOOM_STRESS=short: a few seconds per part, for `npm test`. */
export const SHORT = process.env.LOOM_STRESS !== 'full';

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** The one line each part prints with its figures; `run.ts` collects them at the end. */
export function summary(part: string, figures: Record<string, string | number>): string {
  const line = `STRESS ${part}: ${Object.entries(figures)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ')}`;
  console.log(`      ${line}`);
  return line;
}

const workspaces: string[] = [];

/** A fresh workspace (prefix loom-it-, so .ci/test.sh's leftover check sees what runs in it). */
export function makeWorkspace(toml: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'loom-it-stress-'));
  workspaces.push(dir);
  writeFileSync(join(dir, 'loom.toml'), toml);
  return dir;
}

export function removeWorkspaces(): void {
  for (const dir of workspaces.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** A supervised Python agent's loom.toml table running one of this folder's agents. */
export function pythonAgent(id: string, file: string, extra = ''): string {
  return `[agents.${id}]\ncommand = ${JSON.stringify(PYTHON)}\nargs = [${JSON.stringify(join(AGENTS, file))}]\n${extra}\n`;
}

export interface ProbeSample {
  t: number;
  rss: number;
  /** Event-loop delay over the probe's interval, in ms. */
  p99: number;
  max: number;
}

/** The real runtime (`node dist/runtime.js`), optionally with the event-loop probe preloaded. */
export class StressRuntime {
  readonly proc: ChildProcess;
  readonly tail: string[] = [];
  /** Every stderr line matching opts.keep, however many lines come after it. */
  readonly kept: string[] = [];
  readonly levels = new Map<string, number>();
  exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  readonly exited: Promise<void>;
  private started = false;

  constructor(
    readonly workspace: string,
    private readonly opts: { probeMs?: number; args?: string[]; keep?: RegExp } = {},
  ) {
    // LOOM_STRESS_NO_BUILD=1: run the dist/ already built (while someone else's edit is half-done).
    if (!process.env.LOOM_STRESS_NO_BUILD) buildRuntime();
    const probe = opts.probeMs ? ['--import', PROBE] : [];
    this.proc = spawn(process.execPath, [...probe, RUNTIME_JS, '--workspace', workspace, ...(opts.args ?? [])], {
      cwd: REPO,
      env: {
        ...process.env,
        ...(opts.probeMs ? { LOOM_STRESS_PROBE: this.probeFile, LOOM_STRESS_PROBE_MS: String(opts.probeMs) } : {}),
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let buf = '';
    this.proc.stderr!.setEncoding('utf8');
    this.proc.stderr!.on('data', (chunk: string) => {
      buf += chunk;
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) (this.line(buf.slice(0, i)), (buf = buf.slice(i + 1)));
    });
    this.exited = new Promise((res) => this.proc.on('exit', (code, signal) => ((this.exit = { code, signal }), res())));
  }

  get pid(): number {
    return this.proc.pid!;
  }

  get probeFile(): string {
    return join(this.workspace, 'probe.ndjson');
  }

  get alive(): boolean {
    return this.exit === undefined && processAlive(this.pid);
  }

  /** Resolves with the discovery file once the runtime has logged "runtime started". */
  async ready(timeoutMs = 60_000): Promise<{ address: string; token: string; pid: number }> {
    const deadline = Date.now() + timeoutMs;
    while (!this.started) {
      if (this.exit)
        throw new Error(
          `the runtime exited (${this.exit.code ?? this.exit.signal}) before it started:\n${this.stderr()}`,
        );
      if (Date.now() > deadline) throw new Error(`the runtime did not start within ${timeoutMs} ms:\n${this.stderr()}`);
      await sleep(20);
    }
    return JSON.parse(readFileSync(join(this.workspace, '.loom', 'runtime.json'), 'utf8')) as {
      address: string;
      token: string;
      pid: number;
    };
  }

  /** The probe's samples so far (RSS and event-loop delay, one per probe interval). */
  samples(): ProbeSample[] {
    if (!existsSync(this.probeFile)) return [];
    return readFileSync(this.probeFile, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as ProbeSample);
  }

  stderr(): string {
    return this.tail.join('\n');
  }

  rssBytes(): number {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${this.pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  }

  kill9(): Promise<void> {
    if (!this.exit) this.proc.kill('SIGKILL');
    return this.exited;
  }

  /** SIGTERM, then SIGKILL if it has not stopped its agents and exited within the grace period. */
  async stop(graceMs = 15_000): Promise<void> {
    if (this.exit) return;
    this.proc.kill('SIGTERM');
    const killer = setTimeout(() => this.proc.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(killer);
  }

  private line(l: string): void {
    this.tail.push(l);
    if (this.opts.keep?.test(l)) this.kept.push(l);
    if (this.tail.length > 200) this.tail.shift();
    let level = 'other';
    try {
      const rec = JSON.parse(l) as { level?: string; msg?: string };
      level = rec.level ?? 'other';
      if (rec.msg === 'runtime started') this.started = true;
    } catch {
      // a line that is not a log record (a crash trace): counted as "other"
    }
    this.levels.set(level, (this.levels.get(level) ?? 0) + 1);
  }
}

/** p-th percentile (0..100) of the values. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export const mb = (bytes: number): string => (bytes / (1 << 20)).toFixed(1);
