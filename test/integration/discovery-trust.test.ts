// Which runtime a window attaches to. A workspace may ship a .loom/runtime.json and window.json of
// its own (a red-team's clone named 192.0.2.2 and pid 1: the window connected there, gave its
// clipboard and editor tools to whoever listened, and "Stop Runtime" would have killed pid 1).
// Only a file this user's runtime wrote (this user's, 0600, no symbolic link) naming a loopback
// address is read, its pid must be this user's and listen there, and a stop signals only that.
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { attached, findRunning, windowCredentialOf } from '../../extension/runtime/launcher';
import { listensOn, ownProcessAlive, processAlive, type DiscoveryInfo } from '../../runtime/contract';
import { makeWorkspace, removeWorkspaces, startRuntime, stopAllRuntimes, type RuntimeProcess } from './helpers/runtime';

const answers = async () => true; // the bridge probe: what is under test is what comes before it

describe('attaching to a runtime named by a discovery file', function () {
  this.timeout(60_000);
  let rt: RuntimeProcess;
  let info: DiscoveryInfo;
  let other: Server;
  let otherPort: number;

  before(async () => {
    rt = await startRuntime(makeWorkspace());
    info = (await findRunning(rt.workspace, answers))!;
    other = createServer();
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    otherPort = (other.address() as { port: number }).port;
  });
  after(async () => {
    other.close();
    await stopAllRuntimes();
    removeWorkspaces();
  });

  it("finds this user's runtime and its window credential", () => {
    assert.equal(info.pid, rt.proc.pid);
    assert.match(windowCredentialOf(rt.workspace, info), /^[0-9a-f]{64}$/);
    assert.equal(listensOn(info.pid, Number(info.address.split(':').pop())), process.platform === 'linux' || undefined);
  });

  /** A workspace whose .loom holds `file` as runtime.json (and the real window credential); what findRunning says. */
  async function plant(content: object | string, mode = 0o600, setup?: (file: string) => void) {
    const ws = makeWorkspace();
    mkdirSync(join(ws, '.loom'), { recursive: true, mode: 0o700 });
    copyFileSync(join(rt.workspace, '.loom', 'window.json'), join(ws, '.loom', 'window.json'));
    const file = join(ws, '.loom', 'runtime.json');
    if (setup) setup(file);
    else writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content), { mode });
    chmodSync(join(ws, '.loom', 'window.json'), 0o600);
    const refused: string[] = [];
    const found = await findRunning(ws, answers, (why) => refused.push(why));
    return { ws, found, refused };
  }

  it('refuses a file others may read or change', async () => {
    const { found, refused } = await plant(info, 0o644);
    assert.equal(found, undefined);
    assert.match(refused.join(), /runtime\.json: its mode is 0644, not 0600/);
  });

  it('refuses a file of another user', async function () {
    if (process.getuid?.() !== 0) this.skip(); // only root can give a file away
    const { found, refused } = await plant(info, 0o600, (file) => {
      writeFileSync(file, JSON.stringify(info), { mode: 0o600 });
      chownSync(file, 12345, 12345);
    });
    assert.equal(found, undefined);
    assert.match(refused.join(), /it is owned by uid 12345, not by this user \(uid 0\)/);
  });

  it('refuses a symbolic link, even to the real file', async () => {
    const { found, refused } = await plant(info, 0o600, (file) =>
      symlinkSync(join(rt.workspace, '.loom', 'runtime.json'), file),
    );
    assert.equal(found, undefined);
    assert.match(refused.join(), /runtime\.json is a symbolic link/);
  });

  it('refuses an address off this machine', async () => {
    const { found, refused } = await plant({ ...info, address: '192.0.2.2:47123', pid: info.pid });
    assert.equal(found, undefined);
    assert.match(refused.join(), /names "192\.0\.2\.2:47123", not a loopback address/);
  });

  it('does not attach to pid 1, nor to a pid that does not listen on the address', async () => {
    assert.equal(ownProcessAlive(1), false);
    assert.equal((await plant({ ...info, pid: 1 })).found, undefined);
    // The runtime's own pid beside a port someone else listens on.
    const beside = await plant({ ...info, address: `127.0.0.1:${otherPort}` });
    assert.equal(beside.found, process.platform === 'linux' ? undefined : beside.found);
    assert.deepEqual(beside.refused, []);
  });

  it('stops only a pid that still serves the address: another process that took the pid is left alone', async () => {
    const sleeper = spawn('sleep', ['60'], { stdio: 'ignore' });
    try {
      const named = { ...info };
      const handle = attached(rt.workspace, named);
      named.pid = sleeper.pid!; // as when the runtime died and another process got its pid
      await handle.stop(500);
      assert.equal(processAlive(sleeper.pid!), true, 'the sleeper is alive');
    } finally {
      sleeper.kill('SIGKILL');
    }
    assert.equal(processAlive(rt.proc.pid!), true);
  });
});
