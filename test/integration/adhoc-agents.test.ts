// Ad-hoc agents (Runtime.StartAgent): a Python file of the workspace, started by the window (or
// the workspace token), run by the runtime's one supervisor exactly like a declared agent —
// listed, restarted after a crash, its output in the log ring, its own credential — and bound to
// the stream of whoever started it unless kept alive. Real runtime, real gRPC, real Python agents.
import * as grpc from '@grpc/grpc-js';
import { strict as assert } from 'node:assert';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { processAlive } from '../../runtime/contract/process';
import type { AgentInfo__Output } from '../../runtime/proto/types';
import { call, callFails, connect, StreamClient, type Clients } from '../support/grpc';
import { eventually } from '../support/eventually';
import {
  makeWorkspace,
  removeWorkspaces,
  REPO,
  startRuntime,
  stopAllRuntimes,
  type RuntimeProcess,
  PYTHON,
} from './helpers/runtime';

const AGENT = join(REPO, 'test', 'integration', 'fixtures', 'adhoc_agent.py');

describe('ad-hoc agents: started from the window, run by the runtime supervisor', function () {
  this.timeout(120_000);
  let rt: RuntimeProcess;
  let ws: string;
  let owner: string;
  const opened: Clients[] = [];
  const as = (token: string, agentId?: string) => {
    const c = connect(rt.discovery().address, { token, agentId });
    opened.push(c);
    return c;
  };
  /** A window as the extension is one: `vscode` registered and its stream open, with the window's credential. */
  const openWindow = async () => {
    const c = as(rt.windowToken(), 'vscode');
    const reg = await call(c.bridge, 'RegisterAgent', {
      agentId: 'vscode',
      subscribedTopics: [],
      tools: [],
      metadata: {},
    });
    assert.equal(reg.success, true, reg.errorMessage);
    const stream = await StreamClient.open(c, 'vscode');
    return { c, stream };
  };
  const listed = async (id: string): Promise<AgentInfo__Output | undefined> =>
    (await call(as(owner).runtime, 'ListAgents', {})).agents.find((a) => a.agentId === id);
  const until = <T>(what: string, check: () => Promise<T | undefined | false>) =>
    eventually(what, async () => (await check()) || undefined, {
      timeoutMs: 60_000,
      detail: () => rt.stderrText.slice(-20).join('\n'),
    });
  const connected = (id: string) =>
    until(`${id} connected`, async () => {
      const a = await listed(id);
      return a?.state === 'connected' && a;
    });
  /** The supervisor no longer runs it: at most a disconnected link is left in the list. */
  const forgotten = (id: string) =>
    until(`${id} to be stopped and forgotten by the supervisor`, async () => {
      const a = await listed(id);
      return !a || (!a.supervised && a.state === 'disconnected');
    });
  const start = (c: Clients, agentId: string, extra: { keepAlive?: boolean; script?: string } = {}) =>
    call(c.runtime, 'StartAgent', {
      agentId,
      script: extra.script ?? `agents/${agentId}.py`,
      args: [],
      cwd: '',
      env: {},
      keepAlive: extra.keepAlive ?? false,
      restart: '',
    });

  before(async () => {
    ws = makeWorkspace('');
    mkdirSync(join(ws, 'agents'));
    for (const id of ['solo', 'bound', 'kept']) copyFileSync(AGENT, join(ws, 'agents', `${id}.py`));
    rt = await startRuntime(ws, [], { env: { LOOM_PYTHON: PYTHON } });
    owner = rt.discovery().token;
  });
  after(async () => {
    for (const c of opened.splice(0)) c.close();
    await stopAllRuntimes();
    removeWorkspaces();
  });

  it('starts a workspace script with the window credential: listed as ad-hoc and supervised, with its own credential', async () => {
    const { c } = await openWindow();
    const res = await start(c, 'solo');
    assert.equal(res.success, true, res.errorMessage);
    const info = await connected('solo');
    assert.equal(info.supervised, true);
    assert.equal(info.adHoc, true);
    assert.ok(info.pid > 0);
    const token = await rt.waitFor(
      'solo to write its credential',
      () => existsSync(join(ws, 'solo.token')) && readFileSync(join(ws, 'solo.token'), 'utf8'),
      60_000,
    );
    assert.match(token, /^[0-9a-f]{64}$/);
    assert.notEqual(token, owner);
    assert.notEqual(token, rt.windowToken());
    // Running already: a second start is refused, saying so.
    const again = await start(c, 'solo');
    assert.equal(again.success, false);
    assert.match(again.errorMessage, /already running/);
  });

  it('keeps its output in the log ring (agents:logs)', async () => {
    const res = await call(as(owner).tools, 'CallTool', {
      id: 'logs',
      name: 'agents:logs',
      arguments: JSON.stringify({ agent_id: 'solo' }),
      timeoutMs: 10_000,
      headers: {},
    });
    assert.equal(res.status, 'TOOL_OK', res.error?.message);
    const { lines } = JSON.parse(res.output) as { lines: { stream: string; line: string }[] };
    assert.ok(
      lines.some((l) => l.stream === 'stdout' && /^solo connected as pid \d+$/.test(l.line)),
      JSON.stringify(lines),
    );
  });

  it('restarts it after a crash, with backoff, as a declared agent', async () => {
    const before = (await listed('solo'))!;
    process.kill(before.pid, 'SIGKILL');
    const after = await until('solo restarted and connected again', async () => {
      const a = await listed('solo');
      return a?.state === 'connected' && a.pid !== before.pid && a;
    });
    assert.equal(after.restarts, before.restarts + 1);
    assert.equal(processAlive(before.pid), false);
    const res = await call(as(owner).tools, 'CallTool', {
      id: 'logs2',
      name: 'agents:logs',
      arguments: JSON.stringify({ agent_id: 'solo' }),
      timeoutMs: 10_000,
      headers: {},
    });
    const { lines } = JSON.parse(res.output) as { lines: { line: string }[] };
    assert.ok(
      lines.some((l) => l.line === `solo connected as pid ${after.pid}`),
      'the restarted process writes to the same ring',
    );
  });

  it("refuses an agent's credential, even the ad-hoc agent's own", async () => {
    const token = readFileSync(join(ws, 'solo.token'), 'utf8');
    const err = await callFails(as(token, 'solo').runtime, 'StartAgent', {
      agentId: 'other',
      script: 'agents/bound.py',
      keepAlive: true,
    });
    assert.equal(err.code, grpc.status.PERMISSION_DENIED);
    assert.match(err.details, /StartAgent is the workspace owner's, not agent "solo"'s/);
  });

  it('refuses a script outside the workspace, and one that is not Python, naming the problem', async () => {
    const outside = join(makeWorkspace(), 'evil.py');
    writeFileSync(outside, 'print("never")\n');
    for (const script of [outside, '../evil.py', `agents/../../${outside.split('/').slice(-2).join('/')}`]) {
      const err = await callFails(as(owner).runtime, 'StartAgent', { agentId: 'evil', script, keepAlive: true });
      assert.equal(err.code, grpc.status.INVALID_ARGUMENT, script);
      assert.match(
        err.details,
        /agent "evil": script must be inside the workspace .*outside the workspace roots/,
        script,
      );
    }
    writeFileSync(join(ws, 'run.sh'), 'echo never\n');
    const notPython = await callFails(as(owner).runtime, 'StartAgent', {
      agentId: 'evil',
      script: 'run.sh',
      keepAlive: true,
    });
    assert.equal(notPython.code, grpc.status.INVALID_ARGUMENT);
    assert.match(notPython.details, /is not a \.py file/);
    const missing = await callFails(as(owner).runtime, 'StartAgent', {
      agentId: 'evil',
      script: 'agents/missing.py',
      keepAlive: true,
    });
    assert.match(missing.details, /does not exist in the workspace/);
    assert.equal(await listed('evil'), undefined);
  });

  it('refuses to bind to a stream the caller does not have, and the ad-hoc id to anyone but its process', async () => {
    const err = await callFails(as(owner).runtime, 'StartAgent', {
      agentId: 'bound',
      script: 'agents/bound.py',
      keepAlive: false,
    });
    assert.equal(err.code, grpc.status.FAILED_PRECONDITION);
    assert.match(err.details, /names none: state its agent id in x-loom-agent-id, or set keep_alive/);
    const reg = await call(as(owner).bridge, 'RegisterAgent', {
      agentId: 'solo',
      subscribedTopics: [],
      tools: [],
      metadata: {},
    });
    assert.equal(reg.success, false);
    assert.match(reg.errorMessage, /ad-hoc agent the runtime runs.*only its process registers it/);
  });

  it('stops the agents a window started when its stream ends; those started with keep_alive run on', async () => {
    const window = await openWindow();
    assert.equal((await start(window.c, 'bound')).success, true);
    assert.equal((await start(window.c, 'kept', { keepAlive: true })).success, true);
    const bound = await connected('bound');
    const kept = await connected('kept');
    window.stream.cancel();
    window.c.close();
    await forgotten('bound');
    await until("bound's process to end", async () => !processAlive(bound.pid));
    // `vscode` is one id: this window took it over from the first test's, so what that one started goes too.
    await forgotten('solo');
    const still = await listed('kept');
    assert.equal(still?.state, 'connected');
    assert.equal(still?.pid, kept.pid);
  });

  it('binds one started with the workspace token to the live stream of the id it states', async () => {
    const c = as(owner, 'cli-owner');
    await call(c.bridge, 'RegisterAgent', { agentId: 'cli-owner', subscribedTopics: [], tools: [], metadata: {} });
    const stream = await StreamClient.open(c, 'cli-owner');
    assert.equal((await start(c, 'bound')).success, true);
    const bound = await connected('bound');
    stream.cancel();
    await forgotten('bound');
    assert.equal(processAlive(bound.pid), false);
  });
});
