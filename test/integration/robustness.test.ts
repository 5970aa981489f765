// Bad bytes and oversized messages get a gRPC error for that call; the runtime keeps serving.
import * as grpc from '@grpc/grpc-js';
import { strict as assert } from 'node:assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { authMetadata, call, callFails, connect, event, queryAll, StreamClient, type Clients } from '../support/grpc';
import { makeWorkspace, removeWorkspaces, startRuntime, stopAllRuntimes, type RuntimeProcess } from './helpers/runtime';

const MAX = 64 * 1024;
/** A field tag with wire type 7, which does not exist: no protobuf decoder accepts it. */
const GARBAGE = Buffer.from([0x7f, 0x01, 0x02, 0x03]);
const identity = (b: Buffer) => b;

describe('malformed and oversized messages', function () {
  this.timeout(60_000);
  let rt: RuntimeProcess;
  let c: Clients;
  let raw: grpc.Client;
  let md: () => grpc.Metadata;

  before(async () => {
    rt = await startRuntime(makeWorkspace(`[bridge]\nmax_message_bytes = ${MAX}\n`));
    const { address, token } = rt.discovery();
    c = connect(address, { token });
    raw = new grpc.Client(address, grpc.credentials.createInsecure(), { 'grpc.max_send_message_length': 16 << 20 });
    md = () => authMetadata({ token });
  });
  after(async () => {
    c.close();
    raw.close();
    await stopAllRuntimes();
    removeWorkspaces();
  });

  async function stillServing(): Promise<void> {
    const stats = await call(c.runtime, 'GetStats', {});
    assert.ok(Number(stats.timestampMs) > 0);
    assert.equal(rt.exitCode, null);
  }

  // grpc-js alone answers these with INTERNAL "Error deserializing request": a status that blames
  // the runtime and says nothing of the bytes. The runtime decodes leniently (bridge/lenientDecoding.ts).
  for (const [method, type] of [
    ['/loom.v1.Bridge/RegisterAgent', 'AgentRegisterRequest'],
    ['/loom.v1.Bridge/ForwardToolCall', 'ToolCall'],
    ['/loom.v1.Tools/CallTool', 'ToolCall'],
    ['/loom.v1.Store/PutState', 'PutStateRequest'],
    ['/loom.v1.Runtime/Publish', 'Publish'],
    ['/loom.v1.MemoryService/SavePlan', 'SavePlanRequest'],
  ]) {
    it(`answers undecodable bytes on ${method} with INVALID_ARGUMENT naming ${type} and the decoder's complaint, and keeps serving`, async () => {
      const errorsLogged = () => rt.logs.filter((l) => l.level === 'error').length;
      const errorsBefore = errorsLogged();
      const err = await new Promise<grpc.ServiceError | null>((resolve) =>
        raw.makeUnaryRequest(method, identity, identity, GARBAGE, md(), (e) => resolve(e)),
      );
      assert.equal(err?.code, grpc.status.INVALID_ARGUMENT, err?.message);
      assert.match(
        err!.details,
        new RegExp(`^the request does not decode as an? ${type} \\(.*wire type 7.*\\); nothing was done$`),
      );
      await stillServing();
      assert.equal(
        errorsLogged(),
        errorsBefore,
        "an undecodable request is the caller's error, not logged as the runtime's",
      );
    });
  }

  it('refuses undecodable bytes on the Feed stream with INVALID_ARGUMENT before it starts', async () => {
    const feed = raw.makeServerStreamRequest('/loom.v1.Runtime/Feed', identity, identity, GARBAGE, md());
    const err = await new Promise<grpc.ServiceError>((resolve, reject) => {
      feed.on('error', resolve);
      feed.on('data', () => reject(new Error('an undecodable Feed request was answered with an update')));
    });
    assert.equal(err.code, grpc.status.INVALID_ARGUMENT, err.details);
    assert.match(err.details, /^the request does not decode as a FeedRequest \(/);
    await stillServing();
  });

  it('still refuses undecodable bytes without the token as UNAUTHENTICATED, not as a bad request', async () => {
    const err = await new Promise<grpc.ServiceError | null>((resolve) =>
      raw.makeUnaryRequest('/loom.v1.Store/PutState', identity, identity, GARBAGE, new grpc.Metadata(), (e) =>
        resolve(e),
      ),
    );
    assert.equal(err?.code, grpc.status.UNAUTHENTICATED, err?.message);
  });

  // A message that does not decode is answered as an empty one is (test/integration/stream-undecodable.test.ts);
  // as the first message of a stream it is not the Ack the protocol starts with, so the stream ends.
  it('ends an event stream whose first message does not decode with FAILED_PRECONDITION, and other streams carry on', async () => {
    await call(c.bridge, 'RegisterAgent', { agentId: 'bystander', subscribedTopics: ['robust.topic'] });
    const bystander = new StreamClient(c);
    bystander.send({ ack: { messageId: 'bystander' } });
    bystander.send({ ping: { timestampMs: 1 } });
    await bystander.next((m) => m.msg === 'pong');

    const stream = raw.makeBidiStreamRequest('/loom.v1.Bridge/EventStream', identity, identity, md());
    const err = await new Promise<grpc.ServiceError>((resolve) => {
      stream.on('error', resolve);
      stream.on('data', () => {});
      stream.write(GARBAGE);
    });
    assert.equal(err.code, grpc.status.FAILED_PRECONDITION, err.details);
    assert.match(err.details, /decode|Ack/i);

    await call(c.runtime, 'Publish', { topic: 'robust.topic', event: event('still-flowing', {}) });
    assert.equal((await bystander.delivery('robust.topic')).type, 'still-flowing');
    bystander.cancel();
    await stillServing();
  });

  it('refuses a unary message over max_message_bytes with RESOURCE_EXHAUSTED and keeps serving', async () => {
    const big = { topic: 'big.topic', event: { ...event('big', {}), payload: Buffer.alloc(MAX * 2, 0x61) } };
    const err = await new Promise<grpc.ServiceError | null>((resolve) => c.runtime.Publish(big, (e) => resolve(e)));
    assert.equal(err?.code, grpc.status.RESOURCE_EXHAUSTED, err?.message);
    await stillServing();
  });

  // grpc-js alone refuses to send such an answer with "Sent message larger than max (N vs. M)",
  // which names neither the setting nor that the work was done.
  it('refuses an answer over max_message_bytes with RESOURCE_EXHAUSTED naming the setting and saying the call ran', async () => {
    writeFileSync(join(rt.workspace, 'big-answer.txt'), 'z'.repeat(MAX * 2));
    const tooBig = (method: string) =>
      new RegExp(
        `^the answer to /loom\\.v1\\.${method} is \\d+ bytes, more than one message may carry \\(bridge\\.max_message_bytes = ${MAX}\\); the call itself ran`,
      );
    const read = { id: 'big', name: 'fs:read', arguments: JSON.stringify({ path: 'big-answer.txt' }) };
    const err = await call(c.tools, 'CallTool', read).then(
      () => undefined,
      (e: grpc.ServiceError) => e,
    );
    assert.equal(err?.code, grpc.status.RESOURCE_EXHAUSTED, err?.message);
    assert.match(err!.details, tooBig('Tools/CallTool'));
    await rt.waitForLog(
      'the refusal in the log',
      (l) => l.msg === 'answer over bridge.max_message_bytes refused' && l.method === '/loom.v1.Tools/CallTool',
    );
    // Asking for less is answered.
    const part = await call(c.tools, 'CallTool', {
      ...read,
      arguments: JSON.stringify({ path: 'big-answer.txt', max_bytes: 100 }),
    });
    assert.equal(part.status, 'TOOL_OK', part.error?.message);

    await stillServing();
  });

  // A red-team finding: every answer echoed a 1 MiB request_id, and a client that never read them
  // had the runtime's heap run out within 20 s.
  it('refuses a subscribe or unsubscribe whose request_id is longer than 256 characters, without echoing it', async () => {
    assert.equal((await call(c.bridge, 'RegisterAgent', { agentId: 'long-ids' })).success, true);
    const s = await StreamClient.open(c, 'long-ids');
    try {
      const id = 'r'.repeat(10_000);
      s.send({ unsubscribe: { requestId: id, pattern: 'a.b' } });
      s.send({ subscribe: { requestId: id, pattern: 'a.b' } });
      for (const kind of ['unsubscribe', 'subscribe']) {
        const err = await s.next((m) => m.msg === 'err', `the refusal of the ${kind}`);
        assert.equal(err.err?.code, 'invalid_message');
        assert.equal(
          err.err?.message,
          `${kind}: request_id is 10000 characters; at most 256 (it comes back in the answer)`,
        );
      }
      s.send({ subscribe: { requestId: 'r'.repeat(256), pattern: 'a.b' } });
      const ok = await s.next((m) => m.msg === 'subscribed', 'the answer to a 256-character id');
      assert.equal(ok.subscribed?.success, true);
      assert.ok(!s.history.some((m) => m.msg === 'unsubscribed' || m.subscribed?.requestId === id));
    } finally {
      s.cancel();
    }
  });

  it('answers a tool call on the stream whose result is over max_message_bytes with too_large, and the stream goes on', async () => {
    writeFileSync(join(rt.workspace, 'big-stream-answer.txt'), 'y'.repeat(MAX * 2));
    assert.equal((await call(c.bridge, 'RegisterAgent', { agentId: 'big-reader' })).success, true);
    const s = await StreamClient.open(c, 'big-reader');
    try {
      s.send({
        callTool: { id: 'big-1', name: 'fs:read', arguments: JSON.stringify({ path: 'big-stream-answer.txt' }) },
      });
      const r = (await s.next((m) => m.msg === 'callToolResult', 'the answer to big-1')).callToolResult!;
      assert.equal(r.id, 'big-1');
      assert.equal(r.status, 'TOOL_ERROR');
      assert.equal(r.error?.code, 'too_large');
      assert.match(r.error!.message, new RegExp(`bridge\\.max_message_bytes = ${MAX}\\); the call itself ran`));
      // A name that fills most of a message is quoted only in part in its NOT_FOUND.
      s.send({ callTool: { id: 'big-name', name: 'n'.repeat(MAX - 1024), arguments: '{}' } });
      const named = (await s.next((m) => m.msg === 'callToolResult', 'the answer to big-name')).callToolResult!;
      assert.equal(named.error?.code, 'not_found');
      assert.ok(named.error!.message.length < 300, `${named.error!.message.length} characters`);
      // The stream still works: the same read, cut to size, is answered on it.
      s.send({
        callTool: {
          id: 'big-2',
          name: 'fs:read',
          arguments: JSON.stringify({ path: 'big-stream-answer.txt', max_bytes: 10 }),
        },
      });
      const part = (await s.next((m) => m.msg === 'callToolResult', 'the answer to big-2')).callToolResult!;
      assert.equal(part.status, 'TOOL_OK', part.error?.message);
      assert.equal((JSON.parse(part.output) as { content: string }).content, 'y'.repeat(10));
    } finally {
      s.cancel();
    }
    await stillServing();
  });

  // Before QueryContext was paged, these three items (1.5 messages' worth) were refused whole.
  it('answers a QueryContext over max_message_bytes a page at a time, each page within a message', async () => {
    for (let i = 0; i < 3; i++)
      await call(c.store, 'SaveContext', {
        item: { sessionId: 'big-answer', type: 'note', content: `${i}`.repeat(MAX / 2), metadata: {}, timestampMs: 0 },
      });
    const first = await call(c.store, 'QueryContext', { sessionId: 'big-answer' });
    assert.equal(first.items.length, 1, 'the page is cut before the second item');
    assert.notEqual(first.nextPageToken, '');
    const all = await queryAll(c.store, { sessionId: 'big-answer' });
    assert.deepEqual(
      all.map((i) => i.content[0]),
      ['0', '1', '2'],
    );
    const newest = await queryAll(c.store, { sessionId: 'big-answer', newestFirst: true, limit: 2 });
    assert.deepEqual(
      newest.map((i) => i.content[0]),
      ['2', '1', '0'],
      'limit is per page: followed to the end',
    );

    // A page ends where its items and its token still fit: the token names the last entry, and
    // an id of "%" takes 4 bytes a character in it (escaped, then base64). B's long id would
    // have pushed the first page past the cap had it been counted only in B's item (an id may
    // take 1 024 bytes: B's 1 000 take about 4 000 in the token, A and B leave 3 000 to spare).
    const half = MAX / 2 - 1500;
    for (const [id, content] of [
      ['long-a', 'a'.repeat(half)],
      ['%'.repeat(1000), 'b'.repeat(half)],
      ['long-c', 'c'.repeat(3000)],
    ])
      await call(c.store, 'SaveContext', {
        item: { id, sessionId: 'long-ids', type: 'note', content, metadata: {}, timestampMs: 0 },
      });
    const longIds = await queryAll(c.store, { sessionId: 'long-ids' });
    assert.deepEqual(
      longIds.map((i) => i.content[0]),
      ['a', 'b', 'c'],
    );
    // Control characters count as the bytes they are (JSON would spell each in 6): items of 0.6
    // messages of them are taken, and read back one a page, each page within a message.
    for (let i = 0; i < 2; i++)
      await call(c.store, 'SaveContext', {
        item: {
          sessionId: 'controls',
          type: 'note',
          content: '\u0001'.repeat(MAX * 0.6),
          metadata: {},
          timestampMs: 0,
        },
      });
    const controls = await queryAll(c.store, { sessionId: 'controls' });
    assert.deepEqual(
      controls.map((i) => i.content.length),
      [MAX * 0.6, MAX * 0.6].map(Math.floor),
    );
    // An item that could be written but would not fit a page with its token is refused.
    const unlistable = await callFails(c.store, 'SaveContext', {
      item: { sessionId: 'big-answer', type: 'note', content: 'x'.repeat(MAX - 600), metadata: {}, timestampMs: 0 },
    });
    assert.equal(unlistable.code, grpc.status.INVALID_ARGUMENT, unlistable.details);
    assert.match(unlistable.details, /more than a page may carry .* it could be written but never listed/);

    const tools = await call(c.tools, 'ListTools', { pageSize: 1 });
    for (const pageToken of ['nonsense', tools.nextPageToken, Buffer.from('qc1:0!1!2').toString('base64url')]) {
      const err = await callFails(c.store, 'QueryContext', { sessionId: 'big-answer', pageToken });
      assert.equal(err.code, grpc.status.INVALID_ARGUMENT, pageToken);
      assert.match(err.details, /^QueryContext: page_token is not one QueryContext gave/);
    }
    await stillServing();
  });

  it('answers a ListState over max_message_bytes a page at a time, and refuses a token of another prefix', async () => {
    for (const k of ['big/a', 'big/b', 'big/c'])
      await call(c.store, 'PutState', { agentId: 'big-state', key: k, value: Buffer.alloc(MAX / 2, k.charCodeAt(4)) });
    const keys: string[] = [];
    let pageToken = '';
    let pages = 0;
    do {
      const page = await call(c.store, 'ListState', { agentId: 'big-state', prefix: 'big/', pageToken });
      keys.push(...page.entries.map((e) => e.key));
      pageToken = page.nextPageToken;
      pages++;
    } while (pageToken);
    assert.deepEqual(keys, ['big/a', 'big/b', 'big/c']);
    assert.equal(pages, 3);

    const first = await call(c.store, 'ListState', { agentId: 'big-state', prefix: 'big/' });
    const elsewhere = await callFails(c.store, 'ListState', {
      agentId: 'big-state',
      prefix: 'other/',
      pageToken: first.nextPageToken,
    });
    assert.equal(elsewhere.code, grpc.status.INVALID_ARGUMENT);
    assert.match(elsewhere.details, /^ListState: page_token is not one ListState gave/);
    await stillServing();
  });

  it('ends a stream that sends an oversized message with RESOURCE_EXHAUSTED and keeps serving', async () => {
    await call(c.bridge, 'RegisterAgent', { agentId: 'big-sender' });
    const s = new StreamClient(c);
    s.send({ ack: { messageId: 'big-sender' } });
    s.send({ publish: { topic: 'big.stream', event: { ...event('big', {}), payload: Buffer.alloc(MAX * 2, 0x62) } } });
    await s.closed();
    assert.equal(s.error?.code, grpc.status.RESOURCE_EXHAUSTED, s.error?.message);
    await stillServing();
  });

  it('answers an empty ClientEvent with an err naming the problem', async () => {
    const s = new StreamClient(c);
    s.send({ ack: { messageId: 'empty-sender' } });
    s.send({});
    const err = await s.next((m) => m.msg === 'err');
    assert.equal(err.err!.code, 'invalid_message');
    s.cancel();
    await stillServing();
  });
});
