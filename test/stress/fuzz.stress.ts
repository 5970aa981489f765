// Fuzz: a million malformed or adversarial messages (20 000 in the short run) to every method of
// every service of the real runtime, over real gRPC and raw HTTP/2: protobuf with random fields,
// wrong wire types, unknown oneof members, cut-short and mangled bytes, huge and deeply nested
// JSON where JSON goes, truncated and oversized frames, bad credentials, garbage on the socket.
// Every answer must be a gRPC status with a message (or an error on the stream), never a hang;
// the runtime must stay up with bounded memory, and a well-behaved Python agent beside it must keep
// going (its rate with and without the fuzzer is printed, not asserted: they share two cores).
import { strict as assert } from 'node:assert';
import * as grpc from '@grpc/grpc-js';
import * as http2 from 'node:http2';
import * as net from 'node:net';
import { call, connect, type Clients } from '../support/grpc';
import { eventually } from '../support/eventually';
import { allMethods, clientEventDesc, mangle, randomMessage, Rng, type MethodInfo } from './protofuzz';
import { makeWorkspace, mb, pythonAgent, removeWorkspaces, SHORT, sleep, StressRuntime, summary } from './lib';

const TOTAL = SHORT ? 20_000 : 1_000_000;
const CONCURRENCY = 24;
const CALL_DEADLINE_MS = Number(process.env.LOOM_FUZZ_DEADLINE_MS ?? 60_000);
const STEADY_WINDOW_MS = process.env.LOOM_FUZZ_CASES ? 500 : SHORT ? 4_000 : 20_000;
const SEED = Number(process.env.LOOM_FUZZ_SEED ?? Date.now() % 1_000_000);
/** Peak RSS may grow by this much over the idle runtime's (a few maximum-size messages in flight). */
const RSS_BOUND_BYTES = 768 << 20;

const identity = (b: Buffer) => b;

interface Tally {
  sent: number;
  ok: number;
  codes: Map<string, number>;
  problems: string[];
  streamErrors: number;
  http2Answers: number;
  http2Resets: number;
  tcpClosed: number;
}

let onHang: (() => void) | undefined;

/** Kept for the assertion, and the first few printed at once: a long run may be stopped early. */
function problem(t: Tally, what: string): void {
  t.problems.push(what);
  if (t.problems.length <= 20) console.log(`      problem: ${what}`);
}

function record(t: Tally, what: string, err: { code?: number; details?: string } | null): void {
  if (!err) {
    t.ok++;
    return;
  }
  const name = grpc.status[err.code ?? -1] ?? `code ${err.code}`;
  t.codes.set(name, (t.codes.get(name) ?? 0) + 1);
  if (err.code === grpc.status.DEADLINE_EXCEEDED) onHang?.();
  if (err.code === grpc.status.DEADLINE_EXCEEDED) problem(t, `${what}: no answer within ${CALL_DEADLINE_MS} ms`);
  else if (!err.details?.trim()) problem(t, `${what}: ${name} without a message`);
}

describe('stress: fuzz', function () {
  this.timeout(SHORT ? 300_000 : 3 * 3600_000);
  let rt: StressRuntime | undefined;
  let good: Clients | undefined;
  let fuzzer: grpc.Client | undefined;
  let session: http2.ClientHttp2Session | undefined;
  after(async () => {
    good?.close();
    fuzzer?.close();
    session?.destroy();
    await rt?.stop();
    removeWorkspaces();
  });

  it(`answers ${TOTAL} malformed messages across every service with clear errors, and stays up`, async () => {
    const ws = makeWorkspace(pythonAgent('steady', 'steady.py'));
    rt = new StressRuntime(ws);
    const d = await rt.ready();
    good = connect(d.address, { token: d.token });
    const goodClients = good;
    const steady = async () => {
      const r = await call(goodClients.tools, 'CallTool', { name: 'steady:count', arguments: '{}', timeoutMs: 30_000 });
      if (r.status !== 'TOOL_OK') throw new Error(`steady:count: ${r.error?.message}`);
      return JSON.parse(r.output) as { round_trips: number; errors: number };
    };
    await eventually('the steady agent to run', async () => ((await steady()).round_trips > 100 ? true : undefined), {
      timeoutMs: 60_000,
      detail: () => rt!.stderr(),
    });
    const rate = async (ms: number) => {
      const a = await steady();
      const t = Date.now();
      await sleep(ms);
      const b = await steady();
      return (b.round_trips - a.round_trips) / ((Date.now() - t) / 1000);
    };
    const baseline = await rate(STEADY_WINDOW_MS);
    const idleRss = rt.rssBytes();

    const methods = allMethods();
    const unaries = methods.filter((m) => !m.requestStream && !m.responseStream);
    const stream = methods.find((m) => m.method === 'EventStream')!;
    const feed = methods.find((m) => m.method === 'Feed')!;
    assert.ok(unaries.length >= 25, `found ${unaries.length} unary methods`);
    fuzzer = new grpc.Client(d.address, grpc.credentials.createInsecure(), {
      'grpc.max_receive_message_length': 64 << 20,
      'grpc.max_send_message_length': 64 << 20,
    });
    const client = fuzzer;
    const md = (r: Rng, auth = true) => {
      const m = new grpc.Metadata();
      if (auth) m.set('authorization', `Bearer ${d.token}`);
      if (r.chance(0.5)) m.set('loom-dialect', 'loom');
      if (r.chance(0.1)) m.set('x-loom-agent-id', r.pick(['fuzz', '', 'vscode', 'runtime', '../x', 'a'.repeat(300)]));
      return m;
    };
    const deadline = () => ({ deadline: Date.now() + CALL_DEADLINE_MS });

    // The first unanswered call: what the runtime's queues looked like then, to say why.
    let diagnosed = false;
    const diagnose = () => {
      if (diagnosed) return;
      diagnosed = true;
      void call(goodClients.runtime, 'GetStats', {}).then(
        (s) => {
          const busy = s.subscriptions.filter((x) => x.queueDepth > 0 || x.waitingPublishers > 0);
          console.log(`      at the first unanswered call, busy subscriptions: ${JSON.stringify(busy.slice(0, 10))}`);
        },
        (e: Error) => console.log(`      GetStats failed too: ${e.message}`),
      );
    };
    const t: Tally = {
      sent: 0,
      ok: 0,
      codes: new Map(),
      problems: [],
      streamErrors: 0,
      http2Answers: 0,
      http2Resets: 0,
      tcpClosed: 0,
    };
    onHang = diagnose;
    const perService = new Map<string, number>();
    const count = (m: MethodInfo, n = 1) => perService.set(m.service, (perService.get(m.service) ?? 0) + n);

    const unary = (m: MethodInfo, body: Buffer, meta: grpc.Metadata, what: string) =>
      new Promise<void>((res) => {
        count(m);
        t.sent++;
        client.makeUnaryRequest(m.path, identity, identity, body, meta, deadline(), (err) => {
          record(t, `${m.path} ${what}`, err);
          res();
        });
      });

    const eventStream = (r: Rng, n: number, label: string) =>
      new Promise<void>((res) => {
        const s = client.makeBidiStreamRequest(stream.path, identity, identity, md(r), deadline());
        s.on('data', (b: Buffer) => void (b[0] === 0x1a && t.streamErrors++)); // ServerEvent field 3: err
        s.on('error', () => {});
        s.on('status', (st: grpc.StatusObject) => {
          record(
            t,
            `EventStream (${n} messages, ${label})`,
            st.code === grpc.status.OK ? null : { code: st.code, details: st.details },
          );
          res();
        });
        const desc = clientEventDesc();
        if (r.chance(0.7))
          s.write(
            Buffer.concat([
              Buffer.from([0x12]),
              lenPrefixed(Buffer.concat([Buffer.from([0x0a]), lenPrefixed(Buffer.from(`fuzz-${r.int(1e9)}`))])),
            ]),
          );
        for (let i = 0; i < n; i++) {
          const kind = r.int(3);
          s.write(
            kind === 0 ? randomMessage(r, desc) : kind === 1 ? mangle(r, randomMessage(r, desc)) : unknownOneof(r),
          );
        }
        count(stream, n);
        t.sent += n;
        s.end();
      });

    const feedCall = (r: Rng) =>
      new Promise<void>((res) => {
        count(feed);
        t.sent++;
        const s = client.makeServerStreamRequest(
          feed.path,
          identity,
          identity,
          r.chance(0.5) ? randomMessage(r, feed.request) : r.bytes(r.int(40)),
          md(r),
          deadline(),
        );
        const stop = setTimeout(() => s.cancel(), 1000);
        s.on('data', () => s.cancel());
        s.on('error', () => {});
        s.on('status', (st: grpc.StatusObject) => {
          clearTimeout(stop);
          record(
            t,
            'Feed',
            st.code === grpc.status.OK || st.code === grpc.status.CANCELLED
              ? null
              : { code: st.code, details: st.details },
          );
          res();
        });
      });

    const h2 = () => {
      if (!session || session.closed || session.destroyed) {
        session = http2.connect(`http://${d.address}`);
        session.on('error', () => {});
      }
      return session;
    };
    const rawFrame = (r: Rng) =>
      new Promise<void>((res) => {
        const m = r.pick(unaries);
        count(m);
        t.sent++;
        const variant = r.int(7);
        const headers: http2.OutgoingHttpHeaders = {
          ':method': 'POST',
          ':path': variant === 6 ? `/${m.service}/Nope` : m.path,
          'content-type': variant === 5 ? 'text/plain' : 'application/grpc',
          te: 'trailers',
          authorization: `Bearer ${d.token}`,
          ...(variant === 3 ? { 'grpc-encoding': 'gzip' } : {}),
        };
        const body = randomMessage(r, m.request);
        const prefix = (flag: number, len: number) =>
          Buffer.from([flag, len >>> 24, (len >>> 16) & 255, (len >>> 8) & 255, len & 255]);
        const frame = [
          () => Buffer.concat([prefix(0, body.length + 1 + r.int(1000)), body]), // says more than it sends
          () => prefix(0, body.length).subarray(0, r.int(5)), // the prefix itself cut short
          () => Buffer.concat([prefix(1, body.length), body]), // compressed, without an encoding
          () => Buffer.concat([prefix(1, body.length), body]), // "gzip" that is not
          () => Buffer.concat([prefix(0, 0x7fffffff), body]), // 2 GiB announced
          () => Buffer.concat([prefix(0, body.length), body]),
          () => Buffer.concat([prefix(0, body.length), body, prefix(0, body.length), body]), // two messages to a unary method
        ][variant]!();
        let answered = false;
        let status = '';
        const stream = h2().request(headers);
        const done = () => {
          clearTimeout(timer);
          // A stream the server resets (Node's http2 refuses streams beyond its session memory:
          // ENHANCE_YOUR_CALM, REFUSED_STREAM) is refused in so many words, at the HTTP/2 level.
          if (
            !answered &&
            !timedOut &&
            stream.rstCode !== undefined &&
            stream.rstCode !== http2.constants.NGHTTP2_NO_ERROR
          ) {
            t.http2Resets++;
            return res();
          }
          if (answered) t.http2Answers++;
          else
            problem(
              t,
              `raw HTTP/2 variant ${variant} to ${m.path}: no grpc-status with a message (${status || 'nothing'})`,
            );
          res();
        };
        let timedOut = false;
        const timer = setTimeout(
          () => ((timedOut = true), stream.close(http2.constants.NGHTTP2_CANCEL), (status ||= 'timed out')),
          CALL_DEADLINE_MS,
        );
        const look = (h: http2.IncomingHttpHeaders) => {
          status = `${h[':status'] ?? ''} ${h['grpc-status'] ?? ''} ${h['grpc-message'] ?? ''}`.trim() || status;
          // grpc-js accepts a compressed flag without an encoding and answers the call (variant 2):
          // any status is an answer; an error status must carry a message.
          const code = h['grpc-status'];
          if (code !== undefined && (code === '0' || String(h['grpc-message'] ?? '').length > 0)) answered = true;
          if (h[':status'] !== undefined && Number(h[':status']) !== 200) answered = true; // refused as HTTP (a wrong content type)
        };
        stream.on('response', look);
        stream.on('trailers', look);
        stream.on('data', () => {});
        stream.on('error', () => {});
        stream.on('close', done);
        stream.end(frame);
      });

    const garbage = (r: Rng) =>
      new Promise<void>((res) => {
        t.sent++;
        const [host, port] = d.address.split(':');
        const sock = net.connect(Number(port), host!);
        const timer = setTimeout(() => {
          problem(t, 'garbage on a TCP connection: the runtime kept it open for 60 s');
          sock.destroy();
        }, CALL_DEADLINE_MS);
        sock.on('error', () => {});
        sock.on('data', () => {});
        sock.on('close', () => {
          clearTimeout(timer);
          t.tcpClosed++;
          res();
        });
        sock.end(
          r.chance(0.5)
            ? r.bytes(1 + r.int(2000))
            : Buffer.from(`PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n${r.bytes(r.int(100)).toString('latin1')}`, 'latin1'),
        );
      });

    // Before the flood: an unknown oneof member on a bound stream is answered with an error naming it.
    const probe = new Rng(SEED);
    const errs: Buffer[] = [];
    await new Promise<void>((res) => {
      const meta = new grpc.Metadata(); // the owner's credential, nothing random: this stream must bind
      meta.set('authorization', `Bearer ${d.token}`);
      const s = client.makeBidiStreamRequest(stream.path, identity, identity, meta, deadline());
      s.on('data', (b: Buffer) => {
        if (b[0] === 0x1a) errs.push(b);
        if (errs.length === 3) s.end();
      });
      s.on('error', () => {});
      s.on('status', () => res());
      s.write(
        Buffer.concat([
          Buffer.from([0x12]),
          lenPrefixed(Buffer.concat([Buffer.from([0x0a]), lenPrefixed(Buffer.from('fuzz-probe'))])),
        ]),
      );
      for (let i = 0; i < 3; i++) s.write(unknownOneof(probe));
    });
    assert.equal(errs.length, 3, 'each unknown oneof member gets its own error');
    assert.match(errs[0]!.toString('latin1'), /invalid_message.*no field of the msg oneof/);

    let peakRss = idleRss;
    const sampler = setInterval(() => {
      if (rt!.alive) peakRss = Math.max(peakRss, rt!.rssBytes());
    }, 1000);
    const before = await steady();
    const started = Date.now();
    let next = 0;
    let lastReport = started;
    // LOOM_FUZZ_SEED=<seed> LOOM_FUZZ_CASES=<i,j,...> replays just those cases of a run.
    const only = process.env.LOOM_FUZZ_CASES?.split(',').map(Number);
    const worker = async () => {
      while (only ? next < only.length : t.sent < TOTAL) {
        const i = only ? only[next++]! : next++;
        const r = new Rng(SEED * 7919 + i);
        const dice = r.int(1000);
        const m = r.pick(unaries);
        // A case that never settles (its call outlived its deadline) is a problem, and the worker moves on.
        const one = (): Promise<void> => {
          if (dice < 430)
            return unary(
              m,
              randomMessage(r, m.request, 0, r.chance(1 / 4000)),
              md(r),
              `random fields (seed ${SEED}, case ${i})`,
            );
          else if (dice < 580)
            return unary(m, r.bytes(r.int(r.chance(0.01) ? 100_000 : 300)), md(r), `random bytes (case ${i})`);
          else if (dice < 730) return unary(m, mangle(r, randomMessage(r, m.request)), md(r), `mangled (case ${i})`);
          else if (dice < 760) return unary(m, randomMessage(r, m.request), md(r, false), `no credential (case ${i})`);
          else if (dice < 880) return eventStream(r, 1 + r.int(40), `seed ${SEED}, case ${i}`);
          else if (dice < 890) return feedCall(r);
          else if (dice < 999) return rawFrame(r);
          else return garbage(r);
        };
        let watchdog: NodeJS.Timeout | undefined;
        await Promise.race([
          one(),
          new Promise<void>((res) => {
            watchdog = setTimeout(
              () => (problem(t, `case ${i} (dice ${dice}) did not settle within ${2 * CALL_DEADLINE_MS} ms`), res()),
              2 * CALL_DEADLINE_MS,
            );
          }),
        ]);
        clearTimeout(watchdog);
        if (Date.now() - lastReport > (SHORT ? 5_000 : 30_000)) {
          lastReport = Date.now();
          const secs = (lastReport - started) / 1000;
          console.log(
            `      ${t.sent} sent in ${secs.toFixed(0)} s (${Math.round(t.sent / secs)}/s), runtime rss ${mb(rt!.rssBytes())} MB, peak ${mb(peakRss)} MB`,
          );
          assert.ok(rt!.alive, `the runtime died:\n${rt!.stderr()}`);
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    const fuzzSecs = (Date.now() - started) / 1000;
    const after = await steady();
    clearInterval(sampler);
    const during = (after.round_trips - before.round_trips) / fuzzSecs;
    const recovered = await rate(STEADY_WINDOW_MS);
    const stats = await call(good.runtime, 'GetStats', {});
    const finalRss = rt.rssBytes();

    const codes = [...t.codes]
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${k}:${v}`)
      .join(',');
    summary('fuzz', {
      seed: SEED,
      messages: t.sent,
      seconds: fuzzSecs.toFixed(0),
      per_s: Math.round(t.sent / fuzzSecs),
      services: [...perService].map(([k, v]) => `${k.replace('loom.v1.', '')}:${v}`).join(','),
      ok: t.ok,
      codes,
      stream_errors: t.streamErrors,
      raw_http2_answered: t.http2Answers,
      raw_http2_reset: t.http2Resets,
      tcp_garbage_closed: t.tcpClosed,
      unanswered: t.problems.length,
      rss_idle_mb: mb(idleRss),
      rss_peak_mb: mb(peakRss),
      rss_after_mb: mb(finalRss),
      steady_per_s_before: baseline.toFixed(0),
      steady_per_s_during: during.toFixed(0),
      steady_ratio: (during / baseline).toFixed(2),
      steady_per_s_after: recovered.toFixed(0),
      runtime_errors_logged: rt.levels.get('error') ?? 0,
    });

    assert.ok(rt.alive, `the runtime died:\n${rt.stderr()}`);
    assert.ok(stats.uptimeMs > 0, 'the runtime still answers');
    assert.deepEqual(t.problems.slice(0, 20), [], `${t.problems.length} messages were not answered with a clear error`);
    assert.equal(perService.size, 5, `every service was fuzzed: ${[...perService.keys()].join(', ')}`);
    assert.equal(after.errors, 0, 'the steady agent saw every one of its events, in order');
    assert.ok(after.round_trips > before.round_trips, 'the steady agent kept going during the fuzz');
    assert.ok(recovered > 0, 'the steady agent runs on after the fuzz');
    assert.ok(peakRss - idleRss < RSS_BOUND_BYTES, `RSS grew from ${mb(idleRss)} to ${mb(peakRss)} MB`);
  });
});

function lenPrefixed(b: Buffer): Buffer {
  const len: number[] = [];
  let n = b.length;
  while (n >= 0x80) (len.push((n & 0x7f) | 0x80), (n >>>= 7));
  len.push(n);
  return Buffer.concat([Buffer.from(len), b]);
}

/** A ClientEvent whose only field is a oneof member this runtime does not know (numbers 8-15). */
function unknownOneof(r: Rng): Buffer {
  return Buffer.concat([Buffer.from([((8 + r.int(8)) << 3) | 2]), lenPrefixed(r.bytes(r.int(20)))]);
}
