// [cluster] in loom.toml: what the loader accepts, the defaults it fills in, and the errors it
// gives (each naming its key), through the real loader on real files.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../../runtime/config';
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
