// The runtime follows loom.toml: [agents] tables added, changed and removed take effect on save;
// other sections are reported as needing a restart; a broken file changes nothing; an agent
// declared a moment ago can be started at once (the runtime re-reads the file before refusing).
import { strict as assert } from 'node:assert';
import { processAlive as alive } from '../../runtime/contract/process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { call, connect, type Clients } from '../support/grpc';
import {
  makeWorkspace,
  removeWorkspaces,
  REPO,
  startRuntime,
  stopAllRuntimes,
  type RuntimeProcess,
  PYTHON,
} from './helpers/runtime';

/** An agent that writes its pid to <name>.pid and sleeps; `tag` changes its command line. */
const sleeper = (id: string, tag: string, extra = '') => `
[agents.${id}]
command = ${JSON.stringify(PYTHON)}
args = ["-c", "import os, time; open('${id}.pid', 'w').write(str(os.getpid())); time.sleep(1000)", "${tag}"]
restart = "never"
${extra}
`;

describe('the runtime follows loom.toml', function () {
  this.timeout(120_000);
  let rt: RuntimeProcess;
  let ws: string;
  let c: Clients;
  const pidOf = (id: string) =>
    existsSync(join(ws, `${id}.pid`)) ? Number(readFileSync(join(ws, `${id}.pid`), 'utf8')) || undefined : undefined;
  const agentState = async (id: string) =>
    (await call(c.runtime, 'ListAgents', {})).agents.find((a) => a.agentId === id);

  before(async () => {
    ws = makeWorkspace('[watcher]\nenabled = false\n');
    rt = await startRuntime(ws);
    c = connect(rt.discovery().address, { token: rt.discovery().token });
  });
  after(async () => {
    c.close();
    await stopAllRuntimes();
    removeWorkspaces();
  });

  it('starts an agent whose table is added, restarts it when its table changes, stops it when the table goes', async () => {
    writeFileSync(join(ws, 'loom.toml'), '[watcher]\nenabled = false\n' + sleeper('added', 'v1'));
    const first = await rt.waitFor('the added agent to run', () => pidOf('added'), 30_000);
    assert.equal((await agentState('added'))?.supervised, true);

    writeFileSync(join(ws, 'loom.toml'), '[watcher]\nenabled = false\n' + sleeper('added', 'v2'));
    const second = await rt.waitFor(
      'the changed agent to restart',
      () => (pidOf('added') !== first ? pidOf('added') : undefined),
      30_000,
    );
    await rt.waitFor('the old process to end', () => !alive(first));
    assert.ok(alive(second));

    writeFileSync(join(ws, 'loom.toml'), '[watcher]\nenabled = false\n');
    await rt.waitFor('the removed agent to stop', () => !alive(second), 30_000);
    await rt.waitFor('the runtime to forget it', () =>
      rt.logs.some((l) => l.msg === 'loom.toml reloaded' && (l.removed as string[]).includes('added')),
    );
    const control = await call(c.runtime, 'ControlAgent', { agentId: 'added', action: 'start' });
    assert.equal(control.success, false);
    assert.match(control.errorMessage, /no agent "added" is declared in loom.toml/);
  });

  it('starts a table declared a moment ago on request, without waiting for the file watch (New Agent, then Start Agent)', async () => {
    writeFileSync(join(ws, 'loom.toml'), '[watcher]\nenabled = false\n' + sleeper('fresh', 'v1', 'autostart = false'));
    const res = await call(c.runtime, 'ControlAgent', { agentId: 'fresh', action: 'start' });
    assert.equal(res.success, true, res.errorMessage);
    await rt.waitFor('the fresh agent to run', () => pidOf('fresh'), 30_000);
  });

  it('keeps running on what it had when the file stops parsing, and says why; says which other changes need a restart', async () => {
    const before = rt.logs.length;
    writeFileSync(
      join(ws, 'loom.toml'),
      '[watcher]\nenabled = false\n' +
        sleeper('fresh', 'v1', 'autostart = false') +
        '\n[runtime]\nlog_levle = "debug"\n',
    );
    const bad = await rt.waitForLog(
      'the bad file to be reported',
      (l) => rt.logs.indexOf(l) >= before && l.msg === 'loom.toml changed but is not valid: nothing was applied',
    );
    assert.match(String(bad.error), /log_levle/);
    assert.ok(alive(pidOf('fresh')!), 'the running agent was left alone');

    writeFileSync(
      join(ws, 'loom.toml'),
      '[watcher]\nenabled = false\n' + sleeper('fresh', 'v1', 'autostart = false') + '\n[bus]\nmax_hops = 3\n',
    );
    const restart = await rt.waitForLog(
      'the restart notice',
      (l) => rt.logs.indexOf(l) >= before && l.msg === 'loom.toml changes that apply after a runtime restart',
    );
    assert.deepEqual(restart.sections, ['bus']);
    assert.ok(alive(pidOf('fresh')!), 'an unchanged agent is not restarted');
  });
});
