// GetStats says how system:shell confines its programs: the real runtime, real gRPC, the real
// bubblewrap — and a runtime started with LOOM_BWRAP naming a bwrap that does not exist, which is
// how a machine without bubblewrap looks to it.
import { strict as assert } from 'node:assert';
import type { IsolationInfo__Output } from '../../runtime/proto/gen/loom/v1/IsolationInfo';
import { call, connect, type Clients } from '../support/grpc';
import { makeWorkspace, removeWorkspaces, startRuntime, stopAllRuntimes } from './helpers/runtime';

const MISSING_BWRAP = '/nonexistent/bwrap';

describe('GetStats reports the isolation of system:shell', function () {
  this.timeout(60_000);
  const clients: Clients[] = [];

  async function runtimeWith(toml: string, env: NodeJS.ProcessEnv = {}, args: string[] = []): Promise<Clients> {
    const rt = await startRuntime(makeWorkspace(toml), args, { env });
    const { address, token } = rt.discovery();
    const c = connect(address, { token });
    clients.push(c);
    return c;
  }

  async function isolationOf(c: Clients): Promise<IsolationInfo__Output> {
    const stats = await call(c.runtime, 'GetStats', {});
    assert.ok(stats.isolation, 'StatsResponse carries isolation');
    return stats.isolation;
  }

  after(async () => {
    for (const c of clients.splice(0)) c.close();
    await stopAllRuntimes();
    removeWorkspaces();
  });

  it('by default: required, available, through bubblewrap, in a trusted workspace', async () => {
    // The test machines have bubblewrap (setup installs it); LOOM_BWRAP unset means the fixed list.
    const c = await runtimeWith('', { LOOM_BWRAP: undefined });
    const iso = await isolationOf(c);
    assert.equal(iso.mode, 'required');
    assert.equal(iso.available, true, iso.detail);
    assert.equal(iso.mechanism, 'bubblewrap');
    assert.match(iso.detail, /bwrap$/, 'the detail is the bwrap that is used');
    assert.equal(iso.trusted, true);
    // And the shell does run, confined.
    const res = await call(c.tools, 'CallTool', {
      id: 'it-1',
      name: 'system:shell',
      arguments: JSON.stringify({ command: 'echo', args: ['hi'] }),
      timeoutMs: 20_000,
    });
    assert.equal(res.status, 'TOOL_OK', res.error?.message);
  });

  it('without bubblewrap: unavailable, naming it; system:shell over gRPC is refused naming tools.shell.isolation', async () => {
    const c = await runtimeWith('', { LOOM_BWRAP: MISSING_BWRAP });
    const iso = await isolationOf(c);
    assert.equal(iso.mode, 'required');
    assert.equal(iso.available, false);
    assert.equal(iso.mechanism, 'none');
    assert.match(iso.detail, /bubblewrap \(bwrap\) is not installed/);
    assert.ok(iso.detail.includes(MISSING_BWRAP), `the detail names where it looked: ${iso.detail}`);
    assert.equal(iso.trusted, true);

    const res = await call(c.tools, 'CallTool', {
      id: 'it-2',
      name: 'system:shell',
      arguments: JSON.stringify({ command: 'echo', args: ['hi'] }),
      timeoutMs: 20_000,
    });
    assert.equal(res.status, 'TOOL_ERROR');
    assert.equal(res.error?.code, 'unavailable');
    assert.match(res.error!.message, /tools\.shell\.isolation = "required"/);
    assert.match(res.error!.message, /bubblewrap/);
    assert.equal(res.output, '', 'nothing ran');
  });

  it('reports the setting in force: best-effort and off, still saying whether bubblewrap works', async () => {
    const bestEffort = await isolationOf(
      await runtimeWith('[tools.shell]\nisolation = "best-effort"\n', { LOOM_BWRAP: MISSING_BWRAP }),
    );
    assert.deepEqual(
      { mode: bestEffort.mode, available: bestEffort.available, mechanism: bestEffort.mechanism },
      { mode: 'best-effort', available: false, mechanism: 'none' },
    );
    const off = await isolationOf(await runtimeWith('[tools.shell]\nisolation = "off"\n', { LOOM_BWRAP: undefined }));
    assert.deepEqual(
      { mode: off.mode, available: off.available, mechanism: off.mechanism },
      { mode: 'off', available: true, mechanism: 'bubblewrap' },
    );
  });

  it('says when the workspace is not trusted (then system:shell runs nothing at all)', async () => {
    const iso = await isolationOf(await runtimeWith('', { LOOM_BWRAP: undefined }, ['--untrusted']));
    assert.equal(iso.trusted, false);
  });
});
