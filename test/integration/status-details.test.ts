// A gRPC status message travels in a header (grpc-message, percent-encoded), and many of the
// runtime's quote what the caller sent. One over 64 KiB is an HPACK error at the client
// (COMPRESSION_ERROR), which tears down the whole HTTP/2 connection: every other call on it
// failed or hung until its deadline. The stress suite's fuzz part found it as stalls of up to a
// minute in which its connection got no answer at all. Such messages are cut to fit, and the
// other calls on the connection carry on.
import { strict as assert } from 'node:assert';
import * as grpc from '@grpc/grpc-js';
import { call, callFails, connect, event, StreamClient, type Clients } from '../support/grpc';
import { makeWorkspace, removeWorkspaces, startRuntime, stopAllRuntimes } from './helpers/runtime';

/** Far beyond one header field's 64 KiB, and still well within a message's 4 MiB. */
const HUGE = 'x'.repeat(300_000);
/** What a status message may take on the wire at most (C-core clients refuse metadata past 8 KiB). */
const WIRE_LIMIT = 8 * 1024;

const wireBytes = (details: string) => Buffer.byteLength(encodeURI(details));

describe('status messages that quote a huge input', function () {
  this.timeout(60_000);
  let address: string;
  let token: string;
  let c: Clients;
  let bystander: StreamClient;
  let n = 0;

  before(async () => {
    const rt = await startRuntime(makeWorkspace(''));
    ({ address, token } = rt.discovery());
  });
  // A connection of its own for each case, with another call on it, open throughout: it must
  // outlive the refusal.
  beforeEach(async () => {
    c = connect(address, { token });
    bystander = await StreamClient.open(c, `bystander-${++n}`);
  });
  afterEach(() => {
    bystander?.cancel();
    c?.close();
  });
  after(async () => {
    await stopAllRuntimes();
    removeWorkspaces();
  });

  async function connectionStillServes(): Promise<void> {
    bystander.send({ ping: { timestampMs: 7 } });
    await bystander.next((m) => m.msg === 'pong', 'a pong on the stream sharing the connection');
    assert.equal(bystander.error, undefined, bystander.error?.message);
    const stats = await call(c.runtime, 'GetStats', {});
    assert.ok(Number(stats.timestampMs) > 0);
  }

  function assertCut(err: grpc.ServiceError, names: RegExp): void {
    assert.match(err.details, names);
    assert.match(err.details, /cut/);
    assert.ok(wireBytes(err.details) <= WIRE_LIMIT, `${wireBytes(err.details)} bytes on the wire`);
  }

  it('Runtime.ControlAgent with a huge action: INVALID_ARGUMENT naming the field, cut to fit, and the connection carries on', async () => {
    const err = await callFails(c.runtime, 'ControlAgent', { agentId: 'nobody', action: HUGE });
    assert.equal(err.code, grpc.status.INVALID_ARGUMENT, err.message);
    assertCut(err, /^action must be one of start, stop, restart \(got "xxx/);
    await connectionStillServes();
  });

  it('Runtime.Publish to a huge invalid topic: INVALID_ARGUMENT, cut to fit, and the connection carries on', async () => {
    const err = await callFails(c.runtime, 'Publish', { topic: `${HUGE}..`, event: event('t', {}) });
    assert.equal(err.code, grpc.status.INVALID_ARGUMENT, err.message);
    assertCut(err, /^publish to "xxx/);
    await connectionStillServes();
  });

  // The case the fuzz found first (seed 424615, case 107144): a 42 KB agent id, quoted three
  // times over once percent-encoded.
  it('Runtime.StartAgent with a huge invalid agent id: INVALID_ARGUMENT, cut to fit, and the connection carries on', async () => {
    const err = await callFails(c.runtime, 'StartAgent', { agentId: HUGE, script: 'a.py', keepAlive: true });
    assert.equal(err.code, grpc.status.INVALID_ARGUMENT, err.message);
    assertCut(err, /agent id "xxx/);
    await connectionStillServes();
  });

  it('Bridge.RegisterAgent with a huge invalid agent id: refused in the body, its error_message cut too', async () => {
    const res = await call(c.bridge, 'RegisterAgent', { agentId: HUGE, subscribedTopics: [] });
    assert.equal(res.success, false);
    assert.match(res.errorMessage, /^agent id "xxx/);
    assert.match(res.errorMessage, /cut/);
    assert.ok(Buffer.byteLength(res.errorMessage) <= WIRE_LIMIT, `${Buffer.byteLength(res.errorMessage)} bytes`);
    await connectionStillServes();
  });

  it('EventStream bound to a huge invalid agent id ends with INVALID_ARGUMENT, cut to fit, and the connection carries on', async () => {
    const s = new StreamClient(c);
    s.send({ ack: { messageId: `${HUGE}!` } });
    await s.closed();
    assert.equal(s.error?.code, grpc.status.INVALID_ARGUMENT, s.error?.message);
    assertCut(s.error!, /^agent id "xxx/);
    const told = s.history.find((m) => m.msg === 'err')?.err;
    assert.equal(told?.code, 'invalid_agent');
    assert.ok(Buffer.byteLength(told.message) <= WIRE_LIMIT, `${Buffer.byteLength(told.message)} bytes`);
    await connectionStillServes();
  });
});
