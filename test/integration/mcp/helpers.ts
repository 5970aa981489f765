// Shared pieces of the MCP integration tests: the real runtime parts, the fixture server's
// command line, and waiting on state changes (no sleeps: we wait for the event itself).
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { EventBus } from '../../../runtime/bus';
import { silentLogger } from '../../../runtime/log';
import { DefaultToolRegistry } from '../../../runtime/tools/registry';
import type { McpServerState } from '../../../runtime/mcp/connection';
import type { McpManager } from '../../../runtime/mcp/manager';

export const ROOT = path.resolve(__dirname, '../../..');
export const FIXTURE = path.join(ROOT, 'test/fixtures/mcp/fixture-server.ts');

/** The `[mcp.<name>]` table that runs the fixture over stdio. */
export function stdioFixture(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { command: process.execPath, args: ['--import', 'tsx', FIXTURE, 'stdio'], cwd: ROOT, ...extra };
}

export function runtimeParts(): { registry: DefaultToolRegistry; bus: EventBus } {
  return {
    registry: new DefaultToolRegistry({ defaultTimeoutMs: 30_000, log: silentLogger }),
    bus: new EventBus({}, silentLogger),
  };
}

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function recordLines(file: string): Array<Record<string, unknown>> {
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** Resolves when the fixture's record file holds a line matching `match` (the mocha timeout bounds it). */
export async function waitForRecord(
  file: string,
  match: (line: Record<string, unknown>) => boolean,
): Promise<Record<string, unknown>> {
  for (;;) {
    const found = recordLines(file).find(match);
    if (found) return found;
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Resolves with the first state of `server` (current or later) that satisfies `predicate`. */
export function waitForState(
  manager: McpManager,
  server: string,
  predicate: (s: McpServerState) => boolean,
): Promise<McpServerState> {
  return new Promise((resolve) => {
    const now = manager.state(server);
    if (now && predicate(now)) return resolve(now);
    const sub = manager.onDidChangeState((s) => {
      if (s.name === server && predicate(s)) {
        sub.dispose();
        resolve(s);
      }
    });
  });
}

/** Starts the fixture in http or sse mode on a free port; resolves with its URL. */
export async function startHttpFixture(
  mode: 'http' | 'sse',
  port = 0,
): Promise<{ url: string; child: ChildProcess; stop(): Promise<void> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, mode, String(port)], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const line = await new Promise<string>((resolve, reject) => {
    const rl = createInterface({ input: child.stdout! });
    rl.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`fixture exited with ${code} before listening`)));
  });
  const { url } = JSON.parse(line) as { url: string };
  return {
    url,
    child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
