// Clients of the bridge never go through a proxy: gRPC takes http_proxy, https_proxy and grpc_proxy
// for loopback addresses too, and every call carries a credential in plain text (a red-team pass
// read the workspace token at a proxy that a workspace's .env named). The window's link (probe) and
// the --mcp-stdio attach's tool list run with all three set to a recording listener, which sees
// nothing; a plain grpc-js client beside them goes to it (the control: the variables are honoured).
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { RuntimeConnection } from '../../extension/bridge/client';
import { RemoteRegistry } from '../../runtime/mcp/attach';
import { silentLogger } from '../../runtime/log';
import { loadLoomPackage } from '../../runtime/proto';
import { makeWorkspace, removeWorkspaces, startRuntime, stopAllRuntimes } from './helpers/runtime';

const PROXY_VARIABLES = ['http_proxy', 'https_proxy', 'grpc_proxy'];

describe('bridge clients and proxies', function () {
  this.timeout(60_000);
  let proxy: Server;
  const seen: string[] = [];
  const sockets = new Set<Socket>();
  const saved = new Map<string, string | undefined>();

  before(async () => {
    proxy = createServer((s) => {
      sockets.add(s);
      s.once('data', (d) => seen.push(d.toString('latin1').split('\r\n')[0]!));
      s.on('close', () => sockets.delete(s));
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(proxy.address() as { port: number }).port}`;
    for (const k of [...PROXY_VARIABLES, 'no_proxy', 'no_grpc_proxy', 'NO_PROXY']) saved.set(k, process.env[k]);
    for (const k of PROXY_VARIABLES) process.env[k] = url;
    for (const k of ['no_proxy', 'no_grpc_proxy', 'NO_PROXY']) delete process.env[k];
  });

  after(async () => {
    for (const [k, v] of saved)
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    for (const s of sockets) s.destroy();
    await new Promise((r) => proxy.close(r));
    await stopAllRuntimes();
    removeWorkspaces();
  });

  it("the window's link and the MCP attach reach the runtime directly; a plain client goes to the proxy", async () => {
    const rt = await startRuntime(makeWorkspace(), [], {
      env: Object.fromEntries(PROXY_VARIABLES.map((k) => [k, ''])),
    });
    const info = rt.discovery();
    assert.equal(await RuntimeConnection.probe(info), true, 'the probe did not reach the runtime');
    const remote = new RemoteRegistry(info.address, info.token, silentLogger);
    try {
      await remote.refresh();
      assert.ok(remote.list('fs:').length > 0, 'no tools listed');
    } finally {
      remote.close();
    }
    assert.equal(seen.length, 0, `a Loom client went through the proxy: ${seen.join()}`);

    const plain = new (loadLoomPackage().Bridge)(info.address, grpc.credentials.createInsecure());
    try {
      await new Promise<void>((resolve) =>
        plain.Heartbeat(
          { agentId: '', timestampMs: Date.now() },
          new grpc.Metadata(),
          { deadline: Date.now() + 3000 },
          () => resolve(),
        ),
      );
    } finally {
      plain.close();
    }
    assert.ok(
      seen.some((l) => l.startsWith('CONNECT ')),
      `the control client did not use the proxy: ${seen.join()}`,
    );
  });
});
