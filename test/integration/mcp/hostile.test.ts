// Loom as an MCP client against hostile servers (the red team's findings): a real child process
// speaking raw JSON-RPC over stdio (hostile-server.ts), and real HTTP servers on 127.0.0.1 that
// send endless bodies or hold their requests open. Each server must be stopped at a limit that
// names it, and the runtime must not grow without bound.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { MAX_HTTP_MESSAGE_BYTES } from '../../../runtime/mcp/boundedFetch';
import { startMcp, type McpManager } from '../../../runtime/mcp/manager';
import { createLogger, silentLogger, type Logger } from '../../../runtime/log';
import { ROOT, recordLines, runtimeParts, tempDir, waitForRecord, waitForState } from './helpers';

const HOSTILE = path.join(ROOT, 'test/integration/mcp/hostile-server.ts');
const LIMIT = MAX_HTTP_MESSAGE_BYTES;

type Parts = ReturnType<typeof runtimeParts>;

describe('MCP client: hostile servers', function () {
  this.timeout(60_000);
  let parts: Parts;
  let manager: McpManager | undefined;
  let dir: string;
  let record: string;
  const cleanups: Array<() => Promise<void>> = [];

  beforeEach(() => {
    parts = runtimeParts();
    dir = tempDir('loom-mcp-hostile-');
    record = path.join(dir, 'record.jsonl');
  });

  afterEach(async () => {
    await manager?.close();
    manager = undefined;
    for (const c of cleanups.splice(0)) await c();
    await parts.bus.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function start(mcp: Record<string, unknown>, log: Logger = silentLogger): Promise<McpManager> {
    manager = await startMcp({ registry: parts.registry, bus: parts.bus, mcp, workspace: dir, log });
    await manager.settled();
    return manager;
  }

  const hostile = (mode: string, n = 0, extra: Record<string, unknown> = {}) => ({
    command: process.execPath,
    args: ['--import', 'tsx', HOSTILE, mode, String(n)],
    cwd: ROOT,
    env: { HOSTILE_RECORD: record },
    restart: false,
    ...extra,
  });

  describe('tools/list', () => {
    it('a server that pages without end fails to start at 100 pages, naming the limit', async () => {
      const m = await start({ evil: hostile('pages') });
      const state = m.state('evil')!;
      assert.equal(state.status, 'failed');
      assert.match(
        state.lastError ?? '',
        /^mcp\.evil: could not start: tools\/list went on past 100 pages, the most a server may send/,
      );
      assert.deepEqual(parts.registry.list('evil:'), []);
      assert.equal(recordLines(record).filter((l) => l.event === 'tools_list').length, 100);
    });

    it('a server listing more than 1000 tools fails to start and none of them is registered', async () => {
      const m = await start({ evil: hostile('many-tools', 1001) });
      const state = m.state('evil')!;
      assert.equal(state.status, 'failed');
      assert.match(
        state.lastError ?? '',
        /^mcp\.evil: could not start: tools\/list gave 1001 tools by page 1, more than the 1000 a server may have/,
      );
      assert.deepEqual(parts.registry.list('evil:'), []);
    });

    it('all the pages of a listing come within timeout_ms, not each page', async () => {
      const m = await start({ evil: hostile('slow-pages', 150, { timeout_ms: 1000 }) });
      const state = m.state('evil')!;
      assert.equal(state.status, 'failed');
      assert.match(
        state.lastError ?? '',
        /^mcp\.evil: could not start: tools\/list took over timeout_ms = 1000 ms in all \(\d+ pages, \d+ tools so far\)/,
      );
    });

    it('a flood of tools/list_changed: listed again at most twice, and not logged per notification', async () => {
      const lines: Array<Record<string, unknown>> = [];
      const log = createLogger({ sink: (line) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
      const flood = 5000;
      const m = await start({ evil: hostile('list-flood', flood) }, log);
      assert.equal(m.state('evil')!.status, 'ready', m.state('evil')!.lastError);
      await waitForRecord(record, (l) => l.event === 'flooded');
      // Each listing after the flood says how many notifications it answers: wait until all are.
      const answered = () =>
        lines
          .filter((l) => l.msg === 'listing the tools again after tools/list_changed')
          .reduce((sum, l) => sum + Number(l.notifications), 0);
      while (answered() < flood) await new Promise((r) => setTimeout(r, 25));
      assert.equal(answered(), flood);
      // The line is logged as a listing starts: wait for the server to have seen each of them.
      const relistings = lines.filter((l) => l.msg === 'listing the tools again after tools/list_changed').length;
      const listed = () => recordLines(record).filter((l) => l.event === 'tools_list').length;
      while (listed() < 1 + relistings) await new Promise((r) => setTimeout(r, 25));
      const listings = listed();
      assert.ok(listings >= 2 && listings <= 3, `${listings} listings for ${flood} notifications`);
      assert.equal(lines.filter((l) => /list_changed received/.test(String(l.msg))).length, 0);
      assert.equal(m.state('evil')!.status, 'ready');
    });
  });

  describe('requests from the server', () => {
    it('a server that sends requests and never reads the answers is stopped as not reading its input', async () => {
      const m = await start({ evil: hostile('ask-unread', 200) });
      assert.equal(m.state('evil')!.status, 'ready', m.state('evil')!.lastError);
      await waitForRecord(record, (l) => l.event === 'deaf');
      const failed = await waitForState(m, 'evil', (s) => s.status === 'failed');
      assert.match(
        failed.lastError ?? '',
        /^mcp\.evil: not reading its input: \d+ bytes sent to it wait to be read, at most 16777216; stopped/,
      );
      assert.deepEqual(parts.registry.list('evil:'), []);
    });

    it('a request whose id is over 1024 characters is not answered; the others are', async () => {
      const lines: Array<Record<string, unknown>> = [];
      const log = createLogger({ sink: (line) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
      await start({ evil: hostile('long-id', 100_000) }, log);
      await waitForRecord(record, (l) => l.event === 'answer' && l.id === 'short');
      assert.deepEqual(
        recordLines(record)
          .filter((l) => l.event === 'answer')
          .map((l) => l.idLength),
        [5],
      );
      assert.ok(
        lines.some((l) =>
          /mcp\.evil: the server sent a ping request whose id is 100000 characters, at most 1024/.test(String(l.error)),
        ),
      );
    });
  });

  describe('over HTTP', () => {
    it('an endless application/json body is cut off at 16 MiB: the call fails naming the server and the limit', async () => {
      const server = await hostileHttp({ call: (res, id) => endless(res, 'application/json', jsonPrefix(id)) });
      await start({ evil: { url: server.url } });
      const outcome = await parts.registry.call({ name: 'evil:call', arguments: {}, timeoutMs: 20_000 });
      assert.equal(outcome.status === 'error' && outcome.error.code, 'failed');
      assert.match(
        outcome.status === 'error' ? outcome.error.message : '',
        /mcp\.evil: a response body is over 16777216 bytes \(the limit on one MCP message over HTTP\)/,
      );
      await server.closed(1);
    });

    it('an endless SSE data line is cut off at 16 MiB: the call fails naming the server and the limit', async () => {
      const server = await hostileHttp({ call: (res) => endless(res, 'text/event-stream', 'event: message\ndata: ') });
      await start({ evil: { url: server.url } });
      const outcome = await parts.registry.call({ name: 'evil:call', arguments: {}, timeoutMs: 20_000 });
      assert.equal(outcome.status === 'error' && outcome.error.code, 'failed');
      assert.match(
        outcome.status === 'error' ? outcome.error.message : '',
        /mcp\.evil: one event of its SSE stream is over 16777216 bytes/,
      );
      assert.equal(manager!.state('evil')!.status, 'ready');
    });

    it("an endless event on the server's own SSE stream (GET) ends the connection, naming the limit", async () => {
      const server = await hostileHttp({ get: (res) => endless(res, 'text/event-stream', 'event: message\ndata: ') });
      const m = await start({ evil: { url: server.url, restart: false } });
      const failed = await waitForState(m, 'evil', (s) => s.status === 'failed');
      assert.match(failed.lastError ?? '', /mcp\.evil: one event of its SSE stream is over 16777216 bytes/);
    });

    it('a call that times out ends its HTTP request, releasing the socket', async () => {
      const server = await hostileHttp({
        call: (res) => res.writeHead(200, { 'content-type': 'text/event-stream' }).write(': wait for it\n\n'),
      });
      await start({ evil: { url: server.url } });
      const outcome = await parts.registry.call({ name: 'evil:call', arguments: {}, timeoutMs: 300 });
      assert.equal(outcome.status === 'error' && outcome.error.code, 'timeout');
      await server.closed(1);
    });

    it('a call answered on an SSE stream the server then holds open ends its HTTP request', async () => {
      const server = await hostileHttp({
        call: (res, id) =>
          res
            .writeHead(200, { 'content-type': 'text/event-stream' })
            .write(`event: message\ndata: ${JSON.stringify({ jsonrpc: '2.0', id, result: { content: [] } })}\n\n`),
      });
      await start({ evil: { url: server.url } });
      const outcome = await parts.registry.call({ name: 'evil:call', arguments: {} });
      assert.equal(outcome.status, 'ok');
      await server.closed(1);
    });

    it("a failure's message names no secret of the server's configuration: not the URL's key, not a header", async () => {
      const server = await hostileHttp({
        // A body that echoes what it was sent, headers included, as a debugging server might.
        call: (res) => {
          res.writeHead(500, { 'content-type': 'text/plain' });
          res.end(`cannot serve ${JSON.stringify(res.req.url)} for ${JSON.stringify(res.req.headers)}`);
        },
      });
      const url = `${server.url}?api_key=URLSECRET-12345&v=1`;
      const m = await start({ evil: { url, headers: { Authorization: 'Bearer HDRSECRET-7654321' } } });
      assert.equal(m.state('evil')!.status, 'ready', m.state('evil')!.lastError);
      const outcome = await parts.registry.call({ name: 'evil:call', arguments: {}, timeoutMs: 5_000 });
      const message = outcome.status === 'error' ? outcome.error.message : '';
      assert.match(message, /cannot serve .*\*\*\*/, 'the server said something, secrets blanked');
      assert.doesNotMatch(message, /URLSECRET|HDRSECRET/);
      // A server that never answers: the timeout names the URL, without its key.
      const silent = http.createServer(() => undefined);
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      cleanups.push(async () => {
        silent.closeAllConnections();
        await new Promise((r) => silent.close(r));
      });
      const quiet = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/mcp?api_key=URLSECRET-12345`;
      await manager!.close();
      const q = await start({ quiet: { url: quiet, timeout_ms: 300, restart: false } });
      const failed = q.state('quiet')!;
      assert.match(failed.lastError ?? '', /no answer within timeout_ms = 300 ms .*\/mcp\?\*\*\*/);
      assert.doesNotMatch(failed.lastError ?? '', /URLSECRET/);
    });

    it('an initialize answered on an SSE stream the server then holds open ends its HTTP request', async () => {
      const server = await hostileHttp({
        initialize: (res, id, result) =>
          res
            .writeHead(200, { 'content-type': 'text/event-stream', 'mcp-session-id': 's1' })
            .write(`event: message\ndata: ${JSON.stringify({ jsonrpc: '2.0', id, result })}\n\n`),
      });
      const m = await start({ evil: { url: server.url } });
      assert.equal(m.state('evil')!.status, 'ready', m.state('evil')!.lastError);
      await server.closed(1, 'initialize');
    });
  });

  /**
   * A streamable HTTP MCP server that answers initialize and tools/list (one tool, `call`) and
   * leaves initialize, tools/call and GET, when given, to the test. `closed(n, method)` resolves
   * once n requests of the method (tools/call unless named) were ended by the client.
   */
  async function hostileHttp(behaviour: {
    initialize?: (res: http.ServerResponse, id: unknown, result: unknown) => void;
    call?: (res: http.ServerResponse, id: unknown) => void;
    get?: (res: http.ServerResponse) => void;
  }): Promise<{ url: string; closed(n: number, method?: string): Promise<void> }> {
    const closed = new Map<string, number>();
    const handOver = (res: http.ServerResponse, method: string) =>
      res.on('close', () => closed.set(method, (closed.get(method) ?? 0) + 1));
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (req.method === 'GET') return behaviour.get ? behaviour.get(res) : void res.writeHead(405).end();
        if (req.method !== 'POST') return void res.writeHead(200).end();
        const message = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
          id?: unknown;
          method: string;
          params?: { protocolVersion?: string };
        };
        if (message.id === undefined) return void res.writeHead(202).end();
        const reply = (result: unknown) =>
          res
            .writeHead(200, { 'content-type': 'application/json', 'mcp-session-id': 's1' })
            .end(JSON.stringify({ jsonrpc: '2.0', id: message.id, result }));
        if (message.method === 'initialize') {
          const result = {
            protocolVersion: message.params?.protocolVersion,
            capabilities: { tools: {} },
            serverInfo: { name: 'hostile-http', version: '1' },
          };
          if (!behaviour.initialize) return reply(result);
          handOver(res, message.method);
          return behaviour.initialize(res, message.id, result);
        }
        if (message.method === 'tools/list')
          return reply({ tools: [{ name: 'call', inputSchema: { type: 'object' } }] });
        if (message.method !== 'tools/call' || !behaviour.call) return reply({});
        handOver(res, message.method);
        behaviour.call(res, message.id);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(
      () =>
        new Promise((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    );
    return {
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`,
      closed: async (n, method = 'tools/call') => {
        while ((closed.get(method) ?? 0) < n) await new Promise((r) => setTimeout(r, 25));
      },
    };
  }
});

const jsonPrefix = (id: unknown) =>
  `{"jsonrpc":"2.0","id":${JSON.stringify(id)},"result":{"content":[{"type":"text","text":"`;

/**
 * Writes `prefix` and then 4 times the limit of one unending string, then holds the response open:
 * bounded, so that a client without the limit is not taken to gigabytes by the test itself.
 */
function endless(res: http.ServerResponse, contentType: string, prefix: string): void {
  res.writeHead(200, { 'content-type': contentType, 'mcp-session-id': 's1' }).write(prefix);
  const chunk = Buffer.alloc(1 << 20, 'A');
  let left = (4 * LIMIT) / chunk.length;
  const go = () => {
    while (left > 0 && !res.destroyed) {
      left--;
      if (!res.write(chunk)) return void res.once('drain', go);
    }
  };
  go();
}
