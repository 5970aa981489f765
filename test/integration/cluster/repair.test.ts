// A runtime's JetStream stream or durable consumer deleted under it (an operator, or a peer holding
// the deployment's credentials): a red-team pass found that a deleted consumer left the runtime
// receiving no shared batched event again until it restarted, and a deleted stream held every
// publisher of a shared batched topic once the buffer filled, while health said "connected". The
// runtime now makes them again. Real nats-server with JetStream, real runtimes, gRPC clients.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect as natsConnect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { names } from '../../../runtime/cluster/subjects';
import {
  makeWorkspace,
  removeWorkspaces,
  startRuntime,
  stopAllRuntimes,
  type RuntimeProcess,
} from '../helpers/runtime';
import { call, connect, event, StreamClient, type Clients } from '../../support/grpc';
import { NatsCluster, natsServerAvailable } from '../../support/nats';

const describeIf = natsServerAvailable() || process.env.CI ? describe : describe.skip;

describeIf('cluster: a deleted stream or consumer is made again', function () {
  this.timeout(120_000);
  let nats: NatsCluster;
  let raw: NatsConnection;
  const namespace = `it${randomBytes(3).toString('hex')}`;
  const n = names(namespace);
  let A: { rt: RuntimeProcess; c: Clients };
  let B: { rt: RuntimeProcess; c: Clients };
  let inbox: StreamClient;

  const toml = (node: string) =>
    `[cluster]\nservers = ${JSON.stringify(nats.urls)}\nnode = "${node}"\nnamespace = "${namespace}"\nshare = ["market.>"]\nbuffer_bytes = 65536\n`;

  const start = async (node: string) => {
    const rt = await startRuntime(makeWorkspace(toml(node)));
    const c = connect(rt.discovery().address, { token: rt.discovery().token });
    await rt.waitForLog(`${node} to join`, (l) => l.msg === 'cluster connected', 30_000);
    return { rt, c };
  };

  /** Publishes on A until B's subscriber has one; the number sent. */
  async function deliveredAcross(label: string): Promise<number> {
    const deadline = Date.now() + 40_000;
    for (let i = 0; Date.now() < deadline; i++) {
      await call(A.c.runtime, 'Publish', {
        topic: 'market.tick',
        event: event('tick', { label, i }),
      });
      try {
        const d = await inbox.next((m) => (m.delivery?.event?.payload.toString() ?? '').includes(label), label, 500);
        if (d) return i + 1;
      } catch {
        // not yet: again
      }
    }
    throw new Error(
      `nothing published on A after "${label}" reached B in 40 s\n${B.rt.stderrText
        .filter((l) => l.includes('cluster'))
        .slice(-15)
        .join('\n')}`,
    );
  }

  before(async () => {
    nats = await NatsCluster.start({ nodes: 1 });
    raw = await natsConnect({ servers: nats.urls });
    A = await start('A');
    B = await start('B');
    const reg = await call(B.c.bridge, 'RegisterAgent', { agentId: 'watcher', subscribedTopics: ['market.>'] });
    assert.equal(reg.success, true, reg.errorMessage);
    inbox = await StreamClient.open(B.c, 'watcher');
    await deliveredAcross('warm-up');
  });

  after(async () => {
    inbox?.end();
    await raw?.close();
    await stopAllRuntimes();
    await nats?.stop();
    removeWorkspaces();
  });

  it("B's durable consumer deleted: B makes it again and receives what A publishes next", async () => {
    const jsm = await jetstreamManager(raw);
    await jsm.consumers.delete(n.stream, 'B');
    // Published while B has no consumer: not lost (the new one starts before the pull broke).
    await call(A.c.runtime, 'Publish', { topic: 'market.gap', event: event('gap', { marker: 'while-deleted' }) });
    await deliveredAcross('after-consumer-delete');
    await jsm.consumers.info(n.stream, 'B'); // there again
    await inbox.next((m) => m.delivery?.topic === 'market.gap', 'the event published while the consumer was gone');
  });

  it('the stream deleted: publishers on A are not held, the stream is made again, and B receives', async () => {
    const jsm = await jetstreamManager(raw);
    await jsm.streams.delete(n.stream);
    // More than buffer_bytes (64 KiB) of batched events: each publish answers (none is held).
    const big = 'x'.repeat(8 * 1024);
    for (let i = 0; i < 20; i++)
      await call(A.c.runtime, 'Publish', {
        topic: 'market.bulk',
        event: event('bulk', { big, i }),
      });
    await deliveredAcross('after-stream-delete');
    await jsm.streams.info(n.stream);
    // Every one of them reaches B, once.
    const got = new Set<number>();
    while (got.size < 20) {
      const m = await inbox.next((x) => x.delivery?.topic === 'market.bulk', `bulk event ${got.size + 1} of 20`);
      const i = (JSON.parse(m.delivery!.event!.payload.toString()) as { i: number }).i;
      assert.ok(!got.has(i), `bulk event ${i} came twice`);
      got.add(i);
    }
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(
      inbox.received.filter((m) => m.delivery?.topic === 'market.bulk').length,
      0,
      'a bulk event came again later',
    );
    const stats = await call(A.c.runtime, 'GetStats', {});
    assert.equal(stats.cluster?.state, 'connected');
  });
});
