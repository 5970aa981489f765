// system:shell `echo hi` through the tool registry beside the same program started bare, in the
// same run: confined (isolation "required", the default) against a bare `bwrap` spawn with the
// same sandbox (the same bwrapArguments for the same workspace), and unconfined (isolation "off")
// against a bare child_process spawn of /bin/echo, each bare side with the environment the tool
// gives the program. Prints calls/s, p50 and p99 and the ratios.
// The confined side twice: as it runs, bwrap started by dist/bin/loom-close-fds (build first), and
// with LOOM_CLOSE_FDS="", bash closing the descriptors instead (as where the launcher was not built).
// Rounds alternate so every side meets the same load from neighbours.
// Run: node --import tsx test/bench/shell.bench.ts   (about 20 s)
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { IsolationMode } from '../../runtime/config';
import { defaultConfig } from '../../runtime/config/defaults';
import { silentLogger } from '../../runtime/log';
import { isolationStatus, registerBuiltinTools, DefaultToolRegistry } from '../../runtime/tools';
import { scrubbedEnv } from '../../runtime/tools/builtin/shell';
import { bwrapArguments, SANDBOX_HOME, workspaceConfinement } from '../../runtime/tools/isolation';

const CALLS_PER_ROUND = 100;
const ROUNDS = 4;

type Side = 'confined' | 'confinedBash' | 'bwrap' | 'open' | 'spawn';

function registry(ws: string, isolation: IsolationMode): DefaultToolRegistry {
  const config = defaultConfig(ws);
  config.tools.shell.isolation = isolation;
  const r = new DefaultToolRegistry({ defaultTimeoutMs: 30_000, log: silentLogger });
  registerBuiltinTools(r, config, silentLogger);
  return r;
}

/** Runs `file args` to its end with stdout and stderr piped, as a bare baseline would; resolves with stdout. */
function bare(file: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.resume();
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${file} exited ${code}`))));
  });
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

async function main(): Promise<void> {
  const status = isolationStatus('required');
  if (!status.available) {
    console.log(`isolation unavailable here (${status.detail}); nothing to compare`);
    process.exit(1);
  }
  const ws = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'loom-bench-shell-')));
  // A workspace as a running runtime has it, data folder included (and no placeholders for bwrap
  // to make, which the bare side would leave behind).
  fs.mkdirSync(path.join(ws, '.loom'));
  fs.writeFileSync(path.join(ws, 'loom.toml'), '');
  fs.mkdirSync(path.join(ws, '.git'));
  fs.mkdirSync(path.join(ws, '.vscode'));
  try {
    const confined = registry(ws, 'required');
    const open = registry(ws, 'off');
    const echo = ['/usr/bin/echo', '/bin/echo'].find((p) => fs.existsSync(p))!;
    // The environment system:shell gives the program (LANG makes echo set up its locale, 0.2 ms).
    const env = scrubbedEnv(defaultConfig(ws).tools.shell.envAllow, 'echo');
    const sandbox = bwrapArguments(workspaceConfinement(defaultConfig(ws), [ws], { cwd: ws, network: false }));
    const runs: Record<Side, () => Promise<unknown>> = {
      confined: async () => {
        const out = await confined.call({ name: 'system:shell', arguments: { command: 'echo', args: ['hi'] } });
        if (out.status !== 'ok' || !(out.output as { isolated: boolean }).isolated)
          throw new Error(`unexpected result: ${JSON.stringify(out)}`);
      },
      confinedBash: async () => {
        const before = process.env.LOOM_CLOSE_FDS;
        process.env.LOOM_CLOSE_FDS = '';
        try {
          await runs.confined();
        } finally {
          if (before === undefined) delete process.env.LOOM_CLOSE_FDS;
          else process.env.LOOM_CLOSE_FDS = before;
        }
      },
      bwrap: () => bare(status.detail, [...sandbox, echo, 'hi'], ws, { ...env, HOME: SANDBOX_HOME }),
      open: async () => {
        const out = await open.call({ name: 'system:shell', arguments: { command: 'echo', args: ['hi'] } });
        if (out.status !== 'ok' || (out.output as { isolated: boolean }).isolated)
          throw new Error(`unexpected result: ${JSON.stringify(out)}`);
      },
      spawn: () => bare(echo, ['hi'], ws, env),
    };
    const t: Record<Side, number[]> = { confined: [], confinedBash: [], bwrap: [], open: [], spawn: [] };
    const round = async (side: Side, into: number[]) => {
      for (let i = 0; i < CALLS_PER_ROUND; i++) {
        const start = process.hrtime.bigint();
        await runs[side]();
        into.push(Number(process.hrtime.bigint() - start) / 1e6);
      }
    };
    for (const side of Object.keys(runs) as Side[]) await round(side, []); // warm-up: the probe, the first spawns
    for (let i = 0; i < ROUNDS; i++) for (const side of Object.keys(runs) as Side[]) await round(side, t[side]);

    const figures = (xs: number[]) => {
      const sorted = [...xs].sort((a, b) => a - b);
      const total = xs.reduce((a, b) => a + b, 0);
      return { perSec: (xs.length / total) * 1000, p50: pct(sorted, 50), p99: pct(sorted, 99) };
    };
    const f = {
      confined: figures(t.confined),
      confinedBash: figures(t.confinedBash),
      bwrap: figures(t.bwrap),
      open: figures(t.open),
      spawn: figures(t.spawn),
    };
    const line = (name: string, x: ReturnType<typeof figures>) =>
      `${name.padEnd(40)} ${x.perSec.toFixed(0).padStart(6)} calls/s   p50 ${x.p50.toFixed(2).padStart(6)} ms   p99 ${x.p99.toFixed(2).padStart(6)} ms`;
    const ratio = (name: string, loom: ReturnType<typeof figures>, base: ReturnType<typeof figures>) =>
      `${name.padEnd(40)} calls/s x${(loom.perSec / base.perSec).toFixed(2)}   p50 x${(loom.p50 / base.p50).toFixed(2)}   (+${(loom.p50 - base.p50).toFixed(2)} ms)`;
    console.log(
      `system:shell echo hi vs the same program started bare, ${t.open.length} calls each, sequential, ${ROUNDS} alternating rounds (bwrap: ${status.detail}; isolation is "required" by default)`,
    );
    console.log(line('system:shell, isolated (bubblewrap)', f.confined));
    console.log(line('  the same, bash closing descriptors', f.confinedBash));
    console.log(line('bare bwrap spawn, same sandbox', f.bwrap));
    console.log(line('system:shell, isolation = off', f.open));
    console.log(line('bare child_process spawn', f.spawn));
    console.log(ratio('isolated vs bare bwrap', f.confined, f.bwrap));
    console.log(ratio('  the same, bash closing descriptors', f.confinedBash, f.bwrap));
    console.log(ratio('isolation off vs bare spawn', f.open, f.spawn));
    console.log(ratio('isolated vs isolation off', f.confined, f.open));
  } finally {
    fs.rmSync(ws, { recursive: true, force: true });
  }
}

void main();
