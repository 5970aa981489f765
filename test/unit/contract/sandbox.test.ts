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

  it('without a loom.toml, or with a data_dir the runtime would refuse, hides the default', async () => {
    const sandbox = new Sandbox(Sandbox.optionsForClient(ws, []));
    await refused(sandbox, '.loom/window.json');
    fs.writeFileSync(path.join(ws, 'loom.toml'), '[runtime]\ndata_dir = "../elsewhere"\n');
    await refused(new Sandbox(Sandbox.optionsForClient(ws, [])), '.loom/window.json');
  });
});
