// The Agents tree's row descriptions.
import * as assert from 'node:assert/strict';
import { agentDescription, heartbeatText } from '../../../extension/views/agentText';

describe('Agents tree row text', () => {
  it('says how long ago the last heartbeat was', () => {
    const now = 1_000_000_000;
    assert.equal(heartbeatText(now - 4_200, now), 'heartbeat 4s ago');
    assert.equal(heartbeatText(now - 300_000, now), 'heartbeat 5m ago');
    assert.equal(heartbeatText(now - 3 * 3_600_000, now), 'heartbeat 3h ago');
    assert.equal(heartbeatText(0, now), 'no heartbeat');
  });

  it('describes a connected agent with pid, restarts and heartbeat, and a stopped one without heartbeat', () => {
    const now = 50_000;
    assert.equal(
      agentDescription({ state: 'connected', pid: 42, restarts: 1, lastHeartbeatMs: 47_000 }, now),
      'connected · pid 42 · 1 restart · heartbeat 3s ago',
    );
    assert.equal(
      agentDescription({ state: 'stopped', pid: 0, restarts: 2, lastHeartbeatMs: 47_000 }, now),
      'stopped · 2 restarts',
    );
    assert.equal(agentDescription(undefined, now), 'not started');
  });

  it('says when an agent is ad-hoc and when its process runs isolated', () => {
    const now = 50_000;
    assert.equal(
      agentDescription({ state: 'connected', pid: 7, adHoc: true, isolated: true, lastHeartbeatMs: 49_000 }, now),
      'connected · ad-hoc · isolated · pid 7 · heartbeat 1s ago',
    );
    assert.equal(
      agentDescription({ state: 'connected', pid: 7, isolated: false }, now),
      'connected · pid 7 · no heartbeat',
    );
  });
});
