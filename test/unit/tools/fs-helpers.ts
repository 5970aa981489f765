// Set-up for the file-tool suites (fs-races, fs-places): a registry whose built-ins were given a
// confirm function, a byte-exact record of a folder, the count of this process's descriptors, and
// a child process that keeps swapping a folder for a symlink.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { LoomConfig } from '../../../runtime/config/types';
import { silentLogger } from '../../../runtime/log';
import { type ConfirmFn, registerBuiltinTools } from '../../../runtime/tools/builtin';
import { DefaultToolRegistry } from '../../../runtime/tools/registry';
import type { ToolOutcome } from '../../../runtime/tools/types';
import { type Fixture, makeFixture } from './helpers';

export interface FsFixture extends Fixture {
  /** The questions confirm was asked: [tool, path, reason]. */
  asked: Array<[string, string, string]>;
}

/** makeFixture, with the built-ins registered again (in a registry of their own) with `confirm`. */
export function makeFsFixture(adjust: (config: LoomConfig) => void = () => {}, confirm?: ConfirmFn): FsFixture {
  const f = makeFixture(adjust);
  const asked: FsFixture['asked'] = [];
  if (!confirm) return { ...f, asked };
  const registry = new DefaultToolRegistry({ defaultTimeoutMs: f.config.tools.defaultTimeoutMs, log: silentLogger });
  const builtins = registerBuiltinTools(registry, f.config, silentLogger, {
    confirm: (tool, args, reason) => {
      asked.push([tool, String(args.path), reason]);
      return confirm(tool, args, reason);
    },
  });
  return {
    ...f,
    registry,
    asked,
    call: (name, args, timeoutMs) => registry.call({ name, arguments: args, ...(timeoutMs ? { timeoutMs } : {}) }),
    cleanup() {
      builtins.dispose();
      f.cleanup();
    },
  };
}

/** Every entry under `dir`, relative, with its bytes ("<dir>", "<symlink -> x>"): equal records mean nothing changed. */
export function record(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string) => {
    const p = path.join(dir, rel);
    const st = fs.lstatSync(p);
    if (st.isSymbolicLink()) out[rel] = `<symlink -> ${fs.readlinkSync(p)}>`;
    else if (st.isDirectory()) {
      out[rel] = '<dir>';
      for (const name of fs.readdirSync(p)) walk(path.join(rel, name));
    } else out[rel] = `${st.nlink} links: ${fs.readFileSync(p).toString('base64')}`;
  };
  walk('.');
  return out;
}

/** How many descriptors this process holds now. */
export function fdCount(): number {
  return fs.readdirSync('/proc/self/fd').length;
}

/** The outcome's text, for "never appears in any output" checks. */
export function text(outcome: ToolOutcome): string {
  return JSON.stringify(outcome);
}

// The swapper: as fast as it can, `dir` is a real folder, then that folder is renamed away and a
// symlink to `outside` takes its name, then the folder comes back. When a tool deleted the real
// folder's contents they are made again, so every round has something to attack.
const SWAPPER = `
const fs = require('fs');
const [dir, outside, stop] = process.argv.slice(1);
const away = dir + '.away';
const quiet = (f) => { try { f(); } catch {} };
const fill = () => {
  fs.mkdirSync(dir + '/sub', { recursive: true });
  fs.writeFileSync(dir + '/secret.txt', 'inside');
  fs.writeFileSync(dir + '/sub/file.txt', 'inside');
};
let rounds = 0;
while (!fs.existsSync(stop)) {
  quiet(() => { if (!fs.lstatSync(dir).isDirectory()) fs.unlinkSync(dir); });
  quiet(() => fs.renameSync(away, dir));
  quiet(() => { if (!fs.existsSync(dir + '/sub/file.txt')) fill(); });
  quiet(() => fs.rmSync(away, { recursive: true, force: true }));
  quiet(() => fs.renameSync(dir, away));
  quiet(() => fs.symlinkSync(outside, dir));
  rounds++;
}
fs.writeFileSync(stop + '.rounds', String(rounds));
`;

export interface Swapper {
  /** Stops the child and returns how many rounds it swapped. */
  stop(): Promise<number>;
}

/** Starts a child process that swaps `dir` between a real folder and a symlink to `outside` until stopped. */
export function startSwapper(dir: string, outside: string): Swapper {
  const stopFile = `${dir}.stop-${process.pid}`;
  const child = spawn(process.execPath, ['-e', SWAPPER, dir, outside, stopFile], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    async stop() {
      fs.writeFileSync(stopFile, '');
      await exited;
      const rounds = Number(fs.readFileSync(`${stopFile}.rounds`, 'utf8'));
      fs.rmSync(stopFile, { force: true });
      fs.rmSync(`${stopFile}.rounds`, { force: true });
      return rounds;
    },
  };
}
