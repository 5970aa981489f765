import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dataDirOf } from '../../../runtime/config';

describe('config: dataDirOf (where clients look for the discovery file)', () => {
  let ws: string;
  beforeEach(() => (ws = mkdtempSync(join(tmpdir(), 'loom-datadir-'))));
  afterEach(() => rmSync(ws, { recursive: true, force: true }));

  it('is .loom without a loom.toml, or when the file does not say', () => {
    assert.equal(dataDirOf(ws), '.loom');
    writeFileSync(join(ws, 'loom.toml'), '[watcher]\nenabled = false\n');
    assert.equal(dataDirOf(ws), '.loom');
  });

  it('follows [runtime] data_dir', () => {
    writeFileSync(join(ws, 'loom.toml'), '[runtime]\ndata_dir = "state/loom"\n');
    assert.equal(dataDirOf(ws), 'state/loom');
  });

  it('falls back to the default for a file the runtime itself would refuse', () => {
    writeFileSync(join(ws, 'loom.toml'), '[runtime\ndata_dir = ');
    assert.equal(dataDirOf(ws), '.loom');
  });
});
