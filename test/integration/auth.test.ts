// Every call on every service needs `authorization: Bearer <token>`; the check can be turned
// off for legacy clients, and the runtime then warns.
import * as grpc from '@grpc/grpc-js';
import { strict as assert } from 'node:assert';
import { loadLoomPackage } from '../../runtime/proto';
import { call, connect, event, StreamClient, type Clients } from '../support/grpc';
import { makeWorkspace, removeWorkspaces, startRuntime, stopAllRuntimes, type RuntimeProcess } from './helpers/runtime';

const SERVICES = ['Bridge', 'Tools', 'Store', 'Runtime', 'MemoryService'] as const;

/** Calls every method of every service once with an empty request; returns each call's status code. */
async function statusOfEveryMethod(clients: Clients): Promise<Map<string, grpc.status>> {
  const pkg = loadLoomPackage();
  const byService = {
    Bridge: clients.bridge,
    Tools: clients.tools,
    Store: clients.store,
    Runtime: clients.runtime,
    MemoryService: clients.memory,
  } as unknown as Record<string, grpc.Client & Record<string, Function>>;
  const out = new Map<string, grpc.status>();
  for (const service of SERVICES) {
    const client = byService[service]!;
    for (const [method, def] of Object.entries(pkg[service].service)) {
      const code = await new Promise<grpc.status>((resolve) => {
        if (!def.requestStream && !def.responseStream) {
          client[method]!.call(client, {}, (err: grpc.ServiceError | null) => resolve(err ? err.code : grpc.status.OK));
          return;
        }
        const stream = def.requestStream ? client[method]!.call(client) : client[method]!.call(client, {});
        stream.on('data', () => {
          stream.cancel();
          resolve(grpc.status.OK);
        });
        stream.on('error', (err: grpc.ServiceError) => resolve(err.code));
        if (def.requestStream) stream.write({ ack: { messageId: 'auth-probe' } });
      });
      out.set(`${service}.${method}`, code);
    }
  }
  return out;
}

describe('bridge authentication', function () {
  this.timeout(60_000);
  let rt: RuntimeProcess;
  after(async () => {
    await stopAllRuntimes();
    removeWorkspaces();
  });

  describe('with the token required (default)', () => {
    before(async () => {
      rt = await startRuntime(makeWorkspace());
    });
    after(() => rt.stop());

    it('refuses a call without the token on every method of every service (UNAUTHENTICATED)', async () => {
      const c = connect(rt.discovery().address);
      const codes = await statusOfEveryMethod(c);
      c.close();
      assert.ok(codes.size >= 19, `expected every method, got ${[...codes.keys()].join(', ')}`);
      for (const [method, code] of codes)
        assert.equal(code, grpc.status.UNAUTHENTICATED, `${method} answered ${grpc.status[code]}`);
      assert.ok(
        rt.logs.some(
          (l) => l.msg === 'call refused: bad or missing token' && l.method === '/loom.v1.Bridge/RegisterAgent',
        ),
      );
    });

    it('refuses a wrong token on every method of every service', async () => {
      const c = connect(rt.discovery().address, { token: 'f'.repeat(64) });
      const codes = await statusOfEveryMethod(c);
      c.close();
      for (const [method, code] of codes)
        assert.equal(code, grpc.status.UNAUTHENTICATED, `${method} answered ${grpc.status[code]}`);
    });

    it('refuses a token sent without the Bearer scheme', async () => {
      const c = connect(rt.discovery().address);
      const md = new grpc.Metadata();
      md.set('authorization', rt.discovery().token);
      const err = await new Promise<grpc.ServiceError | null>((resolve) =>
        c.runtime.GetStats({}, md, (e) => resolve(e)),
      );
      c.close();
      assert.equal(err?.code, grpc.status.UNAUTHENTICATED);
    });

    it('accepts the token from the discovery file', async () => {
      const info = rt.discovery();
      const c = connect(info.address, { token: info.token });
      const res = await call(c.bridge, 'Heartbeat', { timestampMs: Date.now() });
      assert.equal(res.status, 'ok');
      const tools = await call(c.tools, 'ListTools', { prefix: 'fs:' });
      assert.ok(tools.tools.some((t) => t.name === 'fs:read'));
      c.close();
    });
  });

  for (const [how, args, toml] of [
    ['--no-token', ['--no-token'], undefined],
    ['bridge.require_token = false', [], '[bridge]\nrequire_token = false\n'],
  ] as const) {
    it(`accepts calls without a token when turned off (${how}) and warns`, async () => {
      const rt2 = await startRuntime(makeWorkspace(toml), [...args]);
      const c = connect(rt2.discovery().address);
      const res = await call(c.bridge, 'RegisterAgent', { agentId: 'legacy', subscribedTopics: ['legacy.>'] });
      assert.equal(res.success, true);
      const agents = await call(c.runtime, 'ListAgents', {});
      assert.ok(agents.agents.some((a) => a.agentId === 'legacy'));
      c.close();
      const warning = rt2.logs.find((l) => l.level === 'warn' && /token check is OFF/.test(l.msg));
      assert.ok(warning, 'expected a warning that the token check is off');
      await rt2.stop();
    });
  }

  it('with the check off, an unauthenticated client is never vscode or runtime, and what it publishes says its sender is unverified', async () => {
    const rt2 = await startRuntime(makeWorkspace(), ['--no-token']);
    const open = connect(rt2.discovery().address);
    const windowClients = connect(rt2.discovery().address, { token: rt2.windowToken() });
    try {
      for (const id of ['vscode', 'runtime', 'dashboard']) {
        const res = await call(open.bridge, 'RegisterAgent', { agentId: id, subscribedTopics: [] });
        assert.equal(res.success, false, `an unauthenticated client registered ${id}`);
      }
      const forged = await new Promise<grpc.ServiceError | null>((resolve) =>
        open.runtime.Publish({ topic: 'x.y', event: event('forged', {}, { 'loom.sender': 'vscode' }) }, (e) =>
          resolve(e),
        ),
      );
      assert.equal(forged?.code, grpc.status.PERMISSION_DENIED);

      // The window still presents its credential, keeps its id, and sees the claim marked.
      assert.equal(
        (await call(windowClients.bridge, 'RegisterAgent', { agentId: 'vscode', subscribedTopics: ['legacy.>'] }))
          .success,
        true,
      );
      const watch = new StreamClient(windowClients);
      watch.send({ ack: { messageId: 'vscode' } });
      watch.send({ ping: { timestampMs: 1 } });
      await watch.next((m) => m.msg === 'pong', 'the window stream to be bound');
      const md = new grpc.Metadata();
      md.set('x-loom-agent-id', 'legacy-agent');
      await new Promise<void>((resolve, reject) =>
        open.runtime.Publish(
          { topic: 'legacy.hello', event: event('hello', {}, { 'loom.sender_unverified': 'false' }) },
          md,
          (e) => (e ? reject(e) : resolve()),
        ),
      );
      const got = await watch.delivery('legacy.hello');
      assert.equal(got.metadata['loom.sender'], 'legacy-agent');
      assert.equal(
        got.metadata['loom.sender_unverified'],
        'true',
        'the claim is recorded as unverified (and a client cannot say otherwise)',
      );
      watch.end();
    } finally {
      open.close();
      windowClients.close();
      await rt2.stop();
    }
  });
});
