// Shared set-up for the tool tests: a real temp workspace with a sibling "outside" folder that
// holds a secret, the runtime's default config for it, and a registry with the built-ins.
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { defaultConfig } from '../../../runtime/config/defaults';
import type { LoomConfig } from '../../../runtime/config/types';
import { silentLogger } from '../../../runtime/log';
import { registerBuiltinTools } from '../../../runtime/tools/builtin';
import { DefaultToolRegistry } from '../../../runtime/tools/registry';
import type { ToolErrorCode, ToolOutcome } from '../../../runtime/tools/types';
import { until } from '../../support/eventually';

export const SECRET = 'TOP-SECRET-outside-the-workspace';

export interface Fixture {
  base: string;
  ws: string;
  outside: string;
  config: LoomConfig;
  registry: DefaultToolRegistry;
  call(name: string, args: Record<string, unknown> | string, timeoutMs?: number): Promise<ToolOutcome>;
  cleanup(): void;
}

export function makeFixture(adjust: (config: LoomConfig) => void = () => {}): Fixture {
  const base = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'loom-tools-')));
  const ws = path.join(base, 'ws');
  const outside = path.join(base, 'outside');
  fs.mkdirSync(ws);
  fs.mkdirSync(outside);
  fs.writeFileSync(path.join(outside, 'secret.txt'), SECRET);
  fs.writeFileSync(path.join(ws, 'hello.txt'), 'hello\n');
  const config = defaultConfig(ws);
  adjust(config);
  const registry = new DefaultToolRegistry({ defaultTimeoutMs: config.tools.defaultTimeoutMs, log: silentLogger });
  const builtins = registerBuiltinTools(registry, config, silentLogger);
  return {
    base,
    ws,
    outside,
    config,
    registry,
    call: (name, args, timeoutMs) => registry.call({ name, arguments: args, ...(timeoutMs ? { timeoutMs } : {}) }),
    cleanup() {
      builtins.dispose();
      fs.rmSync(base, { recursive: true, force: true });
    },
  };
}

export function expectOk(outcome: ToolOutcome): any {
  if (outcome.status !== 'ok') assert.fail(`expected ok, got ${outcome.error.code}: ${outcome.error.message}`);
  return outcome.output;
}

export function expectError(outcome: ToolOutcome, code: ToolErrorCode, message?: RegExp | string): string {
  if (outcome.status === 'ok') assert.fail(`expected ${code}, got ok: ${JSON.stringify(outcome.output).slice(0, 300)}`);
  assert.equal(outcome.error.code, code, `expected ${code}, got ${outcome.error.code}: ${outcome.error.message}`);
  if (message !== undefined) {
    if (typeof message === 'string')
      assert.ok(
        outcome.error.message.includes(message),
        `message ${JSON.stringify(outcome.error.message)} should name ${JSON.stringify(message)}`,
      );
    else assert.match(outcome.error.message, message);
  }
  return outcome.error.message;
}

/**
 * The host pids of the processes with `arg` among their arguments (Linux /proc). A pid a sandboxed
 * program reports is its PID namespace's, not the host's, so tests find their processes by a
 * unique argument instead.
 */
export function processesWithArg(arg: string): number[] {
  const found: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').includes(arg)) found.push(Number(entry));
    } catch {
      // ended meanwhile
    }
  }
  return found;
}

/** Polls a condition. A bound on waiting, not a timing assertion: it only turns a hang into a clear failure. */
export function eventually(check: () => boolean, what: string, giveUpAfterMs = 15_000): Promise<void> {
  return until(what, check, { timeoutMs: giveUpAfterMs, intervalMs: 25 });
}

// ---------------------------------------------------------------------------------------------
// For the attack suites (shell-attacks, isolation): a fixture that looks like a real project, a
// record of everything an attack must leave alone, and where a planted marker could turn up.

/** The names a Project may be asked to leave out, to attack their absence. */
export type ProjectPart = 'git' | 'loom.toml' | '.vscode' | 'data';

export interface Project extends Fixture {
  /** The bridge token in the data folder's discovery file: an attack that prints it has read the data folder. */
  token: string;
  /** The data folder's path (config.runtime.dataDir in the workspace). */
  dataDir: string;
  /** The places no tool call may change, absent ones included (their absence must stay). */
  guarded: string[];
}

/** git with a fixed identity and neither the user's nor the system's config, as a person would run it on the host. */
export function hostGit(dir: string, args: string[]): string {
  return execFileSync(
    'git',
    ['-c', 'user.name=Loom Test', '-c', 'user.email=test@loom.invalid', '-c', 'commit.gpgSign=false', ...args],
    {
      cwd: dir,
      encoding: 'utf8',
      env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' },
    },
  );
}

/**
 * makeFixture plus what a real project holds: a git repository with one commit, loom.toml,
 * .vscode/settings.json, and the runtime's data folder with a discovery file holding a token;
 * `absent` leaves some out.
 */
export function makeProject(adjust: (config: LoomConfig) => void = () => {}, absent: ProjectPart[] = []): Project {
  const f = makeFixture(adjust);
  const token = `tok-${randomBytes(12).toString('hex')}`;
  const dataDir = path.resolve(f.ws, f.config.runtime.dataDir);
  const has = (part: ProjectPart) => !absent.includes(part);
  if (has('loom.toml')) fs.writeFileSync(path.join(f.ws, 'loom.toml'), '[runtime]\nlog_level = "info"\n');
  if (has('.vscode')) {
    fs.mkdirSync(path.join(f.ws, '.vscode'));
    fs.writeFileSync(path.join(f.ws, '.vscode', 'settings.json'), '{"editor.tabSize": 2}\n');
  }
  if (has('data')) {
    fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    fs.writeFileSync(
      path.join(dataDir, 'runtime.json'),
      JSON.stringify({ address: '127.0.0.1:1', token, pid: process.pid }),
      { mode: 0o600 },
    );
  }
  if (has('git')) {
    hostGit(f.ws, ['init', '-q']);
    fs.mkdirSync(path.join(f.ws, 'src'));
    fs.writeFileSync(path.join(f.ws, 'src', 'main.txt'), 'one\ntwo\nthree\n');
    hostGit(f.ws, ['add', 'hello.txt', 'src']);
    hostGit(f.ws, ['commit', '-q', '-m', 'first']);
  }
  const guarded = [
    f.outside,
    path.join(f.ws, 'loom.toml'),
    path.join(f.ws, '.vscode'),
    path.join(f.ws, '.git', 'config'),
    path.join(f.ws, '.git', 'hooks'),
    path.join(f.ws, '.git', 'HEAD'),
    dataDir,
  ];
  if (!has('git')) guarded.push(path.join(f.ws, '.git'));
  return { ...f, token, dataDir, guarded };
}

/** Every entry under `places` (recursively) with its content, "<dir>", "<symlink -> x>" or "<absent>": equal snapshots mean nothing was changed, created or removed. */
export function snapshot(places: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (p: string) => {
    let st: fs.Stats;
    try {
      st = fs.lstatSync(p);
    } catch {
      out[p] = '<absent>';
      return;
    }
    if (st.isSymbolicLink()) out[p] = `<symlink -> ${fs.readlinkSync(p)}>`;
    else if (st.isDirectory()) {
      out[p] = '<dir>';
      for (const name of fs.readdirSync(p)) walk(path.join(p, name));
    } else out[p] = fs.readFileSync(p).toString('base64');
  };
  places.forEach(walk);
  return out;
}

/** A name no run of the suite has used: what an attack tries to create, searched for afterwards. */
export function uniqueMarker(label = 'pwned'): string {
  return `${label}-${process.pid}-${randomBytes(6).toString('hex')}`;
}

/**
 * Where an entry named `marker` exists on the host: anywhere under the workspace or the outside
 * folder, or directly in the real $HOME and /tmp (the sandbox's $HOME and /tmp are private).
 */
export function markerPlaces(f: Fixture, marker: string): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    let names: string[];
    try {
      names = fs.readdirSync(dir);
    } catch {
      return;
    }
    for (const name of names) {
      const p = path.join(dir, name);
      if (name === marker) found.push(p);
      if (fs.lstatSync(p).isDirectory()) walk(p);
    }
  };
  walk(f.ws);
  walk(f.outside);
  for (const dir of [os.homedir(), '/root', os.tmpdir(), '/tmp'])
    if (fs.existsSync(path.join(dir, marker))) found.push(path.join(dir, marker));
  return [...new Set(found)];
}

/** Host processes whose command line contains `marker` (a unique argument the attack gave its children). */
export function processesWith(marker: string): number[] {
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(marker)) pids.push(Number(entry));
    } catch {
      // it ended while we looked
    }
  }
  return pids;
}

/** Runs `fn` with an environment variable set (or removed, for undefined), restoring the old value after. */
export async function withEnv<T>(name: string, value: string | undefined, fn: () => Promise<T> | T): Promise<T> {
  const old = process.env[name];
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
  try {
    return await fn();
  } finally {
    if (old === undefined) delete process.env[name];
    else process.env[name] = old;
  }
}

/** One attack test's world: a Project (see makeProject), a marker, and the attacker's payload script. */
export interface Attack {
  p: Project;
  /** The name the payload tries to create everywhere; afterEach asserts it exists nowhere on the host. */
  m: string;
  shell(command: string, args: string[], more?: Record<string, unknown>): Promise<ToolOutcome>;
  /**
   * Writes the payload, an executable script in the workspace (returned as "./evil.sh"): it
   * leaves a proof file in the workspace (allowed), then tries to plant the marker in $HOME,
   * /root, /tmp, the outside folder, .git, .git/hooks, .vscode and the data folder, to append to
   * loom.toml and .git/config, and to print the outside secret and the data folder's token.
   */
  payload(): string;
  /** The payload ran where the test can see it (its proof file exists in the workspace). */
  ran(): boolean;
  /** Takes the "must stay unchanged" snapshot again, after a test's own set-up of guarded places. */
  rebaseline(): void;
}

/**
 * Mocha hooks around every test of the enclosing describe: a fresh Project per test, and after
 * it the proof that the attack was harmless: every guarded place byte-identical (the outside
 * secret, loom.toml, .vscode, .git/config and hooks, the data folder; absent ones still absent),
 * and the marker nowhere on the host.
 */
export function attackFixture(
  adjust: (config: LoomConfig) => void = () => {},
  absent: ProjectPart[] = [],
): () => Attack {
  let a: Attack | undefined;
  let before: Record<string, string> = {};
  beforeEach(() => {
    const p = makeProject(adjust, absent);
    const m = uniqueMarker();
    before = snapshot(p.guarded);
    a = {
      p,
      m,
      shell: (command, args, more = {}) => p.call('system:shell', { command, args, ...more }),
      payload() {
        const targets = [
          '"$HOME"',
          '/root',
          '/tmp',
          p.outside,
          `${p.ws}/.git`,
          `${p.ws}/.git/hooks`,
          `${p.ws}/.vscode`,
          p.dataDir,
        ].join(' ');
        const script = [
          '#!/bin/sh',
          `touch '${p.ws}/ran-${m}'`,
          `for d in ${targets}; do touch "$d/${m}"; done 2>/dev/null`,
          `echo '${m}' >> '${p.ws}/loom.toml' 2>/dev/null`,
          `printf '[alias]\\n\\t${m} = !touch ${m}\\n' >> '${p.ws}/.git/config' 2>/dev/null`,
          `cat '${p.outside}/secret.txt' '${p.dataDir}/runtime.json' 2>/dev/null`,
          'exit 0',
          '',
        ].join('\n');
        fs.writeFileSync(path.join(p.ws, 'evil.sh'), script, { mode: 0o755 });
        return './evil.sh';
      },
      ran: () => fs.existsSync(path.join(p.ws, `ran-${m}`)),
      rebaseline() {
        before = snapshot(p.guarded);
      },
    };
  });
  afterEach(function () {
    if (!a) return;
    const { p, m } = a;
    a = undefined;
    try {
      if (this.currentTest?.state !== 'failed') {
        assert.deepEqual(
          snapshot(p.guarded),
          before,
          'a guarded place (outside folder, loom.toml, .vscode, .git config/hooks/HEAD, data folder) changed',
        );
        assert.deepEqual(markerPlaces(p, m), [], 'the attack planted its marker on the host');
      }
    } finally {
      p.cleanup();
      for (const dir of [os.homedir(), '/tmp']) fs.rmSync(path.join(dir, m), { force: true, recursive: true });
    }
  });
  return () => {
    if (!a) throw new Error('attackFixture: used outside a test');
    return a;
  };
}

/** The outcome leaks neither the outside secret nor any of `more` (a token). */
export function assertNoLeak(outcome: unknown, ...more: string[]): void {
  const text = JSON.stringify(outcome);
  for (const s of [SECRET, ...more])
    assert.ok(!text.includes(s), `the outcome leaks ${JSON.stringify(s)}: ${text.slice(0, 400)}`);
}

/**
 * Either the policy refused (naming `named`), or the program ran under isolation and did not
 * succeed in what it was asked (exit code other than 0, unless `exitMayBeZero`) nor print a secret.
 */
export function expectRefusedOrContained(
  outcome: ToolOutcome,
  named: string,
  secrets: string[],
  o: { exitMayBeZero?: boolean } = {},
): 'refused' | 'contained' {
  assertNoLeak(outcome, ...secrets);
  if (outcome.status === 'error') {
    expectError(outcome, 'denied', named);
    return 'refused';
  }
  const out = outcome.output as { isolated: boolean; exit_code: number | null };
  assert.equal(out.isolated, true, 'ran unrefused, so it must have run isolated');
  if (!o.exitMayBeZero)
    assert.notEqual(
      out.exit_code,
      0,
      `expected the program to fail inside the sandbox: ${JSON.stringify(outcome.output).slice(0, 300)}`,
    );
  return 'contained';
}

/**
 * Another runtime running with its data folder at `ws`/packages/app/.loom (holding a window.json of
 * `token`): a live process of this user listed in a registry of this test's own
 * (XDG_RUNTIME_DIR), as contract/liveRuntimes lists a runtime. Mocha hooks set it up and take it down.
 */
export function anotherRuntimeInside(ws: () => string, token: string): { inner: () => ChildProcess } {
  let registry = '';
  let inner: ChildProcess | undefined;
  let saved: string | undefined;
  beforeEach(() => {
    saved = process.env.XDG_RUNTIME_DIR;
    registry = fs.mkdtempSync(path.join(os.tmpdir(), 'loom-registry-'));
    process.env.XDG_RUNTIME_DIR = registry;
    const data = path.join(ws(), 'packages', 'app', '.loom');
    fs.mkdirSync(data, { recursive: true });
    fs.writeFileSync(path.join(data, 'window.json'), JSON.stringify({ token }));
    inner = spawn('sleep', ['60'], { stdio: 'ignore' });
    fs.mkdirSync(path.join(registry, 'loom', 'runtimes'), { recursive: true, mode: 0o700 });
    fs.writeFileSync(
      path.join(registry, 'loom', 'runtimes', `${inner.pid}.json`),
      JSON.stringify({ pid: inner.pid, dataFolder: fs.realpathSync(data) }),
    );
  });
  afterEach(() => {
    inner?.kill('SIGKILL');
    if (saved === undefined) delete process.env.XDG_RUNTIME_DIR;
    else process.env.XDG_RUNTIME_DIR = saved;
    fs.rmSync(registry, { recursive: true, force: true });
  });
  return { inner: () => inner! };
}
