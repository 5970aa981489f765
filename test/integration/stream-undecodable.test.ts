// An EventStream message that does not decode as a ClientEvent is answered with an error, and the
// stream goes on. grpc-js alone would end the stream with INTERNAL without telling the runtime;
// a reply the runtime then wrote kept that status from reaching the client, whose call hung
// (found by the stress suite's fuzz part, test/stress/).
import { strict as assert } from 'node:assert';
import * as grpc from '@grpc/grpc-js';
import { loadLoomPackage } from '../../runtime/proto';
import type { ServerEvent__Output } from '../../runtime/proto/types';
import { makeWorkspace, removeWorkspaces, startRuntime, stopAllRuntimes } from './helpers/runtime';
import { eventually } from '../support/eventually';

const identity = (b: Buffer) => b;
/** A field tag and a length that runs past the end of the message: no protobuf decoder accepts it. */
const UNDECODABLE = Buffer.from([0x0a, 0x7f, 0x01]);
/** ClientEvent with only field 15, which the msg oneof does not have: decodes, as an empty event. */
const UNKNOWN_ONEOF = Buffer.from([0x7a, 0x01, 0x00]);

function lenPrefixed(b: Buffer): Buffer {
  return Buffer.concat([Buffer.from([b.length]), b]);
}
const ack = (id: string) =>
  Buffer.concat([Buffer.from([0x12]), lenPrefixed(Buffer.concat([Buffer.from([0x0a]), lenPrefixed(Buffer.from(id))]))]);
const ping = Buffer.from([0x1a, 0x02, 0x08, 0x07]);

describe('EventStream: a message that does not decode', function () {
  this.timeout(60_000);
  let client: grpc.Client;
  let token: string;
  const decode = loadLoomPackage().Bridge.service.EventStream.responseDeserialize as (b: Buffer) => ServerEvent__Output;

  before(async () => {
    const rt = await startRuntime(makeWorkspace(''));
    const d = rt.discovery();
    token = d.token;
    client = new grpc.Client(d.address, grpc.credentials.createInsecure());
  });
  after(async () => {
    client?.close();
    await stopAllRuntimes();
    removeWorkspaces();
  });

  function open() {
    const md = new grpc.Metadata();
    md.set('authorization', `Bearer ${token}`);
    md.set('loom-dialect', 'loom');
    const s = client.makeBidiStreamRequest('/loom.v1.Bridge/EventStream', identity, identity, md, {
      deadline: Date.now() + 30_000,
    });
    const got: ServerEvent__Output[] = [];
    let status: grpc.StatusObject | undefined;
    s.on('data', (b: Buffer) => got.push(decode(b)));
    s.on('error', () => {});
    s.on('status', (st: grpc.StatusObject) => (status = st));
    return { s, got, status: () => status };
  }

  it('is answered with an error naming it, and the stream carries on', async () => {
    const { s, got } = open();
    s.write(ack('undecodable-1'));
    s.write(UNDECODABLE);
    s.write(ping);
    await eventually('the pong after the error', () => (got.some((m) => m.msg === 'pong') ? true : undefined));
    const err = got.find((m) => m.msg === 'err');
    assert.equal(err?.err?.code, 'invalid_message');
    assert.match(err!.err!.message, /does not decode as a ClientEvent/);
    assert.ok(got.indexOf(err!) < got.findIndex((m) => m.msg === 'pong'), 'answered in order');
    s.end();
  });

  it('ends the call with a status even when a reply to the message before it is still being written', async () => {
    // The reply to the empty event and the bad message cross: the case that used to hang.
    for (let i = 0; i < 20; i++) {
      const { s, got, status } = open();
      s.write(ack(`undecodable-race-${i}`));
      s.write(UNKNOWN_ONEOF);
      s.write(UNDECODABLE);
      s.end();
      const st = await eventually(`stream ${i} to end with a status`, () => status(), { timeoutMs: 20_000 });
      assert.equal(st.code, grpc.status.OK, st.details);
      assert.equal(got.filter((m) => m.msg === 'err').length, 2, 'both messages are answered');
    }
  });

  it('as the first message, ends the stream with a status that says what was expected', async () => {
    const { s, status } = open();
    s.write(UNDECODABLE);
    const st = await eventually('the status', () => status());
    assert.equal(st.code, grpc.status.FAILED_PRECONDITION);
    assert.match(st.details, /does not decode as a ClientEvent.*must be Ack/);
  });
});
