// A rogue client of the cluster's NATS against one real runtime (red-team findings): events whose
// ids are huge, thousands of concurrent calls to an offered tool, answers too large for NATS,
// malformed calls, a caller claiming to be the window, presence entries offering thousands of
// tools or naming dozens of runtimes. The rogue is a raw NATS client (no Loom code sends for it),
// as the red-team's scripts were. runtime/cluster/limits.ts holds the limits these tests meet.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { connect as natsConnect, type NatsConnection } from '@nats-io/transport-node';
import { Kvm, type KV } from '@nats-io/kv';
import { names, type Names } from '../../../runtime/cluster/subjects';
import { encodeEvent } from '../../../runtime/cluster/wire';
import {
  makeWorkspace,
  removeWorkspaces,
  startRuntime,
  stopAllRuntimes,
  REPO,
  type RuntimeProcess,
} from '../helpers/runtime';
import { call, connect, type Clients } from '../../support/grpc';
import { eventuallyTruthy } from '../../support/eventually';
import { NatsCluster, natsServerAvailable } from '../../support/nats';

const MCP_FIXTURE = join(REPO, 'test', 'fixtures', 'mcp', 'fixture-server.ts');

const until = eventuallyTruthy;

interface Outcome {
  status: string;
  output?: unknown;
  error?: { code: string; message: string; details?: Record<string, string> };
}

const describeIf = natsServerAvailable() || process.env.CI ? describe : describe.skip;

describeIf('cluster: a rogue client of NATS against a runtime', function () {
  this.timeout(120_000);
  let nats: NatsCluster;
  let rt: RuntimeProcess;
  let c: Clients;
  let raw: NatsConnection;
  let n: Names;
  let ws: string;

  before(async () => {
    nats = await NatsCluster.start({ nodes: 1 });
    const ns = `it${randomBytes(3).toString('hex')}`;
    n = names(ns);
    ws = makeWorkspace(
      [
        '[cluster]',
        `servers = ${JSON.stringify(nats.urls)}`,
        'node = "D"',
        `namespace = "${ns}"`,
        'share_realtime = ["news.>"]',
        'offer_tools = ["fs:read", "fixb:*", "agents:logs"]',
        'heartbeat_ms = 1000',
        'presence_ttl_ms = 30000',
        '[mcp.fixb]',
        `command = ${JSON.stringify(process.execPath)}`,
        `args = ["--import", "tsx", ${JSON.stringify(MCP_FIXTURE)}, "stdio"]`,
        `cwd = ${JSON.stringify(REPO)}`,
        // An agent of D's own (not running): agents:logs checks the caller before the agent.
        '[agents.secret]',
        'command = "python"',
        'autostart = false',
        '',
      ].join('\n'),
    );
    rt = await startRuntime(ws, []);
    c = connect(rt.discovery().address, { token: rt.discovery().token });
    raw = await natsConnect({ servers: nats.urls });
    await until('D to join NATS', async () => (await call(c.runtime, 'GetStats', {})).cluster?.state === 'connected');
    // D serves an offered tool once the MCP server listed it.
    await until('D to offer fixb:slow', async () => {
      const r = await raw
        .request(n.tool('fixb:slow'), Buffer.from(JSON.stringify(body({ ms: 0 }))), { timeout: 2000 })
        .catch(() => undefined);
      return r !== undefined && (JSON.parse(Buffer.from(r.data).toString('utf8')) as Outcome).status === 'ok';
    });
  });

  after(async () => {
    await raw?.close();
    c?.runtime.close();
    await stopAllRuntimes();
    await nats?.stop();
    removeWorkspaces();
  });

  const body = (args: unknown, caller = 'mallory') => ({ arguments: args, caller, node: 'rogue', timeoutMs: 30_000 });
  const ask = async (tool: string, data: unknown, timeout = 20_000): Promise<Outcome> => {
    const text = typeof data === 'string' ? data : JSON.stringify(data);
    const reply = await raw.request(n.tool(tool), Buffer.from(text), { timeout });
    return JSON.parse(Buffer.from(reply.data).toString('utf8')) as Outcome;
  };
  const stats = async () => (await call(c.runtime, 'GetStats', {})).cluster!;

  it('an event whose id, node, type or metadata key is longer than the wire allows is dropped as `decode`, not remembered', async () => {
    const wire = (fields: { id?: string; node?: string; type?: string; md?: Record<string, string> }) =>
      encodeEvent(fields.node ?? 'rogue', 'news.x', {
        id: fields.id ?? randomBytes(8).toString('hex'),
        type: fields.type ?? 't',
        timestampMs: Date.now(),
        source: 's',
        metadata: fields.md ?? {},
        payload: Buffer.from('{}'),
        confidence: 0,
        tags: [],
        priority: 0,
      });
    const before = await stats();
    const decodeBefore = Number(before.dropped.decode ?? 0);
    const refused = [
      wire({ id: 'i'.repeat(129) }),
      wire({ id: 'x'.repeat(900_000) }),
      wire({ node: 'n'.repeat(129) }),
      wire({ type: 't'.repeat(257) }),
      wire({ md: { ['k'.repeat(257)]: 'v' } }),
      wire({ md: { 'loom.sender': 's'.repeat(257) } }),
    ];
    for (const data of refused) raw.publish(n.realtime('news.x'), data);
    // One at the limit, after them: once it has arrived, so have they (one connection, in order).
    raw.publish(n.realtime('news.x'), wire({ id: 'i'.repeat(128) }));
    await raw.flush();
    await until(
      'the event at the limit to arrive',
      async () => Number((await stats()).eventsReceived) > Number(before.eventsReceived),
    );
    const after = await stats();
    assert.equal(Number(after.eventsReceived) - Number(before.eventsReceived), 1, JSON.stringify(after));
    assert.equal(Number(after.dropped.decode ?? 0) - decodeBefore, refused.length, JSON.stringify(after.dropped));
    await rt.waitForLog(
      'the refusal, naming the limit',
      (l) => /not a Loom event/.test(l.msg) && /128 bytes/.test(String(l.error)),
    );
  });

  it('calls from other runtimes past 32 at once are answered "unavailable" at once, naming the limit; the others run', async () => {
    const calls = Array.from({ length: 40 }, () => ask('fixb:slow', body({ ms: 4000 }), 60_000));
    const outcomes = await Promise.all(calls);
    const busy = outcomes.filter((o) => o.status === 'error');
    assert.equal(busy.length, 8, JSON.stringify(busy.slice(0, 2)));
    for (const o of busy) {
      assert.equal(o.error!.code, 'unavailable');
      assert.match(o.error!.message, /D is busy: 32 calls from other runtimes are running/);
      assert.equal(o.error!.details?.reason, 'busy');
    }
    assert.equal(outcomes.filter((o) => o.status === 'ok').length, 32);
    await rt.waitForLog('the busy warning', (l) => /too many are running here/.test(l.msg) && l.limit === 32);
    // Room again once they are done.
    assert.equal((await ask('fixb:slow', body({ ms: 0 }))).status, 'ok');
  });

  it('an answer larger than NATS carries is an error answer naming max_payload, not a call left unanswered', async () => {
    writeFileSync(join(ws, 'big.txt'), 'b'.repeat(1_500_000));
    const o = await ask('fs:read', body({ path: 'big.txt' }));
    assert.equal(o.status, 'error', JSON.stringify(o).slice(0, 300));
    assert.equal(o.error!.code, 'failed');
    assert.match(
      o.error!.message,
      /the answer of fs:read is \d+ bytes, more than NATS carries \(max_payload 1048576 bytes\)/,
    );
    assert.equal((await ask('fs:read', body({ path: 'loom.toml' }))).status, 'ok');
  });

  it('a call whose body is not a call (null, not an object, fields of the wrong type) is answered, naming the problem', async () => {
    const cases: [unknown, RegExp][] = [
      ['null', /the body is null, not an object/],
      ['[]', /the body is an array, not an object/],
      ['"text"', /the body is a string, not an object/],
      ['{}', /"arguments" must be an object or a JSON string/],
      [{ arguments: 5, caller: 'x', node: 'y' }, /"arguments" must be/],
      [{ arguments: {}, caller: 7, node: 'y' }, /"caller" must be a string of 1 to 128 bytes/],
      [{ arguments: {}, caller: 'x', node: 'n'.repeat(129) }, /"node" must be a string of 1 to 128 bytes/],
      [{ arguments: {}, caller: 'x', node: 'y', timeoutMs: 'soon' }, /"timeoutMs" must be a number/],
    ];
    for (const [data, message] of cases) {
      const o = await ask('fs:read', data, 5000);
      assert.equal(o.status, 'error', JSON.stringify(data));
      assert.equal(o.error!.code, 'invalid_arguments');
      assert.match(o.error!.message, /the call to fs:read is malformed/);
      assert.match(o.error!.message, message);
    }
    assert.ok(!rt.logs.some((l) => /unhandled/i.test(l.msg)), 'an unhandled rejection was logged');
  });

  it('agents:logs: a caller over the cluster is refused whoever it claims to be (the window, the runtime, an MCP client)', async () => {
    for (const caller of ['mallory', 'vscode', 'runtime', 'dashboard', 'mcp-client', 'mcp-client.cli']) {
      const o = await ask('agents:logs', body({ agent_id: 'secret' }, caller));
      assert.equal(o.status, 'error', `${caller}: ${JSON.stringify(o)}`);
      assert.equal(o.error!.code, 'denied', `${caller}: ${JSON.stringify(o)}`);
      assert.match(o.error!.message, /a call from another runtime\) may not read the output of agent "secret"/);
      assert.match(o.error!.message, /unverified claim/);
    }
  });

  describe('presence', () => {
    let kv: KV;
    before(async () => {
      kv = await until('D to write its presence', async () => {
        try {
          const bucket = await new Kvm(raw).open(n.presenceBucket);
          return (await bucket.get('D')) ? bucket : false;
        } catch {
          return false;
        }
      });
    });
    const entry = (node: string, tools: string[]) =>
      JSON.stringify({
        node,
        atMs: Date.now(),
        agents: [],
        tools: tools.map((name) => ({ name, description: '', parametersSchema: { type: 'object' } })),
      });
    const listed = async (prefix: string) =>
      (await call(c.tools, 'ListTools', { prefix, pageSize: 10_000 })).tools.length;

    it('one runtime lists at most 1000 tools here; the rest are refused and logged', async () => {
      await kv.put(
        'many',
        entry(
          'many',
          Array.from({ length: 1500 }, (_, i) => `many:t${i}`),
        ),
      );
      await kv.put('marker', entry('marker', ['marker:done']));
      // The watch brings puts in order: once the later one is listed, the first is done.
      await until('the marker tool', async () => (await listed('marker:')) === 1);
      assert.equal(await listed('many:'), 1000);
      await rt.waitForLog(
        'the refusal, naming the limit',
        (l) => /more tools than this one lists \(1000\)/.test(l.msg) && l.node === 'many' && l.offered === 1500,
      );
      await kv.delete('many');
      await kv.delete('marker');
      await until("many's tools to leave", async () => (await listed('many:')) === 0);
    });

    it('at most 64 other runtimes are followed; one more is refused and logged', async () => {
      const before = (await stats()).nodes.length;
      for (let i = 0; i < 70; i++) await kv.put(`fake${i}`, entry(`fake${i}`, [`fake${i}:t`]));
      // The watch brings puts in order: once this later put of fake0 shows, every fake was handled.
      await kv.put('fake0', entry('fake0', ['fake0:t', 'fake0:last']));
      await until('the last put to be handled', async () => (await listed('fake0:last')) === 1);
      const nodes = (await stats()).nodes;
      assert.equal(nodes.length, 65, `D and 64 others, was ${before}: ${nodes.join(',')}`);
      assert.ok(nodes.includes('D'));
      assert.equal(await listed('fake'), 65, '64 runtimes, one of them with two tools');
      await rt.waitForLog(
        'the refusal, naming the limit',
        (l) => /more runtimes than this one follows \(64\)/.test(l.msg) && l.limit === 64 && l.node === 'fake64',
      );
      for (let i = 0; i < 70; i++) await kv.delete(`fake${i}`);
    });
  });
});
