// The Store service over the bridge, and durability of acknowledged writes across a kill -9 of
// the runtime in the middle of writing.
import * as grpc from '@grpc/grpc-js';
import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { call, callFails, connect, listAll, queryAll, type Clients } from '../support/grpc';
import { makeWorkspace, removeWorkspaces, startRuntime, stopAllRuntimes } from './helpers/runtime';

describe('store service', function () {
  this.timeout(90_000);
  const clients: Clients[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await stopAllRuntimes();
  });
  after(() => removeWorkspaces());

  function clientFor(rt: { discovery(): { address: string; token: string } }): Clients {
    const c = connect(rt.discovery().address, { token: rt.discovery().token });
    clients.push(c);
    return c;
  }

  it('saves and queries context items and keeps key-value state per agent', async () => {
    const c = clientFor(await startRuntime(makeWorkspace()));
    const saved = await call(c.store, 'SaveContext', {
      item: { sessionId: 's1', type: 'note', content: 'The Quick brown fox', metadata: { k: 'v' } },
    });
    assert.ok(saved.item?.id);
    assert.ok(Number(saved.item?.timestampMs) > 0);
    await call(c.store, 'SaveContext', { item: { sessionId: 's1', type: 'chat', content: 'lazy dog' } });
    await call(c.store, 'SaveContext', { item: { sessionId: 's2', type: 'note', content: 'quick thinking' } });
    const quick = await call(c.store, 'QueryContext', { text: 'QUICK' });
    assert.deepEqual(quick.items.map((i) => i.content).sort(), ['The Quick brown fox', 'quick thinking']);
    const s1Notes = await call(c.store, 'QueryContext', { sessionId: 's1', type: 'note' });
    assert.equal(s1Notes.items.length, 1);
    assert.deepEqual(s1Notes.items[0]!.metadata, { k: 'v' });

    await call(c.store, 'PutState', { agentId: 'a1', key: 'cfg/x', value: Buffer.from('1') });
    await call(c.store, 'PutState', { agentId: 'a1', key: 'cfg/y', value: Buffer.from('2') });
    await call(c.store, 'PutState', { agentId: 'a2', key: 'cfg/x', value: Buffer.from('other agent') });
    const got = await call(c.store, 'GetState', { agentId: 'a1', key: 'cfg/x' });
    assert.equal(got.found, true);
    assert.equal(got.value.toString(), '1');
    const listed = await call(c.store, 'ListState', { agentId: 'a1', prefix: 'cfg/' });
    assert.deepEqual(
      listed.entries.map((e) => [e.key, e.value.toString()]),
      [
        ['cfg/x', '1'],
        ['cfg/y', '2'],
      ],
    );
    assert.equal((await call(c.store, 'DeleteState', { agentId: 'a1', key: 'cfg/x' })).existed, true);
    assert.equal((await call(c.store, 'GetState', { agentId: 'a1', key: 'cfg/x' })).found, false);
    assert.equal((await call(c.store, 'DeleteState', { agentId: 'a1', key: 'cfg/x' })).existed, false);
  });

  it('answers a request missing a required field with INVALID_ARGUMENT naming it', async () => {
    const c = clientFor(await startRuntime(makeWorkspace()));
    const noKey = await callFails(c.store, 'PutState', { agentId: 'a1', value: Buffer.from('x') });
    assert.equal(noKey.code, grpc.status.INVALID_ARGUMENT);
    assert.match(noKey.details, /key is required/);
    const noSession = await callFails(c.store, 'SaveContext', { item: { type: 'note', content: 'x' } });
    assert.equal(noSession.code, grpc.status.INVALID_ARGUMENT);
    assert.match(noSession.details, /session_id/);
  });

  it('refuses writes past runtime.store_max_bytes with RESOURCE_EXHAUSTED naming it, and keeps reading', async () => {
    const c = clientFor(await startRuntime(makeWorkspace('[runtime]\nstore_max_bytes = 1048576\n')));
    const value = randomBytes(200 * 1024);
    let refused: grpc.ServiceError | undefined;
    for (let i = 0; i < 20 && !refused; i++)
      refused = await call(c.store, 'PutState', { agentId: 'filler', key: `k${i}`, value }).then(
        () => undefined,
        (err: grpc.ServiceError) => err,
      );
    assert.equal(refused?.code, grpc.status.RESOURCE_EXHAUSTED, String(refused));
    assert.match(refused!.details, /runtime\.store_max_bytes = 1048576 leaves no room/);
    assert.deepEqual((await call(c.store, 'GetState', { agentId: 'filler', key: 'k0' })).value, value);
  });

  it('keeps every acknowledged write across a kill -9 of the runtime during writes', async () => {
    const ws = makeWorkspace();
    const rt = await startRuntime(ws);
    const c = clientFor(rt);
    const acked: string[] = [];
    const ackedItems: string[] = [];
    let n = 0;
    let killed = false;
    // Eight writers in parallel; the runtime is killed while they are mid-flight.
    const writer = async () => {
      while (!killed) {
        const i = n++;
        try {
          if (i % 4 === 0) {
            await call(c.store, 'SaveContext', { item: { sessionId: 'crash', type: 'w', content: `item-${i}` } });
            ackedItems.push(`item-${i}`);
          } else {
            await call(c.store, 'PutState', { agentId: 'writer', key: `k${i}`, value: Buffer.from(`v${i}`) });
            acked.push(`k${i}`);
          }
        } catch {
          return; // the runtime is gone: this write was never acknowledged
        }
      }
    };
    const writers = Array.from({ length: 8 }, writer);
    while (acked.length < 400) await new Promise((r) => setTimeout(r, 10));
    rt.proc.kill('SIGKILL');
    killed = true;
    await rt.exited;
    await Promise.all(writers);
    assert.equal(rt.exitSignal, 'SIGKILL');

    const rt2 = await startRuntime(ws);
    assert.notEqual(rt2.discovery().pid, rt.proc.pid, 'the new runtime replaced the stale discovery file');
    const c2 = clientFor(rt2);
    const state = await listAll(c2.store, { agentId: 'writer' });
    const present = new Map(state.map((e) => [e.key, e.value.toString()]));
    const missing = acked.filter((k) => present.get(k) !== `v${k.slice(1)}`);
    assert.deepEqual(missing, [], `${missing.length} of ${acked.length} acknowledged writes lost`);
    const contents = new Set((await queryAll(c2.store, { sessionId: 'crash', limit: 100_000 })).map((i) => i.content));
    assert.deepEqual(
      ackedItems.filter((x) => !contents.has(x)),
      [],
    );
    assert.ok(ackedItems.length > 0);
  });
});
