// [cluster] in loom.toml: what the loader accepts, the defaults it fills in, and the errors it
// gives (each naming its key), through the real loader on real files.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../../runtime/config';
import type { ClusterOverrides } from '../../../runtime/contract';
import { makeWorkspace, removeWorkspaces } from '../helpers/runtime';

async function load(toml: string, env: Record<string, string> = {}) {
  const ws = makeWorkspace();
  writeFileSync(join(ws, 'loom.toml'), toml);
  return loadConfig(ws, undefined, { env });
}

describe('cluster: [cluster] in loom.toml', () => {
  after(() => removeWorkspaces());

  it('is absent unless the file has it', async () => {
    assert.equal((await load('')).cluster, undefined);
  });

  it('maps the table with its defaults, reading secrets from the environment', async () => {
    const c = (
      await load(
        '[cluster]\nservers = ["nats://n1:4222", "n2:4222"]\nshare = ["market.>"]\nuser = "loom"\npassword = "${PW}"\n',
        { PW: 's3cret' },
      )
    ).cluster!;
    assert.deepEqual(c.servers, ['nats://n1:4222', 'n2:4222']);
    assert.deepEqual(c.auth, { kind: 'user', user: 'loom', password: 's3cret' });
    assert.equal(c.namespace, 'loom');
    assert.deepEqual(c.shareRealtime, []);
    assert.match(c.node, /^[A-Za-z0-9_-]+$/);
    assert.equal(c.presenceTtlMs, 10_000);
  });

  for (const [what, toml, error] of [
    ['no servers', '[cluster]\nshare = ["a.>"]\n', /cluster\.servers: is required/],
    [
      'an unknown key',
      '[cluster]\nservers = ["nats://h:1"]\nshares = ["a"]\n',
      /cluster\.shares: unknown key \(did you mean "share"\?\)/,
    ],
    [
      'a bad pattern',
      '[cluster]\nservers = ["nats://h:1"]\nshare = ["a..b"]\n',
      /cluster\.share\[0\]: must be a topic pattern/,
    ],
    ['a bad URL', '[cluster]\nservers = ["http://h:1"]\n', /cluster\.servers\[0\]: must be a NATS URL/],
    [
      'two kinds of credentials',
      '[cluster]\nservers = ["nats://h:1"]\ntoken = "t"\ncreds_file = "x.creds"\n',
      /cluster: give one of token, user\/password, nkey_seed_file or creds_file/,
    ],
    [
      'an unset variable',
      '[cluster]\nservers = ["nats://h:1"]\ntoken = "${NOPE}"\n',
      /cluster\.token: the environment variable NOPE is not set/,
    ],
    [
      'a heartbeat too slow for the TTL',
      '[cluster]\nservers = ["nats://h:1"]\nheartbeat_ms = 6000\npresence_ttl_ms = 10000\n',
      /cluster\.heartbeat_ms: must be at most half of presence_ttl_ms/,
    ],
  ] as const) {
    it(`refuses ${what}, naming the key`, async () => {
      await assert.rejects(load(toml), error);
    });
  }
});

describe('cluster: the loom.cluster.* settings (overrides) over [cluster]', () => {
  after(() => removeWorkspaces());

  async function loadWith(toml: string, cluster: ClusterOverrides, env: Record<string, string> = {}) {
    const ws = makeWorkspace();
    writeFileSync(join(ws, 'loom.toml'), toml);
    return loadConfig(ws, { cluster }, { env });
  }

  it('servers alone make a cluster where loom.toml has none', async () => {
    const c = (await loadWith('', { servers: ['nats://127.0.0.1:4222'], node: 'laptop', share: ['alerts.*'] }))
      .cluster!;
    assert.deepEqual(c.servers, ['nats://127.0.0.1:4222']);
    assert.equal(c.node, 'laptop');
    assert.deepEqual(c.share, ['alerts.*']);
    assert.equal(c.namespace, 'loom', 'the defaults still apply');
  });

  it('without servers anywhere, the other settings have nothing to join and change nothing', async () => {
    assert.equal((await loadWith('', { node: 'laptop', share: ['a.>'] })).cluster, undefined);
  });

  it('refine the file: a setting wins, what it does not name stays as written', async () => {
    const toml = '[cluster]\nservers = ["nats://hub:4222"]\nnamespace = "team"\nshare = ["market.>"]\n';
    const c = (await loadWith(toml, { shareRealtime: ['ticks.*'], namespace: 'mine' })).cluster!;
    assert.deepEqual(c.servers, ['nats://hub:4222']);
    assert.equal(c.namespace, 'mine');
    assert.deepEqual(c.share, ['market.>']);
    assert.deepEqual(c.shareRealtime, ['ticks.*']);
  });

  it("a token from a stored secret replaces the file's credentials (read from the environment)", async () => {
    const toml = '[cluster]\nservers = ["nats://hub:4222"]\nuser = "loom"\npassword = "pw"\n';
    const c = (await loadWith(toml, { token: '${NATS_TOKEN}' }, { NATS_TOKEN: 's3cret' })).cluster!;
    assert.deepEqual(c.auth, { kind: 'token', token: 's3cret' });
    const creds = (await loadWith(toml, { credsFile: 'me.creds' })).cluster!;
    assert.deepEqual(creds.auth, { kind: 'creds', credsFile: 'me.creds' });
  });

  it('a bad setting is named as the setting, not as a line of loom.toml', async () => {
    await assert.rejects(
      loadWith('', { servers: ['http://h:1'] }),
      (err: Error) => /^overrides: /.test(err.message) && /cluster\.servers\[0\]: must be a NATS URL/.test(err.message),
    );
    await assert.rejects(
      loadWith('[cluster]\nservers = ["nats://hub:4222"]\n', { node: 'no spaces allowed' }),
      (err: Error) => /^overrides: /.test(err.message) && /cluster\.node: /.test(err.message),
    );
    await assert.rejects(
      loadWith('', { servers: ['nats://h:1'], token: '${NOT_STORED}' }),
      /cluster\.token: the environment variable NOT_STORED is not set/,
    );
  });
});
