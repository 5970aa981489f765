// The window's side of agents, apart from vscode: the runtime's lifecycle events as the agent
// channels and notifications read them, the StartAgent request for a script of the catalog, the
// runtime's reload report, and an ad-hoc agent's row in the Agents view.
import { strict as assert } from 'node:assert';
import { startRequest } from '../../../extension/agents/adhoc';
import { agentFailed, readLifecycle, ringLine } from '../../../extension/agents/lifecycle';
import { restartSections } from '../../../extension/config/reloadOutcome';
import { agentDescription } from '../../../extension/views/agentText';

const json = (v: unknown) => Buffer.from(JSON.stringify(v));

describe('extension: agents as the runtime reports them', () => {
  it('reads a log line, marking stderr; a payload that is not JSON is shown as it came', () => {
    assert.deepEqual(readLifecycle('agent.solo.log', json({ stream: 'stdout', line: 'hi' })), {
      agentId: 'solo',
      kind: 'log',
      line: 'hi',
    });
    assert.deepEqual(readLifecycle('agent.solo.log', json({ stream: 'stderr', line: 'oops' })), {
      agentId: 'solo',
      kind: 'log',
      line: '[stderr] oops',
    });
    assert.deepEqual(readLifecycle('agent.solo.log', Buffer.from('raw')), {
      agentId: 'solo',
      kind: 'log',
      line: 'raw',
    });
    assert.equal(readLifecycle('agent', json({})), undefined);
    // An id with dots (a script agents/team.alpha.py runs as "team.alpha").
    assert.deepEqual(readLifecycle('agent.team.alpha.log', json({ stream: 'stdout', line: 'hi' })), {
      agentId: 'team.alpha',
      kind: 'log',
      line: 'hi',
    });
    // Not the runtime's word: an agent's reply inbox, or a kind the runtime never publishes.
    assert.equal(readLifecycle('agent.solo.replies', json({ reason: 'x' })), undefined);
    assert.equal(readLifecycle('agent.solo.exited', json({ reason: 'run pip install fix' })), undefined);
    assert.equal(ringLine({ stream: 'stderr', line: 'x' }), '[stderr] x');
  });

  it('calls a failure what the person did not ask for and what did not end cleanly', () => {
    const failure = (kind: string, reason: string) => {
      const note = readLifecycle(`agent.a.${kind}`, json({ reason }));
      return note && 'failure' in note ? note.failure : undefined;
    };
    assert.equal(failure('failed', 'crashed 6 times'), true);
    assert.equal(failure('stopped', 'exited with code 3'), true);
    assert.equal(failure('stopped', 'exited with code 0'), false);
    assert.equal(failure('stopped', 'stop requested'), false);
    // The runtime stopping an ad-hoc agent because its window left is no failure either.
    assert.equal(failure('stopped', 'stop requested: the stream of "vscode" that started it ended'), false);
    assert.equal(
      readLifecycle('agent.a.crashed', json({ reason: 'killed by SIGKILL' }))!.line,
      '— crashed: killed by SIGKILL',
    );
    assert.equal(agentFailed({ state: 'stopped', lastError: 'exited with code 3', supervised: true }), true);
    assert.equal(agentFailed({ state: 'stopped', lastError: '', supervised: true }), false);
  });

  it('asks the runtime to run a script of agents/, kept alive with the runtime or not', () => {
    assert.deepEqual(startRequest({ id: 'solo', source: 'script', script: 'agents/solo.py' }, true, { K: 'v' }), {
      agentId: 'solo',
      script: 'agents/solo.py',
      args: [],
      cwd: '',
      env: { K: 'v' },
      keepAlive: true,
      restart: '',
    });
    assert.throws(() => startRequest({ id: 'x', source: 'script' }, false, {}), /agent "x" has no script to run/);
  });

  it('reads the sections a loom.toml reload needs a restart for', () => {
    assert.deepEqual(restartSections(json({ restart_needed: ['bridge', 'bus'] })), ['bridge', 'bus']);
    assert.deepEqual(restartSections(json({ restartNeeded: ['mcp'] })), ['mcp']);
    assert.deepEqual(restartSections(json({})), []);
    assert.equal(restartSections(Buffer.from('not json')), undefined);
  });

  it('shows an ad-hoc agent as such in the Agents view', () => {
    assert.equal(
      agentDescription({ state: 'connected', adHoc: true, pid: 7, lastHeartbeatMs: 1000 }, 1000),
      'connected · ad-hoc · pid 7 · heartbeat 0s ago',
    );
    assert.equal(
      agentDescription({ state: 'connected', pid: 7, lastHeartbeatMs: 1000 }, 1000),
      'connected · pid 7 · heartbeat 0s ago',
    );
  });
});
