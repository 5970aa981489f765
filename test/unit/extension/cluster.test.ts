// The window's side of [cluster]: what the status bar item says about the runtime's link to its
// NATS cluster (GetStats' ClusterInfo, then cluster.health events), and how the loom.cluster.*
// settings become the runtime's overrides.
import * as assert from 'node:assert/strict';
import { clusterFactsOf, clusterNotice, type ClusterFacts } from '../../../extension/views/clusterText';
import { clusterOverrides } from '../../../extension/settingsApply';
import type { ClusterSettings } from '../../../extension/settings';

const connected: ClusterFacts = {
  node: 'laptop',
  state: 'connected',
  server: 'nats://127.0.0.1:4222',
  error: '',
  nodes: ['laptop', 'server-a', 'server-b'],
};
const json = (v: unknown) => Buffer.from(JSON.stringify(v));

describe('cluster notice of the status bar', () => {
  it('says nothing for a runtime without [cluster]', () => {
    assert.equal(clusterNotice(null), undefined);
    assert.equal(clusterNotice(undefined), undefined);
  });

  it('connected: a cloud, the node, the server and how many other runtimes, no warning', () => {
    const n = clusterNotice(connected)!;
    assert.equal(n.suffix, ' $(cloud)');
    assert.equal(n.warning, false);
    assert.equal(n.text, 'Cluster: node "laptop" connected to nats://127.0.0.1:4222 with 2 other runtimes.');
  });

  it('reconnecting or disconnected: the offline cloud, a warning, the last problem and that work goes on locally', () => {
    for (const state of ['reconnecting', 'disconnected']) {
      const n = clusterNotice({ ...connected, state, error: 'connection refused' })!;
      assert.equal(n.suffix, ' $(cloud-offline)');
      assert.equal(n.warning, true, state);
      assert.match(
        n.text,
        new RegExp(`node "laptop" ${state} \\(nats://127\\.0\\.0\\.1:4222\\)\\. Last problem: connection refused\\.`),
      );
      assert.match(n.text, /keep working locally/);
    }
  });

  it('connecting (the first attempt) is not yet a warning', () => {
    assert.equal(clusterNotice({ ...connected, state: 'connecting', server: '' })!.warning, false);
  });
});

describe('cluster.health events as facts', () => {
  it('take the state, server and error of the event and keep the node list of the last stats', () => {
    const f = clusterFactsOf(
      json({ node: 'laptop', state: 'reconnecting', server: 'nats://n2:4222', error: 'gone', previous: 'connected' }),
      connected,
    )!;
    assert.deepEqual(f, {
      node: 'laptop',
      state: 'reconnecting',
      server: 'nats://n2:4222',
      error: 'gone',
      nodes: connected.nodes,
    });
  });

  it('an unreadable or stateless payload changes nothing', () => {
    assert.equal(clusterFactsOf(Buffer.from('not json'), connected), connected);
    assert.equal(clusterFactsOf(json({ node: 'x' }), connected), connected);
    assert.equal(clusterFactsOf(json(42), null), null);
  });
});

describe('loom.cluster.* settings as overrides', () => {
  const none: ClusterSettings = {
    servers: [],
    node: '',
    namespace: '',
    share: null,
    shareRealtime: null,
    offerTools: null,
    credsFile: '',
    tokenSecret: '',
  };

  it('nothing set: no overrides at all (loom.toml decides)', () => {
    assert.equal(clusterOverrides(none), undefined);
  });

  it('only what is set, camelCase, and an empty list is a list (it shares nothing)', () => {
    assert.deepEqual(clusterOverrides({ ...none, servers: ['nats://h:4222'], node: 'n1', share: [] }), {
      servers: ['nats://h:4222'],
      node: 'n1',
      share: [],
    });
  });

  it('the token is named, never given: ${NAME} for the runtime to read from its environment', () => {
    assert.deepEqual(clusterOverrides({ ...none, tokenSecret: 'NATS_TOKEN' }), { token: '${NATS_TOKEN}' });
  });

  it('refuses a secret name that is not one, naming the setting', () => {
    assert.throws(
      () => clusterOverrides({ ...none, tokenSecret: 'nats token' }),
      /^Error: loom\.cluster\.tokenSecret: "nats token" is not an environment variable name/,
    );
    assert.throws(
      () => clusterOverrides({ ...none, tokenSecret: 'NODE_OPTIONS' }),
      /^Error: loom\.cluster\.tokenSecret: "NODE_OPTIONS" is not a name for a secret: it must end in _KEY, _TOKEN, _SECRET or _PASSWORD/,
    );
  });
});
