// Credentials on a real grpc-js server: the interceptor refuses unknown credentials, and a call's
// identity is worked out once (the interceptor and the handler see the same metadata object).
import { strict as assert } from 'node:assert';
import * as grpc from '@grpc/grpc-js';
import { callerInterceptor } from '../../../runtime/bridge/auth';
import { RefusalBudget } from '../../../runtime/bridge/refusalBudget';
import { Credentials, type Identity } from '../../../runtime/bridge/identity';
import { loadLoomPackage } from '../../../runtime/proto';
import { call, callFails, connect, type Clients } from '../../support/grpc';

/** Counts how often a token is looked up (hashed). */
class CountingCredentials extends Credentials {
  lookups = 0;
  override identify(authorization: unknown): Identity | undefined {
    this.lookups++;
    return super.identify(authorization);
  }
}

describe('Credentials on a gRPC server', () => {
  const credentials = new CountingCredentials('owner-token');
  const agentToken = credentials.mintAgent('a1');
  const seen: (Identity | undefined)[] = [];
  let server: grpc.Server;
  let address = '';
  const open: Clients[] = [];
  const client = (token?: string) => {
    const c = connect(address, { token });
    open.push(c);
    return c;
  };

  before(async () => {
    server = new grpc.Server({
      interceptors: [
        callerInterceptor({ credentials, requireToken: true, budget: new RefusalBudget(), onRefused: () => undefined }),
      ],
    });
    const pkg = loadLoomPackage();
    server.addService(pkg.Runtime.service, {
      GetStats: (c: grpc.ServerUnaryCall<unknown, unknown>, done: grpc.sendUnaryData<unknown>) => {
        seen.push(credentials.identifyCall(c.metadata));
        done(null, {});
      },
    });
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) =>
        err ? reject(err) : resolve(p),
      ),
    );
    address = `127.0.0.1:${port}`;
  });
  after(() => {
    for (const c of open) c.close();
    server.forceShutdown();
  });

  it('identifies each call once, in the interceptor, and the handler gets that identity', async () => {
    const before = credentials.lookups;
    await call(client('owner-token').runtime, 'GetStats', {});
    await call(client(agentToken).runtime, 'GetStats', {});
    assert.deepEqual(seen.splice(0), [{ kind: 'owner' }, { kind: 'agent', agentId: 'a1' }]);
    assert.equal(credentials.lookups - before, 2, 'one token lookup per call');
  });

  it('refuses an unknown or missing credential before the handler', async () => {
    assert.equal((await callFails(client('guess').runtime, 'GetStats', {})).code, grpc.status.UNAUTHENTICATED);
    assert.equal((await callFails(client().runtime, 'GetStats', {})).code, grpc.status.UNAUTHENTICATED);
    assert.deepEqual(seen, []);
  });

  it('a revoked agent credential stops working at its next call', async () => {
    credentials.revokeAgent('a1');
    assert.equal((await callFails(client(agentToken).runtime, 'GetStats', {})).code, grpc.status.UNAUTHENTICATED);
  });
});
