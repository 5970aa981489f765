// The sandbox a client builds (the window's editor tools): it finds the data folder from loom.toml
// as the runtime does. It hid only the default .loom, so with `data_dir = "state"` an agent could
// read the window's credential and the workspace token through editor:replace (red-team finding).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Sandbox, ToolError } from '../../../runtime/contract';

describe('contract: the sandbox a client builds from loom.toml', () => {
  let ws: string;
  beforeEach(() => {
    ws = fs.mkdtempSync(path.join(os.tmpdir(), 'loom-client-sandbox-'));
    for (const dir of ['state', '.loom']) {
      fs.mkdirSync(path.join(ws, dir));
      fs.writeFileSync(path.join(ws, dir, 'window.json'), '{"token":"secret"}');
    }
    fs.writeFileSync(path.join(ws, 'notes.txt'), 'fine');
  });
  afterEach(() => fs.rmSync(ws, { recursive: true, force: true }));

  const refused = async (sandbox: Sandbox, p: string) => {
    for (const resolve of [sandbox.resolve.bind(sandbox), sandbox.resolveForWrite.bind(sandbox)])
      await assert.rejects(
        resolve(p),
        (err: unknown) => err instanceof ToolError && err.code === 'denied' && /data folder/.test(err.message),
        p,
      );
  };

  it('hides the data folder loom.toml names, and the default one', async () => {
    fs.writeFileSync(path.join(ws, 'loom.toml'), '[runtime]\ndata_dir = "state"\n');
    const sandbox = new Sandbox(Sandbox.optionsForClient(ws, []));
    await refused(sandbox, 'state/window.json');
    await refused(sandbox, './state/../state/window.json');
    await refused(sandbox, '.loom/window.json');
    assert.equal((await sandbox.resolve('notes.txt')).real, path.join(fs.realpathSync(ws), 'notes.txt'));
  });

  it('refuses writes to the Dev Containers files, whose commands run on this machine', async () => {
    const sandbox = new Sandbox(Sandbox.optionsForClient(ws, []));
    for (const p of ['.devcontainer/devcontainer.json', '.devcontainer.json', '.env', 'team.code-workspace'])
      await assert.rejects(
        sandbox.resolveForWrite(p),
        new RegExp(`path "${p.replaceAll('.', '\\.')}" is .*which tools may not change`),
      );
    assert.ok((await sandbox.resolveForWrite('notes/devcontainer.json')).real.endsWith('devcontainer.json'));
    assert.ok((await sandbox.resolveForWrite('notes/a.code-workspace')).real.endsWith('a.code-workspace'));
    assert.ok(
      (await sandbox.resolveForWrite('.code-workspace')).real.endsWith('.code-workspace'),
      'a name that is only the suffix',
    );
  });

  it('without a loom.toml, or with a data_dir the runtime would refuse, hides the default', async () => {
    const sandbox = new Sandbox(Sandbox.optionsForClient(ws, []));
    await refused(sandbox, '.loom/window.json');
    fs.writeFileSync(path.join(ws, 'loom.toml'), '[runtime]\ndata_dir = "../elsewhere"\n');
    await refused(new Sandbox(Sandbox.optionsForClient(ws, [])), '.loom/window.json');
  });
});

// The path sandbox (system:shell's arguments when a command runs unconfined, and the editor
// tools) refused loom.toml, .git and .vscode by name only: a loom.toml that is a symlink to
// cfg.toml, or a .git file naming ".bare" (a common worktree layout), let a write reach them
// under the other name (review finding). The runtime's file tools compare identities.
describe('contract: the protected places under other names', () => {
  let ws: string;
  let sandbox: Sandbox;
  beforeEach(() => {
    ws = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'loom-protected-')));
    fs.writeFileSync(path.join(ws, 'cfg.toml'), '[runtime]\n');
    fs.symlinkSync('cfg.toml', path.join(ws, 'loom.toml'));
    fs.mkdirSync(path.join(ws, '.bare', 'hooks'), { recursive: true });
    fs.mkdirSync(path.join(ws, '.bare', 'worktrees', 'w'), { recursive: true });
    fs.writeFileSync(path.join(ws, '.bare', 'config'), '[core]\n');
    fs.writeFileSync(path.join(ws, '.git'), 'gitdir: ./.bare\n');
    fs.mkdirSync(path.join(ws, 'settings'));
    fs.symlinkSync('settings', path.join(ws, '.vscode'));
    fs.writeFileSync(path.join(ws, 'notes.txt'), 'fine');
    sandbox = new Sandbox(Sandbox.optionsForClient(ws, []));
  });
  afterEach(() => fs.rmSync(ws, { recursive: true, force: true }));

  const refusedForWrite = async (p: string, place: RegExp) =>
    assert.rejects(
      sandbox.resolveForWrite(p),
      (err: unknown) => err instanceof ToolError && err.code === 'denied' && place.test(err.message),
      p,
    );

  it('refuses writes to them by any name, and allows the rest', async () => {
    await refusedForWrite('cfg.toml', /the workspace's loom\.toml under another name/);
    await refusedForWrite('.bare/config', /\.git folder under another name/);
    await refusedForWrite('.bare/hooks/pre-commit', /\.git folder under another name/);
    await refusedForWrite('settings/tasks.json', /\.vscode folder under another name/);
    assert.ok((await sandbox.resolveForWrite('notes.txt')).real.endsWith('notes.txt'));
    // Reading them stays allowed, as for the file tools.
    assert.ok((await sandbox.resolve('.bare/config')).exists);
  });

  it('a linked worktree: the repository its commondir names', async () => {
    fs.rmSync(path.join(ws, '.git'));
    fs.writeFileSync(path.join(ws, '.git'), 'gitdir: .bare/worktrees/w\n');
    fs.writeFileSync(path.join(ws, '.bare', 'worktrees', 'w', 'commondir'), '../..\n');
    await refusedForWrite('.bare/config', /\.git folder under another name/);
  });

  it('a place the git config names that is not there yet: a write making it is refused, the rest allowed', async () => {
    fs.appendFileSync(path.join(ws, '.bare', 'config'), '[include]\n\tpath = ../inc/extra.cfg\n');
    const made = /would make .*inc\/extra\.cfg, which the workspace's git config names/;
    await refusedForWrite('inc/extra.cfg', made);
    await refusedForWrite('inc', made); // the folder on the way to it
    await refusedForWrite('./inc/../inc/extra.cfg', made);
    assert.ok((await sandbox.resolveForWrite('.')).exists); // the root above it, which exists
    assert.equal((await sandbox.resolveForWrite('inc2/extra.cfg')).exists, false);
    assert.equal((await sandbox.resolveForWrite('extra.cfg')).exists, false);
    // Once it exists it is the .git folder's like any place its config names.
    fs.mkdirSync(path.join(ws, 'inc'));
    fs.writeFileSync(path.join(ws, 'inc', 'extra.cfg'), '');
    await refusedForWrite('inc/extra.cfg', /\.git folder under another name/);
    assert.ok((await sandbox.resolveForWrite('inc/other.cfg')).real.endsWith('other.cfg'));
  });

  it('looks them up again for each path, and each command: a .git file changed names a new place at once', async () => {
    fs.mkdirSync(path.join(ws, 'other'));
    fs.writeFileSync(path.join(ws, 'other', 'config'), '[core]\n');
    const before = sandbox.forOneCommand();
    assert.ok((await sandbox.resolveForWrite('other/config')).exists);
    assert.ok((await before.resolveForWrite('other/config')).exists);
    fs.writeFileSync(path.join(ws, '.git'), 'gitdir: ./other\n');
    await refusedForWrite('other/config', /\.git folder under another name/);
    // A command judged from now on (system:shell makes a view per command, which keeps the places
    // it looked up for its other paths) sees it too.
    await assert.rejects(sandbox.forOneCommand().resolveForWrite('other/config'), /\.git folder under another name/);
  });
});
