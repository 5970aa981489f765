// What an agent's process gets of the runtime's environment (the supervisor's agentEnvironment),
// and which variables [cluster] reads its secrets from (withheld from every agent).
import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { agentEnvironment, withLoopbackOffProxies } from '../../../runtime/agents/supervisor';
import { loadConfig } from '../../../runtime/config';

const RUNTIME_ENV = {
  PATH: '/usr/bin',
  LANG: 'C.UTF-8',
  OPENAI_API_KEY: 'sk',
  NATS_TOKEN: 'nats-secret',
  LOOM_INPUT_PAT: 'pat',
  LOOM_MCP_SERVERS: '{}',
  DBUS_SESSION_BUS_ADDRESS: 'unix:abstract=/tmp/x',
  OTHER: 'o',
};

describe('agent environment', () => {
  it("an unconfined agent gets the runtime's environment but MCP secrets and the withheld names", () => {
    const env = agentEnvironment(RUNTIME_ENV, { isolated: false, withheld: ['NATS_TOKEN'] });
    assert.deepEqual(Object.keys(env).sort(), ['DBUS_SESSION_BUS_ADDRESS', 'LANG', 'OPENAI_API_KEY', 'OTHER', 'PATH']);
  });

  it('an isolated agent gets the basics and API keys only', () => {
    const env = agentEnvironment(RUNTIME_ENV, { isolated: true, withheld: ['NATS_TOKEN'] });
    assert.deepEqual(env, { PATH: '/usr/bin', LANG: 'C.UTF-8', OPENAI_API_KEY: 'sk' });
    // Withheld wins over the API-key rule: a cluster token may be named like one.
    assert.deepEqual(agentEnvironment({ NATS_API_KEY: 'x' }, { isolated: true, withheld: ['NATS_API_KEY'] }), {});
  });

  it('every agent is told to keep gRPC off proxies for loopback (its credential crosses in plain text)', () => {
    assert.equal(withLoopbackOffProxies({ https_proxy: 'http://p:1' }).no_grpc_proxy, '127.0.0.1,::1,localhost');
    assert.equal(
      withLoopbackOffProxies({ no_grpc_proxy: 'internal.example,localhost' }).no_grpc_proxy,
      'internal.example,localhost,127.0.0.1,::1',
    );
  });

  it('[cluster] names the variables its token, user and password come from', async () => {
    const ws = await fs.mkdtemp(path.join(os.tmpdir(), 'loom-env-'));
    try {
      await fs.writeFile(
        path.join(ws, 'loom.toml'),
        '[cluster]\nservers = ["nats://127.0.0.1:4222"]\nuser = "${NATS_USER}"\npassword = "pw-${NATS_PASS}-x"\n',
      );
      const config = await loadConfig(ws, undefined, { env: { NATS_USER: 'u', NATS_PASS: 'p' } });
      assert.deepEqual(config.cluster?.secretEnv, ['NATS_USER', 'NATS_PASS']);
    } finally {
      await fs.rm(ws, { recursive: true, force: true });
    }
  });
});
