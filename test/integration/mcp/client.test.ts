// Loom as an MCP client, against the SDK-built fixture server as a real child process (stdio) and a
// real HTTP server on 127.0.0.1 (streamable HTTP, and the old SSE transport for the fallback).
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { payloadJson, type Delivery } from '../../../runtime/bus';
import { startMcp, type McpManager } from '../../../runtime/mcp/manager';
import type { McpServerState } from '../../../runtime/mcp/connection';
import { silentLogger } from '../../../runtime/log';
import {
  recordLines,
  runtimeParts,
  startHttpFixture,
  stdioFixture,
  tempDir,
  waitForRecord,
  waitForState,
} from './helpers';

type Parts = ReturnType<typeof runtimeParts>;

describe('MCP client: external servers as Loom tools', function () {
  this.timeout(60_000);
  let parts: Parts;
  let manager: McpManager | undefined;
  let dir: string;
  const cleanups: Array<() => Promise<void>> = [];

  beforeEach(() => {
    parts = runtimeParts();
    dir = tempDir('loom-mcp-client-');
  });

  afterEach(async () => {
    await manager?.close();
    manager = undefined;
    for (const c of cleanups.splice(0)) await c();
    await parts.bus.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function start(
    mcp: Record<string, unknown>,
    extra: Partial<Parameters<typeof startMcp>[0]> = {},
  ): Promise<McpManager> {
    manager = await startMcp({
      registry: parts.registry,
      bus: parts.bus,
      mcp,
      workspace: dir,
      log: silentLogger,
      ...extra,
    });
    await manager.settled();
    return manager;
  }

  describe('over stdio', () => {
    let record: string;
    beforeEach(() => {
      record = path.join(dir, 'record.jsonl');
    });
    const fixture = (extra: Record<string, unknown> = {}) =>
      stdioFixture({ env: { FIXTURE_RECORD: record }, ...extra });

    it('lists the tools and registers them as <server>:<tool> with their input schema, publishing ready on the bus', async () => {
      const seen: McpServerState[] = [];
      parts.bus.subscribe('mcp.*.state', (d: Delivery) => void seen.push(payloadJson<McpServerState>(d.event)), {
        subscriber: 'test',
      });
      const m = await start({ fixture: fixture() });
      const state = m.state('fixture')!;
      assert.equal(state.status, 'ready', state.lastError);
      const echo = parts.registry.get('fixture:echo');
      assert.ok(echo, 'fixture:echo registered');
      assert.equal(echo.provider, 'mcp');
      assert.equal(echo.owner, 'mcp:fixture');
      assert.equal(echo.description, 'Echoes text back');
      assert.deepEqual((echo.parametersSchema as { required: string[] }).required, ['text']);
      assert.ok(state.tools.includes('fixture:add') && state.tools.includes('fixture:slow'));
      assert.deepEqual(
        parts.registry.list('fixture:').map((t) => t.name),
        state.tools,
      );
      await waitFor(() => seen.some((s) => s.name === 'fixture' && s.status === 'ready'));
      assert.deepEqual(
        seen
          .filter((s) => s.name === 'fixture')
          .map((s) => s.status)
          .slice(0, 2),
        ['starting', 'ready'],
      );
    });

    it('calls a tool, keeps structured content, and maps isError to a failed outcome with its text', async () => {
      await start({ fixture: fixture() });
      const echo = await parts.registry.call({ name: 'fixture:echo', arguments: { text: 'hello loom' } });
      assert.equal(echo.status, 'ok');
      assert.deepEqual(echo.status === 'ok' && echo.output, { content: [{ type: 'text', text: 'hello loom' }] });

      const add = await parts.registry.call({ name: 'fixture:add', arguments: '{"a": 2, "b": 40}' });
      assert.equal(add.status, 'ok');
      assert.deepEqual(add.status === 'ok' && (add.output as { structuredContent: unknown }).structuredContent, {
        sum: 42,
      });

      const fail = await parts.registry.call({ name: 'fixture:fail', arguments: { reason: 'bad input' } });
      assert.equal(fail.status, 'error');
      assert.equal(fail.status === 'error' && fail.error.code, 'failed');
      assert.match(fail.status === 'error' ? fail.error.message : '', /fixture:fail: failed on purpose: bad input/);

      const invalid = await parts.registry.call({ name: 'fixture:add', arguments: { a: 'two' } });
      assert.equal(invalid.status === 'error' && invalid.error.code, 'invalid_arguments');
    });

    it('follows tools/list_changed: a tool added by the server is registered and callable', async () => {
      const m = await start({ fixture: fixture() });
      assert.equal(parts.registry.get('fixture:late_tool'), undefined);
      const added = await parts.registry.call({ name: 'fixture:add_tool', arguments: { name: 'late_tool' } });
      assert.equal(added.status, 'ok');
      await waitForState(m, 'fixture', (s) => s.tools.includes('fixture:late_tool'));
      const late = await parts.registry.call({ name: 'fixture:late_tool', arguments: {} });
      assert.deepEqual(late.status === 'ok' && late.output, { content: [{ type: 'text', text: 'I am late_tool' }] });
    });

    it('a timed-out call is cancelled on the server (notifications/cancelled reaches it)', async () => {
      await start({ fixture: fixture() });
      const outcome = await parts.registry.call({ name: 'fixture:slow', arguments: { ms: 60_000 }, timeoutMs: 500 });
      assert.equal(outcome.status, 'error');
      assert.equal(outcome.status === 'error' && outcome.error.code, 'timeout');
      const started = await waitForRecord(record, (l) => l.event === 'slow_started');
      const cancelled = await waitForRecord(record, (l) => l.event === 'cancelled');
      assert.equal(cancelled.requestId, started.requestId);
    });

    // A red-team finding: the SDK writes each request to the server's stdin at once, and a call
    // that times out leaves it there: a server that stopped reading took the runtime to 1.96 GB.
    it('a server that stops reading its input: calls to it are refused once 16 MiB wait unread, naming the server', async () => {
      await start({ fixture: fixture() });
      assert.equal((await parts.registry.call({ name: 'fixture:deafen', arguments: {} })).status, 'ok');
      await waitForRecord(record, (l) => l.event === 'deafened');
      const text = 'x'.repeat(1024 * 1024);
      let refused: { code: string; message: string; details?: Record<string, string> } | undefined;
      let sent = 0;
      for (; sent < 40 && !refused; sent++) {
        const outcome = await parts.registry.call({ name: 'fixture:echo', arguments: { text }, timeoutMs: 50 });
        assert.equal(outcome.status, 'error');
        if (outcome.status === 'error' && outcome.error.code !== 'timeout') refused = outcome.error;
      }
      assert.ok(refused, 'a call past 16 MiB of unread requests is refused');
      assert.equal(refused.code, 'unavailable');
      assert.equal(refused.details?.reason, 'server_not_reading');
      assert.match(
        refused.message,
        /fixture:echo: MCP server "fixture" is not reading its input: \d+ bytes of requests sent to it wait to be read/,
      );
      assert.ok(sent >= 16 && sent < 40, `refused after ${sent} calls of 1 MiB`);
    });

    it('a caller that cancels a call cancels it on the server too', async () => {
      await start({ fixture: fixture() });
      const controller = new AbortController();
      const pending = parts.registry.call({
        name: 'fixture:slow',
        arguments: { ms: 60_000 },
        signal: controller.signal,
      });
      await waitForRecord(record, (l) => l.event === 'slow_started');
      controller.abort();
      const outcome = await pending;
      assert.equal(outcome.status === 'error' && outcome.error.details?.reason, 'cancelled');
      await waitForRecord(record, (l) => l.event === 'cancelled');
    });

    it('a server that crashes mid-call fails the call, withdraws its tools, restarts with backoff and brings them back', async () => {
      const m = await start({ fixture: fixture({ backoff_initial_ms: 200 }) });
      const firstPid = m.state('fixture')!.pid;
      assert.ok(firstPid);
      let toolsWhileDown: string[] | undefined;
      const down = waitForState(m, 'fixture', (s) => s.status === 'restarting').then((s) => {
        toolsWhileDown = parts.registry.list('fixture:').map((t) => t.name);
        return s;
      });
      const outcome = await parts.registry.call({ name: 'fixture:crash', arguments: {} });
      assert.equal(outcome.status, 'error');
      assert.equal(outcome.status === 'error' && outcome.error.code, 'unavailable');
      assert.match(outcome.status === 'error' ? outcome.error.message : '', /went away during the call/);
      const downState = await down;
      assert.deepEqual(toolsWhileDown, []);
      assert.deepEqual(downState.tools, []);
      assert.match(downState.lastError ?? '', /exited or dropped/);
      assert.ok(downState.nextRestartAtMs! > 0);

      const back = await waitForState(m, 'fixture', (s) => s.status === 'ready');
      assert.equal(back.restarts, 1);
      assert.notEqual(back.pid, firstPid);
      const pid = await parts.registry.call({ name: 'fixture:pid', arguments: {} });
      assert.deepEqual(pid.status === 'ok' && (pid.output as { structuredContent: unknown }).structuredContent, {
        pid: back.pid,
      });
      assert.equal(recordLines(record).filter((l) => l.event === 'started').length, 2);
    });

    it('gives up after max_restarts and reports failed with the last error', async () => {
      const m = await start({ fixture: fixture({ backoff_initial_ms: 50, max_restarts: 1 }) });
      await parts.registry.call({ name: 'fixture:crash', arguments: {} });
      await waitForState(m, 'fixture', (s) => s.status === 'ready' && s.restarts === 1);
      await parts.registry.call({ name: 'fixture:crash', arguments: {} });
      const failed = await waitForState(m, 'fixture', (s) => s.status === 'failed');
      assert.match(failed.lastError ?? '', /gave up after 1 restarts/);
      assert.deepEqual(parts.registry.list('fixture:'), []);
    });

    it('expands ${VAR} in env from the environment and from the secret resolver', async () => {
      process.env.LOOM_MCP_TEST_SECRET = 'from-env';
      try {
        await start(
          {
            fixture: fixture({ env: { FIXTURE_RECORD: record, A: '${LOOM_MCP_TEST_SECRET}', B: 'x-${input:token}' } }),
          },
          { resolveSecret: (ref) => (ref === 'input:token' ? 'from-resolver' : undefined) },
        );
      } finally {
        delete process.env.LOOM_MCP_TEST_SECRET;
      }
      const a = await parts.registry.call({ name: 'fixture:getenv', arguments: { name: 'A' } });
      const b = await parts.registry.call({ name: 'fixture:getenv', arguments: { name: 'B' } });
      assert.deepEqual(a.status === 'ok' && a.output, { content: [{ type: 'text', text: 'from-env' }] });
      assert.deepEqual(b.status === 'ok' && b.output, { content: [{ type: 'text', text: 'x-from-resolver' }] });
    });

    it('a missing secret fails the server with the key named, and the others still run', async () => {
      const m = await start({ broken: fixture({ env: { T: '${LOOM_MCP_SURELY_UNSET}' } }), fixture: fixture() });
      assert.equal(m.state('broken')!.status, 'failed');
      assert.match(m.state('broken')!.lastError!, /mcp\.broken\.env\.T: \$\{LOOM_MCP_SURELY_UNSET\} has no value/);
      assert.equal(m.state('fixture')!.status, 'ready');
    });
  });

  describe('policy', () => {
    const call = () => parts.registry.call({ name: 'fixture:echo', arguments: { text: 'hi' } });

    it('deny refuses with a denied error naming the tool and the policy', async () => {
      await start({ fixture: stdioFixture({ tool_policy: { echo: 'deny' } }) });
      const outcome = await call();
      assert.equal(outcome.status === 'error' && outcome.error.code, 'denied');
      assert.match(
        outcome.status === 'error' ? outcome.error.message : '',
        /fixture:echo is denied by policy \(mcp\.fixture\.tool_policy\.echo = "deny"\)/,
      );
      const other = await parts.registry.call({ name: 'fixture:add', arguments: { a: 1, b: 1 } });
      assert.equal(other.status, 'ok');
    });

    it('ask goes to confirm with the tool name and arguments; its answer decides', async () => {
      const asked: Array<[string, unknown]> = [];
      let answer = false;
      await start(
        { fixture: stdioFixture({ policy: 'ask' }) },
        {
          confirm: async (tool, args) => {
            asked.push([tool, args]);
            return answer;
          },
        },
      );
      const declined = await call();
      assert.equal(declined.status === 'error' && declined.error.code, 'denied');
      assert.match(
        declined.status === 'error' ? declined.error.message : '',
        /declined when asked \(mcp\.fixture\.policy = "ask"\)/,
      );
      answer = true;
      const allowed = await call();
      assert.equal(allowed.status, 'ok');
      assert.deepEqual(asked, [
        ['fixture:echo', { text: 'hi' }],
        ['fixture:echo', { text: 'hi' }],
      ]);
    });

    it('headless ask follows mcp.settings.headless_ask', async () => {
      await start({ fixture: stdioFixture({ policy: 'ask' }) });
      const refused = await call();
      assert.match(
        refused.status === 'error' ? refused.error.message : '',
        /no one can be asked; mcp\.settings\.headless_ask = "deny"/,
      );
      await manager!.close();
      parts.registry.unregisterOwner('mcp:fixture');
      await start({ settings: { headless_ask: 'allow' }, fixture: stdioFixture({ policy: 'ask' }) });
      assert.equal((await call()).status, 'ok');
    });
  });

  describe('names', () => {
    it('refuses a server named after a built-in namespace', async () => {
      const m = await start({ fs: stdioFixture(), fixture: stdioFixture() });
      assert.equal(m.state('fs')!.status, 'failed');
      assert.match(m.state('fs')!.lastError!, /mcp\.fs: "fs" is a built-in Loom tool namespace/);
      assert.equal(parts.registry.get('fs:echo'), undefined);
      assert.equal(m.state('fixture')!.status, 'ready');
    });

    it('refuses a server whose namespace another provider already uses', async () => {
      parts.registry.register(
        {
          name: 'fixture:mine',
          description: 'taken',
          parametersSchema: { type: 'object' },
          provider: 'grpc',
          owner: 'agent-7',
        },
        async () => 1,
      );
      const m = await start({ fixture: stdioFixture() });
      assert.equal(m.state('fixture')!.status, 'failed');
      assert.match(m.state('fixture')!.lastError!, /namespace "fixture:" is already used by agent-7/);
    });
  });

  describe('over HTTP', () => {
    it('streamable HTTP: lists, calls with structured content, and follows list_changed', async () => {
      const server = await startHttpFixture('http');
      cleanups.push(server.stop);
      const m = await start({ remote: { url: server.url } });
      assert.equal(m.state('remote')!.status, 'ready', m.state('remote')!.lastError);
      assert.equal(m.state('remote')!.transport, 'http');
      const add = await parts.registry.call({ name: 'remote:add', arguments: { a: 20, b: 22 } });
      assert.deepEqual(add.status === 'ok' && (add.output as { structuredContent: unknown }).structuredContent, {
        sum: 42,
      });
      await parts.registry.call({ name: 'remote:add_tool', arguments: { name: 'via_http' } });
      await waitForState(m, 'remote', (s) => s.tools.includes('remote:via_http'));
    });

    it('falls back to the SSE transport for an older server', async () => {
      const server = await startHttpFixture('sse');
      cleanups.push(server.stop);
      const m = await start({ legacy: { url: server.url } });
      assert.equal(m.state('legacy')!.status, 'ready', m.state('legacy')!.lastError);
      assert.equal(m.state('legacy')!.transport, 'sse-fallback');
      const echo = await parts.registry.call({ name: 'legacy:echo', arguments: { text: 'old but fine' } });
      assert.deepEqual(echo.status === 'ok' && echo.output, { content: [{ type: 'text', text: 'old but fine' }] });
    });

    it('a 401 from the streamable endpoint is reported as it is, with no SSE fallback', async () => {
      const methods: string[] = [];
      const server = http.createServer((req, res) => {
        methods.push(req.method ?? '');
        req.resume();
        res
          .writeHead(401, { 'content-type': 'text/plain', 'www-authenticate': 'Bearer' })
          .end('Unauthorized: this server wants a token');
      });
      await listen(server);
      cleanups.push(() => closeServer(server));
      const m = await start({
        guarded: { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`, restart: false },
      });
      const state = m.state('guarded')!;
      assert.equal(state.status, 'failed');
      assert.equal(state.transport, 'http');
      assert.match(
        state.lastError ?? '',
        /mcp\.guarded: could not start: Streamable HTTP error: .*Unauthorized: this server wants a token/,
      );
      assert.doesNotMatch(state.lastError ?? '', /SSE/);
      assert.deepEqual(methods, ['POST'], 'only the streamable POST was tried');
    });

    it('a server that accepts connections and never answers fails within timeout_ms and is retried', async () => {
      const sockets = new Set<net.Socket>();
      const hung = net.createServer((socket) => void sockets.add(socket));
      await listen(hung);
      cleanups.push(async () => {
        for (const socket of sockets) socket.destroy();
        await closeServer(hung);
      });
      const url = `http://127.0.0.1:${(hung.address() as AddressInfo).port}/mcp`;
      const m = await start({ hung: { url, timeout_ms: 500, backoff_initial_ms: 60_000 } });
      const state = m.state('hung')!;
      assert.equal(state.status, 'restarting');
      assert.match(
        state.lastError ?? '',
        new RegExp(
          `mcp\\.hung: could not start: no answer within timeout_ms = 500 ms \\(connect and initialize at ${url.replace(/[.]/g, '\\.')}\\)`,
        ),
      );
      assert.deepEqual(parts.registry.list('hung:'), []);
    });

    it('close() while a connection is still waiting ends it at once', async () => {
      const hung = net.createServer(() => {});
      await listen(hung);
      cleanups.push(() => closeServer(hung));
      manager = await startMcp({
        registry: parts.registry,
        bus: parts.bus,
        workspace: dir,
        log: silentLogger,
        mcp: { hung: { url: `http://127.0.0.1:${(hung.address() as AddressInfo).port}/mcp`, timeout_ms: 600_000 } },
      });
      await waitForState(manager, 'hung', (s) => s.status === 'starting');
      await manager.close();
      await manager.settled();
      assert.equal(manager.state('hung')!.status, 'stopped');
      manager = undefined;
    });

    it('a server that goes away is noticed, its tools withdrawn, and it is reconnected when back', async () => {
      const server = await startHttpFixture('http');
      const m = await start({
        remote: { url: server.url, backoff_initial_ms: 100, backoff_max_ms: 200, max_restarts: 100_000 },
      });
      assert.equal(m.state('remote')!.status, 'ready');
      const port = new URL(server.url).port;
      await server.stop();
      const outcome = await parts.registry.call({ name: 'remote:echo', arguments: { text: 'anyone?' } });
      assert.equal(outcome.status, 'error');
      await waitForState(m, 'remote', (s) => s.status === 'restarting');
      assert.deepEqual(parts.registry.list('remote:'), []);
      const again = await startHttpFixture('http', Number(port));
      cleanups.push(again.stop);
      const back = await waitForState(m, 'remote', (s) => s.status === 'ready');
      assert.ok(back.restarts >= 1);
      assert.ok(back.tools.includes('remote:echo'));
      const echo = await parts.registry.call({ name: 'remote:echo', arguments: { text: 'back' } });
      assert.equal(echo.status, 'ok');
    });
  });
});

async function waitFor(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((r) => setTimeout(r, 20));
}

function listen(server: net.Server): Promise<void> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
}

function closeServer(server: net.Server): Promise<void> {
  (server as http.Server).closeAllConnections?.();
  return new Promise((resolve) => server.close(() => resolve()));
}
