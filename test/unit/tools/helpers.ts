// Shared set-up for the tool tests: a real temp workspace with a sibling "outside" folder that
// holds a secret, the runtime's default config for it, and a registry with the built-ins.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { defaultConfig } from '../../../runtime/config/defaults';
import type { LoomConfig } from '../../../runtime/config/types';
import { silentLogger } from '../../../runtime/log';
import { registerBuiltinTools } from '../../../runtime/tools/builtin';
import { DefaultToolRegistry } from '../../../runtime/tools/registry';
import type { ToolErrorCode, ToolOutcome } from '../../../runtime/tools/types';

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
    if (typeof message === 'string') assert.ok(outcome.error.message.includes(message), `message ${JSON.stringify(outcome.error.message)} should name ${JSON.stringify(message)}`);
    else assert.match(outcome.error.message, message);
  }
  return outcome.error.message;
}

/** True once process.kill(pid, 0) says ESRCH: no such process (not even a zombie). */
export function processGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return true;
    throw err;
  }
}

/** Polls a condition. A bound on waiting, not a timing assertion: it only turns a hang into a clear failure. */
export async function eventually(check: () => boolean, what: string, giveUpAfterMs = 15_000): Promise<void> {
  const until = Date.now() + giveUpAfterMs;
  while (!check()) {
    if (Date.now() > until) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
