// Limits that keep one client from starving the runtime (issue 11, part 3), over real gRPC
// against the real runtime process.
import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { MAX_METADATA_BYTES } from '../../runtime/agents/directory';
import { silentLogger } from '../../runtime/log';
import { RemoteRegistry } from '../../runtime/mcp/attach';
import { call, callFails, connect, StreamClient, type Clients } from '../support/grpc';
import { makeWorkspace, removeWorkspaces, startRuntime, stopAllRuntimes, type RuntimeProcess } from './helpers/runtime';

const MiB = 1024 * 1024;
const STALLED = join(__dirname, 'fixtures', 'stalled-subscriber.mjs');

/** Resident memory of a process in bytes, from /proc/<pid>/status (VmRSS). */
function rssOf(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]) * 1024;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A real gRPC client in its own process that subscribes to `topic` at `qos`, then is frozen (SIGSTOP): it never reads again. */
async function frozenSubscriber(
  address: string,
  token: string,
  agentId: string,
  topic: string,
  qos = 'QOS_REALTIME',
): Promise<ChildProcess> {
  const child = spawn(process.execPath, [STALLED], {
    env: {
      ...process.env,
      LOOM_BRIDGE_ADDR: address,
      LOOM_TOKEN: token,
      LOOM_AGENT_ID: agentId,
      FIXTURE_TOPIC: topic,
      FIXTURE_QOS: qos,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (b: Buffer) => b.toString().includes('ready') && resolve());
      child.on('exit', (code) => reject(new Error(`stalled subscriber exited (${code})`)));
    });
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  child.kill('SIGSTOP');
  return child;
}

describe('limits: a stalled subscriber of large realtime events', function () {
  this.timeout(120_000);
  after(async () => {
    await stopAllRuntimes();
    removeWorkspaces();
  });

  /**
   * Starts a runtime with the given [bus] settings, stalls one realtime subscriber (it registers,
   * opens its stream and never reads), publishes `count` events of 1 MiB to it and reports the
   * runtime's RSS growth (peak over the baseline) and the drops GetStats counts for it.
   */
  async function stalledRun(
    busToml: string,
    count: number,
  ): Promise<{ growth: number; base: number; peak: number; dropped: Record<string, number>; delivered: number }> {
    const rt: RuntimeProcess = await startRuntime(makeWorkspace(`[bus]\n${busToml}\n`));
    const { address, token } = rt.discovery();
    const publisher: Clients = connect(address, { token });
    // A separate process, frozen once subscribed: its socket fills and it never reads again.
    const child = await frozenSubscriber(address, token, 'stalled', 'big.>');
    try {
      // A warm-up publish and a GC-quiet moment make the baseline fair.
      await call(publisher.runtime, 'Publish', {
        topic: 'warm.up',
        event: { type: 'warm', payload: Buffer.alloc(MiB) },
      });
      await sleep(500);
      const pid = rt.proc.pid!;
      const base = rssOf(pid);
      let peak = base;
      const payload = Buffer.alloc(MiB, 'p');
      for (let i = 0; i < count; i++) {
        await call(publisher.runtime, 'Publish', { topic: 'big.data', event: { id: `e${i}`, type: 'big', payload } });
        if (i % 10 === 0) peak = Math.max(peak, rssOf(pid));
      }
      for (let i = 0; i < 10; i++) {
        await sleep(100);
        peak = Math.max(peak, rssOf(pid));
      }
      const stats = await call(publisher.runtime, 'GetStats', {});
      const sub = stats.subscriptions.find((s) => s.subscriber === 'stalled');
      assert.ok(sub, 'the stalled subscription is listed');
      const dropped = Object.fromEntries(Object.entries(sub.dropped).map(([k, v]) => [k, Number(v)]));
      return { growth: peak - base, base, peak, dropped, delivered: Number(sub.delivered) };
    } finally {
      child.kill('SIGKILL');
      publisher.close();
      await rt.stop();
    }
  }

  it('keeps the runtime under its byte budget plus a margin and counts the drops (queue_bytes)', async () => {
    const budget = 16 * MiB;
    const r = await stalledRun(`queue_bytes = { realtime = ${budget} }`, 300);
    console.log(
      `      stalled subscriber, 300 x 1 MiB realtime, budget 16 MiB: RSS ${(r.base / MiB).toFixed(1)} -> peak ${(r.peak / MiB).toFixed(1)} MiB (growth ${(r.growth / MiB).toFixed(1)} MiB); drops ${JSON.stringify(r.dropped)}, delivered ${r.delivered}`,
    );
    // The margin covers what grpc-js buffers for the stream beside the bus (its writable side
    // and the HTTP/2 window) and inbound messages not yet collected; 300 MiB pinned would fail it.
    const margin = 64 * MiB;
    assert.ok(
      r.growth < budget + margin,
      `RSS grew ${(r.growth / MiB).toFixed(1)} MiB, over ${(budget + margin) / MiB} MiB`,
    );
    assert.ok(
      (r.dropped.queue_bytes ?? 0) >= 300 - 16 - 32,
      `drops counted: ${JSON.stringify(r.dropped)}, delivered ${r.delivered}`,
    );
    assert.equal(r.dropped.queue_full, undefined, 'the count (1024) was never the limit');
    // The bridge hands a stream at most about one message limit (4 MiB) beyond what HTTP/2 took;
    // grpc-js alone would buffer 16 messages (16 MiB here, 64 MiB of 4 MiB events).
    assert.ok(r.delivered <= 8, `${r.delivered} events went into the stalled stream's buffers`);
  });

  it('without a byte budget that binds, the same run pins the events (what the budget prevents)', async () => {
    const r = await stalledRun(`queue_bytes = { realtime = 1099511627776 }`, 150);
    console.log(
      `      same, 150 x 1 MiB, budget 1 TiB (count only): RSS ${(r.base / MiB).toFixed(1)} -> peak ${(r.peak / MiB).toFixed(1)} MiB (growth ${(r.growth / MiB).toFixed(1)} MiB); drops ${JSON.stringify(r.dropped)}`,
    );
    assert.ok(r.growth > 100 * MiB, `RSS grew only ${(r.growth / MiB).toFixed(1)} MiB`);
  });
});

describe('limits: a stalled batched subscriber', function () {
  this.timeout(120_000);
  after(async () => {
    await stopAllRuntimes();
    removeWorkspaces();
  });

  it('holds publishers over its byte budget, yet an event larger than the whole budget is dropped (too_large) at once', async () => {
    const rt = await startRuntime(makeWorkspace(`[bus]\nqueue_bytes = { batched = ${2 * MiB} }\n`));
    const { address, token } = rt.discovery();
    const publisher = connect(address, { token });
    const child = await frozenSubscriber(address, token, 'slowpoke', 'bulk.>', 'QOS_BATCHED');
    try {
      // 1 MiB events: the transport takes a few, the queue two, and then publishers wait.
      let settled = 0;
      const held = Array.from({ length: 12 }, (_, i) =>
        call(publisher.runtime, 'Publish', {
          topic: 'bulk.data',
          event: { id: `b${i}`, type: 'bulk', payload: Buffer.alloc(MiB) },
        }).then(
          () => void settled++,
          () => void settled++,
        ),
      );
      await sleep(1500);
      assert.ok(settled < 12, 'some publishers are held (backpressure)');
      const before = settled;

      // 3 MiB never fits a 2 MiB budget: refused at once instead of waiting forever.
      const t0 = Date.now();
      await call(publisher.runtime, 'Publish', {
        topic: 'bulk.data',
        event: { id: 'huge', type: 'bulk', payload: Buffer.alloc(3 * MiB) },
      });
      assert.ok(Date.now() - t0 < 5000, `the oversized publish took ${Date.now() - t0} ms`);
      const stats = await call(publisher.runtime, 'GetStats', {});
      const sub = stats.subscriptions.find((x) => x.subscriber === 'slowpoke')!;
      assert.equal(Number(sub.dropped.too_large), 1);
      assert.equal(sub.dropped.queue_bytes, undefined, 'batched never drops for lack of room');
      assert.equal(settled, before, 'the held publishers are still held');
      // The queue's bytes, its budget and the waiting publishers are on the wire (SubscriptionStats).
      assert.equal(Number(sub.queueBytesCapacity), 2 * MiB);
      assert.ok(Number(sub.queueBytes) > 0 && Number(sub.queueBytes) <= 2 * MiB, `queue_bytes ${sub.queueBytes}`);
      assert.ok(sub.waitingPublishers >= 1, `waiting publishers ${sub.waitingPublishers}`);

      child.kill('SIGKILL'); // the subscription ends: held publishers are released
      await Promise.all(held);
    } finally {
      child.kill('SIGKILL');
      publisher.close();
    }
  });
});

// A red-team finding: 1 500 concurrent 3.9 MB publishes to a batched subscription nobody read
// took the runtime's heap to 9 GB; a unary Publish has no stream to pause.
describe('limits: publishes waiting for a full batched subscriber, per caller', function () {
  this.timeout(120_000);
  after(async () => {
    await stopAllRuntimes();
    removeWorkspaces();
  });

  it("holds at most 16 MiB of one caller's payloads waiting, refusing more at once with RESOURCE_EXHAUSTED", async () => {
    const rt = await startRuntime(makeWorkspace(`[bus]\nqueue_bytes = { batched = ${2 * MiB} }\n`));
    const { address, token } = rt.discovery();
    const publisher = connect(address, { token });
    const child = await frozenSubscriber(address, token, 'sink', 'sink.>', 'QOS_BATCHED');
    try {
      const outcomes: Array<string | undefined> = [];
      const all = Array.from({ length: 40 }, (_, i) =>
        call(publisher.runtime, 'Publish', {
          topic: 'sink.data',
          // Half in metadata: the bytes that wait are the event's, not only its payload's.
          event: { id: `s${i}`, type: 'bulk', payload: Buffer.alloc(MiB / 2), metadata: { note: 'm'.repeat(MiB / 2) } },
        }).then(
          () => void outcomes.push('ok'),
          (e: grpc.ServiceError) => void outcomes.push(e.details),
        ),
      );
      await sleep(2000);
      const refused = outcomes.filter((o) => o?.includes('already wait for a full batched subscriber'));
      // The transport takes a few, the queue one; 16 wait; the rest are refused at once.
      assert.ok(refused.length >= 40 - 16 - 8, `${refused.length} refused of 40 (${outcomes.length} answered)`);
      assert.match(refused[0]!, /at most 256 and 16777216 bytes wait at once/);
      const stats = await call(publisher.runtime, 'GetStats', {});
      assert.ok(
        stats.subscriptions.find((x) => x.subscriber === 'sink')!.waitingPublishers <= 16,
        'no more than 16 MiB wait',
      );
      child.kill('SIGKILL');
      await Promise.all(all);
    } finally {
      child.kill('SIGKILL');
      publisher.close();
    }
  });
});

describe('limits: per-client caps on subscriptions and tools', function () {
  this.timeout(120_000);
  let rt: RuntimeProcess;
  let c: Clients;
  before(async () => {
    rt = await startRuntime(makeWorkspace(`[bridge]\nmax_subscriptions_per_client = 5\nmax_tools_per_client = 3\n`));
    const { address, token } = rt.discovery();
    c = connect(address, { token });
  });
  after(async () => {
    c.close();
    await stopAllRuntimes();
    removeWorkspaces();
  });

  const tool = (name: string) => ({ name, description: `tool ${name}`, parametersSchema: '{"type":"object"}' });

  it('collapses 10 000 identical subscriptions (registration and stream) into one: an event is delivered once', async () => {
    const reg = await call(c.bridge, 'RegisterAgent', {
      agentId: 'dup',
      subscribedTopics: Array(10_000).fill('dup.topic'),
      qos: 'QOS_REALTIME',
    });
    assert.equal(reg.success, true, reg.errorMessage);
    const s = new StreamClient(c);
    s.send({ ack: { messageId: 'dup' } });
    for (let i = 0; i < 10_000; i++)
      s.send({ subscribe: { requestId: `r${i}`, pattern: 'dup.topic', qos: 'QOS_REALTIME' } });
    const ids = new Set<string>();
    for (let i = 0; i < 10_000; i++) {
      const m = await s.next((x) => x.msg === 'subscribed', 'a subscribe answer');
      assert.equal(m.subscribed!.success, true, m.subscribed!.errorMessage);
      ids.add(m.subscribed!.subscriptionId);
    }
    assert.equal(ids.size, 1, 'every answer names the one subscription');

    await call(c.runtime, 'Publish', { topic: 'dup.topic', event: { type: 'once', payload: Buffer.from('x') } });
    await s.delivery('dup.topic');
    await sleep(500);
    const more = s.received.filter((m) => m.delivery || m.deliveryBatch);
    assert.equal(more.length, 0, `delivered ${more.length + 1} times`);
    const stats = await call(c.runtime, 'GetStats', {});
    assert.equal(stats.subscriptions.filter((x) => x.subscriber === 'dup').length, 1);
    s.cancel();
  });

  it('refuses distinct subscriptions beyond bridge.max_subscriptions_per_client, naming the setting', async () => {
    const six = ['a.1', 'a.2', 'a.3', 'a.4', 'a.5', 'a.6'];
    const refused = await call(c.bridge, 'RegisterAgent', { agentId: 'greedy', subscribedTopics: six });
    assert.equal(refused.success, false);
    assert.match(
      refused.errorMessage,
      /6 distinct subscription patterns exceed bridge\.max_subscriptions_per_client = 5/,
    );

    const ok = await call(c.bridge, 'RegisterAgent', { agentId: 'greedy', subscribedTopics: six.slice(0, 4) });
    assert.equal(ok.success, true, ok.errorMessage);
    const s = new StreamClient(c);
    s.send({ ack: { messageId: 'greedy' } });
    s.send({ subscribe: { requestId: 'fifth', pattern: 'a.5', qos: 'QOS_REALTIME' } });
    s.send({ subscribe: { requestId: 'again', pattern: 'a.1', qos: 'QOS_REALTIME' } });
    s.send({ subscribe: { requestId: 'sixth', pattern: 'a.6', qos: 'QOS_REALTIME' } });
    const answer = async (id: string) =>
      (await s.next((m) => m.subscribed?.requestId === id, `the answer to ${id}`)).subscribed!;
    assert.equal((await answer('fifth')).success, true);
    assert.equal((await answer('again')).success, true, 'a pattern already held is not a new subscription');
    const sixth = await answer('sixth');
    assert.equal(sixth.success, false);
    assert.match(
      sixth.errorMessage,
      /refused: agent greedy already holds 5 subscriptions, the most bridge\.max_subscriptions_per_client = 5 allows/,
    );
    s.cancel();
  });

  it('refuses more tools than bridge.max_tools_per_client, naming the setting, and keeps the tools it had', async () => {
    const ok = await call(c.bridge, 'RegisterAgent', { agentId: 'toolish', tools: [tool('few:a'), tool('few:b')] });
    assert.equal(ok.success, true, ok.errorMessage);
    const refused = await call(c.bridge, 'RegisterAgent', {
      agentId: 'toolish',
      tools: ['a', 'b', 'c', 'd'].map((n) => tool(`many:${n}`)),
    });
    assert.equal(refused.success, false);
    assert.match(refused.errorMessage, /4 tools exceed bridge\.max_tools_per_client = 3/);
    const listed = await call(c.tools, 'ListTools', { prefix: 'few:' });
    assert.deepEqual(
      listed.tools.map((t) => t.name),
      ['few:a', 'few:b'],
    );
    assert.equal((await call(c.tools, 'ListTools', { prefix: 'many:' })).tools.length, 0);
  });

  it(`refuses registration metadata over ${MAX_METADATA_BYTES} bytes (every ListAgents and GetStats lists it), keeping what the id had`, async () => {
    const ok = await call(c.bridge, 'RegisterAgent', { agentId: 'chatty', metadata: { role: 'reader' } });
    assert.equal(ok.success, true, ok.errorMessage);
    const refused = await call(c.bridge, 'RegisterAgent', {
      agentId: 'chatty',
      metadata: { a: 'x'.repeat(MAX_METADATA_BYTES / 2), b: 'y'.repeat(MAX_METADATA_BYTES / 2) },
    });
    assert.equal(refused.success, false);
    assert.match(
      refused.errorMessage,
      new RegExp(`metadata is ${MAX_METADATA_BYTES + 2} bytes, at most ${MAX_METADATA_BYTES}`),
    );
    const [agent] = (await call(c.runtime, 'ListAgents', {})).agents.filter((a) => a.agentId === 'chatty');
    assert.deepEqual(agent.metadata, { role: 'reader' });
  });
});

describe('limits: ListTools pages through any number of tools', function () {
  this.timeout(120_000);
  let rt: RuntimeProcess;
  let c: Clients;
  let address: string;
  let token: string;
  const expected = new Set<string>();
  /** About 1 KiB each: 10 000 of them (10 MiB) cannot travel in one 4 MiB message. */
  const description = 'd'.repeat(1000);

  before(async () => {
    rt = await startRuntime(makeWorkspace(''));
    ({ address, token } = rt.discovery());
    c = connect(address, { token });
    // 10 clients at the default cap of 1000 tools each.
    for (let n = 0; n < 10; n++) {
      const tools = Array.from({ length: 1000 }, (_, i) => ({
        name: `many${n}:tool_${String(i).padStart(4, '0')}`,
        description,
        parametersSchema: '{"type":"object"}',
      }));
      for (const t of tools) expected.add(t.name);
      const r = await call(c.bridge, 'RegisterAgent', { agentId: `provider-${n}`, tools });
      assert.equal(r.success, true, r.errorMessage);
    }
  });
  after(async () => {
    c.close();
    await stopAllRuntimes();
    removeWorkspaces();
  });

  async function listAll(pageSize: number): Promise<{ names: string[]; pages: number }> {
    const names: string[] = [];
    let pageToken = '';
    let pages = 0;
    do {
      const page = await call(c.tools, 'ListTools', { prefix: '', pageSize, pageToken });
      names.push(...page.tools.map((t) => t.name));
      pageToken = page.nextPageToken;
      pages++;
      assert.ok(pages < 1000, 'pages never end');
    } while (pageToken);
    return { names, pages };
  }

  it('lists all 10 000 tools (and the built-ins) completely, once each, by following next_page_token', async () => {
    const { names, pages } = await listAll(0);
    assert.equal(new Set(names).size, names.length, 'no tool twice');
    for (const n of expected) assert.ok(names.includes(n), `${n} missing`);
    assert.ok(names.includes('fs:read'));
    assert.deepEqual(names, [...names].sort(), 'in name order');
    assert.ok(pages >= 11, `default pages hold at most 1000 tools (${pages} pages)`);
  });

  it('cuts a page by bytes to fit the message limit when page_size alone would not', async () => {
    const one = await call(c.tools, 'ListTools', { prefix: 'many', pageSize: 10_000 });
    assert.ok(one.tools.length < 10_000 && one.tools.length > 1000, `first page: ${one.tools.length} tools`);
    assert.ok(one.nextPageToken);
    const { names, pages } = await listAll(10_000);
    assert.equal(names.filter((n) => expected.has(n)).length, 10_000);
    assert.ok(pages >= 3, `${pages} pages`);
  });

  it('the stdio MCP attachment (RemoteRegistry) follows pages too', async () => {
    const remote = new RemoteRegistry(address, token, silentLogger);
    try {
      await remote.refresh();
      assert.equal(remote.list('many').length, 10_000);
    } finally {
      remote.close();
    }
  });

  it('refuses a bad page_size or page_token with INVALID_ARGUMENT, naming the field', async () => {
    for (const pageSize of [-1, 10_001, 2 ** 31 - 1]) {
      const err = await callFails(c.tools, 'ListTools', { pageSize });
      assert.equal(err.code, grpc.status.INVALID_ARGUMENT);
      assert.match(err.details, /page_size must be 0 \(the default, 1000\) or an integer from 1 to 10000/);
    }
    for (const pageToken of [
      'garbage',
      Buffer.from('v2:x').toString('base64url'),
      Buffer.from('v1:').toString('base64url'),
    ]) {
      const err = await callFails(c.tools, 'ListTools', { pageToken });
      assert.equal(err.code, grpc.status.INVALID_ARGUMENT);
      assert.match(err.details, /page_token is not one ListTools gave/);
    }
  });
});
