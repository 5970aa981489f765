// The unary calls one credential has open at once are bounded (runtime/bridge/callsInFlight.ts):
// grpc-js reads each request whole before a handler sees it, and a call that waits holds its
// request, so 600 concurrent 4 MiB calls from one credential took the runtime to 1 GB. Past the
// limit a call is refused as its metadata arrives, before its message is read.
import * as grpc from '@grpc/grpc-js';
import { strict as assert } from 'node:assert';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ServerEvent__Output } from '../../runtime/proto/types';
import { until } from '../support/eventually';
import { call, connect, StreamClient, type Clients } from '../support/grpc';
import {
  makeWorkspace,
  removeWorkspaces,
  REPO,
  startRuntime,
  stopAllRuntimes,
  type RuntimeProcess,
  PYTHON,
} from './helpers/runtime';

const HOLDER = join(REPO, 'test', 'integration', 'fixtures', 'credential_holder.py');
const FANOUT = join(REPO, 'test', 'integration', 'fixtures', 'fanout_agent.py');

describe('unary calls one credential has open at once', function () {
  this.timeout(120_000);
  let rt: RuntimeProcess;
  let greedy: Clients;
  let owner: Clients;
  let holder: Clients;
  let provider: StreamClient;
  let ws: string;
  const seen: string[] = [];

  before(async () => {
    // `greedy` hands its credential over and closes its own link (no heartbeat takes a place).
    ws = makeWorkspace(
      `[agents.greedy]\ncommand = ${JSON.stringify(PYTHON)}\nargs = [${JSON.stringify(HOLDER)}]\n` +
        `restart = "never"\nenv = { LOOM_TEST_DISCONNECT = "1" }\n` +
        `[agents.fanout]\ncommand = ${JSON.stringify(PYTHON)}\nargs = [${JSON.stringify(FANOUT)}]\nrestart = "never"\n`,
    );
    rt = await startRuntime(ws, [], { env: { LOOM_PYTHON: PYTHON } });
    const { address, token } = rt.discovery();
    const tokenFile = join(ws, 'greedy.token');
    const greedyToken = await rt.waitFor(
      'agent greedy to hand over its credential',
      () => existsSync(tokenFile) && readFileSync(tokenFile, 'utf8'),
      60_000,
    );
    greedy = connect(address, { token: greedyToken, agentId: 'greedy' });
    owner = connect(address, { token });
    // A provider whose tool never answers: each call to it stays open until its caller gives up.
    holder = connect(address, { token, agentId: 'holder' });
    const reg = await call(holder.bridge, 'RegisterAgent', {
      agentId: 'holder',
      tools: [{ name: 'hold:forever', description: 'never answers', parametersSchema: '{"type":"object"}' }],
    });
    assert.equal(reg.success, true, reg.errorMessage);
    provider = await StreamClient.open(holder, 'holder');
    provider.stream.on('data', (m: ServerEvent__Output) => void (m.toolCall && seen.push(m.toolCall.id)));
  });
  after(async () => {
    provider?.cancel();
    for (const c of [greedy, owner, holder]) c?.close();
    await stopAllRuntimes();
    removeWorkspaces();
  });

  /** A ForwardToolCall as greedy that stays open; its handle and how it ended. */
  const hold = (id: string, args = '{}') => {
    let handle: grpc.ClientUnaryCall;
    const ended = new Promise<grpc.ServiceError | null>((resolve) => {
      handle = greedy.bridge.ForwardToolCall({ id, name: 'hold:forever', arguments: args, timeoutMs: 60_000 }, (e) =>
        resolve(e),
      );
    });
    return { cancel: () => handle.cancel(), ended };
  };

  it("an agent's credential: 64 open, the 65th refused before its message is read, naming the limit; a freed place takes the next", async () => {
    const open = Array.from({ length: 64 }, (_, i) => hold(`open-${i}`));
    try {
      await until('the 64 calls to reach the provider', () => seen.length === 64, { timeoutMs: 20_000 });
      // 4 MiB of arguments: refused all the same, from its metadata.
      const refused = await hold('one-too-many', JSON.stringify({ pad: 'x'.repeat(4 * 1024 * 1024 - 64) })).ended;
      assert.equal(refused?.code, grpc.status.RESOURCE_EXHAUSTED, String(refused));
      assert.match(
        refused.details,
        /ForwardToolCall refused: 64 unary calls of the credential of agent "greedy" are open, at most 64 at once; wait for one to end/,
      );
      // Another credential is not held up.
      const listed = await call(owner.runtime, 'ListAgents', {});
      assert.ok(listed.agents.some((a: { agentId: string }) => a.agentId === 'holder'));

      // One ends (its caller gives up): its place takes the next call, which reaches the provider.
      open[0]!.cancel();
      assert.equal((await open[0]!.ended)?.code, grpc.status.CANCELLED);
      // The runtime hears of the cancel a moment after the client has given up: until then the
      // place is still taken and a call is refused as before.
      let next = hold('after-one-ended');
      await until('a call to take the freed place', async () => {
        const outcome = await Promise.race([next.ended, new Promise((r) => setTimeout(() => r('open'), 300))]);
        if (outcome === 'open') return true;
        assert.equal((outcome as grpc.ServiceError).code, grpc.status.RESOURCE_EXHAUSTED);
        next = hold('after-one-ended');
        return false;
      });
      await until('the next call to reach the provider', () => seen.length === 65, { timeoutMs: 20_000 });
      open.push(next);
    } finally {
      for (const c of open) c.cancel();
      await Promise.all(open.map((c) => c.ended));
    }
  });

  it('the Python SDK keeps its unary calls under the limit: 120 concurrent ctx.tool calls of a supervised agent all succeed', async () => {
    // slow:echo answers each call after 200 ms, so the 120 are open at once.
    const slow = connect(rt.discovery().address, { token: rt.discovery().token, agentId: 'slow' });
    try {
      const reg = await call(slow.bridge, 'RegisterAgent', {
        agentId: 'slow',
        tools: [{ name: 'slow:echo', description: 'echoes, slowly', parametersSchema: '{"type":"object"}' }],
      });
      assert.equal(reg.success, true, reg.errorMessage);
      const echo = await StreamClient.open(slow, 'slow');
      let most = 0;
      let open = 0;
      const answer = (m: ServerEvent__Output) => {
        if (!m.toolCall) return;
        const { id, arguments: args } = m.toolCall;
        most = Math.max(most, ++open);
        setTimeout(() => {
          open--;
          echo.send({ toolResult: { id, status: 'TOOL_OK', output: args } });
        }, 200);
      };
      // Calls made between the registration and the stream (the fanout agent sees the tool listed
      // and calls at once) arrive with the stream's first messages, before this handler is on.
      echo.received.forEach(answer);
      echo.stream.on('data', answer);
      const resultFile = join(ws, 'fanout.result.json');
      const result = await rt.waitFor(
        "the fanout agent's 120 calls to end",
        () => existsSync(resultFile) && JSON.parse(readFileSync(resultFile, 'utf8')),
        60_000,
      );
      assert.deepEqual(result, { ok: 120, errors: [] });
      assert.ok(most > 64, `the calls were open at once (at most ${most} seen together)`);
      echo.cancel();
    } finally {
      slow.close();
    }
  });
});
