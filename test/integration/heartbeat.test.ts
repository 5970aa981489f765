// Agent liveness: a silent agent is marked disconnected after the heartbeat timeout, its
// subscriptions and tools are freed, and it resumes when it reconnects with the same id; a
// second stream for one id replaces the first (newest wins).
import * as grpc from '@grpc/grpc-js';
import { strict as assert } from 'node:assert';
import { call, connect, event, StreamClient, type Clients } from '../support/grpc';
import { until } from '../support/eventually';
import { join } from 'node:path';
import {
  makeWorkspace,
  removeWorkspaces,
  REPO,
  startRuntime,
  stopAllRuntimes,
  type RuntimeProcess,
  PYTHON,
} from './helpers/runtime';

describe('agent heartbeat, reconnect and replacement', function () {
  this.timeout(60_000);
  let rt: RuntimeProcess;
  let c: Clients;
  const streams: StreamClient[] = [];
  const timers: NodeJS.Timeout[] = [];

  // Pings every PING_MS keep an agent alive with a wide margin even on a loaded machine; the
  // unary-heartbeat tests run for LONGER_THAN_TIMEOUT_MS, past the 3 s timeout.
  const PING_MS = 200;
  const LONGER_THAN_TIMEOUT_MS = 4000;

  before(async () => {
    rt = await startRuntime(makeWorkspace('[bridge]\nheartbeat_timeout_ms = 3000\n'));
    c = connect(rt.discovery().address, { token: rt.discovery().token });
  });
  afterEach(() => {
    for (const t of timers.splice(0)) clearInterval(t);
    for (const s of streams.splice(0)) s.cancel();
  });
  after(async () => {
    c.close();
    await stopAllRuntimes();
    removeWorkspaces();
  });

  function open(agentId: string, keepAlive: boolean): StreamClient {
    const s = new StreamClient(c);
    streams.push(s);
    s.send({ ack: { messageId: agentId } });
    if (keepAlive) timers.push(setInterval(() => s.send({ ping: { timestampMs: Date.now() } }), PING_MS));
    return s;
  }

  /** Publishes on `topic` and awaits each delivery, for longer than the heartbeat timeout. */
  async function publishTicksFor(topic: string, s: StreamClient): Promise<void> {
    const until = Date.now() + LONGER_THAN_TIMEOUT_MS;
    for (let i = 0; Date.now() < until; i++) {
      await call(c.runtime, 'Publish', { topic, event: event(`tick-${i}`, {}) });
      await s.delivery(topic);
      await new Promise((r) => setTimeout(r, PING_MS));
    }
  }

  const agentInfo = async (id: string) =>
    (await call(c.runtime, 'ListAgents', {})).agents.find((a) => a.agentId === id);

  it('marks a silent agent disconnected, frees its subscriptions and tools, and resumes it on reconnect', async () => {
    const watcher = open('hb-watcher', true);
    watcher.send({ subscribe: { requestId: 'w', pattern: 'agent.*.disconnected' } });
    await watcher.next((m) => m.msg === 'subscribed');

    const reg = await call(c.bridge, 'RegisterAgent', {
      agentId: 'hb-silent',
      subscribedTopics: ['hb.topic'],
      tools: [{ name: 'silent:echo', parametersSchema: '{"type":"object"}' }],
    });
    assert.equal(reg.success, true, reg.errorMessage);
    const silent = open('hb-silent', false);
    silent.send({ ping: { timestampMs: 1 } });
    await silent.next((m) => m.msg === 'pong');
    assert.equal((await agentInfo('hb-silent'))?.state, 'connected');

    const err = await silent.next((m) => m.msg === 'err', 'the heartbeat timeout error');
    assert.equal(err.err!.code, 'heartbeat_timeout');
    await silent.closed();
    assert.equal(silent.error?.code, grpc.status.UNAVAILABLE, 'an error status, so any client reconnects');
    const lifecycle = await watcher.delivery('agent.hb-silent.disconnected');
    assert.match(JSON.parse(lifecycle.payload).reason, /no heartbeat/);

    const info = await agentInfo('hb-silent');
    assert.equal(info?.state, 'disconnected');
    const stats = await call(c.runtime, 'GetStats', {});
    assert.equal(
      stats.subscriptions.some((s) => s.subscriber === 'hb-silent'),
      false,
      'its subscriptions are freed',
    );
    assert.ok(
      stats.subscriptions.some((s) => s.subscriber === 'hb-watcher'),
      'a live agent keeps its subscriptions',
    );
    assert.equal((await agentInfo('hb-watcher'))?.state, 'connected');
    assert.equal((await call(c.tools, 'ListTools', { prefix: 'silent:' })).tools.length, 0, 'its tools are withdrawn');

    // Reconnect with the same id, without registering again: topics and tools come back.
    const again = open('hb-silent', true);
    again.send({ ping: { timestampMs: 2 } });
    await again.next((m) => m.msg === 'pong');
    assert.equal((await agentInfo('hb-silent'))?.state, 'connected');
    await call(c.runtime, 'Publish', { topic: 'hb.topic', event: event('after-reconnect', {}) });
    assert.equal((await again.delivery('hb.topic')).type, 'after-reconnect');
    assert.equal((await call(c.tools, 'ListTools', { prefix: 'silent:' })).tools.length, 1);
  });

  it('keeps an agent alive through unary Heartbeat calls alone', async () => {
    await call(c.bridge, 'RegisterAgent', { agentId: 'hb-unary', subscribedTopics: ['hbu.topic'] });
    const s = open('hb-unary', false);
    timers.push(
      setInterval(() => c.bridge.Heartbeat({ agentId: 'hb-unary', timestampMs: Date.now() }, () => {}), PING_MS),
    );
    // Longer than the timeout: still connected, and deliveries still flow.
    await publishTicksFor('hbu.topic', s);
    assert.equal((await agentInfo('hb-unary'))?.state, 'connected');
    assert.equal(
      s.history.some((m) => m.msg === 'err'),
      false,
    );
    const unknown = await call(c.bridge, 'Heartbeat', { agentId: 'never-registered' });
    assert.equal(unknown.status, 'unknown_agent');
  });

  it('counts an empty Heartbeat (as the reference client sends) for the agents streaming on the same connection', async () => {
    const own = connect(rt.discovery().address, { token: rt.discovery().token });
    try {
      await call(own.bridge, 'RegisterAgent', { agentId: 'hb-reference', subscribedTopics: ['hbr.topic'] });
      const s = new StreamClient(own);
      streams.push(s);
      s.send({ ack: { messageId: 'hb-reference' } });
      timers.push(setInterval(() => own.bridge.Heartbeat({}, () => {}), PING_MS));
      await publishTicksFor('hbr.topic', s);
      assert.equal((await agentInfo('hb-reference'))?.state, 'connected');
      assert.equal(
        s.history.some((m) => m.msg === 'err'),
        false,
      );
    } finally {
      for (const t of timers.splice(0)) clearInterval(t);
      own.close();
    }
  });

  it('lets a newer stream take over an id: the old one is told "replaced" and deliveries go to the new one', async () => {
    await call(c.bridge, 'RegisterAgent', { agentId: 'hb-dup', subscribedTopics: ['dup.topic'] });
    const first = open('hb-dup', true);
    first.send({ ping: { timestampMs: 1 } });
    await first.next((m) => m.msg === 'pong');
    const second = open('hb-dup', true);
    const replaced = await first.next((m) => m.msg === 'err');
    assert.equal(replaced.err!.code, 'replaced');
    await first.closed();
    assert.equal(first.error, undefined, 'a replaced stream ends OK: its client should not fight for the id');
    await call(c.runtime, 'Publish', { topic: 'dup.topic', event: event('to-newest', {}) });
    assert.equal((await second.delivery('dup.topic')).type, 'to-newest');
    const stats = await call(c.runtime, 'GetStats', {});
    assert.equal(stats.subscriptions.filter((s) => s.subscriber === 'hb-dup').length, 1);
  });
});

describe('disconnected agents nobody supervises', function () {
  this.timeout(60_000);
  after(async () => {
    await stopAllRuntimes();
    removeWorkspaces();
  });

  it('are forgotten after ten heartbeat timeouts, whatever their id (constructor, toString: not loom.toml tables)', async () => {
    const rt = await startRuntime(makeWorkspace('[bridge]\nheartbeat_timeout_ms = 200\n'));
    const c = connect(rt.discovery().address, { token: rt.discovery().token });
    const ids = ['plain', 'constructor', 'toString', '__proto__'];
    try {
      for (const agentId of ids) await call(c.bridge, 'RegisterAgent', { agentId, subscribedTopics: [] });
      const listed = async () => (await call(c.runtime, 'ListAgents', {})).agents.map((a) => a.agentId);
      assert.deepEqual((await listed()).filter((id) => ids.includes(id)).sort(), [...ids].sort());
      await until('the silent agents to be forgotten', async () => !(await listed()).some((id) => ids.includes(id)), {
        timeoutMs: 30_000,
        detail: () => rt.stderrText.slice(-20).join('\n'),
      });
    } finally {
      c.close();
    }
  });
});

describe('a supervised Python agent under a short heartbeat timeout', function () {
  this.timeout(90_000);
  after(async () => {
    await stopAllRuntimes();
    removeWorkspaces();
  });

  it('pings within it (the supervisor passes LOOM_HEARTBEAT_TIMEOUT_MS) and stays connected while idle', async () => {
    const rt = await startRuntime(
      makeWorkspace(
        `[bridge]\nheartbeat_timeout_ms = 2000\n\n[agents.idler]\ncommand = ${JSON.stringify(PYTHON)}\nargs = ["-c", "from loom import Agent; Agent('idler').run()"]\nrestart = "never"\n`,
      ),
    );
    const c = connect(rt.discovery().address, { token: rt.discovery().token });
    try {
      await rt.waitForLog('the agent to connect', (l) => l.msg === 'agent connected' && l.agent === 'idler', 30_000);
      await new Promise((r) => setTimeout(r, 8000)); // four timeouts of idling
      const info = (await call(c.runtime, 'ListAgents', {})).agents.find((a) => a.agentId === 'idler');
      assert.equal(info?.state, 'connected');
      assert.ok(
        !rt.logs.some((l) => l.msg === 'agent disconnected' && l.agent === 'idler'),
        'never dropped for silence',
      );
    } finally {
      c.close();
    }
  });
});
