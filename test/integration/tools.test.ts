// Tools across the bridge: a tool provided by one agent, called by another client; the caller's
// timeout; NOT_FOUND and INVALID_ARGUMENTS; a provider that disconnects mid-call; built-ins.
import { strict as assert } from 'node:assert';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import type { ServerEvent__Output, ToolResult__Output } from '../../runtime/proto/types';
import { call, connect, StreamClient, type Clients } from '../support/grpc';
import { makeWorkspace, removeWorkspaces, startRuntime, stopAllRuntimes, type RuntimeProcess } from './helpers/runtime';

const addSchema = JSON.stringify({
  type: 'object',
  properties: { a: { type: 'number' }, b: { type: 'number' } },
  required: ['a', 'b'],
  additionalProperties: false,
});

describe('tools across the bridge', function () {
  this.timeout(60_000);
  let rt: RuntimeProcess;
  let c: Clients;
  let caller: Clients;
  const streams: StreamClient[] = [];

  before(async () => {
    rt = await startRuntime(makeWorkspace());
    const { address, token } = rt.discovery();
    c = connect(address, { token });
    caller = connect(address, { token, agentId: 'the-caller' });
  });
  afterEach(() => {
    for (const s of streams.splice(0)) s.cancel();
  });
  after(async () => {
    c.close();
    caller.close();
    await stopAllRuntimes();
    removeWorkspaces();
  });

  /** An agent providing `tools`; `answer` decides the reply to each call (undefined = never answer). */
  async function provider(
    agentId: string,
    tools: { name: string; schema?: string }[],
    answer: (call: NonNullable<ServerEvent__Output['toolCall']>) => object | undefined,
  ) {
    const res = await call(c.bridge, 'RegisterAgent', {
      agentId,
      tools: tools.map((t) => ({
        name: t.name,
        description: `test tool ${t.name}`,
        parametersSchema: t.schema ?? addSchema,
      })),
    });
    assert.equal(res.success, true, res.errorMessage);
    const s = new StreamClient(c);
    streams.push(s);
    s.send({ ack: { messageId: agentId } });
    const seen: NonNullable<ServerEvent__Output['toolCall']>[] = [];
    s.stream.on('data', (m: ServerEvent__Output) => {
      if (!m.toolCall) return;
      seen.push(m.toolCall);
      const reply = answer(m.toolCall);
      if (reply) s.send({ toolResult: { id: m.toolCall.id, ...reply } });
    });
    s.send({ ping: { timestampMs: 1 } });
    await s.next((m) => m.msg === 'pong');
    return { stream: s, seen };
  }

  const sum = (tc: { arguments: string }) => {
    const { a, b } = JSON.parse(tc.arguments) as { a: number; b: number };
    return { status: 'TOOL_OK' as const, output: JSON.stringify({ sum: a + b }) };
  };

  it("holds a call made between a provider's registration (which lists its tools) and its stream, and delivers it once the stream opens", async () => {
    const res = await call(c.bridge, 'RegisterAgent', {
      agentId: 'late-streamer',
      tools: [{ name: 'late:add', description: 'adds', parametersSchema: addSchema }],
    });
    assert.equal(res.success, true, res.errorMessage);
    const early = call(caller.tools, 'CallTool', { name: 'late:add', arguments: '{"a":1,"b":2}', timeoutMs: 10_000 });
    await new Promise((r) => setTimeout(r, 300));
    const s = new StreamClient(c);
    streams.push(s);
    s.stream.on('data', (m: ServerEvent__Output) => {
      if (m.toolCall) s.send({ toolResult: { id: m.toolCall.id, ...sum(m.toolCall) } });
    });
    s.send({ ack: { messageId: 'late-streamer' } });
    const answered = await early;
    assert.equal(answered.status, 'TOOL_OK', JSON.stringify(answered.error));
    assert.deepEqual(JSON.parse(answered.output), { sum: 3 });
  });

  it('routes a call to the providing agent and brings its result back (ForwardToolCall and Tools.CallTool)', async () => {
    const p = await provider('calculator', [{ name: 'calc:add' }], sum);
    const r1 = await call(caller.bridge, 'ForwardToolCall', {
      id: 'call-1',
      name: 'calc:add',
      arguments: '{"a":2,"b":3}',
      timeoutMs: 10_000,
    });
    assert.equal(r1.status, 'TOOL_OK', JSON.stringify(r1.error));
    assert.deepEqual(JSON.parse(r1.output), { sum: 5 });
    const r2 = await call(caller.tools, 'CallTool', { name: 'calc:add', arguments: '{"a":-1,"b":1.5}' });
    assert.deepEqual(JSON.parse(r2.output), { sum: 0.5 });
    assert.equal(p.seen.length, 2);
    assert.equal(p.seen[0]!.headers['loom.caller'], 'the-caller');
    assert.deepEqual(JSON.parse(p.seen[0]!.arguments), { a: 2, b: 3 });

    const listed = await call(c.tools, 'ListTools', { prefix: 'calc:' });
    const add = listed.tools.find((t) => t.name === 'calc:add');
    assert.equal(add?.provider, 'PROVIDER_GRPC');
    assert.equal(add?.metadata['loom.owner'], 'calculator');
    assert.deepEqual(JSON.parse(add!.parametersSchema).required, ['a', 'b']);
  });

  it("answers a tool call made on the caller's own stream (call_tool) as that stream's agent, whatever its headers state", async () => {
    const p = await provider('stream-calc', [{ name: 'scalc:add' }], sum);
    const reg = await call(c.bridge, 'RegisterAgent', { agentId: 'stream-caller' });
    assert.deepEqual(reg.features, ['stream_tool_calls'], 'the runtime says it answers call_tool');
    const s = await StreamClient.open(c, 'stream-caller');
    streams.push(s);
    s.send({
      callTool: { id: 'sc-1', name: 'scalc:add', arguments: '{"a":2,"b":3}', headers: { 'loom.caller': 'runtime' } },
    });
    const r = (await s.next((m) => m.msg === 'callToolResult', 'the answer to sc-1')).callToolResult!;
    assert.equal(r.id, 'sc-1');
    assert.equal(r.status, 'TOOL_OK', r.error?.message);
    assert.deepEqual(JSON.parse(r.output), { sum: 5 });
    assert.equal(p.seen[0]!.headers['loom.caller'], 'stream-caller', "the stream's agent, not the header's runtime");

    // Several at once, answered by id whatever the order; a built-in one among them.
    writeFileSync(join(rt.workspace, 'on-stream.txt'), 'read on the stream');
    s.send({ callTool: { id: 'sc-2', name: 'scalc:add', arguments: '{"a":1,"b":1}' } });
    s.send({ callTool: { id: 'sc-3', name: 'fs:read', arguments: '{"path":"on-stream.txt"}' } });
    s.send({ callTool: { id: 'sc-4', name: 'scalc:add', arguments: '{"a":"x"}' } });
    const byId = new Map<string, ToolResult__Output>();
    for (let i = 0; i < 3; i++) {
      const m = await s.next((m) => m.msg === 'callToolResult', 'three answers');
      byId.set(m.callToolResult!.id, m.callToolResult!);
    }
    assert.deepEqual(JSON.parse(byId.get('sc-2')!.output), { sum: 2 });
    assert.equal((JSON.parse(byId.get('sc-3')!.output) as { content: string }).content, 'read on the stream');
    assert.equal(byId.get('sc-4')!.status, 'TOOL_INVALID_ARGUMENTS');

    // No id, no answer to match: refused on the stream, naming why.
    s.send({ callTool: { name: 'scalc:add', arguments: '{"a":1,"b":1}' } });
    const err = await s.next((m) => m.msg === 'err', 'the refusal of a call without an id');
    assert.equal(err.err?.code, 'invalid_message');
    assert.match(err.err!.message, /call_tool of "scalc:add" has no id/);
    assert.equal(p.seen.length, 2, 'the provider saw sc-1 and sc-2 only');
  });

  // A red-team finding (with pings and unsubscribes then): a client that asks on its stream and
  // never reads had the answers pile up in the runtime until its heap ran out.
  it('holds at most the answers of the calls it runs at once for a stream whose client does not read them, and answers every call once it does', async () => {
    const rss = () => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${rt.proc.pid}/status`, 'utf8'))![1]) * 1024;
    writeFileSync(join(rt.workspace, 'half-mega.txt'), 'h'.repeat(512 * 1024));
    assert.equal((await call(c.bridge, 'RegisterAgent', { agentId: 'non-reader' })).success, true);
    const s = await StreamClient.open(c, 'non-reader');
    streams.push(s);
    s.stream.pause(); // from here on nothing is read: HTTP/2 flow control stops the runtime's writes
    const before = rss();
    const calls = 600; // 300 MB of answers
    for (let i = 0; i < calls; i++)
      s.send({ callTool: { id: `nr-${i}`, name: 'fs:read', arguments: '{"path":"half-mega.txt"}' } });
    await new Promise((r) => setTimeout(r, 3000));
    const grown = rss() - before;
    assert.ok(grown < 100 * 1024 * 1024, `the runtime grew by ${Math.round(grown / 1048576)} MB`);
    assert.ok(Number((await call(c.runtime, 'GetStats', {})).timestampMs) > 0, 'and serves everyone else');
    s.stream.resume();
    // 32 ran at once and 256 waited; those past them were refused at once, saying why.
    const answered = new Map<string, string>();
    while (answered.size < calls) {
      const r = (await s.next((m) => m.msg === 'callToolResult', `${calls} answers (${answered.size} so far)`, 60_000))
        .callToolResult!;
      if (r.status !== 'TOOL_OK') assert.equal(r.error?.details['reason'], 'too_many_calls', r.error?.message);
      answered.set(r.id, r.status);
    }
    const ran = [...answered.values()].filter((st) => st === 'TOOL_OK').length;
    assert.ok(ran >= 32 + 256, `${ran} ran`);
  });

  it('takes tool names as the reference names them ("test.add", "add"), but not a dotted name in a namespace of Loom\'s', async () => {
    const p = await provider('refstyle', [{ name: 'test.add' }, { name: 'add' }], (tc) => ({
      status: 'TOOL_OK',
      output: JSON.stringify({ name: tc.name, ...JSON.parse(tc.arguments) }),
    }));
    for (const name of ['test.add', 'add']) {
      const r = await call(c.tools, 'CallTool', { name, arguments: '{"a":1,"b":2}' });
      assert.equal(r.status, 'TOOL_OK', r.error?.message);
      assert.deepEqual(JSON.parse(r.output), { name, a: 1, b: 2 });
    }
    assert.equal(p.seen.length, 2);
    const refused = await call(c.bridge, 'RegisterAgent', {
      agentId: 'squatter',
      tools: [{ name: 'fs.read', description: 'x', parametersSchema: addSchema }],
    });
    assert.equal(refused.success, false);
    assert.match(refused.errorMessage, /tool "fs\.read" is in the "fs\." namespace, which is Loom's own/);
  });

  it('refuses a call made in the name of "runtime" (or any id an agent could not register), whichever way it is stated', async () => {
    const p = await provider('gatekeeper', [{ name: 'gate:open' }], () => ({
      status: 'TOOL_OK',
      output: '{"opened":true}',
    }));
    for (const headers of [{ 'loom.caller': 'runtime' }, { 'loom.caller': 'mcp:github' }]) {
      const r = await call(c.tools, 'CallTool', { name: 'gate:open', arguments: '{}', headers });
      assert.equal(r.status, 'TOOL_ERROR');
      assert.equal(r.error?.code, 'denied');
      assert.match(
        r.error?.message ?? '',
        /^tool call refused: tool call: cannot act as "(runtime|mcp:github)": agent id "\1" is (reserved for the runtime itself|invalid)/,
      );
    }
    const md = new grpc.Metadata();
    md.set('x-loom-agent-id', 'runtime');
    const viaMetadata = await new Promise<ToolResult__Output>((resolve, reject) =>
      c.bridge.ForwardToolCall({ name: 'gate:open', arguments: '{}' }, md, (err, res) =>
        err ? reject(err) : resolve(res!),
      ),
    );
    assert.equal(viaMetadata.error?.code, 'denied');
    assert.equal(p.seen.length, 0, 'the provider never saw a forged call');
  });

  it("honours the caller's timeout when the provider never answers (TOOL_TIMEOUT), and ignores the late answer", async () => {
    let late: (() => void) | undefined;
    const p = await provider('sleepy', [{ name: 'sleepy:wait' }], (tc) => {
      late = () => p.stream.send({ toolResult: { id: tc.id, status: 'TOOL_OK', output: '"too late"' } });
      return undefined;
    });
    const r = await call(caller.bridge, 'ForwardToolCall', {
      name: 'sleepy:wait',
      arguments: '{"a":1,"b":1}',
      timeoutMs: 300,
    });
    assert.equal(r.status, 'TOOL_TIMEOUT');
    assert.equal(r.error?.code, 'timeout');
    assert.equal(Number(p.seen[0]!.timeoutMs), 300);
    late!();
    const after = await call(caller.tools, 'ListTools', { prefix: 'sleepy:' });
    assert.equal(after.tools.length, 1);
  });

  it('answers TOOL_NOT_FOUND for an unknown tool, naming it', async () => {
    const r = await call(caller.bridge, 'ForwardToolCall', { name: 'calc:nope', arguments: '{}' });
    assert.equal(r.status, 'TOOL_NOT_FOUND');
    assert.equal(r.error?.code, 'not_found');
    assert.match(r.error!.message, /calc:nope/);
  });

  it('answers TOOL_INVALID_ARGUMENTS for arguments that break the schema or are not JSON, without calling the provider', async () => {
    const p = await provider('strict-calc', [{ name: 'strict:add' }], sum);
    const wrongType = await call(caller.bridge, 'ForwardToolCall', {
      name: 'strict:add',
      arguments: '{"a":"two","b":3}',
    });
    assert.equal(wrongType.status, 'TOOL_INVALID_ARGUMENTS');
    assert.match(wrongType.error!.message, /a/);
    const notJson = await call(caller.bridge, 'ForwardToolCall', { name: 'strict:add', arguments: '{a:2' });
    assert.equal(notJson.status, 'TOOL_INVALID_ARGUMENTS');
    assert.equal(p.seen.length, 0);
  });

  it("passes the provider's typed error through (TOOL_ERROR with its code and message)", async () => {
    await provider('grumpy', [{ name: 'grumpy:do' }], () => ({
      status: 'TOOL_ERROR',
      error: { code: 'denied', message: 'not today' },
    }));
    const r = await call(caller.bridge, 'ForwardToolCall', { name: 'grumpy:do', arguments: '{"a":1,"b":2}' });
    assert.equal(r.status, 'TOOL_ERROR');
    assert.equal(r.error?.code, 'denied');
    assert.equal(r.error?.message, 'not today');
  });

  it('fails pending calls with "unavailable" when the provider disconnects, and withdraws its tools', async () => {
    const p = await provider('flaky', [{ name: 'flaky:hang' }], () => undefined);
    const pending = call(caller.bridge, 'ForwardToolCall', {
      name: 'flaky:hang',
      arguments: '{"a":1,"b":2}',
      timeoutMs: 30_000,
    });
    while (p.seen.length === 0) await new Promise((r) => setTimeout(r, 20));
    p.stream.cancel();
    const r = await pending;
    assert.equal(r.status, 'TOOL_ERROR');
    assert.equal(r.error?.code, 'unavailable');
    assert.match(r.error!.message, /flaky/);
    const listed = await call(c.tools, 'ListTools', { prefix: 'flaky:' });
    assert.equal(listed.tools.length, 0);
    const again = await call(caller.bridge, 'ForwardToolCall', { name: 'flaky:hang', arguments: '{"a":1,"b":2}' });
    assert.equal(again.status, 'TOOL_NOT_FOUND');
  });

  it('refuses to register a tool name another agent owns, and a bad schema, naming the problem', async () => {
    await provider('owner-one', [{ name: 'shared:tool' }], sum);
    const taken = await call(c.bridge, 'RegisterAgent', {
      agentId: 'owner-two',
      tools: [{ name: 'shared:tool', parametersSchema: addSchema }],
    });
    assert.equal(taken.success, false);
    assert.match(taken.errorMessage, /shared:tool/);
    const badSchema = await call(c.bridge, 'RegisterAgent', {
      agentId: 'owner-three',
      tools: [{ name: 'bad:schema', parametersSchema: '{not json' }],
    });
    assert.equal(badSchema.success, false);
    assert.match(badSchema.errorMessage, /bad:schema.*parameters_schema/);
  });

  it('refuses agent ids that would take over the owner of other tools ("runtime", "mcp:x")', async () => {
    for (const agentId of ['runtime', 'mcp:files']) {
      const res = await call(c.bridge, 'RegisterAgent', { agentId, tools: [] });
      assert.equal(res.success, false, agentId);
      assert.match(res.errorMessage, new RegExp(`agent id "${agentId}" is (reserved|invalid)`));
    }
    const builtins = await call(c.tools, 'ListTools', { prefix: 'fs:' });
    assert.ok(
      builtins.tools.some((t) => t.name === 'fs:read'),
      'the built-ins are still registered',
    );
  });

  it('calls the built-in file tools through ForwardToolCall, inside the workspace sandbox', async () => {
    writeFileSync(join(rt.workspace, 'note.txt'), 'hello from the workspace');
    const read = await call(caller.bridge, 'ForwardToolCall', {
      name: 'fs:read',
      arguments: JSON.stringify({ path: 'note.txt' }),
    });
    assert.equal(read.status, 'TOOL_OK', JSON.stringify(read.error));
    assert.match(read.output, /hello from the workspace/);
    const escape = await call(caller.bridge, 'ForwardToolCall', {
      name: 'fs:read',
      arguments: JSON.stringify({ path: '../../etc/passwd' }),
    });
    assert.equal(escape.status, 'TOOL_ERROR');
    assert.equal(escape.error?.code, 'denied');
  });
});
