// Bus throughput beside bare in-process baselines measured in the same run, printed as ratios.
// Run: node --import tsx test/bench/bus.bench.ts   (or through test/bench/run.ts)
import { performance } from 'node:perf_hooks';
import { EventBus, createEvent, matchesSegments, parsePattern, type LoomEvent } from '../../runtime/bus';

interface Figure {
  name: string;
  bus: number;
  baseline: number;
  baselineName: string;
  unit: string;
  note?: string;
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const nextTurn = () => new Promise<void>((r) => setImmediate(r));

async function timed(run: () => Promise<void> | void): Promise<number> {
  const t0 = performance.now();
  await run();
  return (performance.now() - t0) / 1000;
}

/** The bare baseline for queued delivery: an array, a microtask drain, an awaited push. */
class ArrayQueue<T> {
  private items: T[] = [];
  private scheduled = false;
  constructor(private readonly handler: (item: T) => void) {}
  push(item: T): Promise<void> {
    this.items.push(item);
    if (!this.scheduled) {
      this.scheduled = true;
      queueMicrotask(() => {
        this.scheduled = false;
        const batch = this.items;
        this.items = [];
        for (const x of batch) this.handler(x);
      });
    }
    return Promise.resolve();
  }
}

async function oneToOne(n: number, event: LoomEvent): Promise<Figure> {
  // Three rounds, bus and baseline alternating, the best of each: the first round also warms the
  // JIT up, and a burst of load from a neighbour (or a GC left by the other side) hits one round.
  let busRate = 0;
  let baseRate = 0;
  for (let round = 0; round < 3; round++) {
    const bus = new EventBus();
    let got = 0;
    bus.subscribe('bench.one', () => void got++, { qos: 'batched' });
    const busSec = await timed(async () => {
      for (let i = 0; i < n; i++) await bus.publish('bench.one', event);
      while (got < n) await nextTurn();
    });
    await bus.close();
    busRate = Math.max(busRate, n / busSec);

    let base = 0;
    const q = new ArrayQueue<LoomEvent>(() => void base++);
    const baseSec = await timed(async () => {
      for (let i = 0; i < n; i++) await q.push(event);
      while (base < n) await nextTurn();
    });
    baseRate = Math.max(baseRate, n / baseSec);
  }
  return {
    name: '1→1 batched',
    bus: busRate,
    baseline: baseRate,
    baselineName: 'array queue',
    unit: 'events/s',
    note: 'best of 3 alternating rounds each',
  };
}

async function fanOut(n: number, event: LoomEvent): Promise<Figure> {
  const bus = new EventBus();
  let got = 0;
  const patterns = ['fan.x', 'fan.*', 'fan.>', '>', '*.x', 'fan.x', '*.*', 'fan.x'];
  for (const p of patterns) bus.subscribe(p, () => void got++, { qos: 'batched' });
  const total = n * patterns.length;
  const busSec = await timed(async () => {
    for (let i = 0; i < n; i++) await bus.publish('fan.x', event);
    while (got < total) await nextTurn();
  });
  await bus.close();

  let base = 0;
  const queues = patterns.map(() => new ArrayQueue<LoomEvent>(() => void base++));
  const baseSec = await timed(async () => {
    for (let i = 0; i < n; i++) await Promise.all(queues.map((q) => q.push(event)));
    while (base < total) await nextTurn();
  });
  return {
    name: '1→8 fan-out (batched)',
    bus: total / busSec,
    baseline: total / baseSec,
    baselineName: '8 array queues',
    unit: 'deliveries/s',
    note: `${fmt(n / busSec)} publishes/s`,
  };
}

/** A consumer that takes one event-loop turn per event, fed much faster than that. */
async function realtimeOverload(n: number, event: LoomEvent): Promise<Figure> {
  const capacity = 1024;
  const bus = new EventBus({ queueSizes: { realtime: capacity } });
  let got = 0;
  bus.subscribe(
    'bench.rt',
    async () => {
      await nextTurn();
      got++;
    },
    { qos: 'realtime' },
  );
  let dropped = 0;
  const busSec = await timed(async () => {
    for (let i = 0; i < n; i++) {
      dropped += (await bus.publish('bench.rt', event)).dropped;
      if (i % 1000 === 999) await nextTurn();
    }
  });
  const sDropped = bus.stats().dropped.queue_full ?? 0;
  await bus.close();

  // Baseline: a bounded array that drops when full, drained by the same slow consumer.
  const ring: LoomEvent[] = [];
  let baseGot = 0;
  let baseDropped = 0;
  let consuming = false;
  const consume = async () => {
    consuming = true;
    while (ring.length) {
      ring.shift();
      await nextTurn();
      baseGot++;
    }
    consuming = false;
  };
  const baseSec = await timed(async () => {
    for (let i = 0; i < n; i++) {
      if (ring.length >= capacity) baseDropped++;
      else ring.push(event);
      if (!consuming) void consume();
      await Promise.resolve();
      if (i % 1000 === 999) await nextTurn();
    }
  });
  return {
    name: 'realtime under overload',
    bus: n / busSec,
    baseline: n / baseSec,
    baselineName: 'bounded array, drop when full',
    unit: 'publishes/s',
    note: `bus: ${fmt(n)} offered, ${fmt(dropped)} dropped (stats say ${fmt(sDropped)}), ${fmt(got)} delivered so far; baseline: ${fmt(baseDropped)} dropped, ${fmt(baseGot)} delivered so far`,
  };
}

function wildcardPatterns(count: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    switch (i % 5) {
      case 0:
        out.push(`agent.a${i}.*`);
        break;
      case 1:
        out.push(`agent.*.reply.r${i}`);
        break;
      case 2:
        out.push(`tenant.t${i % 2000}.>`);
        break;
      case 3:
        out.push(`*.s${i}.status`);
        break;
      default:
        out.push(`fs.*.w${i}.>`);
    }
  }
  return out;
}

async function wildcardMatch(n: number, event: LoomEvent): Promise<Figure[]> {
  const patterns = wildcardPatterns(10_000);
  const topics = Array.from(
    { length: 1000 },
    (_, i) =>
      [
        `agent.a${i * 5}.ping`,
        `agent.x.reply.r${i * 5 + 1}`,
        `tenant.t${i}.a.b`,
        `svc.s${i * 5 + 3}.status`,
        `fs.c.w${i * 5 + 4}.f`,
        `nobody.${i}`,
      ][i % 6],
  );
  const bus = new EventBus();
  let delivered = 0;
  for (const p of patterns) bus.subscribe(p, () => void delivered++, { qos: 'realtime' });

  // Matching only, both ways, so the index itself is compared with a scan.
  const parsed = patterns.map(parsePattern);
  const trie = (bus as unknown as { trie: { match(t: string[]): unknown[] } }).trie;
  let trieHits = 0;
  const trieSec = await timed(() => {
    for (let i = 0; i < n; i++) trieHits += trie.match(topics[i % topics.length].split('.')).length;
  });
  const scanN = Math.max(1, Math.floor(n / 20));
  let scanHits = 0;
  const scanSec = await timed(() => {
    for (let i = 0; i < scanN; i++) {
      const segs = topics[i % topics.length].split('.');
      for (const p of parsed) if (matchesSegments(p, segs)) scanHits++;
    }
  });
  if (trieHits / n !== scanHits / scanN && n % topics.length === 0 && scanN % topics.length === 0) {
    throw new Error(`trie and scan disagree: ${trieHits / n} vs ${scanHits / scanN} hits per topic`);
  }

  // Full publish path (validate, envelope, match, queue, deliver) against the same scan.
  const busSec = await timed(async () => {
    for (let i = 0; i < n; i++) await bus.publish(topics[i % topics.length], event);
    while (bus.stats().subscriptions.some((s) => s.queueDepth > 0)) await nextTurn();
  });
  await bus.close();
  return [
    {
      name: 'match, 10 000 wildcard subs',
      bus: n / trieSec,
      baseline: scanN / scanSec,
      baselineName: 'linear pattern scan',
      unit: 'topics/s',
      note: `${(trieHits / n).toFixed(2)} matches per topic`,
    },
    {
      name: 'publish+deliver, 10 000 wildcard subs',
      bus: n / busSec,
      baseline: scanN / scanSec,
      baselineName: 'linear scan (match only)',
      unit: 'publishes/s',
      note: `${fmt(delivered)} deliveries`,
    },
  ];
}

/**
 * N publishers at once, 500 events each, into one batched subscriber, beside N loops pushing
 * into one array queue. Repeated so each figure covers enough events to time; `perEvent` is
 * compared with one publisher of the same run (several publishers should gain, never lose).
 */
async function concurrentPublishers(publishers: number, event: LoomEvent, reps: number): Promise<Figure> {
  const per = 500;
  const total = publishers * per * reps;
  const bus = new EventBus();
  let got = 0;
  bus.subscribe('bench.pubs', () => void got++, { qos: 'batched' });
  const busSec = await timed(async () => {
    for (let r = 0; r < reps; r++) {
      await Promise.all(
        Array.from({ length: publishers }, async () => {
          for (let i = 0; i < per; i++) await bus.publish('bench.pubs', event);
        }),
      );
    }
    while (got < total) await nextTurn();
  });
  await bus.close();

  let base = 0;
  const q = new ArrayQueue<LoomEvent>(() => void base++);
  const baseSec = await timed(async () => {
    for (let r = 0; r < reps; r++) {
      await Promise.all(
        Array.from({ length: publishers }, async () => {
          for (let i = 0; i < per; i++) await q.push(event);
        }),
      );
    }
    while (base < total) await nextTurn();
  });
  return {
    name: `${publishers} publisher${publishers > 1 ? 's' : ''} × 500 → 1 (batched)`,
    bus: total / busSec,
    baseline: total / baseSec,
    baselineName: 'array queue',
    unit: 'events/s',
  };
}

/** One publisher, 500 events, to S batched subscribers of the topic, beside S array queues. */
async function multiSubscriber(subscribers: number, event: LoomEvent, reps: number): Promise<Figure> {
  const per = 500;
  const total = subscribers * per * reps;
  const bus = new EventBus();
  let got = 0;
  for (let s = 0; s < subscribers; s++) bus.subscribe('bench.subs', () => void got++, { qos: 'batched' });
  const busSec = await timed(async () => {
    for (let r = 0; r < reps; r++) for (let i = 0; i < per; i++) await bus.publish('bench.subs', event);
    while (got < total) await nextTurn();
  });
  await bus.close();

  let base = 0;
  const queues = Array.from({ length: subscribers }, () => new ArrayQueue<LoomEvent>(() => void base++));
  const baseSec = await timed(async () => {
    for (let r = 0; r < reps; r++) for (let i = 0; i < per; i++) for (const q of queues) await q.push(event);
    while (base < total) await nextTurn();
  });
  return {
    name: `1 → ${subscribers} subscribers × 500 (batched)`,
    bus: total / busSec,
    baseline: total / baseSec,
    baselineName: `${subscribers} array queues`,
    unit: 'deliveries/s',
  };
}

/** ns per delivery with K subscriptions on one topic, K from 1 to 10 000 (the same total deliveries each). */
async function deliveryCurve(event: LoomEvent): Promise<Array<{ subs: number; ns: number; baseNs: number }>> {
  const deliveries = 400_000;
  const out: Array<{ subs: number; ns: number; baseNs: number }> = [];
  for (const subs of [1, 10, 100, 1000, 10_000]) {
    const events = Math.max(1, Math.floor(deliveries / subs));
    const total = events * subs;
    // Queues large enough to hold a whole run: nothing is dropped and no publisher waits.
    const bus = new EventBus({ queueSizes: { realtime: 1_000_000 }, queueBytes: { realtime: 2 ** 36 } });
    let got = 0;
    for (let s = 0; s < subs; s++) bus.subscribe('bench.curve', () => void got++, { qos: 'realtime' });
    // Drained every ~2 000 deliveries, so each figure is the steady cost, not a growing queue's.
    const chunk = Math.max(1, Math.floor(2000 / subs));
    const busSec = await timed(async () => {
      for (let i = 0; i < events; i++) {
        await bus.publish('bench.curve', event);
        if (i % chunk === chunk - 1) while (got < (i + 1) * subs) await nextTurn();
      }
      while (got < total) await nextTurn();
    });
    await bus.close();
    let base = 0;
    const queues = Array.from({ length: subs }, () => new ArrayQueue<LoomEvent>(() => void base++));
    const baseSec = await timed(async () => {
      for (let i = 0; i < events; i++) {
        for (const q of queues) await q.push(event);
        if (i % chunk === chunk - 1) while (base < (i + 1) * subs) await nextTurn();
      }
      while (base < total) await nextTurn();
    });
    out.push({ subs, ns: (busSec * 1e9) / total, baseNs: (baseSec * 1e9) / total });
  }
  return out;
}

export async function main(): Promise<Figure[]> {
  const event = createEvent({ type: 'bench', source: 'bench', payload: { n: 1, text: 'hello' }, threadId: 'bench' });
  const figures: Figure[] = [];
  const t0 = performance.now();
  figures.push(await oneToOne(200_000, event));
  figures.push(await fanOut(60_000, event));
  figures.push(await realtimeOverload(200_000, event));
  figures.push(...(await wildcardMatch(60_000, event)));
  const reps = 40;
  // Three rounds, the order reversed each round, and the median of each: one burst of load from
  // a neighbour (or a GC) must not decide a comparison between publisher counts.
  const counts = [1, 2, 5, 10];
  const rounds: Figure[][] = counts.map(() => []);
  for (let round = 0; round < 3; round++) {
    const order = round % 2 ? [...counts.keys()].reverse() : [...counts.keys()];
    for (const k of order)
      rounds[k]!.push(await concurrentPublishers(counts[k]!, event, Math.ceil((reps * 4) / counts[k]!)));
  }
  const concurrent = rounds.map((r) => r.sort((a, b) => a.bus - b.bus)[1]!);
  figures.push(...concurrent);
  for (const n of [2, 5, 10]) figures.push(await multiSubscriber(n, event, Math.ceil((reps * 4) / n)));
  const curve = await deliveryCurve(event);
  console.log(`bus benchmark (node ${process.version}, ${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  for (const f of figures) {
    console.log(
      `${f.name.padEnd(38)} bus ${fmt(f.bus).padStart(11)} ${f.unit.padEnd(13)} ${f.baselineName} ${fmt(f.baseline).padStart(11)}   ratio ${(f.bus / f.baseline).toFixed(3)}`,
    );
    if (f.note) console.log(`${''.padEnd(38)} ${f.note}`);
  }
  const one = concurrent[0]!.bus;
  console.log(
    `concurrent publishers, events/s against 1 publisher of this run: ${concurrent.map((f) => `${f.name.split(' ')[0]}: ${(f.bus / one).toFixed(2)}`).join(', ')}`,
  );
  console.log('per-delivery cost by subscriptions on one topic (realtime), ns; baseline: that many array queues');
  console.log('  (with 1 subscription every delivery carries a whole publish; from 10 on, the publish is shared)');
  for (const c of curve) {
    console.log(
      `  ${String(c.subs).padStart(6)} subs  bus ${c.ns.toFixed(0).padStart(6)} ns   array queues ${c.baseNs.toFixed(0).padStart(6)} ns   ratio ${(c.baseNs / c.ns).toFixed(3)}   vs 1 sub ${(c.ns / curve[0]!.ns).toFixed(2)}`,
    );
  }
  return figures;
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
