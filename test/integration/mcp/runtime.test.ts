// MCP inside the real runtime (`node dist/runtime.js`): a hung server never holds the start, the
// servers' states are readable over gRPC (Runtime.ListMcpServers / ControlMcpServer), and the SDK's
// client reaches Loom's own MCP server from the discovery file to call fs:read and a tool that a
// real Python agent provides.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import * as grpc from '@grpc/grpc-js';
import type { McpServerInfo__Output } from '../../../runtime/proto/gen/loom/v1/McpServerInfo';
import { call, callFails, connect, type Clients } from '../../support/grpc';
import {
  buildRuntime,
  makeWorkspace,
  removeWorkspaces,
  RUNTIME_JS,
  startRuntime,
  stopAllRuntimes,
  type RuntimeProcess,
} from '../helpers/runtime';
import { FIXTURE, ROOT } from './helpers';

export const PYTHON = process.env.LOOM_PYTHON || path.join(ROOT, '.venv/bin/python');
const toml = JSON.stringify; // TOML basic strings accept JSON string syntax

function fixtureTable(name: string, extra = ''): string {
  return `[mcp.${name}]\ncommand = ${toml(process.execPath)}\nargs = ["--import", "tsx", ${toml(FIXTURE)}, "stdio"]\ncwd = ${toml(ROOT)}\n${extra}`;
}

async function mcpServers(clients: Clients): Promise<McpServerInfo__Output[]> {
  return (await call(clients.runtime, 'ListMcpServers', {})).servers;
}

/** Polls ListMcpServers until `name` satisfies `pred` (the mocha timeout bounds it). */
async function waitForServer(
  clients: Clients,
  name: string,
  pred: (s: McpServerInfo__Output) => boolean,
): Promise<McpServerInfo__Output> {
  for (;;) {
    const found = (await mcpServers(clients)).find((s) => s.name === name);
    if (found && pred(found)) return found;
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('MCP in the real runtime', function () {
  this.timeout(120_000);
  const cleanups: Array<() => unknown> = [];

  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
    await stopAllRuntimes();
    removeWorkspaces();
  });

  async function runtimeWith(
    loomToml: string,
    env: NodeJS.ProcessEnv = {},
  ): Promise<{ rt: RuntimeProcess; clients: Clients }> {
    const rt = await startRuntime(makeWorkspace(loomToml), [], { env });
    const clients = connect(rt.discovery().address, { token: rt.discovery().token });
    cleanups.push(() => clients.close());
    return { rt, clients };
  }

  it('comes up while an HTTP server accepts connections and never answers; the server fails with a clear error', async () => {
    const sockets = new Set<net.Socket>();
    const hung = net.createServer((s) => void sockets.add(s));
    await new Promise<void>((r) => hung.listen(0, '127.0.0.1', r));
    cleanups.push(() => {
      for (const s of sockets) s.destroy();
      return new Promise((r) => hung.close(r));
    });
    const url = `http://127.0.0.1:${(hung.address() as AddressInfo).port}/mcp`;
    const { rt, clients } = await runtimeWith(
      `[mcp.hung]\nurl = "${url}"\ntimeout_ms = 1500\nbackoff_initial_ms = 60000\n\n${fixtureTable('fixture')}`,
    );
    assert.ok(fs.existsSync(rt.discoveryFile));
    const down = await waitForServer(clients, 'hung', (s) => s.state === 'restarting' || s.state === 'failed');
    assert.equal(down.transport, 'http');
    assert.equal(
      down.lastError,
      `mcp.hung: could not start: no answer within timeout_ms = 1500 ms (connect and initialize at ${url})`,
    );
    assert.ok(sockets.size >= 1, 'the runtime did connect to the hung server');
    const fixture = await waitForServer(clients, 'fixture', (s) => s.state === 'ready');
    assert.ok(fixture.tools.includes('fixture:add'));
    assert.equal(fixture.transport, 'stdio');
    assert.equal(fixture.source, 'loom.toml');
    const add = await call(clients.tools, 'CallTool', { name: 'fixture:add', arguments: '{"a": 2, "b": 40}' });
    assert.deepEqual(JSON.parse(add.output).structuredContent, { sum: 42 });
  });

  it('Runtime.ControlMcpServer restarts a server; unknown names and actions are refused clearly', async () => {
    const { clients } = await runtimeWith(
      `${fixtureTable('fixture')}\n[mcp.broken]\ncommand = "x"\nbogus = 1\n\n[mcp.remote]\nurl = "ftp://example"\n`,
    );
    const first = await waitForServer(clients, 'fixture', (s) => s.state === 'ready');
    const broken = (await mcpServers(clients)).find((s) => s.name === 'broken')!;
    assert.equal(broken.state, 'failed');
    assert.match(broken.lastError, /mcp\.broken\.bogus: unknown key/);
    const remote = (await mcpServers(clients)).find((s) => s.name === 'remote')!;
    assert.deepEqual([remote.state, remote.transport], ['failed', 'http']);
    assert.match(
      remote.lastError,
      /mcp\.remote\.url: must be an http:\/\/ or https:\/\/ URL \(got "ftp:\/\/example"\)/,
    );
    const pid = JSON.parse((await call(clients.tools, 'CallTool', { name: 'fixture:pid', arguments: '{}' })).output)
      .structuredContent.pid;
    const restarted = await call(clients.runtime, 'ControlMcpServer', { name: 'fixture', action: 'restart' });
    assert.equal(restarted.success, true, restarted.errorMessage);
    assert.equal(restarted.server!.state, 'ready');
    assert.ok(restarted.server!.sinceMs >= first.sinceMs);
    const newPid = JSON.parse((await call(clients.tools, 'CallTool', { name: 'fixture:pid', arguments: '{}' })).output)
      .structuredContent.pid;
    assert.notEqual(newPid, pid);
    const unknown = await call(clients.runtime, 'ControlMcpServer', { name: 'nope', action: 'restart' });
    assert.equal(unknown.success, false);
    assert.match(unknown.errorMessage, /mcp: no server named "nope" \(configured: fixture\)/);
    const bad = await callFails(clients.runtime, 'ControlMcpServer', { name: 'fixture', action: 'explode' });
    assert.equal(bad.code, grpc.status.INVALID_ARGUMENT);
    assert.match(bad.details, /action must be "restart" \(got "explode"\)/);
  });

  it('a bad [mcp.serve] table stops the start with exit status 2, naming the key', async () => {
    const rt = await startRuntime(makeWorkspace('[mcp.serve]\nhost = "0.0.0.0"\n'), [], { ready: false });
    await rt.exited;
    assert.equal(rt.exitCode, 2);
    assert.match(
      rt.stderrText.join('\n'),
      /bad configuration\nloom\.toml:2:1: mcp\.serve\.host: must be one of "127\.0\.0\.1", "::1" \(got "0\.0\.0\.0"\)/,
    );
  });

  it("the SDK client reaches Loom's MCP server from the discovery file and calls fs:read and a Python agent's tool", async () => {
    const agent = path.join(ROOT, 'test/fixtures/mcp/python_tool_agent.py');
    const { rt } = await runtimeWith(
      `[mcp.serve]\nhttp = true\n\n[agents.pytools]\ncommand = "python"\nargs = [${toml(agent)}]\n`,
      { LOOM_PYTHON: PYTHON },
    );
    fs.writeFileSync(path.join(rt.workspace, 'notes.txt'), 'read through MCP\n');
    const discovery = rt.discovery() as ReturnType<RuntimeProcess['discovery']> & { mcp?: string };
    assert.match(discovery.mcp ?? '', /^http:\/\/127\.0\.0\.1:\d+\/mcp$/);
    const client = new Client({ name: 'sdk-client', version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(discovery.mcp!), {
        requestInit: { headers: { Authorization: `Bearer ${discovery.token}` } },
      }),
    );
    cleanups.push(() => client.close());

    const read = (await client.callTool({ name: 'fs__read', arguments: { path: 'notes.txt' } })) as CallToolResult;
    assert.equal(read.isError, undefined, JSON.stringify(read.content));
    assert.equal((read.structuredContent as { content: string }).content, 'read through MCP\n');

    // The agent registers when its process is up; until then the tool is not listed.
    for (;;) {
      const { tools } = await client.listTools();
      if (tools.some((t) => t.name === 'pymcp__greet')) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const greet = (await client.callTool({ name: 'pymcp__greet', arguments: { name: 'mcp' } })) as CallToolResult;
    assert.equal(greet.isError, undefined, JSON.stringify(greet.content));
    assert.deepEqual(greet.structuredContent, { greeting: 'hello mcp', language: 'python' });
  });

  describe('node dist/runtime.js --mcp-stdio', () => {
    /** An MCP client that launches `--mcp-stdio` for the workspace, as Claude Desktop would. */
    async function stdioClient(
      workspace: string,
    ): Promise<{ client: Client; transport: StdioClientTransport; stderr: string[] }> {
      buildRuntime();
      const transport = new StdioClientTransport({
        command: process.execPath,
        args: [RUNTIME_JS, '--workspace', workspace, '--mcp-stdio'],
        cwd: ROOT,
        stderr: 'pipe',
      });
      const stderr: string[] = [];
      transport.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk.toString('utf8')));
      const client = new Client({ name: 'sdk-stdio-client', version: '1.0.0' });
      await client.connect(transport);
      cleanups.push(() => client.close());
      return { client, transport, stderr };
    }

    function exited(pid: number): Promise<void> {
      return new Promise((resolve) => {
        const check = () => {
          try {
            process.kill(pid, 0);
            setTimeout(check, 50);
          } catch {
            resolve();
          }
        };
        check();
      });
    }

    it('with no runtime running, starts one of its own and serves it; closing stdin shuts it down cleanly', async () => {
      const workspace = makeWorkspace('[watcher]\nenabled = false\n');
      fs.writeFileSync(path.join(workspace, 'notes.txt'), 'own runtime\n');
      const { client, transport } = await stdioClient(workspace);
      const read = (await client.callTool({ name: 'fs__read', arguments: { path: 'notes.txt' } })) as CallToolResult;
      assert.equal((read.structuredContent as { content: string }).content, 'own runtime\n');
      const discovery = JSON.parse(fs.readFileSync(path.join(workspace, '.loom', 'runtime.json'), 'utf8')) as {
        pid: number;
      };
      assert.equal(discovery.pid, transport.pid, 'the stdio process is the runtime');
      const write = (await client.callTool({
        name: 'fs__write',
        arguments: { path: 'x.txt', content: 'x' },
      })) as CallToolResult;
      assert.match(
        (write.content[0] as { text: string }).text,
        /^denied: fs:write needs confirmation .* mcp\.settings\.headless_ask = "deny"$/,
      );
      const pid = transport.pid!;
      await client.close();
      await exited(pid);
      assert.equal(
        fs.existsSync(path.join(workspace, '.loom', 'runtime.json')),
        false,
        'a clean shutdown removed the discovery file',
      );
    });

    it('beside a live runtime, attaches to it over gRPC instead of starting a second one (whose store would be locked)', async () => {
      const agent = path.join(ROOT, 'test/fixtures/mcp/python_tool_agent.py');
      const { rt, clients } = await runtimeWith(
        `[agents.pytools]\ncommand = "python"\nargs = [${toml(agent)}]\n\n[mcp.serve]\ntool_policy = { "fs:write" = "allow" }\n`,
        { LOOM_PYTHON: PYTHON },
      );
      fs.writeFileSync(path.join(rt.workspace, 'notes.txt'), 'live runtime\n');
      // The agent's tool is in the live runtime once its process has registered.
      for (;;) {
        if ((await call(clients.tools, 'ListTools', { prefix: 'pymcp:' })).tools.length > 0) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      const { client, transport, stderr } = await stdioClient(rt.workspace);
      const names = (await client.listTools()).tools.map((t) => t.name);
      assert.ok(names.includes('pymcp__greet') && names.includes('fs__read'), names.join(', '));
      const greet = (await client.callTool({ name: 'pymcp__greet', arguments: { name: 'stdio' } })) as CallToolResult;
      assert.deepEqual(greet.structuredContent, { greeting: 'hello stdio', language: 'python' });
      const read = (await client.callTool({ name: 'fs__read', arguments: { path: 'notes.txt' } })) as CallToolResult;
      assert.equal((read.structuredContent as { content: string }).content, 'live runtime\n');
      // The workspace's [mcp.serve] policy applies: fs:write allowed here, fs:delete still asks (denied headless).
      const write = (await client.callTool({
        name: 'fs__write',
        arguments: { path: 'via-attach.txt', content: 'ok' },
      })) as CallToolResult;
      assert.equal(write.isError, undefined, JSON.stringify(write.content));
      assert.equal(fs.readFileSync(path.join(rt.workspace, 'via-attach.txt'), 'utf8'), 'ok');
      const del = (await client.callTool({ name: 'fs__delete', arguments: { path: 'notes.txt' } })) as CallToolResult;
      assert.equal(del.isError, true);
      assert.equal(rt.discovery().pid, rt.proc.pid, 'the live runtime still owns the workspace');
      assert.notEqual(transport.pid, rt.proc.pid);
      assert.ok(stderr.join('').includes("serving the running runtime's tools over MCP stdio"), stderr.join(''));
      assert.equal(rt.exitCode, null);
      const pid = transport.pid!;
      await client.close();
      await exited(pid);
      assert.equal(rt.exitCode, null, 'closing the attached client leaves the live runtime running');
    });
  });
});
