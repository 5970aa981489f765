import { strict as assert } from 'node:assert';
import { request } from 'node:http';
import { join } from 'node:path';
import { EventBus } from '../../../runtime/bus';
import { DefaultToolRegistry } from '../../../runtime/tools/registry';
import { silentLogger } from '../../../runtime/log';
import { Feed } from '../../../runtime/feed/feed';
import { startDashboardServer, type DashboardServer } from '../../../runtime/dashboard/server';
import { dashboardActions } from '../../../runtime/dashboard/actions';
import type { FeedUpdateWire } from '../../../runtime/contract/dashboard';

const TOKEN = 'a'.repeat(64);

/** A raw HTTP request, so the test controls the Host header as an attacker's page could not. */
function http(
  port: number,
  path: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: opts.method ?? 'GET',
        headers: { host: `127.0.0.1:${port}`, ...opts.headers },
      },
      (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

describe('headless dashboard server', () => {
  let server: DashboardServer;
  let bus: EventBus;
  let feed: Feed;
  const controlled: string[] = [];

  before(async () => {
    bus = new EventBus();
    const tools = new DefaultToolRegistry({ defaultTimeoutMs: 1000, log: silentLogger });
    tools.register(
      {
        name: 'test:add',
        description: 'adds',
        parametersSchema: {
          type: 'object',
          properties: { a: { type: 'number' }, b: { type: 'number' } },
          required: ['a', 'b'],
        },
        provider: 'native',
      },
      async (args) => ({ sum: (args.a as number) + (args.b as number) }),
    );
    feed = new Feed({ bus, tools, agents: () => [] });
    const actions = dashboardActions({
      bus,
      tools,
      controlAgent: async (id, action) => {
        if (id !== 'known') throw new Error(`no supervised agent "${id}"`);
        controlled.push(`${action} ${id}`);
        return { agentId: id };
      },
    });
    server = await startDashboardServer({
      feed,
      actions,
      token: TOKEN,
      assetsDir: join(__dirname, '..', '..', '..', 'dist'),
      log: silentLogger,
    });
  });
  after(async () => {
    await server.close();
    feed.close();
  });

  it('listens on loopback and prints a URL carrying the token', () => {
    assert.match(server.url, new RegExp(`^http://127\\.0\\.0\\.1:${server.port}/\\?token=${TOKEN}$`));
  });

  it('refuses every path without the token, and with a wrong one', async () => {
    for (const path of ['/', '/webview.js', '/webview.css', '/api/feed']) {
      assert.equal((await http(server.port, path)).status, 401, path);
      assert.equal((await http(server.port, `${path}?token=${'b'.repeat(64)}`)).status, 401, path);
    }
    const r = await http(server.port, '/api/action', { method: 'POST', body: '{"type":"listTools"}' });
    assert.equal(r.status, 401);
    assert.match(r.body, /token/);
  });

  it('takes the token in the query string for the page and its assets only, never for the API', async () => {
    for (const path of ['/', '/webview.css'])
      assert.equal((await http(server.port, `${path}?token=${TOKEN}`)).status, 200, path);
    assert.equal((await http(server.port, `/api/feed?token=${TOKEN}&backlog=1`)).status, 401);
    const posted = await http(server.port, `/api/action?token=${TOKEN}`, {
      method: 'POST',
      headers: { origin: 'https://evil.example' },
      body: '{"type":"agent","agentId":"known","action":"stop"}',
    });
    assert.equal(posted.status, 401);
    assert.deepEqual(controlled, []);
  });

  it('refuses a request whose Host is not the loopback address (DNS rebinding)', async () => {
    const r = await http(server.port, `/?token=${TOKEN}`, { headers: { host: `evil.example:${server.port}` } });
    assert.equal(r.status, 403);
  });

  it("serves the page with a strict CSP whose nonce is the script tag's", async () => {
    const r = await http(server.port, `/?token=${TOKEN}`);
    assert.equal(r.status, 200);
    const csp = String(r.headers['content-security-policy']);
    const nonce = /script-src 'nonce-([^']+)'/.exec(csp)?.[1];
    assert.ok(nonce, csp);
    assert.match(csp, /default-src 'none'/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    assert.ok(r.body.includes(`<script nonce="${nonce}" src="webview.js?token=${TOKEN}">`));
    const again = await http(server.port, `/?token=${TOKEN}`);
    assert.notEqual(
      /nonce-([^']+)/.exec(String(again.headers['content-security-policy']))?.[1],
      nonce,
      'a fresh nonce per page',
    );
    const js = await http(server.port, `/webview.js?token=${TOKEN}`);
    assert.equal(js.status, 200);
    assert.match(String(js.headers['content-type']), /javascript/);
  });

  it('streams feed updates as NDJSON and shows an event published through an action', async () => {
    const lines: FeedUpdateWire[] = [];
    const seen = new Promise<FeedUpdateWire>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: server.port,
          path: '/api/feed?interval_ms=50',
          headers: { authorization: `Bearer ${TOKEN}` },
        },
        (res) => {
          assert.equal(res.headers['content-type'], 'application/x-ndjson');
          let buf = '';
          res.on('data', (c) => {
            buf += c;
            for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
              const u = JSON.parse(buf.slice(0, nl)) as FeedUpdateWire;
              buf = buf.slice(nl + 1);
              lines.push(u);
              if (u.events.some((e) => e.topic === 'dash.test')) {
                req.destroy();
                resolve(u);
              }
            }
          });
        },
      );
      req.on('error', (e) => {
        if (!/socket hang up|aborted/.test(e.message)) reject(e);
      });
      req.end();
    });
    await new Promise((r) => setTimeout(r, 100));
    const pub = await http(server.port, '/api/action', {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify({ type: 'publish', topic: 'dash.test', eventType: 'hello', payload: '{"x":1}' }),
    });
    assert.equal(JSON.parse(pub.body).ok, true);
    const u = await seen;
    const e = u.events.find((x) => x.topic === 'dash.test')!;
    assert.equal(e.event.type, 'hello');
    assert.equal(Buffer.from(e.event.payload, 'base64').toString(), '{"x":1}');
    assert.equal(e.event.metadata['loom.sender'], 'dashboard');
  });

  it('carries out tool calls and agent control, and answers bad actions with a message', async () => {
    const act = async (body: string) =>
      JSON.parse(
        (
          await http(server.port, '/api/action', {
            method: 'POST',
            headers: { authorization: `Bearer ${TOKEN}` },
            body,
          })
        ).body,
      );
    assert.deepEqual(await act(JSON.stringify({ type: 'callTool', name: 'test:add', arguments: '{"a":2,"b":3}' })), {
      ok: true,
      value: { sum: 5 },
    });
    const bad = await act(JSON.stringify({ type: 'callTool', name: 'test:add', arguments: '{"a":2}' }));
    assert.equal(bad.ok, false);
    assert.match(bad.error, /invalid_arguments/);
    assert.match((await act('{not json')).error, /not valid JSON/);
    assert.match((await act('{"type":"explode"}')).error, /unknown action/);
    assert.match(
      (await act(JSON.stringify({ type: 'publish', topic: 'bad..topic', eventType: 't', payload: '' }))).error,
      /empty segment/,
    );
    assert.match(
      (await act(JSON.stringify({ type: 'publish', topic: 'agent.known.failed', eventType: 't', payload: '' }))).error,
      /"agent\.known\.failed" is the runtime's own topic/,
    );
    assert.equal((await act(JSON.stringify({ type: 'agent', agentId: 'known', action: 'restart' }))).ok, true);
    assert.deepEqual(controlled, ['restart known']);
    // The action names a method of the supervisor: no other method runs.
    for (const action of ['stopAll', 'toString', 'constructor'])
      assert.match(
        (await act(JSON.stringify({ type: 'agent', agentId: 'known', action }))).error,
        new RegExp(`unknown agent action "${action}": expected start, stop, restart`),
      );
    assert.deepEqual(controlled, ['restart known']);
    assert.match(
      (await act(JSON.stringify({ type: 'agent', agentId: 'ghost', action: 'stop' }))).error,
      /no supervised agent "ghost"/,
    );
    const tools = await act('{"type":"listTools"}');
    assert.deepEqual(
      tools.value.map((t: { name: string }) => t.name),
      ['test:add'],
    );
  });
});
