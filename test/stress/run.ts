// The stress suite: soak, fuzz, crash (kill -9 during store writes and batched delivery, a closed
// stderr, a crash-looping agent). `npm run stress` runs the full one (about 80 minutes);
// `--short` runs each part for a few seconds, as `npm test` does. Parts are mocha files
// (test/stress/*.stress.ts), so their results count like any suite's; each prints one
// "STRESS <part>: ..." line with its figures, repeated at the end.
// Usage: node --import tsx test/stress/run.ts [--short] [--grep=<text>] [part...]   (part: soak, fuzz, crash)
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';

const args = process.argv.slice(2);
const short = args.includes('--short');
const only = args.filter((a) => !a.startsWith('--'));
const grep = args.find((a) => a.startsWith('--grep='))?.slice('--grep='.length);
const files = readdirSync(__dirname)
  .filter((f) => f.endsWith('.stress.ts'))
  .filter((f) => only.length === 0 || only.some((o) => f.startsWith(o)))
  .sort()
  .map((f) => relative(process.cwd(), join(__dirname, f)));

const mocha = join(__dirname, '..', '..', 'node_modules', 'mocha', 'bin', 'mocha.js');
const child = spawn(process.execPath, [mocha, '--timeout', '0', ...(grep ? ['--grep', grep] : []), ...files], {
  env: { ...process.env, LOOM_STRESS: short ? 'short' : 'full' },
  stdio: ['ignore', 'pipe', 'inherit'],
});
const summaries: string[] = [];
child.stdout.setEncoding('utf8');
let pending = '';
child.stdout.on('data', (chunk: string) => {
  process.stdout.write(chunk);
  const lines = (pending + chunk).split('\n');
  pending = lines.pop()!;
  for (const l of lines) if (/^\s*STRESS /.test(l)) summaries.push(l.trim());
});
child.on('exit', (code, signal) => {
  console.log(`\nstress summary (${short ? 'short' : 'full'}):`);
  for (const s of summaries) console.log(`  ${s}`);
  process.exit(code ?? (signal ? 1 : 0));
});
