// Without [cluster] the runtime loads no NATS client at all; with it, it does. Each case runs the
// runtime in a fresh Node process (this one has loaded the client for the other cluster tests)
// and reads that process's module cache.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { makeWorkspace, removeWorkspaces, REPO } from '../helpers/runtime';

const SCRIPT = `
const { startRuntime } = require(${JSON.stringify(join(REPO, 'runtime', 'main.ts'))});
(async () => {
  const rt = await startRuntime({ workspace: process.argv[1], log: { debug() {}, info() {}, warn() {}, error() {}, child() { return this; } } });
  const loaded = Object.keys(require.cache).filter((k) => k.includes('@nats-io'));
  await rt.stop();
  process.stdout.write(JSON.stringify({ loaded: loaded.length }));
})().catch((err) => { console.error(err); process.exit(1); });
`;

function natsModulesLoaded(toml: string): number {
  const ws = makeWorkspace(toml);
  const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', SCRIPT, ws], {
    cwd: REPO,
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(r.status, 0, r.stderr);
  return (JSON.parse(r.stdout) as { loaded: number }).loaded;
}

describe('cluster: the NATS client is loaded only with [cluster]', function () {
  this.timeout(120_000);
  after(() => removeWorkspaces());

  it('a runtime without [cluster] loads no NATS module', () => {
    assert.equal(natsModulesLoaded('[runtime]\nlog_level = "error"\n'), 0);
  });

  it('a runtime with [cluster] loads it (so the check above can fail)', () => {
    // Nothing listens on port 1: the runtime starts, keeps trying in the background, and stops.
    assert.ok(natsModulesLoaded('[cluster]\nservers = ["nats://127.0.0.1:1"]\nshare = ["a.>"]\n') > 0);
  });
});
