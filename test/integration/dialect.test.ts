// The two dialects side by side on one runtime: a client that declares Loom's (header
// loom-dialect: loom) gets NATS topic rules, concrete delivery topics, one stream per id and
// Loom's error codes; one that does not (as the reference loom-py) gets the reference's rules.
import { strict as assert } from 'node:assert';
import { MAX_COMPANIONS } from '../../runtime/agents/directory';
import { call, connect, event, StreamClient, type Clients } from '../support/grpc';
import { makeWorkspace, removeWorkspaces, startRuntime, stopAllRuntimes, type RuntimeProcess } from './helpers/runtime';

describe('dialects: Loom and the reference', function () {
  this.timeout(60_000);
  let rt: RuntimeProcess;
  let loom: Clients;
  let reference: Clients;
  const streams: StreamClient[] = [];
  const addSchema = JSON.stringify({ type: 'object', properties: { a: { type: 'number' } }, required: ['a'] });

  before(async () => {
    rt = await startRuntime(makeWorkspace());
    const { address, token } = rt.discovery();
    loom = connect(address, { token });
    reference = connect(address, { token, dialect: 'reference' });
  });
  afterEach(() => {
    for (const s of streams.splice(0)) s.cancel();
  });
  after(async () => {
    loom.close();
    reference.close();
    await stopAllRuntimes();
    removeWorkspaces();
  });

  async function stream(
    clients: Clients,
    agentId: string,
    topics: string[],
    tools: Array<{ name: string; parametersSchema: string }> = [],
  ): Promise<StreamClient> {
    const res = await call(clients.bridge, 'RegisterAgent', { agentId, subscribedTopics: topics, tools });
    assert.equal(res.success, true, res.errorMessage);
    return open(clients, agentId);
  }

  async function open(clients: Clients, agentId: string): Promise<StreamClient> {
    const s = await StreamClient.open(clients, agentId);
    streams.push(s);
    return s;
  }

  /** Publishes each in order, as the owner (Runtime.Publish). */
  async function publishAll(topics: string[]): Promise<void> {
    for (const topic of topics) await call(loom.runtime, 'Publish', { topic, event: event('t', { topic }) });
  }

  it('a trailing ".*" matches any depth for the reference and names the pattern; one segment and the concrete topic for Loom', async () => {
    const ref = await stream(reference, 'ref-market', ['market.*']);
    const ours = await stream(loom, 'loom-market', ['market.*']);
    await publishAll(['market', 'market.btc', 'market.price.btc', 'marketing.x']);

    const refGot = [];
    for (let i = 0; i < 2; i++) refGot.push(await ref.next((m) => m.msg === 'delivery', 'a reference delivery'));
    assert.deepEqual(
      refGot.map((m) => m.delivery!.topic),
      ['market.*', 'market.*'],
      'the reference names the subscription',
    );
    assert.deepEqual(
      refGot.map((m) => JSON.parse(m.delivery!.event!.payload.toString()).topic),
      ['market.btc', 'market.price.btc'],
    );

    const loomGot = await ours.next((m) => m.msg === 'delivery', 'a Loom delivery');
    assert.equal(loomGot.delivery!.topic, 'market.btc');
    await publishAll(['market.end']);
    assert.equal(
      (await ours.next((m) => m.msg === 'delivery')).delivery!.topic,
      'market.end',
      '"market.price.btc" is two segments: not for "*"',
    );
    assert.equal((await ref.next((m) => m.msg === 'delivery')).delivery!.topic, 'market.*');
    assert.equal(
      ref.received.filter((m) => m.msg === 'delivery').length,
      0,
      'nor "market" nor "marketing.x" for the reference',
    );
  });

  it('several reference streams share an id: both receive, tool calls go to the newest, and to the older once the newest ends', async () => {
    const tools = [{ name: 'shared.add', parametersSchema: addSchema }];
    const older = await stream(reference, 'twin', ['twin.topic'], tools);
    const newer = await stream(reference, 'twin', ['twin.topic'], tools);
    await publishAll(['twin.topic']);
    await older.next((m) => m.msg === 'delivery', 'delivery on the older stream');
    await newer.next((m) => m.msg === 'delivery', 'delivery on the newer stream');
    assert.equal(
      older.received.some((m) => m.msg === 'err'),
      false,
      'the older stream is not replaced',
    );

    const answer = async (s: StreamClient, by: string) => {
      const m = await s.next((x) => x.msg === 'toolCall', `a tool call on the ${by} stream`);
      s.send({ toolResult: { id: m.toolCall!.id, status: 'TOOL_OK', output: JSON.stringify({ by }) } });
    };
    const first = call(loom.tools, 'CallTool', { name: 'shared.add', arguments: '{"a":1}' });
    await answer(newer, 'newer');
    assert.deepEqual(JSON.parse((await first).output), { by: 'newer' });

    newer.cancel();
    await rt.waitForLog(
      'the older stream taking over',
      (l) => l.msg === 'agent stream ended; an older stream of the id carries on' && l.agent === 'twin',
    );
    const second = call(loom.tools, 'CallTool', { name: 'shared.add', arguments: '{"a":2}' });
    await answer(older, 'older');
    assert.deepEqual(JSON.parse((await second).output), { by: 'older' });
    const [agent] = (await call(loom.runtime, 'ListAgents', {})).agents.filter((a) => a.agentId === 'twin');
    assert.equal(agent.state, 'connected');
  });

  it(`an id keeps at most ${MAX_COMPANIONS + 1} reference streams: the next closes the oldest (each held a copy of its subscriptions)`, async () => {
    const all: StreamClient[] = [];
    for (let i = 0; i <= MAX_COMPANIONS + 1; i++) all.push(await stream(reference, 'crowd', ['crowd.topic']));
    const [oldest, ...kept] = all;
    const err = await oldest.next((m) => m.msg === 'err', 'the oldest stream closed');
    assert.equal(err.err!.code, 'replaced');
    assert.match(err.err!.message, new RegExp(`more than ${MAX_COMPANIONS + 1} streams`));
    await publishAll(['crowd.topic']);
    for (const s of kept) await s.next((m) => m.msg === 'delivery', 'a delivery on each stream kept');
    const stats = await call(loom.runtime, 'GetStats', {});
    const crowd = stats.subscriptions.filter((sub) => sub.subscriber === 'crowd');
    assert.equal(crowd.length, kept.length, `one subscription per stream kept: ${JSON.stringify(crowd)}`);
    assert.equal(
      oldest.received.some((m) => m.msg === 'delivery'),
      false,
      'nothing for the closed stream',
    );
  });

  it('"agent connected" names the first 20 patterns and counts the rest (a reconnect loop wrote 1 MB of log a stream)', async () => {
    const topics = Array.from({ length: 100 }, (_, i) => `many.${'x'.repeat(200)}.${i}`);
    await stream(loom, 'many-topics', topics);
    const line = await rt.waitForLog(
      'the connect line',
      (l) => l.msg === 'agent connected' && l.agent === 'many-topics',
    );
    assert.deepEqual(line.topics, [...topics.slice(0, 20), '… and 80 more']);
  });

  it('a second Loom stream for an id replaces the first', async () => {
    const first = await stream(loom, 'single', ['single.topic']);
    await open(loom, 'single');
    const err = await first.next((m) => m.msg === 'err', 'the replaced notice');
    assert.equal(err.err!.code, 'replaced');
  });

  it("tool errors read as the reference words them for the reference, Loom's codes for Loom, and lose nothing", async () => {
    const missing = await call(reference.bridge, 'ForwardToolCall', { id: 'c1', name: 'web.nowhere', arguments: '{}' });
    assert.equal(missing.status, 'TOOL_NOT_FOUND');
    assert.equal(missing.error!.code, 'NOT_FOUND');
    assert.equal(missing.error!.message, 'Tool not found: web.nowhere');
    assert.equal(missing.error!.details['loom.code'], 'not_found');

    const ours = await call(loom.bridge, 'ForwardToolCall', { id: 'c2', name: 'web.nowhere', arguments: '{}' });
    assert.equal(ours.status, 'TOOL_NOT_FOUND');
    assert.equal(ours.error!.code, 'not_found');
    assert.match(ours.error!.message, /web\.nowhere/);

    const bad = await call(reference.bridge, 'ForwardToolCall', {
      id: 'c3',
      name: 'fs:read',
      arguments: '{"nope": 1}',
    });
    assert.equal(bad.status, 'TOOL_INVALID_ARGUMENTS');
    assert.equal(bad.error!.code, 'INVALID_ARGUMENTS');
    assert.match(bad.error!.message, /^Invalid arguments: /);

    const denied = await call(reference.bridge, 'ForwardToolCall', {
      id: 'c4',
      name: 'fs:read',
      arguments: JSON.stringify({ path: '/etc/passwd' }),
    });
    assert.equal(denied.status, 'TOOL_ERROR');
    assert.equal(denied.error!.code, 'EXECUTION_ERROR');
    assert.match(denied.error!.message, /^(Permission denied|Execution failed): /);
    assert.ok(denied.error!.details['loom.code'], "Loom's code is kept in the details");
  });
});
