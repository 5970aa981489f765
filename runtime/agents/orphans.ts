// Agents run in their own process groups, so a runtime that dies without stopping them (kill -9,
// OOM) leaves them running, still trying to reach a bridge that is gone. Each carries its
// runtime's mark (a digest of the workspace token, not the token) in its environment as
// LOOM_RUNTIME; the next runtime for the workspace finds the dead one's token in the stale
// discovery file and ends every process group that still carries its mark.
// Linux only (/proc); elsewhere nothing is reaped.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import type { Logger } from '../log';
import { processAlive } from '../contract/process';

/** The LOOM_RUNTIME value of the agents a runtime with this workspace token spawns. */
export function runtimeMark(token: string): string {
  return createHash('sha256').update(`loom-runtime:${token}`).digest('hex').slice(0, 32);
}

/** Kills the process groups whose environment holds the mark of the runtime with this token; returns the pids found. */
export function reapOrphans(token: string, log: Logger): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  const needle = Buffer.from(`\0LOOM_RUNTIME=${runtimeMark(token)}\0`);
  const found: number[] = [];
  for (const entry of entries) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    let environ: Buffer;
    try {
      environ = Buffer.concat([Buffer.from([0]), readFileSync(`/proc/${pid}/environ`)]);
    } catch {
      continue; // gone, or not ours to read
    }
    if (!environ.includes(needle)) continue;
    found.push(pid);
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  if (found.length) log.warn('ended agents left running by a runtime that died', { pids: found });
  return found;
}
