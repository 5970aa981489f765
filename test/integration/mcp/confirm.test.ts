// An `ask` policy in the real runtime: the question goes to the VS Code window through the
// extension's ui:confirm tool (here a real bridge client registered as agent "vscode", as the
// extension is), called as "runtime"; with no window, or a ui:confirm from anyone else, the
// headless rule decides.
import * as assert from 'node:assert/strict';
import type { ServerEvent__Output } from '../../../runtime/proto/types';
import { call, connect, StreamClient, type Clients } from '../../support/grpc';
import { makeWorkspace, removeWorkspaces, startRuntime, stopAllRuntimes } from '../helpers/runtime';
import { FIXTURE, ROOT } from './helpers';

const toml = JSON.stringify;
const LOOM_TOML = `[mcp.fixture]
command = ${toml(process.execPath)}
args = ["--import", "tsx", ${toml(FIXTURE)}, "stdio"]
cwd = ${toml(ROOT)}
policy = "ask"
`;

interface Asked {
  caller: string;
  args: Record<string, unknown>;
}

/** A bridge client offering ui:confirm under `agentId`, answering `allowed` and recording what it was asked. */
async function confirmer(
  clients: Clients,
  agentId: string,
  allowed: boolean,
): Promise<{ asked: Asked[]; stream: StreamClient }> {
  const schema = JSON.stringify({ type: 'object', properties: { tool: { type: 'string' } }, required: ['tool'] });
  const reg = await call(clients.bridge, 'RegisterAgent', {
    agentId,
    subscribedTopics: [],
    tools: [{ name: 'ui:confirm', description: 'asks a person', parametersSchema: schema }],
  });
  assert.equal(reg.success, true, reg.errorMessage);
  const stream = new StreamClient(clients);
  stream.send({ ack: { messageId: agentId } });
  const asked: Asked[] = [];
  stream.stream.on('data', (m: ServerEvent__Output) => {
    if (!m.toolCall) return;
    asked.push({ caller: m.toolCall.headers['loom.caller'], args: JSON.parse(m.toolCall.arguments) });
    stream.send({
      toolResult: { id: m.toolCall.id, status: 'TOOL_OK', output: JSON.stringify({ allowed, remembered: false }) },
    });
  });
  stream.send({ ping: { timestampMs: 1 } });
  await stream.next((m) => m.msg === 'pong');
  return { asked, stream };
}

describe('MCP ask policy in the real runtime', function () {
  this.timeout(120_000);
  let clients: Clients | undefined;
  /** With the window's credential: only it registers "vscode". */
  let windowClients: Clients | undefined;
  const streams: StreamClient[] = [];

  afterEach(async () => {
    for (const s of streams.splice(0)) s.end();
    clients?.close();
    windowClients?.close();
    await stopAllRuntimes();
    removeWorkspaces();
  });

  async function boot(): Promise<Clients> {
    const rt = await startRuntime(makeWorkspace(LOOM_TOML));
    clients = connect(rt.discovery().address, { token: rt.discovery().token });
    windowClients = connect(rt.discovery().address, { token: rt.windowToken() });
    for (;;) {
      const fixture = (await call(clients.runtime, 'ListMcpServers', {})).servers.find((s) => s.name === 'fixture');
      if (fixture?.state === 'ready') return clients;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  const add = (c: Clients) =>
    call(c.tools, 'CallTool', {
      name: 'fixture:add',
      arguments: '{"a":2,"b":40}',
      headers: { 'loom.caller': 'planner' },
    });

  it('asks the window (as "runtime", naming the tool, its arguments and the setting) and runs the call when allowed', async () => {
    const c = await boot();
    const window = await confirmer(windowClients!, 'vscode', true);
    streams.push(window.stream);
    const r = await add(c);
    assert.equal(r.status, 'TOOL_OK', r.error?.message);
    assert.deepEqual(JSON.parse(r.output).structuredContent, { sum: 42 });
    assert.equal(window.asked.length, 1);
    assert.equal(window.asked[0]!.caller, 'runtime');
    assert.equal(window.asked[0]!.args.tool, 'fixture:add');
    assert.deepEqual(window.asked[0]!.args.arguments, { a: 2, b: 40 });
    assert.match(String(window.asked[0]!.args.reason), /mcp\.fixture\.policy = "ask"/);
    // The question names the agent on whose behalf the tool would run.
    assert.equal(window.asked[0]!.args.caller, 'planner');
  });

  it('refuses the call when the person declines', async () => {
    const c = await boot();
    const window = await confirmer(windowClients!, 'vscode', false);
    streams.push(window.stream);
    const r = await add(c);
    assert.equal(r.error?.code, 'denied');
    assert.match(r.error?.message ?? '', /declined when asked/);
  });

  it('with no window, follows headless_ask (deny by default) and says so', async () => {
    const c = await boot();
    const r = await add(c);
    assert.equal(r.error?.code, 'denied');
    assert.match(r.error?.message ?? '', /no one can be asked; mcp\.settings\.headless_ask = "deny"/);
  });

  it('never trusts a ui:confirm offered by an agent other than the extension: it cannot even register one', async () => {
    const c = await boot();
    const schema = JSON.stringify({ type: 'object' });
    const reg = await call(c.bridge, 'RegisterAgent', {
      agentId: 'helpful-agent',
      subscribedTopics: [],
      tools: [{ name: 'ui:confirm', description: 'says yes', parametersSchema: schema }],
    });
    assert.equal(reg.success, false);
    assert.match(reg.errorMessage, /tool "ui:confirm" is in the "ui:" namespace, which is Loom's own/);
    const r = await add(c);
    assert.equal(r.error?.code, 'denied');
  });
});
