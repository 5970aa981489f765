// Which runtime a window attaches to. A workspace may ship a .loom/runtime.json and window.json of
// its own (a red-team's clone named 192.0.2.2 and pid 1: the window connected there, gave its
// clipboard and editor tools to whoever listened, and "Stop Runtime" would have killed pid 1).
// Only a file this user's runtime wrote (this user's, 0600, no symbolic link) naming a loopback
// address is read, its pid must be this user's and listen there, and a stop signals only that.
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { attached, findRunning, windowCredentialOf } from '../../extension/runtime/launcher';
import {
  listensOn,
  ownProcessAlive,
  processAlive,
  readDiscoveryFile,
  type DiscoveryInfo,
} from '../../runtime/contract';
import { call, connect, type Clients } from '../support/grpc';
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
    const port = Number(info.address.split(':').pop());
    assert.equal(listensOn(info.pid, '127.0.0.1', port), process.platform === 'linux' || undefined);
    if (process.platform === 'linux')
      assert.equal(listensOn(info.pid, '::1', port), false, 'the other loopback address');
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
    if (process.platform === 'linux') {
      assert.equal(beside.found, undefined);
      assert.match(
        beside.refused.join(),
        new RegExp(`pid ${info.pid} is running but does not listen on 127\\.0\\.0\\.1:${otherPort}`),
      );
    }
    // "localhost" may resolve to ::1, where another user could listen: the runtime never writes it.
    const named = await plant({ ...info, address: info.address.replace('127.0.0.1', 'localhost') });
    assert.equal(named.found, undefined);
    assert.match(named.refused.join(), /not a loopback address/);
  });

  it('takes a file of the runtime the caller started whatever its mode (a file system without modes shows 0777)', async () => {
    const { ws } = await plant(info, 0o644);
    const file = join(ws, '.loom', 'runtime.json');
    assert.equal(readDiscoveryFile(file), undefined);
    assert.equal(readDiscoveryFile(file, undefined, info.pid)?.pid, info.pid);
    assert.equal(readDiscoveryFile(file, undefined, info.pid + 1), undefined, 'another pid: refused');
  });

  it('stops only a pid that still serves the address: another process that took the pid is left alone', async function () {
    if (process.platform !== 'linux') this.skip(); // who listens is read from /proc
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

describe('a runtime serving a subfolder of another runtime’s workspace', function () {
  this.timeout(60_000);
  const clients: Clients[] = [];
  let registry = '';
  after(async () => {
    for (const c of clients) c.close();
    await stopAllRuntimes();
    removeWorkspaces();
    if (registry) rmSync(registry, { recursive: true, force: true });
  });

  it("the outer runtime's tools cannot read the inner one's tokens while it runs", async () => {
    registry = mkdtempSync(join(tmpdir(), 'loom-registry-'));
    const env = { XDG_RUNTIME_DIR: registry };
    const outer = await startRuntime(makeWorkspace(), [], { env });
    const innerWs = join(outer.workspace, 'packages', 'app');
    mkdirSync(innerWs, { recursive: true });
    const inner = await startRuntime(innerWs, [], { env });
    const c = connect(outer.discovery().address, { token: outer.discovery().token });
    clients.push(c);
    const read = (path: string) =>
      call(c.tools, 'CallTool', { id: path, name: 'fs:read', arguments: JSON.stringify({ path }) });
    for (const file of ['packages/app/.loom/window.json', 'packages/app/.loom/runtime.json']) {
      const out = await read(file);
      assert.equal(out.status, 'TOOL_ERROR', JSON.stringify(out));
      assert.match(out.error!.message, /data folder/);
    }
    const shell = await call(c.tools, 'CallTool', {
      id: 'cat',
      name: 'system:shell',
      arguments: JSON.stringify({ command: 'ls', args: ['-A', 'packages/app/.loom'] }),
    });
    assert.ok(!JSON.stringify(shell).includes('window.json'), JSON.stringify(shell));
    await inner.stop('SIGTERM');
    // Ended: its folder is an ordinary one again (its tokens ended with it), at once.
    const listed = await call(c.tools, 'CallTool', {
      id: 'ls',
      name: 'fs:list',
      arguments: JSON.stringify({ path: 'packages/app/.loom' }),
    });
    assert.equal(listed.status, 'TOOL_OK', JSON.stringify(listed));
  });
});
