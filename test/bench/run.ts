// Runs every benchmark in this folder one after another (they compete for 2 cores otherwise).
// Each prints its figures beside a baseline measured in the same run.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const dir = __dirname;
const only = process.argv.slice(2);
const benches = readdirSync(dir)
  .filter((f) => /\.bench\.(ts|py)$/.test(f))
  .filter((f) => only.length === 0 || only.some((o) => f.startsWith(o)))
  .sort();

let failed = 0;
for (const file of benches) {
  console.log(`\n=== ${file}`);
  const python = process.env.LOOM_PYTHON ?? join(dir, '..', '..', '.venv', 'bin', 'python');
  const [cmd, args] = file.endsWith('.py')
    ? [python, [join(dir, file)]]
    : [process.execPath, ['--import', 'tsx', join(dir, file)]];
  const r = spawnSync(cmd, args, { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
