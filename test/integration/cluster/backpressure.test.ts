// Realtime events from other runtimes while a local batched subscriber is slow: each arrival's
// publish into the bus waits for that subscriber, and nothing else held them back (a red-team's
// flood of 600 KB events took a runtime from 81 MB to 1.1 GB). The real bridge (EventBridge) and
// bus, on a real nats-server, with a raw NATS client as the other runtime; the bus here is the
// runtime's own class, its batched queue made small so the subscriber is full at once.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect as natsConnect, type NatsConnection } from '@nats-io/transport-node';
import { EventBus } from '../../../runtime/bus';
import { EventBridge } from '../../../runtime/cluster/events';
import { MAX_INBOUND_BYTES, MAX_INBOUND_EVENTS } from '../../../runtime/cluster/limits';
import { names } from '../../../runtime/cluster/subjects';
import { encodeEvent } from '../../../runtime/cluster/wire';
import { loadConfig } from '../../../runtime/config';
import type { ClusterConfig } from '../../../runtime/cluster/subjects';
import { createLogger } from '../../../runtime/log';
import { makeWorkspace, removeWorkspaces } from '../helpers/runtime';
import { NatsCluster, natsServerAvailable } from '../../support/nats';

async function until<T>(what: string, check: () => T | undefined | false, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const describeIf = natsServerAvailable() || process.env.CI ? describe : describe.skip;

/** A runtime's bus with a subscriber that holds every delivery, and the bridge feeding it. */
interface Victim {
  bus: EventBus;
  bridge: EventBridge;
  nc: NatsConnection;
  warnings: Record<string, unknown>[];
  release(): void;
}

describeIf('cluster: realtime arrivals while a local subscriber is slow', function () {
  this.timeout(60_000);
  let nats: NatsCluster;
  let rogue: NatsConnection;
  let cfg: ClusterConfig;
  const ns = `it${randomBytes(3).toString('hex')}`;
  const n = names(ns);
  const victims: Victim[] = [];

  before(async () => {
    nats = await NatsCluster.start({ nodes: 1 });
    const ws = makeWorkspace(
      `[cluster]\nservers = ${JSON.stringify(nats.urls)}\nnode = "V"\nnamespace = "${ns}"\nshare_realtime = ["news.>"]\n`,
    );
    cfg = (await loadConfig(ws)).cluster!;
    rogue = await natsConnect({ servers: nats.urls });
  });

  afterEach(async () => {
    for (const v of victims.splice(0)) {
      v.release();
      v.bridge.close();
      await v.nc.close();
      await v.bus.close();
    }
  });

  after(async () => {
    await rogue?.close();
    await nats?.stop();
    removeWorkspaces();
  });

  const victim = async (): Promise<Victim> => {
    const warnings: Record<string, unknown>[] = [];
    const log = createLogger({
      level: 'warn',
      sink: (line) => void warnings.push(JSON.parse(line) as Record<string, unknown>),
    });
    const bus = new EventBus({ queueSizes: { batched: 1 } });
    let release = () => undefined as void;
    const held = new Promise<void>((r) => (release = r));
    bus.subscribe('news.>', () => held, { qos: 'batched', subscriber: 'slowpoke' });
    const bridge = new EventBridge(
      bus,
      cfg,
      n,
      log,
      () => true,
      () => Promise.resolve(),
      () => false,
    );
    const nc = await natsConnect({ servers: nats.urls });
    bridge.attachCore(nc);
    await nc.flush();
    const v = { bus, bridge, nc, warnings, release };
    victims.push(v);
    return v;
  };

  const flood = async (count: number, payloadBytes: number) => {
    const payload = Buffer.alloc(payloadBytes, 7);
    for (let i = 0; i < count; i++)
      rogue.publish(
        n.realtime('news.flood'),
        encodeEvent('rogue', 'news.flood', {
          id: randomBytes(8).toString('hex'),
          type: 't',
          timestampMs: Date.now(),
          source: 's',
          metadata: {},
          payload,
          confidence: 0,
          tags: [],
          priority: 0,
        }),
      );
    await rogue.flush();
  };
  const handled = ({ bridge }: Victim) => bridge.counters.received + (bridge.counters.dropped.backpressure ?? 0);

  it(`at most ${MAX_INBOUND_EVENTS} wait for the local bus; the rest are dropped and counted as backpressure`, async () => {
    const v = await victim();
    const sent = MAX_INBOUND_EVENTS + 200;
    await flood(sent, 100);
    await until('every arrival to be published or dropped', () => handled(v) === sent);
    const { received, dropped } = v.bridge.counters;
    // The subscriber holds one and its queue one: those publishes settled, so they wait nowhere.
    assert.ok(received >= MAX_INBOUND_EVENTS && received <= MAX_INBOUND_EVENTS + 2, `received ${received}`);
    assert.equal(dropped.backpressure, sent - received);
    const warning = v.warnings.find((w) => w.reason === 'backpressure');
    assert.ok(warning, JSON.stringify(v.warnings));
    assert.equal(warning.maxEvents, MAX_INBOUND_EVENTS);
    assert.equal(warning.maxBytes, MAX_INBOUND_BYTES);
  });

  it(`at most ${MAX_INBOUND_BYTES / 1024 / 1024} MiB wait for the local bus, however few the events`, async () => {
    const v = await victim();
    const sent = 40;
    const onTheWire = 933_000; // 700 000 bytes in base64, and the envelope: 40 of them are twice the budget
    await flood(sent, 700_000);
    await until('every arrival to be published or dropped', () => handled(v) === sent);
    const { received, dropped } = v.bridge.counters;
    assert.ok((dropped.backpressure ?? 0) > 0, `none dropped, ${received} received`);
    // Two settled at once (the one delivered, the one queued); the others wait within the budget.
    assert.ok((received - 2) * onTheWire <= MAX_INBOUND_BYTES, `received ${received}`);
  });
});
