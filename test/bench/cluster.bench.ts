// Events across runtimes over NATS: an agent on runtime A publishes, an agent on runtime C
// receives (both agents are gRPC event streams in this process, so one clock stamps both ends),
// batched (JetStream) and realtime (core NATS). Beside it, in the same run and on the same
// three-node nats-server cluster, the bare NATS client doing the same (JetStream publish →
// durable pull consumer; core publish → subscriber on another node), and the local-only figures
// (both agents on A). Throughput: N events back to back; latency: one event every 2 ms, one way.
// Run: npm run build && node --import tsx test/bench/cluster.bench.ts   (about a minute)
// LOOM_BENCH_EVENTS (per throughput phase, default 20000), LOOM_BENCH_LATENCY_EVENTS (default 500).
import { connect as natsConnect, nanos, type NatsConnection } from '@nats-io/transport-node';
import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { makeWorkspace, removeWorkspaces, startRuntime, stopAllRuntimes } from '../integration/helpers/runtime';
import { connect, StreamClient, type Clients } from '../support/grpc';
import { NatsCluster, natsServerAvailable } from '../support/nats';

const N = Number(process.env.LOOM_BENCH_EVENTS ?? 20_000);
const LAT_N = Number(process.env.LOOM_BENCH_LATENCY_EVENTS ?? 500);
const PAYLOAD = 'x'.repeat(100);

interface Figures {
  rate: number;
  received: number;
  p50: number;
  p99: number;
}

const q = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor(p * s.length))]! : NaN;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until `count()` reaches n, or stops growing for 2 s (realtime may drop); returns the time of the last arrival. */
async function settle(count: () => number, last: () => number, n: number): Promise<void> {
  let seen = -1;
  let still = 0;
  while (count() < n) {
    await sleep(50);
    if (count() === seen) {
      if ((still += 50) >= 2000) return;
    } else {
      seen = count();
      still = 0;
    }
  }
  void last;
}

/** One sender and one receiver; `send(i, stampMs)` publishes event i, `arrivals` collects [i, latencyMs]. */
async function measure(
  send: (i: number, stamp: number) => Promise<void> | void,
  arrivals: number[],
  lastAt: { t: number },
): Promise<Figures> {
  arrivals.length = 0;
  const t0 = performance.now();
  for (let i = 0; i < N; i++) await send(i, performance.now());
  await settle(
    () => arrivals.length,
    () => lastAt.t,
    N,
  );
  const received = arrivals.length;
  const rate = received / ((lastAt.t - t0) / 1000);
  arrivals.length = 0;
  for (let i = 0; i < LAT_N; i++) {
    await send(N + i, performance.now());
    await sleep(2);
  }
  await settle(
    () => arrivals.length,
    () => lastAt.t,
    LAT_N,
  );
  return { rate, received, p50: q(arrivals, 0.5), p99: q(arrivals, 0.99) };
}

function receiverFor(arrivals: number[], lastAt: { t: number }) {
  return (payload: Buffer | Uint8Array) => {
    const now = performance.now();
    const stamp = Number(JSON.parse(Buffer.from(payload).toString('utf8')).t);
    arrivals.push(now - stamp);
    lastAt.t = now;
  };
}

async function bareCore(pub: NatsConnection, sub: NatsConnection): Promise<Figures> {
  const arrivals: number[] = [];
  const lastAt = { t: 0 };
  const recv = receiverFor(arrivals, lastAt);
  const s = sub.subscribe('bench.core', { callback: (_e, m) => recv(m.data) });
  await sub.flush();
  const f = await measure((i, t) => pub.publish('bench.core', JSON.stringify({ i, t, p: PAYLOAD })), arrivals, lastAt);
  s.unsubscribe();
  return f;
}

async function bareJetStream(pub: NatsConnection, sub: NatsConnection): Promise<Figures> {
  const jsm = await jetstreamManager(pub);
  await jsm.streams.add({ name: 'BENCH', subjects: ['bench.js.>'], num_replicas: 3, duplicate_window: nanos(60_000) });
  await jsm.consumers.add('BENCH', { durable_name: 'c', ack_policy: AckPolicy.Explicit, max_ack_pending: 20_000 });
  const js = jetstream(pub);
  const arrivals: number[] = [];
  const lastAt = { t: 0 };
  const recv = receiverFor(arrivals, lastAt);
  const messages = await (await jetstream(sub).consumers.get('BENCH', 'c')).consume({ max_messages: 1000 });
  void (async () => {
    for await (const m of messages) {
      recv(m.data);
      m.ack();
    }
  })();
  // The same window of publishes in flight as the runtime's bridge keeps.
  const inflight = new Set<Promise<unknown>>();
  const f = await measure(
    async (i, t) => {
      const p = js.publish('bench.js.x', JSON.stringify({ i, t, p: PAYLOAD }), { msgID: `m${i}` });
      inflight.add(p);
      void p.finally(() => inflight.delete(p));
      if (inflight.size >= 256) await Promise.race(inflight);
    },
    arrivals,
    lastAt,
  );
  await messages.close();
  return f;
}

async function openAgent(c: Clients, id: string, subscribe: [string, string][]): Promise<StreamClient> {
  const s = await StreamClient.open(c, id);
  for (const [pattern, qos] of subscribe) {
    s.send({ subscribe: { requestId: pattern, pattern, qos: qos as 'QOS_BATCHED' } });
    await s.next((m) => m.msg === 'subscribed', `subscribed ${pattern}`);
  }
  return s;
}

async function loom(
  pubClients: Clients,
  subClients: Clients,
  topic: string,
  qos: string,
  id: string,
): Promise<Figures> {
  const arrivals: number[] = [];
  const lastAt = { t: 0 };
  const recv = receiverFor(arrivals, lastAt);
  const receiver = await openAgent(subClients, `${id}-rx`, [[`${topic}.>`, qos]]);
  receiver.stream.on(
    'data',
    (m: {
      delivery?: { event?: { payload: Buffer } };
      deliveryBatch?: { deliveries: { event?: { payload: Buffer } }[] };
    }) => {
      if (m.delivery?.event) recv(m.delivery.event.payload);
      for (const d of m.deliveryBatch?.deliveries ?? []) if (d.event) recv(d.event.payload);
    },
  );
  const sender = await openAgent(pubClients, `${id}-tx`, []);
  const f = await measure(
    async (i, t) => {
      const ok = sender.stream.write({
        publish: {
          topic: `${topic}.x`,
          event: {
            id: '',
            type: 'bench',
            timestampMs: Date.now(),
            source: '',
            metadata: {},
            payload: Buffer.from(JSON.stringify({ i, t, p: PAYLOAD })),
          },
        },
      });
      if (!ok) await new Promise((r) => sender.stream.once('drain', r));
    },
    arrivals,
    lastAt,
  );
  sender.end();
  receiver.end();
  return f;
}

async function main(): Promise<void> {
  if (!natsServerAvailable()) {
    console.log('nats-server is not installed: skipped');
    return;
  }
  const nats = await NatsCluster.start({ nodes: 3 });
  try {
    const [u1, , u3] = nats.urls;
    const pub = await natsConnect({ servers: u1 });
    const sub = await natsConnect({ servers: u3 });
    const bareRt = await bareCore(pub, sub);
    const bareJs = await bareJetStream(pub, sub);
    await pub.close();
    await sub.close();

    const toml = (node: string, server: string) =>
      `[runtime]\nlog_level = "warn"\n[cluster]\nservers = ["${server}"]\nnode = "${node}"\nnamespace = "bench"\nshare = ["bb.>"]\nshare_realtime = ["br.>"]\nreplicas = 3\n`;
    const [A, C] = await Promise.all([
      startRuntime(makeWorkspace(toml('A', u1!)), ['--log-level', 'info']),
      startRuntime(makeWorkspace(toml('C', u3!)), ['--log-level', 'info']),
    ]);
    const cA = connect(A.discovery().address, { token: A.discovery().token });
    const cC = connect(C.discovery().address, { token: C.discovery().token });
    await sleep(2000); // both joined NATS (stream, consumers, presence)
    const loomJs = await loom(cA, cC, 'bb', 'QOS_BATCHED', 'b');
    const loomRt = await loom(cA, cC, 'br', 'QOS_REALTIME', 'r');
    const localB = await loom(cA, cA, 'lb', 'QOS_BATCHED', 'lb');
    const localR = await loom(cA, cA, 'lr', 'QOS_REALTIME', 'lr');
    cA.bridge.close();
    cC.bridge.close();

    const fmt = (n: number) => n.toLocaleString('en-US', { maximumFractionDigits: 0 });
    const line = (what: string, ours: Figures, base: Figures, baseName: string) =>
      console.log(
        `${what.padEnd(34)} ${fmt(ours.rate).padStart(8)} ev/s (${ours.received}/${N})  p50 ${ours.p50.toFixed(2)} ms  p99 ${ours.p99.toFixed(2)} ms   ` +
          `${baseName} ${fmt(base.rate).padStart(8)} ev/s  p50 ${base.p50.toFixed(2)} ms  p99 ${base.p99.toFixed(2)} ms   ` +
          `ratio ${(ours.rate / base.rate).toFixed(3)} (throughput)  x${(ours.p50 / base.p50).toFixed(2)} (p50 latency)`,
      );
    console.log(
      `${N} events of ${PAYLOAD.length + 30} bytes per throughput phase; latency over ${LAT_N} events sent every 2 ms`,
    );
    line('batched A -> C (JetStream)', loomJs, bareJs, 'bare JetStream');
    line('realtime A -> C (core NATS)', loomRt, bareRt, 'bare core NATS');
    line('local batched A -> A', localB, loomJs, 'A -> C batched');
    line('local realtime A -> A', localR, loomRt, 'A -> C realtime');
  } finally {
    await stopAllRuntimes();
    await nats.stop();
    removeWorkspaces();
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
