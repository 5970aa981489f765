// Several runtimes on one bus over real NATS: a three-node nats-server cluster with JetStream (and
// a leaf server), real runtimes (dist/runtime.js), real Python agents (fixtures/cluster_agent.py).
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { connect as natsConnect } from '@nats-io/transport-node';
import { Kvm } from '@nats-io/kv';
import { names } from '../../../runtime/cluster/subjects';
import { decodeEvent, encodeEvent } from '../../../runtime/cluster/wire';
import {
  makeWorkspace,
  removeWorkspaces,
  startRuntime,
  stopAllRuntimes,
  REPO,
  type RuntimeProcess,
  PYTHON,
} from '../helpers/runtime';
import { call, connect, event, type Clients } from '../../support/grpc';
import { eventuallyTruthy } from '../../support/eventually';
import { NatsCluster, natsServerAvailable } from '../../support/nats';

const FIXTURE = join(__dirname, 'fixtures', 'cluster_agent.py');
const MCP_FIXTURE = join(REPO, 'test', 'fixtures', 'mcp', 'fixture-server.ts');
/** An MCP server on runtime B whose tools B offers to the cluster; B's policy denies getenv. */
const MCP_ON_B = [
  '[mcp.fixb]',
  `command = ${JSON.stringify(process.execPath)}`,
  `args = ["--import", "tsx", ${JSON.stringify(MCP_FIXTURE)}, "stdio"]`,
  `cwd = ${JSON.stringify(REPO)}`,
  'tool_policy = { getenv = "deny" }',
].join('\n');

interface AgentSpec {
  topics?: string[];
  respond?: string;
  tool?: string;
}

interface Node {
  name: string;
  ws: string;
  rt: RuntimeProcess;
  c: Clients;
}

type Rec = {
  kind: string;
  count?: number;
  topic?: string;
  id?: string;
  sender?: string;
  node?: string;
  hop?: number;
  payload?: unknown;
  result?: unknown;
  error?: string;
  traceparent?: string;
};

function records(ws: string, agent: string): Rec[] {
  const file = join(ws, `${agent}.jsonl`);
  if (!existsSync(file)) return [];
  const lines = readFileSync(file, 'utf8').split('\n');
  // The last piece is a line the agent is still writing (or empty after the final newline).
  return lines
    .slice(0, -1)
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Rec);
}

const until = eventuallyTruthy;

// Skipped only on a machine without nats-server; in CI (where .ci/setup.sh installs it) never.
const describeIf = natsServerAvailable() || process.env.CI ? describe : describe.skip;

describeIf('cluster: runtimes share one bus over NATS', function () {
  this.timeout(180_000);
  let nats: NatsCluster;
  const namespace = `it${randomBytes(3).toString('hex')}`;
  const nodes: Record<string, Node> = {};

  const toml = (name: string, servers: string[], agents: Record<string, AgentSpec>, extra = '') =>
    [
      '[cluster]',
      `servers = ${JSON.stringify(servers)}`,
      `node = "${name}"`,
      `namespace = "${namespace}"`,
      'share = ["market.>", "svc.>", "bulk.>"]',
      'share_realtime = ["ticks.>"]',
      'offer_tools = ["calc:*", "fixb:*", "agents:logs"]',
      'replicas = 3',
      'heartbeat_ms = 500',
      'presence_ttl_ms = 3000',
      extra,
      ...Object.entries(agents).flatMap(([id, spec]) => [
        `[agents.${id}]`,
        'command = "python"',
        `args = [${JSON.stringify(FIXTURE)}]`,
        `env = { RECORD = "${id}.jsonl", NODE = "${name}", TOPICS = "${(spec.topics ?? []).join(',')}", ` +
          `RESPOND = "${spec.respond ?? ''}", TOOL = "${spec.tool ?? ''}" }`,
      ]),
    ].join('\n') + '\n';

  const start = async (
    name: string,
    servers: string[],
    agents: Record<string, AgentSpec>,
    ws?: string,
  ): Promise<Node> => {
    // A workspace given already has its loom.toml (a restart, or one with extra keys).
    const workspace = ws ?? makeWorkspace(toml(name, servers, agents));
    const rt = await startRuntime(workspace, [], { env: { LOOM_PYTHON: PYTHON } });
    const c = connect(rt.discovery().address, { token: rt.discovery().token });
    const node = { name, ws: workspace, rt, c };
    nodes[name] = node;
    let list: { agentId: string; state: string; lastError: string }[] = [];
    await until(
      `${name}'s agents to connect`,
      async () => {
        list = (await call(c.runtime, 'ListAgents', {})).agents.filter((a) => a.node === name);
        return Object.keys(agents).every((id) => list.some((a) => a.agentId === id && a.state === 'connected'));
      },
      60_000,
    ).catch((err: Error) => {
      throw new Error(
        `${err.message}: ${JSON.stringify(list)}\n${rt.stderrText
          .filter((l) => !l.includes('"debug"'))
          .slice(-20)
          .join('\n')}`,
      );
    });
    await until(
      `${name} to join NATS`,
      async () => (await call(c.runtime, 'GetStats', {})).cluster?.state === 'connected',
    );
    return node;
  };
  const command = (n: Node, agent: string, cmd: object) =>
    call(n.c.runtime, 'Publish', { topic: `cmd.${agent}`, event: event('test.cmd', cmd) });

  before(async () => {
    nats = await NatsCluster.start({ nodes: 3, leaf: true });
    const [u1, u2, u3] = nats.urls;
    // Each runtime lists a different first server; the client moves to the others when one dies.
    await Promise.all([
      start('A', [u1!, u2!, u3!], {
        a1: { topics: [] },
        a2: { topics: ['market.>', 'ticks.>', 'svc.back'], respond: 'svc.back' },
      }),
      start(
        'B',
        [u2!, u3!, u1!],
        { b1: { topics: ['market.>', 'ticks.>'], tool: 'calc:answer' }, b2: { tool: 'calc:shared' } },
        makeWorkspace(
          toml(
            'B',
            [u2!, u3!, u1!],
            { b1: { topics: ['market.>', 'ticks.>'], tool: 'calc:answer' }, b2: { tool: 'calc:shared' } },
            MCP_ON_B,
          ),
        ),
      ),
      start('C', [u3!, u1!, u2!], {
        c1: { topics: ['market.>', 'ticks.>', 'bulk.>'], respond: 'svc.ask' },
        c2: { tool: 'calc:shared' },
      }),
    ]);
    // Everyone sees everyone's tools before the tests start.
    for (const n of Object.values(nodes)) {
      await until(`${n.name} to list the cluster's tools`, async () => {
        const names = (await call(n.c.tools, 'ListTools', {})).tools.map((t) => t.name);
        return names.includes('calc:answer') && names.includes('calc:shared');
      });
    }
  });

  after(async () => {
    for (const n of Object.values(nodes)) n.c.runtime.close();
    await stopAllRuntimes();
    await nats?.stop();
    removeWorkspaces();
  });

  it("an event from an agent on A reaches B's and C's agents once each, envelope intact, and A's other agent once", async () => {
    const { A, B, C } = nodes as Record<string, Node>;
    await command(A!, 'a1', { do: 'emit', topic: 'market.tick', count: 5 });
    const got = (ws: string, id: string) =>
      records(ws, id).filter((r) => r.kind === 'event' && r.topic === 'market.tick');
    await until(
      'B and C to receive the 5 events',
      () => got(B!.ws, 'b1').length >= 5 && got(C!.ws, 'c1').length >= 5 && got(A!.ws, 'a2').length >= 5,
    );
    // Give a duplicate (an echo, a redelivery) the time to show up, then count.
    await new Promise((r) => setTimeout(r, 1500));
    for (const [ws, id, node] of [
      [B!.ws, 'b1', 'A'],
      [C!.ws, 'c1', 'A'],
      [A!.ws, 'a2', ''],
    ] as const) {
      const evs = got(ws, id);
      assert.equal(evs.length, 5, `${id} got ${evs.length} events`);
      assert.equal(new Set(evs.map((e) => e.id)).size, 5);
      for (const e of evs) {
        assert.equal(e.sender, 'a1');
        assert.equal(e.node, node, 'loom.node names the runtime the event came from (none for a local one)');
      }
    }
    // The hop count goes on across runtimes: one more than on A.
    assert.ok(got(B!.ws, 'b1')[0]!.hop! > got(A!.ws, 'a2')[0]!.hop!);
  });

  it('realtime topics travel over core NATS to the other runtimes', async () => {
    const { A, B, C } = nodes as Record<string, Node>;
    await command(A!, 'a1', { do: 'emit', topic: 'ticks.eur', count: 3 });
    const got = (ws: string, id: string) =>
      records(ws, id).filter((r) => r.kind === 'event' && r.topic === 'ticks.eur');
    await until(
      'B and C to receive the realtime events',
      () => got(B!.ws, 'b1').length >= 3 && got(C!.ws, 'c1').length >= 3,
    );
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(got(B!.ws, 'b1').length, 3);
    assert.equal(got(C!.ws, 'c1').length, 3);
    const stats = await call(A!.c.runtime, 'GetStats', {});
    assert.ok(Number(stats.cluster!.eventsSent) >= 8);
  });

  it('a tool on B is called from A and from C; two replicas of a tool share the calls', async () => {
    const { A, C } = nodes as Record<string, Node>;
    await command(A!, 'a1', { do: 'tool', name: 'calc:answer', args: { x: 7 } });
    await until('a1 to get the tool result', () =>
      records(A!.ws, 'a1').find((r) => r.kind === 'tool' || r.kind === 'error'),
    );
    const fromA = records(A!.ws, 'a1').find((r) => r.kind === 'tool' || r.kind === 'error')!;
    assert.deepEqual(fromA.result, { node: 'B', agent: 'b1', x: 7 }, JSON.stringify(fromA));
    const fromC = await call(C!.c.tools, 'CallTool', {
      name: 'calc:answer',
      arguments: JSON.stringify({ x: 3 }),
      timeoutMs: 10_000,
    });
    assert.equal(fromC.status, 'TOOL_OK', fromC.error?.message);
    assert.deepEqual(JSON.parse(fromC.output), { node: 'B', agent: 'b1', x: 3 });
    const answeredBy = new Set<string>();
    for (let i = 0; i < 24; i++) {
      const r = await call(A!.c.tools, 'CallTool', {
        name: 'calc:shared',
        arguments: JSON.stringify({ x: i }),
        timeoutMs: 10_000,
      });
      assert.equal(r.status, 'TOOL_OK', r.error?.message);
      answeredBy.add((JSON.parse(r.output) as { node: string }).node);
    }
    assert.deepEqual([...answeredBy].sort(), ['B', 'C']);
  });

  it('agents:logs offered to the cluster: every caller from another runtime is refused, even one that names the window', async () => {
    // As another runtime's ClusterTools.callRemote asks it (every node offers it: any may answer).
    // The caller is that runtime's claim: anyone who reaches NATS may name the window.
    const raw = await natsConnect({ servers: nats.urls });
    const ask = async (caller: string) => {
      const body = { arguments: { agent_id: 'a1' }, caller, node: 'Z', timeoutMs: 5000 };
      const subject = `loom.${namespace}.tool.${Buffer.from('agents:logs', 'utf8').toString('base64url')}`;
      const reply = await raw.request(subject, Buffer.from(JSON.stringify(body)), { timeout: 10_000 });
      return JSON.parse(Buffer.from(reply.data).toString('utf8')) as {
        status: string;
        error?: { code: string; message: string };
      };
    };
    try {
      for (const caller of ['mallory', 'vscode', 'runtime', 'mcp-client.cli']) {
        const answer = await ask(caller);
        assert.equal(answer.status, 'error');
        assert.equal(answer.error!.code, 'denied', `${caller}: ${JSON.stringify(answer)}`);
        assert.match(answer.error!.message, /may not read the output of agent "a1"/);
      }
    } finally {
      await raw.close();
    }
  });

  it("an MCP tool of B is called from A, and B's policy decides", async () => {
    const { A } = nodes as Record<string, Node>;
    await until('A to list fixb:echo', async () =>
      (await call(A!.c.tools, 'ListTools', {})).tools.some((t) => t.name === 'fixb:echo'),
    );
    const ok = await call(A!.c.tools, 'CallTool', {
      name: 'fixb:echo',
      arguments: JSON.stringify({ text: 'across' }),
      timeoutMs: 10_000,
    });
    assert.equal(ok.status, 'TOOL_OK', ok.error?.message);
    assert.match(ok.output, /across/);
    const denied = await call(A!.c.tools, 'CallTool', {
      name: 'fixb:getenv',
      arguments: JSON.stringify({ name: 'HOME' }),
      timeoutMs: 10_000,
    });
    assert.notEqual(denied.status, 'TOOL_OK');
    assert.match(denied.error!.message, /denied/);
  });

  it('request/reply between A and C, both ways', async () => {
    const { A, C } = nodes as Record<string, Node>;
    await command(A!, 'a1', { do: 'request', topic: 'svc.ask' });
    const reply = await until('a1 to get its reply', () =>
      records(A!.ws, 'a1').find((r) => r.kind === 'reply' || r.kind === 'error'),
    );
    assert.equal(reply.kind, 'reply', reply.error);
    assert.deepEqual(reply.payload, { answered_by: 'c1', node: 'C' });
    assert.equal(reply.node, 'C');
    await command(C!, 'c1', { do: 'request', topic: 'svc.back' });
    const back = await until('c1 to get its reply', () =>
      records(C!.ws, 'c1').find((r) => r.kind === 'reply' || r.kind === 'error'),
    );
    assert.deepEqual(back.payload, { answered_by: 'a2', node: 'A' });
  });

  it('the agents of every runtime are in ListAgents with their node', async () => {
    const { B } = nodes as Record<string, Node>;
    const list = (await call(B!.c.runtime, 'ListAgents', {})).agents.map((a) => `${a.node}/${a.agentId}`).sort();
    for (const want of ['A/a1', 'A/a2', 'B/b1', 'B/b2', 'C/c1', 'C/c2'])
      assert.ok(list.includes(want), `${want} missing from ${list.join(', ')}`);
    const stats = await call(B!.c.runtime, 'GetStats', {});
    assert.deepEqual([...stats.cluster!.nodes].sort(), ['A', 'B', 'C']);
  });

  it('unshared topics never leave their runtime (seen on the wire by a raw NATS subscriber)', async () => {
    const { A, B } = nodes as Record<string, Node>;
    const raw = await natsConnect({ servers: nats.urls });
    const seen: string[] = [];
    const sub = raw.subscribe('>', {
      callback: (_e, m) => {
        seen.push(`${m.subject} ${Buffer.from(m.data).toString('utf8')}`);
      },
    });
    await raw.flush();
    await call(A!.c.runtime, 'Publish', {
      topic: 'private.secret',
      event: event('test.private', { secret: 'do-not-leak' }),
    });
    await command(A!, 'a1', { do: 'emit', topic: 'market.control', count: 1 });
    await until('the shared control event to reach B', () =>
      records(B!.ws, 'b1').some((r) => r.topic === 'market.control'),
    );
    await raw.flush();
    sub.unsubscribe();
    await raw.close();
    assert.ok(
      seen.some((s) => s.includes('market.control')),
      'the raw subscriber sees shared traffic',
    );
    assert.ok(
      !seen.some((s) => s.includes('private.secret') || s.includes('do-not-leak')),
      'an unshared event went over NATS',
    );
  });

  it('a NATS node killed mid-stream: the runtimes reconnect to the others and no batched event is lost', async () => {
    const { A, C } = nodes as Record<string, Node>;
    const got = () => records(C!.ws, 'c1').filter((r) => r.kind === 'event' && r.topic === 'bulk.kill');
    await command(A!, 'a1', { do: 'emit', topic: 'bulk.kill', count: 3000 });
    await until('the stream to be under way', () => got().length >= 300);
    await nats.kill(nats.nodes[0]!);
    await until('C to receive all 3000', () => got().length >= 3000, 90_000);
    await new Promise((r) => setTimeout(r, 1000));
    const evs = got();
    assert.equal(evs.length, 3000);
    assert.equal(new Set(evs.map((e) => e.id)).size, 3000);
    for (const n of [A!, C!]) assert.equal((await call(n.c.runtime, 'GetStats', {})).cluster!.state, 'connected');
  });

  it("runtime C stopped while A publishes 10 000 batched events, restarted: C's agent receives all 10 000 once", async () => {
    const { A, C } = nodes as Record<string, Node>;
    C!.c.runtime.close();
    await C!.rt.stop('SIGTERM');
    await command(A!, 'a1', { do: 'emit', topic: 'bulk.offline', count: 10_000 });
    await until(
      'a1 to emit 10 000',
      () => records(A!.ws, 'a1').some((r) => r.kind === 'emitted' && r.count === 10_000),
      120_000,
    );
    const restarted = await start('C', [], { c1: {}, c2: {} }, C!.ws);
    const got = () => records(restarted.ws, 'c1').filter((r) => r.kind === 'event' && r.topic === 'bulk.offline');
    await until('C to catch up', () => got().length >= 10_000, 120_000).catch(async (err: Error) => {
      const stats = async (n: Node) => JSON.stringify((await call(n.c.runtime, 'GetStats', {})).cluster);
      throw new Error(
        `${err.message}: C got ${got().length}; A ${await stats(A!)}; C ${await stats(restarted)}\n${restarted.rt.stderrText
          .filter((l) => l.includes('cluster'))
          .slice(-20)
          .join('\n')}`,
      );
    });
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(got().length, 10_000);
    assert.equal(new Set(got().map((e) => e.id)).size, 10_000);
  });

  it("runtime B gone: its tools leave A's list within the TTL", async () => {
    const { A, B } = nodes as Record<string, Node>;
    const pids = (await call(B!.c.runtime, 'ListAgents', {})).agents.filter((a) => a.node === 'B').map((a) => a.pid);
    B!.c.runtime.close();
    // Killed, not stopped: no goodbye, so only the presence TTL can withdraw its tools.
    B!.rt.proc.kill('SIGKILL');
    await B!.rt.exited;
    for (const pid of pids)
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    await until(
      'calc:answer to leave A',
      async () => !(await call(A!.c.tools, 'ListTools', {})).tools.some((t) => t.name === 'calc:answer'),
      20_000,
    );
    const C = nodes.C!;
    const diag = async () =>
      JSON.stringify({
        A: (await call(A!.c.runtime, 'GetStats', {})).cluster,
        C: (await call(C.c.runtime, 'GetStats', {})).cluster,
        Ctools: (await call(C.c.tools, 'ListTools', {})).tools.filter((t) => t.name.startsWith('calc')),
      });
    // C, alive, still offers calc:shared. Read until it shows (10 s at most), not once: with this
    // test's 3 s TTL, a loaded CI machine once had A and C each judge the other gone for a moment.
    // The likely cause, a watch lagging past the TTL judged on the local clock, is fixed in
    // runtime/cluster/presence.ts; the wait stays because that cause was inferred, not seen.
    const shared = await until(
      'calc:shared (C) on A',
      async () => (await call(A!.c.tools, 'ListTools', {})).tools.find((t) => t.name === 'calc:shared'),
      10_000,
    ).catch(() => undefined);
    assert.ok(shared, `C no longer offers calc:shared on A: ${await diag()}`);
  });

  it('a runtime on a leaf server joins the cluster', async () => {
    const { A } = nodes as Record<string, Node>;
    const D = await start(
      'D',
      [nats.leaf!.url],
      { d1: { topics: ['market.>'] } },
      makeWorkspace(toml('D', [nats.leaf!.url], { d1: { topics: ['market.>'] } }, 'jetstream_domain = "hub"')),
    );
    await until("D to see the cluster's tools", async () =>
      (await call(D.c.tools, 'ListTools', {})).tools.some((t) => t.name === 'calc:shared'),
    );
    await command(A!, 'a1', { do: 'emit', topic: 'market.leaf', count: 2 });
    await until(
      'd1 to receive the events',
      () => records(D.ws, 'd1').filter((r) => r.topic === 'market.leaf').length >= 2,
    );
  });
});

describeIf('cluster: wrong credentials', function () {
  this.timeout(60_000);
  let nats: NatsCluster;
  after(async () => {
    await stopAllRuntimes();
    await nats?.stop();
    removeWorkspaces();
  });

  it('give a clear error, never the token, and the runtime keeps working locally', async () => {
    nats = await NatsCluster.start({ nodes: 1, token: 'the-right-token' });
    const ws = makeWorkspace(
      `[cluster]\nservers = ["${nats.urls[0]}"]\nnode = "lonely"\ntoken = "\${LOOM_IT_NATS_TOKEN}"\nshare = ["market.>"]\n`,
    );
    const rt = await startRuntime(ws, [], { env: { LOOM_IT_NATS_TOKEN: 'a-wrong-token' } });
    const c = connect(rt.discovery().address, { token: rt.discovery().token });
    try {
      const cluster = await until('the refusal', async () => {
        const s = (await call(c.runtime, 'GetStats', {})).cluster;
        return s?.state === 'disconnected' && s.lastError ? s : undefined;
      });
      assert.match(cluster.lastError, /credentials/);
      assert.ok(!rt.stderrText.join('\n').includes('a-wrong-token'), 'the token is in the log');
      // Locally, the bus still works: a subscriber gets a shared topic's event.
      const sub = await call(c.runtime, 'Subscribe', { agentId: '', pattern: 'market.>', qos: 'QOS_BATCHED' }).catch(
        (e: Error) => e,
      );
      assert.ok(!(sub instanceof Error) || /agent/.test(sub.message));
      const pub = await call(c.runtime, 'Publish', { topic: 'market.local', event: event('local', {}) });
      assert.ok(pub);
    } finally {
      c.runtime.close();
    }
  });
});

// A server of its own: the suite above kills a NATS node, after which a new namespace's stream and
// bucket may take longer than a test waits.
describeIf('cluster: a client of NATS attacking a runtime', function () {
  this.timeout(120_000);
  let nats: NatsCluster;
  before(async () => {
    nats = await NatsCluster.start({ nodes: 1 });
  });
  after(async () => {
    await stopAllRuntimes();
    await nats?.stop();
    removeWorkspaces();
  });

  // What a client holding the deployment's NATS credentials could do to a runtime (red-team
  // findings): pull topics nobody shares by naming them as a request's reply topic, speak on the
  // runtime's own topics, break GetStats and ListAgents and stop the heartbeat with one bad
  // presence entry, and offer tools in Loom's own namespaces. A runtime of its own namespace
  // shares the requests' topics and patterns that cover its own topics, so only the cluster's
  // rules stand in the way; the reply inboxes (agent.*.replies) and private.* it does not share.
  it("a NATS client cannot pull unshared topics, speak on the runtime's own topics, poison presence, or offer Loom's tools", async () => {
    const ns = `it${randomBytes(3).toString('hex')}`;
    const n = names(ns);
    const ws = makeWorkspace(
      [
        '[cluster]',
        `servers = ${JSON.stringify(nats.urls)}`,
        'node = "D"',
        `namespace = "${ns}"`,
        'share_realtime = ["news.>", "runtime.>", "cluster.>", "mcp.>", "agent.*.crashed", "agent.*.log"]',
        'heartbeat_ms = 500',
        'presence_ttl_ms = 3000',
        // An agent of D's own, not running: a request from elsewhere may claim to be it.
        '[agents.alice]',
        'command = "python"',
        'autostart = false',
        '',
      ].join('\n'),
    );
    const rt = await startRuntime(ws, []);
    const c = connect(rt.discovery().address, { token: rt.discovery().token });
    const raw = await natsConnect({ servers: nats.urls });
    try {
      await until('D to join NATS', async () => (await call(c.runtime, 'GetStats', {})).cluster?.state === 'connected');
      const routed: string[] = [];
      const sub = raw.subscribe(n.replies('evil'), {
        callback: (_e, m) => void routed.push(decodeEvent(m.data).topic),
      });
      /** An event as a runtime "evil" puts it on the wire. */
      const wire = (topic: string, metadata: Record<string, string>) =>
        encodeEvent('evil', topic, {
          id: randomBytes(8).toString('hex'),
          type: 'attack',
          timestampMs: Date.now(),
          source: 'evil',
          metadata,
          payload: Buffer.from('{}'),
          confidence: 0,
          tags: [],
          priority: 0,
        });
      const send = (topic: string, metadata: Record<string, string> = {}) =>
        raw.publish(n.realtime(topic), wire(topic, { 'loom.sender': 'mallory', ...metadata }));
      const received = async () => Number((await call(c.runtime, 'GetStats', {})).cluster!.eventsReceived);
      const before = await received();
      // Requests naming reply topics: an unshared one, a pattern, another agent's inbox, and the
      // sender's own inbox (the one a reply may go back on).
      send('news.a', { 'loom.reply_to': 'private.notes' });
      send('news.b', { 'loom.reply_to': '>' });
      send('news.c', { 'loom.reply_to': 'agent.alice.replies' });
      send('news.d', { 'loom.reply_to': 'agent.mallory.replies' });
      send('news.e', { 'loom.reply_to': 'agent.alice.replies', 'loom.sender': 'alice' });
      // The runtime's own topics.
      for (const topic of ['runtime.config', 'cluster.health', 'agent.a1.crashed', 'agent.a1.log', 'mcp.github.state'])
        send(topic);
      await raw.flush();
      await until('the five news events to arrive', async () => (await received()) - before >= 5);
      for (const [topic, text] of [
        ['private.notes', 'secret note'],
        ['agent.alice.replies', 'for alice'],
        ['agent.mallory.replies', 'for mallory'],
      ])
        await call(c.runtime, 'Publish', { topic, event: event('test.reply', { text }) });
      await until("the reply to the sender's own inbox to go back", () => routed.includes('agent.mallory.replies'));
      await new Promise((r) => setTimeout(r, 500));
      assert.deepEqual(routed, ['agent.mallory.replies']);
      assert.equal((await received()) - before, 5, 'only the five news events were published here');

      // Replies to D's own requests: accepted on the reply inbox D asked on (the sender's own: the
      // bridge refuses any other), never on a topic a request named that is not one (here the
      // runtime's own runtime.config).
      const out: string[] = [];
      const outSub = raw.subscribe(n.realtime('news.>'), {
        callback: (_e, m) => void out.push(decodeEvent(m.data).topic),
      });
      // The server has the subscription before D publishes on its own connection (a loaded machine
      // let D's requests pass first, and the wait below timed out).
      await raw.flush();
      for (const [topic, reply] of [
        ['news.ask1', 'runtime.config'],
        ['news.ask2', 'agent.runtime-client.replies'],
      ])
        await call(c.runtime, 'Publish', { topic, event: event('test.ask', {}, { 'loom.reply_to': reply }) });
      await until("D's two requests to go out", () => out.includes('news.ask1') && out.includes('news.ask2'));
      outSub.unsubscribe();
      const beforeReplies = await received();
      for (const topic of ['runtime.config', 'agent.runtime-client.replies'])
        raw.publish(n.replies('D'), wire(topic, {}));
      await raw.flush();
      await until('the reply on the inbox to arrive', async () => (await received()) > beforeReplies);
      await new Promise((r) => setTimeout(r, 500));
      assert.equal((await received()) - beforeReplies, 1, 'only the reply on the reply inbox was published here');

      // Presence: one entry that is not one, then one offering tools in Loom's namespaces beside its own.
      // D's bucket is made once JetStream answers, which may be a moment after D joined.
      const kv = await until('D to write its presence', async () => {
        try {
          const bucket = await new Kvm(raw).open(n.presenceBucket);
          return (await bucket.get('D')) ? bucket : false;
        } catch {
          return false;
        }
      });
      await kv.put('poison', JSON.stringify({ node: 'poison', tools: null, agents: 5 }));
      await kv.put(
        'evil',
        JSON.stringify({
          node: 'evil',
          atMs: Date.now(),
          agents: [],
          tools: ['editor:openFile', 'fs__write', 'ui.confirm', 'evil:ok'].map((name) => ({
            name,
            description: '',
            parametersSchema: { type: 'object' },
          })),
        }),
      );
      const listed = await until('evil:ok to be listed on D', async () => {
        const tools = (await call(c.tools, 'ListTools', {})).tools.map((t) => t.name);
        return tools.includes('evil:ok') && tools;
      });
      assert.deepEqual(
        listed.filter((t) => ['editor:openFile', 'fs__write', 'ui.confirm'].includes(t)),
        [],
      );
      const stats = await call(c.runtime, 'GetStats', {});
      assert.deepEqual([...stats.cluster!.nodes].sort(), ['D', 'evil']);
      assert.ok((await call(c.runtime, 'ListAgents', {})).agents !== undefined);
      // D's own heartbeat goes on: its entry is rewritten after the poison.
      const written = (await kv.get('D'))!.revision;
      await until('D to write its presence again', async () => (await kv.get('D'))!.revision > written);
      sub.unsubscribe();
    } finally {
      await raw.close();
      c.runtime.close();
      await rt.stop();
    }
  });
});

describeIf('cluster: while NATS is unreachable', function () {
  this.timeout(120_000);
  let nats: NatsCluster;
  after(async () => {
    await stopAllRuntimes();
    await nats?.stop();
    removeWorkspaces();
  });

  it('the runtimes keep working, buffer batched events within the budget, deliver them when NATS is back, and count what they dropped', async () => {
    nats = await NatsCluster.start({ nodes: 1 });
    const url = nats.urls[0]!;
    const cluster = (node: string, extra = '') =>
      `[cluster]\nservers = ["${url}"]\nnode = "${node}"\nshare = ["bulk.>"]\n${extra}\n`;
    const agent = (id: string, node: string, topics: string) =>
      `[agents.${id}]\ncommand = "python"\nargs = [${JSON.stringify(FIXTURE)}]\nenv = { RECORD = "${id}.jsonl", NODE = "${node}", TOPICS = "${topics}" }\n`;
    const wsA = makeWorkspace(cluster('A') + agent('a1', 'A', ''));
    const wsC = makeWorkspace(cluster('C') + agent('c1', 'C', 'bulk.>,cluster.health'));
    const wsE = makeWorkspace(cluster('E', 'buffer_bytes = 0'));
    const [A, C, E] = await Promise.all(
      [wsA, wsC, wsE].map((ws) => startRuntime(ws, [], { env: { LOOM_PYTHON: PYTHON } })),
    );
    const clients = [A!, C!, E!].map((rt) => connect(rt.discovery().address, { token: rt.discovery().token }));
    const [cA, cC, cE] = clients as [Clients, Clients, Clients];
    const state = async (c: Clients) => (await call(c.runtime, 'GetStats', {})).cluster!;
    try {
      for (const c of clients)
        await until('the runtimes to connect', async () => (await state(c)).state === 'connected');
      await until('the agents to connect', async () => {
        const all = [
          ...(await call(cA.runtime, 'ListAgents', {})).agents,
          ...(await call(cC.runtime, 'ListAgents', {})).agents,
        ];
        return all.filter((a) => a.state === 'connected').length === 2;
      });

      await nats.kill(nats.nodes[0]!);
      for (const c of clients)
        await until('the runtimes to notice', async () => (await state(c)).state !== 'connected');
      await call(cA.runtime, 'Publish', {
        topic: 'cmd.a1',
        event: event('test.cmd', { do: 'emit', topic: 'bulk.down', count: 200 }),
      });
      await until('a1 to emit while NATS is down', () => records(wsA, 'a1').some((r) => r.kind === 'emitted'));
      // The cluster's link takes the events from the bus after the agent has published them.
      let held = await state(cA);
      await until('A to buffer', async () => Number((held = await state(cA)).bufferedEvents) > 0, 10_000).catch(
        () => undefined,
      );
      assert.ok(Number(held.bufferedEvents) > 0, `A buffers its batched events: ${JSON.stringify(held)}`);
      for (let i = 0; i < 5; i++)
        await call(cE.runtime, 'Publish', { topic: 'bulk.nowhere', event: event('test', { i }) });
      let dropped = await state(cE);
      await until(
        'E to count its drops',
        async () => Number((dropped = await state(cE)).dropped.buffer_full) >= 4,
        10_000,
      ).catch(() => undefined);
      assert.ok(
        Number(dropped.dropped.buffer_full) >= 4,
        `E, with no buffer, counts its drops: ${JSON.stringify(dropped)}`,
      );
      await E!.waitForLog('the drop warning', (l) => /dropped/.test(l.msg));

      await nats.launch(nats.nodes[0]!);
      const got = () => records(wsC, 'c1').filter((r) => r.kind === 'event' && r.topic === 'bulk.down');
      await until('C to receive the 200 events', () => got().length >= 200, 60_000);
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(got().length, 200);
      assert.equal(new Set(got().map((e) => e.id)).size, 200);
      const health = records(wsC, 'c1')
        .filter((r) => r.topic === 'cluster.health')
        .map((r) => (r.payload as { state: string }).state);
      assert.ok(health.includes('reconnecting') && health.includes('connected'), `health events: ${health.join(', ')}`);
    } finally {
      for (const c of clients) c.runtime.close();
    }
  });
});
