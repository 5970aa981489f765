// A caller that gives up on a tool call ends it: a unary call past its deadline (or cancelled),
// and the calls in flight on an agent's stream when that stream ends. Before, the tool ran on to
// its own timeout: a `sleep` the caller had long stopped waiting for kept its process, and its
// place among the caller's 8 shell commands.
import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import type { ServerEvent__Output } from '../../runtime/proto/types';
import { call, connect, StreamClient, type Clients } from '../support/grpc';
import { until } from '../support/eventually';
import { makeWorkspace, removeWorkspaces, startRuntime, stopAllRuntimes } from './helpers/runtime';

/** Pids of the processes running `sleep <seconds>` (by any path to sleep, inside bubblewrap or not). */
function sleepers(seconds: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (basename(argv[0]!) === 'sleep' && argv[1] === seconds) found.push(Number(entry));
    } catch {
      // gone
    }
  }
  return found;
}

const shellSleep = (seconds: string) => ({
  name: 'system:shell',
  arguments: JSON.stringify({ command: 'sleep', args: [seconds] }),
  timeoutMs: 60_000,
});

describe('a tool call its caller gives up on is ended', function () {
  this.timeout(60_000);
  let c: Clients;
  let holder: Clients;
  let rtAddress: string;
  let rtToken: string;
  const clients: Clients[] = [];
  const streams: StreamClient[] = [];

  before(async () => {
    const rt = await startRuntime(makeWorkspace('[tools.shell]\nallow = ["sleep"]\ntimeout_ms = 60000\n'));
    const { address, token } = rt.discovery();
    [rtAddress, rtToken] = [address, token];
    c = connect(address, { token, agentId: 'impatient' });
    holder = connect(address, { token, agentId: 'holder' });
  });
  after(async () => {
    for (const s of streams) s.cancel();
    for (const client of clients) client.close();
    c.close();
    holder.close();
    await stopAllRuntimes();
    removeWorkspaces();
  });

  it('ForwardToolCall past its deadline: the command it started ends then, not at its 60 s timeout', async () => {
    const err = await new Promise<grpc.ServiceError | null>((resolve) =>
      c.bridge.ForwardToolCall({ id: 'late-1', ...shellSleep('41.25') }, { deadline: Date.now() + 1500 }, (e) =>
        resolve(e),
      ),
    );
    assert.equal(err?.code, grpc.status.DEADLINE_EXCEEDED, String(err));
    await until('the sleep the call started to end', () => sleepers('41.25').length === 0, { timeoutMs: 10_000 });
    // The caller's shell commands are free again: another call runs.
    const r = await call(c.bridge, 'ForwardToolCall', {
      id: 'after',
      name: 'system:shell',
      arguments: '{"command":"sleep","args":["0"]}',
    });
    assert.equal(r.status, 'TOOL_OK', JSON.stringify(r.error));
  });

  it('Tools.CallTool cancelled by its client: the command ends', async () => {
    const pending = c.tools.CallTool({ id: 'cancel-1', ...shellSleep('42.25') }, () => undefined);
    await until('the sleep to start', () => sleepers('42.25').length > 0, { timeoutMs: 10_000 });
    pending.cancel();
    await until('the sleep to end', () => sleepers('42.25').length === 0, { timeoutMs: 10_000 });
  });

  it("a call on an agent's stream that the agent cancels (cancel_tool): the command ends, the call is answered as cancelled", async () => {
    const reg = await call(c.bridge, 'RegisterAgent', { agentId: 'impatient' });
    assert.equal(reg.success, true, reg.errorMessage);
    const s = await StreamClient.open(c, 'impatient');
    try {
      s.send({ callTool: { id: 'cx-1', ...shellSleep('44.75') } });
      await until('the sleep to start', () => sleepers('44.75').length > 0, { timeoutMs: 10_000 });
      s.send({ cancelTool: { id: 'no-such-call' } }); // ignored
      s.send({ cancelTool: { id: 'cx-1' } });
      const r = (await s.next((m) => m.msg === 'callToolResult', 'the answer to cx-1')).callToolResult!;
      assert.equal(r.id, 'cx-1');
      assert.equal(r.status, 'TOOL_ERROR');
      assert.equal(r.error?.details.reason, 'cancelled', JSON.stringify(r.error));
      await until('the sleep to end', () => sleepers('44.75').length === 0, { timeoutMs: 10_000 });
      // The stream goes on.
      s.send({ callTool: { id: 'cx-2', name: 'system:shell', arguments: '{"command":"sleep","args":["0"]}' } });
      const after = (await s.next((m) => m.msg === 'callToolResult', 'the answer to cx-2')).callToolResult!;
      assert.equal(after.status, 'TOOL_OK', JSON.stringify(after.error));
    } finally {
      s.cancel();
    }
  });

  it('a call waiting on the stream behind the 32 it runs, cancelled: answered as cancelled at once, and never run', async () => {
    // A provider whose tool never answers holds the caller's 32 running calls.
    const provided = await call(holder.bridge, 'RegisterAgent', {
      agentId: 'holder',
      tools: [{ name: 'hold:forever', description: 'never answers', parametersSchema: '{"type":"object"}' }],
    });
    assert.equal(provided.success, true, provided.errorMessage);
    const provider = await StreamClient.open(holder, 'holder');
    const seen: string[] = [];
    provider.stream.on('data', (m: ServerEvent__Output) => void (m.toolCall && seen.push(m.toolCall.id)));
    const reg = await call(c.bridge, 'RegisterAgent', { agentId: 'impatient' });
    assert.equal(reg.success, true, reg.errorMessage);
    const s = await StreamClient.open(c, 'impatient');
    try {
      for (let i = 1; i <= 33; i++) s.send({ callTool: { id: `q-${i}`, name: 'hold:forever', timeoutMs: 60_000 } });
      await until('32 calls to reach the provider', () => seen.length === 32, { timeoutMs: 10_000 });
      s.send({ cancelTool: { id: 'q-33' } });
      const r = (await s.next((m) => m.msg === 'callToolResult', 'the answer to q-33')).callToolResult!;
      assert.equal(r.id, 'q-33');
      assert.equal(r.error?.details.reason, 'cancelled', JSON.stringify(r.error));
      // A running one cancelled frees its place: nothing waits for it any more.
      s.send({ cancelTool: { id: 'q-1' } });
      const first = (await s.next((m) => m.msg === 'callToolResult', 'the answer to q-1')).callToolResult!;
      assert.equal(first.id, 'q-1');
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(seen.length, 32, `the cancelled waiting call never ran: the provider saw ${seen.join(', ')}`);
    } finally {
      s.cancel();
      provider.cancel();
    }
  });

  it('the agent serving a call its caller gave up on is told (cancel_tool_call), when it said it understands it', async () => {
    const serve = async (agentId: string, metadata: Record<string, string>) => {
      const client = connect(rtAddress, { token: rtToken, agentId });
      clients.push(client);
      const tool = `${agentId}:wait`;
      const reg = await call(client.bridge, 'RegisterAgent', {
        agentId,
        metadata,
        tools: [{ name: tool, description: 'never answers', parametersSchema: '{"type":"object"}' }],
      });
      assert.equal(reg.success, true, reg.errorMessage);
      const stream = await StreamClient.open(client, agentId);
      streams.push(stream);
      return { tool, stream };
    };
    const giveUp = (tool: string) =>
      new Promise<grpc.ServiceError | null>((resolve) =>
        c.bridge.ForwardToolCall(
          { id: `${tool}-1`, name: tool, timeoutMs: 60_000 },
          { deadline: Date.now() + 500 },
          (e) => resolve(e),
        ),
      );

    const sdk = await serve('canceller-aware', { 'loom.tool_cancel': '1' });
    assert.equal((await giveUp(sdk.tool))?.code, grpc.status.DEADLINE_EXCEEDED);
    const sent = (await sdk.stream.next((m) => m.msg === 'toolCall', 'the call')).toolCall!;
    const cancel = (await sdk.stream.next((m) => m.msg === 'cancelToolCall', 'its cancel')).cancelToolCall!;
    assert.equal(cancel.id, sent.id, 'the cancel names the call the agent was sent');

    // A client that did not say so (the reference's SDK) gets no message it would not know.
    const reference = await serve('canceller-unaware', {});
    assert.equal((await giveUp(reference.tool))?.code, grpc.status.DEADLINE_EXCEEDED);
    await reference.stream.next((m) => m.msg === 'toolCall', 'the call');
    reference.stream.send({ ping: { timestampMs: 2 } });
    await reference.stream.next((m) => m.msg === 'pong', 'a pong after the cancel would have been sent');
    assert.ok(!reference.stream.history.some((m) => m.msg === 'cancelToolCall'), 'no cancel_tool_call');
  });

  // A red-team finding: calls its callers gave up on no longer hold a place among anyone's calls
  // in flight, but their messages stayed buffered for a provider that stopped reading its stream
  // (3 000 cancelled 1 MiB calls took the runtime to 3.4 GB).
  it('calls to a provider that stopped reading are refused once 16 MiB of them wait unread; they flow again once it reads', async () => {
    const client = connect(rtAddress, { token: rtToken, agentId: 'deaf' });
    clients.push(client);
    const reg = await call(client.bridge, 'RegisterAgent', {
      agentId: 'deaf',
      tools: [{ name: 'deaf:echo', description: 'answers once it reads', parametersSchema: '{"type":"object"}' }],
    });
    assert.equal(reg.success, true, reg.errorMessage);
    const provider = await StreamClient.open(client, 'deaf');
    streams.push(provider);
    provider.stream.pause(); // reads nothing more: the runtime's writes back up

    const pad = 'x'.repeat(1024 * 1024);
    let accepted = 0;
    let refused: { code: string; message: string; details: Record<string, string> } | undefined;
    for (let i = 0; i < 60 && !refused; i++) {
      // Each caller gives up after 100 ms: the call no longer holds a place, only its message is left.
      const r = await call(c.bridge, 'ForwardToolCall', {
        id: `deaf-${i}`,
        name: 'deaf:echo',
        arguments: JSON.stringify({ pad }),
        timeoutMs: 100,
      });
      if (r.error?.details.reason === 'provider_not_reading') refused = r.error;
      else {
        assert.equal(r.status, 'TOOL_TIMEOUT', JSON.stringify(r.error));
        accepted++;
      }
    }
    assert.ok(refused, 'a call past 16 MiB of unread calls is refused');
    assert.equal(refused.code, 'unavailable');
    assert.match(
      refused.message,
      /agent deaf, which provides deaf:echo, is not reading its stream: \d+ tool calls sent to it \(\d+ bytes\) wait to be read/,
    );
    assert.ok(accepted >= 15 && accepted < 60, `accepted ${accepted}`);

    // It reads again: what was held reaches it (no more than was accepted), and new calls flow.
    provider.stream.on('data', (m: ServerEvent__Output) => {
      if (m.toolCall) provider.send({ toolResult: { id: m.toolCall.id, status: 'TOOL_OK', output: '"heard"' } });
    });
    provider.stream.resume();
    await until(
      'the held calls to reach the provider',
      () => provider.history.filter((m) => m.toolCall).length === accepted,
      { timeoutMs: 20_000 },
    );
    const after = await call(c.bridge, 'ForwardToolCall', {
      id: 'deaf-after',
      name: 'deaf:echo',
      arguments: '{}',
      timeoutMs: 10_000,
    });
    assert.equal(after.status, 'TOOL_OK', JSON.stringify(after.error));
    assert.equal(after.output, '"heard"');
    assert.equal(provider.history.filter((m) => m.toolCall).length, accepted + 1);
  });

  it("calls on an agent's stream when the stream ends: each command it started ends", async () => {
    const reg = await call(c.bridge, 'RegisterAgent', { agentId: 'impatient' });
    assert.equal(reg.success, true, reg.errorMessage);
    const s = await StreamClient.open(c, 'impatient');
    s.send({ callTool: { id: 'st-1', ...shellSleep('43.25') } });
    s.send({ callTool: { id: 'st-2', ...shellSleep('43.25') } });
    await until('both sleeps to start', () => sleepers('43.25').length >= 2, { timeoutMs: 10_000 });
    s.cancel();
    await until('both sleeps to end', () => sleepers('43.25').length === 0, { timeoutMs: 10_000 });
  });
});
