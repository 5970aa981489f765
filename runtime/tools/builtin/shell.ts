// system:shell: runs one allowlisted program with an argv array (never a shell), confined by the
// OS (../isolation: its own mount, PID and network namespaces, so a timeout or cancel ends
// everything it started), with capped output and an environment reduced to the allowlisted
// variables. The per-program argument rules (shell-policy.ts) stay as defence in depth.
import { spawn } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';
import type { LoomConfig } from '../../config';
import { ToolError } from '../errors';
import { confine, isolationStatus, workspaceConfinement } from '../isolation';
import type { Sandbox } from '../sandbox';
import type { ToolContext, ToolDefinition, ToolHandler } from '../types';
import { CommandSlots } from './commandSlots';
import { checkCommandLine, extraEnvFor } from './shell-policy';
import { LEFT_OUT, presetPrograms } from './shell-presets';

/** Programs are looked up here only; the caller's PATH (often with workspace folders in it) is not used. */
export const FIXED_PATH = ['/usr/local/bin', '/usr/bin', '/bin'];
/** FIXED_PATH and the system folders (ip, ifconfig): where an allowlisted name is found. Programs get FIXED_PATH as their PATH. */
const PROGRAM_DIRS = [...FIXED_PATH, '/usr/sbin', '/sbin'];
const BARE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.+-]*$/;
/** How long to wait for the pipes to close after the program exited and its group was killed. */
const PIPE_GRACE_MS = 500;

export interface ShellResult {
  exit_code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  truncated: boolean;
  /** Ran under OS isolation. */
  isolated: boolean;
  /** Present when it did not: why (the setting, or what is missing). */
  unconfined_because?: string;
}

interface ShellArgs {
  command: string;
  args: string[];
  cwd?: string;
  timeout_ms?: number;
  stdin?: string;
}

export const shellDefinition: Omit<ToolDefinition, 'provider' | 'owner'> = {
  name: 'system:shell',
  description: 'Run one allowlisted program (no shell: arguments are passed as they are) inside the workspace.',
  parametersSchema: {
    type: 'object',
    properties: {
      command: { type: 'string', minLength: 1, description: 'A bare program name from tools.shell.allow.' },
      args: { type: 'array', items: { type: 'string' }, default: [] },
      cwd: {
        type: 'string',
        minLength: 1,
        description: 'Working directory inside the workspace. Default: the workspace.',
      },
      timeout_ms: { type: 'integer', minimum: 1, maximum: 2 ** 31 - 1 },
      stdin: { type: 'string' },
    },
    required: ['command'],
    additionalProperties: false,
  },
};

export function shellHandler(config: LoomConfig, sandbox: Sandbox): ToolHandler {
  const shell = config.tools.shell;
  const preset = presetPrograms(shell.preset);
  if (!config.runtime.trusted) {
    return async () => {
      throw new ToolError('denied', 'system:shell is unavailable in an untrusted workspace (Workspace Trust)', {
        reason: 'untrusted',
      });
    };
  }
  const slots = new CommandSlots();
  return async (raw, ctx) => {
    const args = raw as unknown as ShellArgs;
    const { command } = args;
    if (command.includes('/') || !BARE_NAME.test(command)) {
      throw new ToolError(
        'denied',
        `command ${JSON.stringify(command)} must be a bare program name from the allowlist, not a path`,
        { command },
      );
    }
    // A program only the preset names runs only isolated: the preset never widens an unconfined command.
    const allowed = shell.allow.includes(command);
    const viaPreset = !allowed && preset.includes(command);
    if (!allowed && !viaPreset) throw notAllowed(command, shell.allow, shell.preset);
    // Refused before it waits for a place; the rest is checked once it has one, just before it runs.
    const release = await slots.enter(ctx.caller, command, ctx.signal);
    try {
      return await runCommand(args, viaPreset, ctx);
    } finally {
      release();
    }
  };

  async function runCommand(args: ShellArgs, viaPreset: boolean, ctx: ToolContext): Promise<ShellResult> {
    const { command } = args;
    // As confine() below decides, by the same cached probe ("required" without it refuses there).
    const unconfined =
      shell.isolation === 'off' || (shell.isolation === 'best-effort' && !isolationStatus(shell.isolation).available);
    const judge = sandbox.forOneCommand();
    const cwd = await workingDirectory(judge, args.cwd, unconfined);
    const argv = await checkCommandLine(command, args.args, cwd, judge, unconfined);
    const executable = findProgram(command);
    // Worked out only for a confined run: unconfined, nothing reads it.
    const confinement = () => workspaceConfinement(config, sandbox.roots, { cwd, network: shell.network });
    const launch = confine(shell.isolation, confinement, executable, argv, 'system:shell', 'tools.shell.isolation');
    if (viaPreset && !launch.isolated) {
      launch.cleanup();
      throw new ToolError(
        'denied',
        `command ${JSON.stringify(command)} comes from tools.shell.preset = "${shell.preset}", whose programs run only under OS isolation, and this command would run unconfined (${launch.unconfinedBecause}); add it to tools.shell.allow to run it anyway`,
        { command, setting: 'tools.shell.preset', reason: 'preset_needs_isolation' },
      );
    }
    const env = { ...scrubbedEnv(shell.envAllow, command), ...launch.env };
    const timeoutMs = args.timeout_ms ?? shell.timeoutMs;
    let outcome: Awaited<ReturnType<typeof run>>;
    try {
      outcome = await run(launch.file, launch.args, {
        cwd,
        env,
        stdin: args.stdin,
        timeoutMs,
        maxOutputBytes: shell.maxOutputBytes,
        signal: ctx.signal,
        program: command,
      });
    } finally {
      launch.cleanup();
    }
    const result: ShellResult = {
      ...outcome.result,
      isolated: launch.isolated,
      ...(launch.isolated ? {} : { unconfined_because: launch.unconfinedBecause }),
    };
    if (outcome.timedOut) throw shellTimeout(command, timeoutMs, result);
    return result;
  }
}

/** `unconfined`: not inside a protected place either (a program run there reads and writes it). */
async function workingDirectory(sandbox: Sandbox, cwd: string | undefined, unconfined: boolean): Promise<string> {
  const target = await (unconfined ? sandbox.resolveForWrite(cwd ?? '.') : sandbox.resolve(cwd ?? '.'));
  // Synchronous, as the file tools' lookups are: one stat, where a trip through the thread pool costs more.
  const stat = target.exists ? statSync(target.real, { throwIfNoEntry: false }) : undefined;
  if (!stat?.isDirectory())
    throw new ToolError('failed', `working directory ${JSON.stringify(cwd)} does not exist or is not a directory`, {
      cwd: cwd ?? '.',
    });
  return target.real;
}

function notAllowed(command: string, allow: string[], preset: string): ToolError {
  const left =
    Object.hasOwn(LEFT_OUT, command) && preset === 'reference'
      ? `; tools.shell.preset = "reference" leaves it out: ${LEFT_OUT[command]}`
      : '';
  const named = `tools.shell.allow: ${allow.join(', ') || 'empty'}${preset !== 'none' ? `, and tools.shell.preset = "${preset}"` : ''}`;
  return new ToolError('denied', `command ${JSON.stringify(command)} is not on the allowlist (${named})${left}`, {
    command,
  });
}

/** Synchronous: a few lookups in system folders, microseconds, where the thread pool costs tens each. */
function findProgram(command: string): string {
  for (const dir of PROGRAM_DIRS) {
    const candidate = path.join(dir, command);
    try {
      if (!statSync(candidate, { throwIfNoEntry: false })?.isFile()) continue;
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this folder
    }
  }
  throw new ToolError(
    'unavailable',
    `program ${JSON.stringify(command)} is allowlisted but not installed (looked in ${PROGRAM_DIRS.join(':')})`,
    { command },
  );
}

/** The environment a program gets: the allowlisted variables, PATH fixed, what the program needs (benchmarks start the bare baseline with it). */
export function scrubbedEnv(allow: string[], command: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const name of allow) if (process.env[name] !== undefined) env[name] = process.env[name];
  if (allow.includes('PATH')) env.PATH = FIXED_PATH.join(':');
  return { ...env, ...extraEnvFor(command) };
}

/** The shell's own limit fails the call like the call-level timeout does, keeping what the program printed before it was killed. */
function shellTimeout(command: string, timeoutMs: number, partial: ShellResult): ToolError {
  return new ToolError(
    'timeout',
    `system:shell: ${command} did not finish within its timeout_ms of ${timeoutMs} ms and was killed with its process group`,
    {
      command,
      timeout_ms: String(timeoutMs),
      exit_code: String(partial.exit_code),
      signal: String(partial.signal),
      stdout: partial.stdout,
      stderr: partial.stderr,
      truncated: String(partial.truncated),
    },
  );
}

interface RunOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  stdin?: string;
  timeoutMs: number;
  maxOutputBytes: number;
  signal: ToolContext['signal'];
  /** For error texts: the program asked for (the file run may be bwrap). */
  program: string;
}

function run(
  executable: string,
  argv: string[],
  o: RunOptions,
): Promise<{ result: Omit<ShellResult, 'isolated'>; timedOut: boolean }> {
  return new Promise((resolve, reject) => {
    // detached: the child leads a new process group, so one kill(-pid) reaches its descendants.
    const child = spawn(executable, argv, {
      cwd: o.cwd,
      env: o.env,
      shell: false,
      detached: true,
      stdio: [o.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    const stdout = new CappedBuffer(o.maxOutputBytes);
    const stderr = new CappedBuffer(o.maxOutputBytes);
    let timedOut = false;
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    let grace: NodeJS.Timeout | undefined;

    const killGroup = () => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // the group is already gone
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, o.timeoutMs);
    const onAbort = () => killGroup();
    o.signal.addEventListener('abort', onAbort, { once: true });
    if (o.signal.aborted) killGroup();

    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      clearTimeout(grace);
      o.signal.removeEventListener('abort', onAbort);
      resolve({
        result: {
          exit_code: exit?.code ?? null,
          signal: exit?.signal ?? null,
          stdout: stdout.text(),
          stderr: stderr.text(),
          truncated: stdout.truncated || stderr.truncated,
        },
        timedOut,
      });
    };

    child.stdout!.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr!.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.on('error', (err) => {
      clearTimeout(timer);
      o.signal.removeEventListener('abort', onAbort);
      reject(new ToolError('failed', `cannot run ${o.program}: ${err.message}`));
    });
    child.on('exit', (code, signal) => {
      exit = { code, signal };
      // Background children the program left behind die with it (unconfined, those in its
      // group; confined, the whole PID namespace). Pipes still held are not waited on for long.
      killGroup();
      grace = setTimeout(() => {
        child.stdout!.destroy();
        child.stderr!.destroy();
        finish();
      }, PIPE_GRACE_MS);
    });
    child.on('close', () => {
      if (exit) finish();
    });
    if (o.stdin !== undefined && child.stdin) {
      child.stdin.on('error', () => {}); // the program may exit without reading its input
      child.stdin.end(o.stdin);
    }
  });
}

/** Keeps the first `cap` bytes and counts the rest, so a flood of output costs no memory. */
class CappedBuffer {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  truncated = false;

  constructor(private readonly cap: number) {}

  push(chunk: Buffer): void {
    const room = this.cap - this.size;
    if (room <= 0) {
      this.truncated = true;
      return;
    }
    const kept = chunk.length > room ? chunk.subarray(0, room) : chunk;
    if (kept.length < chunk.length) this.truncated = true;
    this.chunks.push(kept);
    this.size += kept.length;
  }

  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}
