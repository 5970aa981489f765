// Connections with no call open are closed after 10 to 20 s (grpc.max_connection_idle_ms in
// runtime/bridge/server.ts: grpc-js checks every 10 s, and a check that finds the connection a
// millisecond short of idle enough, as one under load can, leaves it to the next). The fuzz found why: after the HTTP/2 preface, a SETTINGS frame header
// that claims megabytes, then the client's FIN, and the runtime held the socket until it exited.
// A well-behaved client that was merely quiet reconnects on its next call; one with a stream open
// (every agent, the window) is never idle. A call the runtime has answered while the client keeps
// its side open does not count as open for long (runtime/bridge/halfOpen.ts): refused for want of a
// token, or for a message over the size limit, and never ended by the client, it held the connection
// for good.
import { strict as assert } from 'node:assert';
import * as grpc from '@grpc/grpc-js';
import * as http2 from 'node:http2';
import * as net from 'node:net';
import { call, connect, StreamClient } from '../support/grpc';
import { makeWorkspace, removeWorkspaces, startRuntime, stopAllRuntimes } from './helpers/runtime';

const PREFACE = 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n';
/** A SETTINGS frame header (type 4) that claims 0x3d994a bytes, and a few of them. */
const HALF_A_FRAME = Buffer.concat([
  Buffer.from(PREFACE, 'latin1'),
  Buffer.from([0x3d, 0x99, 0x4a, 0x04, 0xf0, 0x8a, 0x55, 0xa4, 0x8e, 0xff, 0xdd, 0x07]),
]);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A ForwardToolCall whose client sends a gRPC frame header and part of the message, reads the
 * answer, and never ends or resets its side: what a client that stops there does.
 */
function unendedCall(address: string, headers: http2.OutgoingHttpHeaders, declaredBytes: number) {
  const opened = Date.now();
  const session = http2.connect(`http://${address}`);
  session.on('error', () => {});
  const stream = session.request(
    {
      ':method': 'POST',
      ':path': '/loom.v1.Bridge/ForwardToolCall',
      'content-type': 'application/grpc',
      te: 'trailers',
      ...headers,
    },
    { endStream: false },
  );
  stream.on('error', () => {});
  stream.on('data', () => {});
  const header = Buffer.alloc(5);
  header.writeUInt32BE(declaredBytes, 1);
  stream.write(Buffer.concat([header, Buffer.alloc(16)]));
  const status = new Promise<string>((resolve) => stream.on('response', (h) => resolve(String(h['grpc-status']))));
  const after = (target: { on(e: 'close', f: () => void): unknown }) =>
    new Promise<number>((resolve) => target.on('close', () => resolve(Date.now() - opened)));
  return { session, status, streamClosed: after(stream), sessionClosed: after(session) };
}

describe('idle connections', function () {
  this.timeout(90_000);
  let address: string;
  let token: string;

  before(async () => {
    ({ address, token } = (await startRuntime(makeWorkspace(''))).discovery());
  });
  after(async () => {
    await stopAllRuntimes();
    removeWorkspaces();
  });

  it('a half-sent frame and a FIN, or an answered call the client never ends: the runtime closes them; a quiet client reconnects; a stream keeps its connection', async () => {
    // The three cases share the wait.
    const [host, port] = address.split(':');
    const stuck = net.connect(Number(port), host!);
    stuck.on('error', () => {});
    stuck.on('data', () => {});
    const opened = Date.now();
    const closedAfter = new Promise<number>((resolve) => stuck.on('close', () => resolve(Date.now() - opened)));
    stuck.end(HALF_A_FRAME);
    const refused = unendedCall(address, {}, 100); // no token: UNAUTHENTICATED, from an interceptor
    const oversized = unendedCall(address, { authorization: `Bearer ${token}` }, 0x7fffffff); // from grpc-js

    // Each on a connection of its own, or the stream would keep the quiet one's busy.
    const quiet = connect(address, { token, ownConnection: true });
    const streaming = connect(address, { token, ownConnection: true });
    try {
      await call(quiet.runtime, 'GetStats', {});
      const stream = await StreamClient.open(streaming, 'idle-test-streamer');
      await sleep(2000);
      assert.equal(
        stuck.closed,
        false,
        'the runtime closed the socket at once: this test would not show the idle limit',
      );

      const ms = await Promise.race([closedAfter, sleep(30_000).then(() => -1)]);
      assert.ok(ms > 0, 'the runtime kept the half-sent connection open for 30 s');
      assert.ok(ms >= 8_000, `closed after ${ms} ms`);

      assert.equal(await refused.status, String(grpc.status.UNAUTHENTICATED));
      assert.equal(await oversized.status, String(grpc.status.RESOURCE_EXHAUSTED));
      for (const [name, c] of Object.entries({ refused, oversized })) {
        const reset = await Promise.race([c.streamClosed, sleep(10_000).then(() => -1)]);
        assert.ok(reset > 0, `${name}: the answered call the client never ended is still open after 10 s`);
        const closed = await Promise.race([c.sessionClosed, sleep(30_000).then(() => -1)]);
        assert.ok(closed > 0, `${name}: its connection is still open 30 s after the call was reset`);
      }

      await sleep(Math.max(0, 22_000 - (Date.now() - opened))); // the quiet client's connection was idle for over 20 s
      const state = quiet.runtime.getChannel().getConnectivityState(false);
      assert.notEqual(state, grpc.connectivityState.READY, 'the quiet connection is still open after 20 s idle');
      await call(quiet.runtime, 'GetStats', {}); // reconnects
      assert.equal(quiet.runtime.getChannel().getConnectivityState(false), grpc.connectivityState.READY);
      assert.ok(!stream.ended && !stream.error, `a stream open throughout ended: ${stream.error?.message ?? 'end'}`);
      stream.cancel();
    } finally {
      quiet.close();
      streaming.close();
      stuck.destroy();
      refused.session.destroy();
      oversized.session.destroy();
    }
  });
});
