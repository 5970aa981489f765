// The palette's agent list, read from a real workspace folder with the runtime's config loader.
import * as assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listAgentEntries } from '../../../extension/agents/catalog';

describe('listAgentEntries', () => {
  let ws: string;
  beforeEach(() => {
    ws = mkdtempSync(join(tmpdir(), 'loom-catalog-'));
    mkdirSync(join(ws, 'agents'));
    for (const f of ['watcher.py', 'solo.py', '_util.py']) writeFileSync(join(ws, 'agents', f), '');
  });
  afterEach(() => rmSync(ws, { recursive: true, force: true }));

  it('lists declared agents (env naming keys only the runtime has) and the scripts no declaration runs', async () => {
    writeFileSync(
      join(ws, 'loom.toml'),
      '[agents.watch]\ncommand = "python"\nargs = ["agents/watcher.py"]\nenv = { KEY = "${LOOM_CATALOG_TEST_UNSET_KEY}" }\n',
    );
    assert.deepEqual(await listAgentEntries(ws), [
      { id: 'watch', source: 'config', script: 'agents/watcher.py' },
      { id: 'solo', source: 'script', script: 'agents/solo.py' },
    ]);
  });

  it('lists only scripts without a loom.toml', async () => {
    assert.deepEqual(
      (await listAgentEntries(ws)).map((e) => e.id),
      ['solo', 'watcher'],
    );
  });

  it('names loom.toml and the key when the file is wrong', async () => {
    writeFileSync(join(ws, 'loom.toml'), '[agents.watch]\ncommand = "python"\nrestart = "sometimes"\n');
    await assert.rejects(
      listAgentEntries(ws),
      /cannot list the agents: loom.toml has problems:\n.*loom\.toml.*agents\.watch\.restart/,
    );
  });
});
