// The files [cluster] names hold the deployment's credentials or decide whom it trusts: inside the
// workspace, agents and their tools' commands would read and replace them (a red-team agent read an
// NKey seed with fs:read and then called every runtime's tools as anyone). The runtime refuses to
// start with one there, naming the key, by the path as written and by where a link leads.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeWorkspace, removeWorkspaces, startRuntime, stopAllRuntimes } from '../helpers/runtime';

const SEED = 'SUAKYNXLMPQEEY5UCSYJI4QQAGJASQ3O4BVNO75OCXJKNQIJFKP45O66MI\n';

describe('cluster: credential and TLS files outside the workspace', function () {
  this.timeout(60_000);
  const outside = mkdtempSync(join(tmpdir(), 'loom-it-cluster-files-'));
  after(async () => {
    await stopAllRuntimes();
    removeWorkspaces();
    rmSync(outside, { recursive: true, force: true });
  });

  // Port 9 (discard) on loopback: nothing answers, so the runtime starts and keeps trying.
  const cluster = (lines: string) => `[cluster]\nservers = ["nats://127.0.0.1:9"]\nnode = "n"\n${lines}\n`;

  async function refusal(toml: string, prepare: (ws: string) => void): Promise<string> {
    const ws = makeWorkspace(toml);
    prepare(ws);
    const rt = await startRuntime(ws, [], { ready: false });
    await rt.exited;
    assert.notEqual(rt.exitCode, 0, 'the runtime started');
    return rt.stderrText.join('\n');
  }

  for (const [key, line] of [
    ['nkey_seed_file', 'nkey_seed_file = "nats.nk"'],
    ['creds_file', 'creds_file = "sub/me.creds"'],
    ['tls.ca_file', '[cluster.tls]\nca_file = "nats.nk"'],
  ] as const)
    it(`refuses ${key} inside the workspace, naming the key and where to put it`, async () => {
      const stderr = await refusal(cluster(line), (ws) => writeFileSync(join(ws, 'nats.nk'), SEED));
      assert.match(stderr, new RegExp(`cluster\\.${key.replace('.', '\\.')}: .* lies inside the workspace`));
      assert.match(stderr, /move it outside the workspace/);
    });

  it('refuses a link inside the workspace that leads outside (an agent could point it elsewhere)', async () => {
    writeFileSync(join(outside, 'real.nk'), SEED);
    const stderr = await refusal(cluster('nkey_seed_file = "link.nk"'), (ws) =>
      symlinkSync(join(outside, 'real.nk'), join(ws, 'link.nk')),
    );
    assert.match(stderr, /cluster\.nkey_seed_file: .*link\.nk lies inside the workspace/);
  });

  it('refuses a path outside that a link leads back into the workspace', async () => {
    const ws = makeWorkspace(cluster(''));
    writeFileSync(join(ws, 'nats.nk'), SEED);
    symlinkSync(join(ws, 'nats.nk'), join(outside, 'back.nk'));
    writeFileSync(join(ws, 'loom.toml'), cluster(`nkey_seed_file = "${join(outside, 'back.nk')}"`));
    const rt = await startRuntime(ws, [], { ready: false });
    await rt.exited;
    assert.match(rt.stderrText.join('\n'), /cluster\.nkey_seed_file: .*back\.nk lies inside the workspace/);
  });

  it('takes a seed outside the workspace and starts (trying to reach NATS)', async () => {
    writeFileSync(join(outside, 'good.nk'), SEED);
    const rt = await startRuntime(makeWorkspace(cluster(`nkey_seed_file = "${join(outside, 'good.nk')}"`)));
    await rt.waitForLog('the cluster trying to connect', (l) => l.component === 'cluster');
    assert.ok(!rt.stderrText.join('\n').includes('lies inside the workspace'));
    await rt.stop();
  });
});
