// The placeholder of a missing protected file (an empty read-only file bound over .env,
// loom.toml…, runtime/tools/isolation/bubblewrap.ts) lives in a folder of its process's in the
// temporary folder. The process removes it as it exits; a SIGKILL skips that, so the next process
// that makes a placeholder removes the folders of processes that are gone, and only those.
import { strict as assert } from 'node:assert';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const MODULE = path.join(__dirname, '..', '..', '..', 'runtime', 'tools', 'isolation', 'bubblewrap.ts');

describe('isolation: the placeholder file of a missing protected file', function () {
  this.timeout(60_000);
  let ws: string;
  const children: ChildProcess[] = [];
  before(() => (ws = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'loom-placeholder-')))));
  after(() => {
    for (const c of children) c.kill('SIGKILL');
    fs.rmSync(ws, { recursive: true, force: true });
  });

  /** A program that works out a sandbox with a missing .env, prints its placeholder's path, and then waits (or not). */
  const program = (wait: boolean) => `
    const { bwrapArguments } = require(${JSON.stringify(MODULE)});
    const ws = ${JSON.stringify(ws)};
    const env = ws + '/.env';
    const args = bwrapArguments({ writable: [ws], protect: [{ path: env, dir: false }], pin: [], hide: [],
      readOnly: [], network: false, placeholders: true, cwd: ws, home: '/tmp/home' });
    console.log(args[args.indexOf(env) - 1]);
    ${wait ? 'setInterval(() => {}, 1000);' : ''}`;
  const nodeArgs = (wait: boolean) => ['--import', 'tsx', '-e', program(wait)];

  /** Starts a process that keeps running; its placeholder's folder. */
  async function running(): Promise<{ child: ChildProcess; folder: string }> {
    const child = spawn(process.execPath, nodeArgs(true), { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(child);
    const file = await new Promise<string>((resolve, reject) => {
      child.stdout!.once('data', (d: Buffer) => resolve(d.toString().trim()));
      child.once('exit', (code) => reject(new Error(`exited with ${code}`)));
    });
    return { child, folder: path.dirname(file) };
  }

  it("a killed process's folder goes when the next process makes its placeholder; a live one's stays", async () => {
    const live = await running();
    const killed = await running();
    for (const p of [live, killed]) {
      assert.match(path.basename(p.folder), new RegExp(`^loom-empty-${p.child.pid}-`));
      assert.equal(fs.readFileSync(path.join(p.folder, 'empty'), 'utf8'), '');
    }
    killed.child.kill('SIGKILL');
    await new Promise((r) => killed.child.once('exit', r));
    assert.ok(fs.existsSync(killed.folder), 'a SIGKILL leaves the folder');

    const next = spawnSync(process.execPath, nodeArgs(false), { encoding: 'utf8' });
    assert.equal(next.status, 0, next.stderr);
    assert.ok(!fs.existsSync(killed.folder), "the killed process's folder is still there");
    assert.ok(fs.existsSync(path.join(live.folder, 'empty')), "the live process's placeholder was removed");
    assert.ok(!fs.existsSync(path.dirname(next.stdout.trim())), 'a process that exits removes its own');

    live.child.kill('SIGKILL');
    await new Promise((r) => live.child.once('exit', r));
    fs.rmSync(live.folder, { recursive: true, force: true });
  });
});
