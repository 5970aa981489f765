// The supervisor spawns [agents.<id>] with the bridge's address and token, restarts crashes
// with backoff, gives up after too many, stops with SIGTERM then SIGKILL, keeps a bounded log
// ring, and spawns nothing in an untrusted workspace. The agents are real node processes.
import { strict as assert } from 'node:assert';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { processAlive } from '../../runtime/contract/process';
import type { AgentInfo__Output } from '../../runtime/proto/types';
import { call, connect, StreamClient, type Clients } from '../support/grpc';
import { eventually } from '../support/eventually';
import {
  makeWorkspace,
  removeWorkspaces,
  startRuntime,
  stopAllRuntimes,
  type RuntimeProcess,
  REPO,
} from './helpers/runtime';

const FIXTURE = join(__dirname, 'fixtures', 'node-agent.mjs');

function agentToml(id: string, settings: Record<string, unknown>, env: Record<string, string> = {}): string {
  const lines = [
    `[agents.${id}]`,
    `command = ${JSON.stringify(process.execPath)}`,
    `args = [${JSON.stringify(FIXTURE)}]`,
  ];
  for (const [k, v] of Object.entries(settings)) lines.push(`${k} = ${JSON.stringify(v)}`);
  lines.push(
    `env = { ${Object.entries(env)
      .map(([k, v]) => `${k} = ${JSON.stringify(v)}`)
      .join(', ')} }`,
  );
  return lines.join('\n') + '\n';
}

const alive = processAlive;

describe('agent supervisor', function () {
  this.timeout(90_000);
  const clients: Clients[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await stopAllRuntimes();
  });
  after(() => removeWorkspaces());

  async function boot(
    toml: string,
  ): Promise<{ rt: RuntimeProcess; c: Clients; agent: (id: string) => Promise<AgentInfo__Output | undefined> }> {
    const rt = await startRuntime(makeWorkspace(toml));
    const c = connect(rt.discovery().address, { token: rt.discovery().token });
    clients.push(c);
    const agent = async (id: string) => (await call(c.runtime, 'ListAgents', {})).agents.find((a) => a.agentId === id);
    return { rt, c, agent };
  }

  /** Polls `check` (a gRPC query) until it yields a value. */
  function until<T>(rt: RuntimeProcess, what: string, check: () => Promise<T | undefined | false>): Promise<T> {
    return eventually(
      what,
      async () => {
        const v = await check();
        return v === false ? undefined : v;
      },
      { timeoutMs: 30_000, detail: () => rt.stderrText.slice(-20).join('\n') },
    );
  }

  it("keeps MCP inputs (LOOM_INPUT_*) from the runtime's environment out of agents; API keys pass", async () => {
    const ws = makeWorkspace(agentToml('worker', {}, { FIXTURE_MODE: 'write-env', FIXTURE_OUT: 'env.json' }));
    const rt = await startRuntime(ws, [], { env: { LOOM_INPUT_GITHUB_TOKEN: 's3cret', OPENAI_API_KEY: 'sk-test' } });
    const env = await rt.waitFor('the agent to write its environment', () => {
      try {
        return JSON.parse(readFileSync(join(ws, 'env.json'), 'utf8')) as Record<string, string>;
      } catch {
        return undefined;
      }
    });
    assert.equal(env.LOOM_AGENT_ID, 'worker');
    assert.equal(env.LOOM_INPUT_GITHUB_TOKEN, undefined);
    assert.equal(env.OPENAI_API_KEY, 'sk-test');
  });

  it("gives an isolated agent only the basics, API keys and its own env of the runtime's environment", async () => {
    const toml = agentToml(
      'boxed',
      { isolation: 'required', read_only_paths: [dirname(FIXTURE), join(REPO, 'node_modules')] },
      { FIXTURE_MODE: 'write-env', FIXTURE_OUT: 'env.json', OWN: 'mine' },
    );
    const ws = makeWorkspace(toml);
    const secrets = {
      LOOM_MCP_SERVERS: '{"gh":{"command":"/bin/false","env":{"GITHUB_TOKEN":"ghp_x"}}}',
      NATS_CLUSTER_TOKEN: 'nats-secret',
      DBUS_SESSION_BUS_ADDRESS: 'unix:abstract=/tmp/dbus-x',
      PARENT_SECRET: 'p',
    };
    const rt = await startRuntime(ws, [], { env: { ...secrets, OPENAI_API_KEY: 'sk-test', LANG: 'C.UTF-8' } });
    const env = await rt.waitFor('the agent to write its environment', () => {
      try {
        return JSON.parse(readFileSync(join(ws, 'env.json'), 'utf8')) as Record<string, string>;
      } catch {
        return undefined;
      }
    });
    assert.equal(env.LOOM_AGENT_ID, 'boxed');
    assert.ok(env.LOOM_TOKEN && env.LOOM_BRIDGE_ADDR, 'its own credential and address');
    assert.equal(env.OPENAI_API_KEY, 'sk-test');
    assert.equal(env.OWN, 'mine');
    assert.equal(env.LANG, 'C.UTF-8');
    for (const name of Object.keys(secrets)) assert.equal(env[name], undefined, name);
  });

  it('spawns a declared agent with LOOM_BRIDGE_ADDR, LOOM_TOKEN and LOOM_AGENT_ID; it connects', async () => {
    const ws = makeWorkspace();
    const out = join(ws, 'env.json');
    const { rt, c, agent } = await boot(agentToml('worker', {}, { FIXTURE_MODE: 'write-env', FIXTURE_OUT: out }));
    const info = await until(rt, 'worker connected', async () => {
      const a = await agent('worker');
      return a?.state === 'connected' && a;
    });
    assert.equal(info.supervised, true);
    assert.ok(info.pid > 0);
    const env = JSON.parse(readFileSync(out, 'utf8'));
    assert.equal(env.LOOM_BRIDGE_ADDR, rt.discovery().address);
    // Its own credential, bound to its id: not the workspace token of the discovery file.
    assert.match(env.LOOM_TOKEN, /^[0-9a-f]{64}$/);
    assert.notEqual(env.LOOM_TOKEN, rt.discovery().token);
    assert.equal(env.LOOM_AGENT_ID, 'worker');
    assert.equal(env.pid, info.pid);

    // Restart on request: a new process, the old one gone.
    const restarted = await call(c.runtime, 'ControlAgent', { agentId: 'worker', action: 'restart' });
    assert.equal(restarted.success, true, restarted.errorMessage);
    assert.equal(alive(info.pid), false);
    const second = await until(rt, 'worker connected again', async () => {
      const a = await agent('worker');
      return a?.state === 'connected' && a.pid !== info.pid && a;
    });

    // A clean runtime stop takes its agents down with it.
    await rt.stop();
    assert.equal(rt.exitCode, 0);
    assert.equal(alive(second.pid), false);
  });

  it('restarts an agent killed with SIGKILL, with backoff, and it reconnects', async () => {
    const { rt, c, agent } = await boot(agentToml('phoenix', { backoff_initial_ms: 200 }));
    const first = await until(rt, 'phoenix connected', async () => {
      const a = await agent('phoenix');
      return a?.state === 'connected' && a;
    });
    const watcher = new StreamClient(c);
    watcher.send({ ack: { messageId: 'phoenix-watcher' } });
    watcher.send({ subscribe: { requestId: 's', pattern: 'agent.phoenix.*' } });
    await watcher.next((m) => m.msg === 'subscribed');

    process.kill(first.pid, 'SIGKILL');
    const crashed = await watcher.delivery('agent.phoenix.crashed');
    assert.match(JSON.parse(crashed.payload).reason, /killed by SIGKILL/);
    const restarting = await watcher.delivery('agent.phoenix.restarting');
    assert.equal(JSON.parse(restarting.payload).delayMs, 200);
    await watcher.delivery('agent.phoenix.connected');
    const second = await until(rt, 'phoenix back', async () => {
      const a = await agent('phoenix');
      return a?.state === 'connected' && a.pid !== first.pid && a;
    });
    assert.equal(second.restarts, 1);
    assert.match(second.lastError, /killed by SIGKILL/);
    assert.equal(alive(first.pid), false);
    watcher.cancel();
  });

  it('ends the agents a runtime killed with SIGKILL left behind when the next runtime starts', async () => {
    const ws = makeWorkspace(agentToml('orphan', {}, { FIXTURE_STAY: '1' }));
    const rt = await startRuntime(ws);
    const c = connect(rt.discovery().address, { token: rt.discovery().token });
    clients.push(c);
    const agentOf = async (cl: Clients) =>
      (await call(cl.runtime, 'ListAgents', {})).agents.find((a) => a.agentId === 'orphan');
    const first = await until(rt, 'orphan connected', async () => {
      const a = await agentOf(c);
      return a?.state === 'connected' && a;
    });
    rt.proc.kill('SIGKILL');
    await rt.exited;
    try {
      assert.equal(alive(first.pid), true, 'the agent outlives a runtime killed with SIGKILL');
      const rt2 = await startRuntime(ws);
      const c2 = connect(rt2.discovery().address, { token: rt2.discovery().token });
      clients.push(c2);
      assert.ok(
        rt2.logs.some(
          (l) =>
            l.msg === 'ended agents left running by a runtime that died' && (l.pids as number[]).includes(first.pid),
        ),
      );
      await until(rt2, 'the orphan gone', async () => !alive(first.pid));
      const fresh = await until(rt2, 'a fresh orphan agent connected', async () => {
        const a = await agentOf(c2);
        return a?.state === 'connected' && a;
      });
      assert.notEqual(fresh.pid, first.pid);
    } finally {
      if (alive(first.pid)) process.kill(first.pid, 'SIGKILL');
    }
  });

  it('gives up after too many crashes within the window, with the reason', async () => {
    const { rt, agent } = await boot(
      agentToml(
        'crasher',
        { max_restarts: 2, restart_window_ms: 60_000, backoff_initial_ms: 20 },
        { FIXTURE_MODE: 'crash' },
      ),
    );
    const failed = await until(rt, 'crasher failed', async () => {
      const a = await agent('crasher');
      return a?.state === 'failed' && a;
    });
    assert.equal(failed.restarts, 2);
    assert.equal(failed.pid, 0);
    assert.match(failed.lastError, /crashed 3 times within 60000 ms \(limit 2\); restarts stopped/);
    assert.match(failed.lastError, /exited with code 3/);
    assert.ok(rt.logs.some((l) => l.msg === 'agent failed' && l.agent === 'crasher'));
  });

  it('doubles the restart delay up to backoff_max_ms on each crash, and stops after max_restarts with the reason', async () => {
    const { rt, c, agent } = await boot(
      agentToml(
        'bouncer',
        { autostart: false, max_restarts: 4, restart_window_ms: 600_000, backoff_initial_ms: 100, backoff_max_ms: 250 },
        { FIXTURE_MODE: 'crash' },
      ),
    );
    const watcher = new StreamClient(c);
    watcher.send({ ack: { messageId: 'bouncer-watcher' } });
    // batched: a lifecycle event is never dropped on the way to this test.
    watcher.send({ subscribe: { requestId: 's', pattern: 'agent.bouncer.*', qos: 'QOS_BATCHED' } });
    await watcher.next((m) => m.msg === 'subscribed');
    const started = await call(c.runtime, 'ControlAgent', { agentId: 'bouncer', action: 'start' });
    assert.equal(started.success, true, started.errorMessage);

    const failed = JSON.parse((await watcher.delivery('agent.bouncer.failed')).payload);
    assert.match(
      failed.reason,
      /crashed 5 times within 600000 ms \(limit 4\); restarts stopped\. Last: exited with code 3/,
    );
    const lifecycle = watcher.history.flatMap((m) => (m.delivery ? [m.delivery] : (m.deliveryBatch?.deliveries ?? [])));
    const restarting = lifecycle
      .filter((d) => d.topic === 'agent.bouncer.restarting')
      .map((d) => JSON.parse(d.event!.payload.toString('utf8')));
    assert.deepEqual(
      restarting.map((r) => r.delayMs),
      [100, 200, 250, 250],
    );
    assert.deepEqual(
      restarting.map((r) => r.attempt),
      [1, 2, 3, 4],
    );
    assert.equal(lifecycle.filter((d) => d.topic === 'agent.bouncer.crashed').length, 5);

    const info = await agent('bouncer');
    assert.equal(info?.state, 'failed');
    assert.equal(info?.restarts, 4);
    assert.equal(info?.pid, 0);
    assert.equal(info?.lastError, failed.reason);
    assert.equal(
      lifecycle.filter((d) => d.topic === 'agent.bouncer.started').length,
      5,
      'the first start and four restarts',
    );
    assert.equal(rt.exitCode, null);
    watcher.cancel();
  });

  it('forgets an unsupervised agent disconnected for ten heartbeat timeouts, but keeps a supervised one', async () => {
    const { rt, c, agent } = await boot('[bridge]\nheartbeat_timeout_ms = 500\n' + agentToml('keeper', {}));
    await until(rt, 'keeper connected', async () => (await agent('keeper'))?.state === 'connected');
    const stopped = await call(c.runtime, 'ControlAgent', { agentId: 'keeper', action: 'stop' });
    assert.equal(stopped.success, true, stopped.errorMessage);

    // Registered after keeper's link ended and never connected: it goes silent later than keeper,
    // so once it is forgotten keeper has been disconnected longer than the retention too.
    const reg = await call(c.bridge, 'RegisterAgent', { agentId: 'drifter', subscribedTopics: ['drift.topic'] });
    assert.equal(reg.success, true, reg.errorMessage);
    assert.ok(await agent('drifter'), 'listed while it is fresh');
    await until(rt, 'drifter disconnected', async () => (await agent('drifter'))?.state === 'disconnected');
    await until(rt, 'drifter forgotten', async () => !(await agent('drifter')));
    assert.ok(
      rt.logs.some((l) => l.msg === 'disconnected agent forgotten' && l.agent === 'drifter' && l.afterMs === 5000),
    );

    const keeper = await agent('keeper');
    assert.equal(keeper?.state, 'stopped');
    assert.deepEqual(keeper?.topics, ['fixture.keeper.>'], 'the directory still holds what keeper registered');
    assert.equal(
      rt.logs.some((l) => l.msg === 'disconnected agent forgotten' && l.agent === 'keeper'),
      false,
    );
  });

  it('remembers at most 256 disconnected unsupervised agents, the most recently gone, within the retention', async () => {
    // A 2 s timeout: retention is 20 s, so a list cut to 256 within it is the cap's doing.
    const { rt, c } = await boot('[bridge]\nheartbeat_timeout_ms = 2000\n');
    const count = 300;
    for (let i = 0; i < count; i++) {
      const reg = await call(c.bridge, 'RegisterAgent', { agentId: `passer-${i}`, subscribedTopics: [] });
      assert.equal(reg.success, true, reg.errorMessage);
    }
    const passers = async () =>
      (await call(c.runtime, 'ListAgents', {})).agents.filter((a) => a.agentId.startsWith('passer-'));
    const left = await until(rt, 'the disconnected passers cut to 256', async () => {
      const list = await passers();
      return list.length === 256 && list.every((a) => a.state === 'disconnected') && list;
    });
    // Registered one after another, so they went silent in that order: the first ones went first.
    assert.ok(!left.some((a) => a.agentId === 'passer-0'), 'the earliest gone is forgotten');
    assert.equal(
      rt.logs.filter((l) => l.msg === 'disconnected agent forgotten' && l.beyond === 256).length,
      count - 256,
    );
  });

  it('stops with SIGTERM first, then SIGKILL after stop_grace_ms for an agent that ignores it', async () => {
    const { rt, c, agent } = await boot(
      agentToml('polite', {}) + agentToml('stubborn', { stop_grace_ms: 500 }, { FIXTURE_MODE: 'ignore-term' }),
    );
    const [polite, stubborn] = await until(rt, 'both connected', async () => {
      const p = await agent('polite');
      const s = await agent('stubborn');
      return p?.state === 'connected' && s?.state === 'connected' && ([p, s] as const);
    });

    const stopPolite = await call(c.runtime, 'ControlAgent', { agentId: 'polite', action: 'stop' });
    assert.equal(stopPolite.success, true, stopPolite.errorMessage);
    assert.equal(stopPolite.agent?.state, 'stopped');
    assert.equal(alive(polite.pid), false);

    const stopStubborn = await call(c.runtime, 'ControlAgent', { agentId: 'stubborn', action: 'stop' });
    assert.equal(stopStubborn.success, true, stopStubborn.errorMessage);
    assert.equal(stopStubborn.agent?.state, 'stopped');
    assert.equal(alive(stubborn.pid), false);

    const logs = async (id: string) =>
      JSON.parse(
        (await call(c.tools, 'CallTool', { name: 'agents:logs', arguments: JSON.stringify({ agent_id: id }) })).output,
      );
    const politeLines = (await logs('polite')).lines.map((l: { line: string }) => l.line);
    const stubbornLines = (await logs('stubborn')).lines.map((l: { line: string }) => l.line);
    assert.ok(politeLines.includes('fixture got SIGTERM'), politeLines.join('\n'));
    assert.ok(stubbornLines.includes('fixture ignoring SIGTERM'), stubbornLines.join('\n'));
    assert.ok(rt.logs.some((l) => l.msg === 'agent ignored SIGTERM; sending SIGKILL' && l.agent === 'stubborn'));
    assert.equal(
      rt.logs.some((l) => l.msg === 'agent ignored SIGTERM; sending SIGKILL' && l.agent === 'polite'),
      false,
    );

    // A stopped agent is not restarted, and can be started again on request.
    const started = await call(c.runtime, 'ControlAgent', { agentId: 'polite', action: 'start' });
    assert.equal(started.success, true, started.errorMessage);
    await until(rt, 'polite connected again', async () => (await agent('polite'))?.state === 'connected');
    const unknown = await call(c.runtime, 'ControlAgent', { agentId: 'ghost', action: 'start' });
    assert.equal(unknown.success, false);
    assert.match(unknown.errorMessage, /no agent "ghost" is declared/);
  });

  it('keeps the newest log_lines lines in the ring and publishes each line as agent.<id>.log', async () => {
    const { rt, c } = await boot(agentToml('chatty', { autostart: false, log_lines: 3 }, { FIXTURE_LINES: '10' }));
    const watcher = new StreamClient(c);
    watcher.send({ ack: { messageId: 'log-watcher' } });
    watcher.send({ subscribe: { requestId: 's', pattern: 'agent.chatty.log' } });
    await watcher.next((m) => m.msg === 'subscribed');
    const started = await call(c.runtime, 'ControlAgent', { agentId: 'chatty', action: 'start' });
    assert.equal(started.success, true, started.errorMessage);

    const lines: string[] = [];
    while (!lines.includes('fixture chatty connected')) {
      const d = await watcher.delivery('agent.chatty.log');
      lines.push(JSON.parse(d.payload).line);
    }
    for (let i = 1; i <= 10; i++) assert.ok(lines.includes(`line ${i}`), `line ${i} published`);
    const stderrEvent = watcher.history.find(
      (m) => m.delivery && JSON.parse(m.delivery.event!.payload.toString()).stream === 'stderr',
    );
    assert.ok(stderrEvent, 'stderr lines are published too');

    const ring = JSON.parse(
      (await call(c.tools, 'CallTool', { name: 'agents:logs', arguments: '{"agent_id":"chatty"}' })).output,
    );
    assert.equal(ring.lines.length, 3);
    assert.deepEqual(
      ring.lines.map((l: { line: string }) => l.line),
      lines.slice(-3),
    );
    assert.equal(ring.discarded, lines.length - 3);
    watcher.cancel();
    assert.equal(rt.exitCode, null);
  });

  it('spawns nothing in an untrusted workspace and says why', async () => {
    const ws = makeWorkspace();
    const out = join(ws, 'spawned.json');
    const { rt, c, agent } = await boot(
      '[runtime]\ntrusted = false\n' + agentToml('untrusted', {}, { FIXTURE_MODE: 'write-env', FIXTURE_OUT: out }),
    );
    assert.ok(rt.logs.some((l) => l.msg === 'workspace not trusted: declared agents are not spawned'));
    const info = await agent('untrusted');
    assert.equal(info?.state, 'stopped');
    assert.equal(info?.pid, 0);
    assert.match(info!.lastError, /not trusted/);
    const start = await call(c.runtime, 'ControlAgent', { agentId: 'untrusted', action: 'start' });
    assert.equal(start.success, false);
    assert.match(start.errorMessage, /cannot start agent untrusted: the workspace is not trusted/);
    assert.equal(existsSync(out), false);
  });
});
