// A stream found at start is used as it is, whoever made it: a runtime whose [cluster] gives other
// settings says so once, naming them, instead of ignoring its own settings without a word. Real
// nats-server with JetStream, real runtimes.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect as natsConnect, nanos, type NatsConnection } from '@nats-io/transport-node';
import { DiscardPolicy, jetstreamManager, RetentionPolicy, StorageType } from '@nats-io/jetstream';
import { names } from '../../../runtime/cluster/subjects';
import {
  makeWorkspace,
  removeWorkspaces,
  startRuntime,
  stopAllRuntimes,
  type RuntimeProcess,
} from '../helpers/runtime';
import { NatsCluster, natsServerAvailable } from '../../support/nats';
import { call, connect } from '../../support/grpc';

const describeIf = natsServerAvailable() || process.env.CI ? describe : describe.skip;
const HOUR_MS = 3_600_000;

describeIf('cluster: a stream made with other settings', function () {
  this.timeout(60_000);
  let nats: NatsCluster;
  let raw: NatsConnection;
  const namespace = `st${randomBytes(3).toString('hex')}`;
  const n = names(namespace);

  before(async () => {
    nats = await NatsCluster.start({ nodes: 1 });
    raw = await natsConnect({ servers: nats.urls });
    // As a runtime with retention_ms = one hour would make it (the other settings the defaults).
    await (
      await jetstreamManager(raw)
    ).streams.add({
      name: n.stream,
      subjects: [n.durableAll],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      max_age: nanos(HOUR_MS),
      max_bytes: 1024 ** 3,
      num_replicas: 1,
      discard: DiscardPolicy.Old,
    });
  });

  after(async () => {
    await raw?.close();
    await stopAllRuntimes();
    await nats?.stop();
    removeWorkspaces();
  });

  const start = async (node: string, extra = '') => {
    const rt = await startRuntime(
      makeWorkspace(
        `[cluster]\nservers = ${JSON.stringify(nats.urls)}\nnode = "${node}"\nnamespace = "${namespace}"\nshare = ["market.>"]\n${extra}`,
      ),
    );
    // Its durable consumer is made once the stream has been looked at.
    const jsm = await jetstreamManager(raw);
    const deadline = Date.now() + 30_000;
    while (!(await jsm.consumers.info(n.stream, node).catch(() => undefined))) {
      if (Date.now() > deadline) throw new Error(`${node} made no consumer: ${rt.stderrText.slice(-10).join('\n')}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    return rt;
  };
  let A: RuntimeProcess;
  const differs = (l: { msg?: unknown }) => String(l.msg).includes('has other settings than [cluster] gives here');

  it('says which settings differ, and leaves the stream as it is', async () => {
    A = await start('A'); // retention_ms: the default, a day
    const said = await A.waitForLog('the warning', differs, 10_000);
    assert.match(String(said.msg), /\(retention_ms\)/);
    assert.deepEqual((said as unknown as { differing: unknown }).differing, {
      retention_ms: { stream: HOUR_MS, here: 24 * HOUR_MS },
    });
    const info = await (await jetstreamManager(raw)).streams.info(n.stream);
    assert.equal(Number(info.config.max_age) / 1e6, HOUR_MS);
  });

  it("a runtime whose settings are the stream's says nothing", async () => {
    const B = await start('B', `retention_ms = ${HOUR_MS}\n`);
    // B said it, if at all, before it made its consumer, and before A saw its presence (written after).
    const c = connect(A.discovery().address, { token: A.discovery().token });
    const deadline = Date.now() + 30_000;
    while (!(await call(c.runtime, 'GetStats', {})).cluster?.nodes.includes('B')) {
      assert.ok(Date.now() < deadline, 'A never saw B');
      await new Promise((r) => setTimeout(r, 100));
    }
    c.close();
    assert.equal(B.logs.filter(differs).length, 0, B.stderrText.slice(-10).join('\n'));
  });
});
