// A [cluster] whose servers are off this machine and that has neither credentials nor TLS is
// warned about at start: whoever reaches that server reads and injects the deployment's traffic.
import { strict as assert } from 'node:assert';
import { openToOthers } from '../../../runtime/cluster';

describe('cluster: a deployment open to others', () => {
  const none = { kind: 'none' as const };
  it('names the first server off this machine when there are neither credentials nor TLS', () => {
    assert.equal(
      openToOthers({ servers: ['nats://127.0.0.1:4222', 'nats://hub.example:4222'], auth: none }),
      'nats://hub.example:4222',
    );
    assert.equal(openToOthers({ servers: ['tls://[2001:db8::1]:4222'], auth: none }), 'tls://[2001:db8::1]:4222');
    assert.equal(openToOthers({ servers: ['user@10.0.0.5:4222'], auth: none }), 'user@10.0.0.5:4222');
  });
  it('says nothing for loopback servers, or with credentials or TLS', () => {
    assert.equal(
      openToOthers({ servers: ['nats://localhost:4222', '127.0.0.2:4222', 'nats://[::1]:4222'], auth: none }),
      undefined,
    );
    assert.equal(
      openToOthers({ servers: ['nats://hub.example:4222'], auth: { kind: 'token', token: 't' } }),
      undefined,
    );
    assert.equal(openToOthers({ servers: ['nats://hub.example:4222'], auth: none, tls: {} }), undefined);
  });
});
