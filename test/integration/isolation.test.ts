// OS isolation for the long-lived processes the runtime starts, opted in: a real Python agent
// (the SDK, over real gRPC) and a real MCP stdio server, each run under bubblewrap by the real
// runtime process. The agent answers a tool call with what it can see from inside; the same
// agent unconfined is the control, so each assertion is shown to be the sandbox's doing.
import { strict as assert } from 'node:assert';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { until } from '../support/eventually';
import { call, connect, type Clients } from '../support/grpc';
import {
  makeWorkspace,
  removeWorkspaces,
  REPO,
  startRuntime,
  stopAllRuntimes,
  type RuntimeProcess,
  PYTHON,
} from './helpers/runtime';

const SECRET = 'outside-the-workspace-secret';

// Reports what the agent's process can reach; every probe is a plain OS call.
const PROBER = `
import json, os
from loom import Agent, tool

def attempt(fn):
    try:
        return {"ok": True, "value": fn()}
    except OSError as e:
        return {"ok": False, "errno": e.errno, "error": str(e)}

def write(path):
    with open(path, "a") as f:
        f.write("x")
    return True

@tool("probe:look", description="What this process can reach.", kind="read")
def look(outside: str) -> dict:
    return {
        "outside": attempt(lambda: open(outside).read()),
        "data_folder": attempt(lambda: sorted(os.listdir(".loom"))),
        "discovery": attempt(lambda: open(".loom/runtime.json").read()),
        "write_loom_toml": attempt(lambda: write("loom.toml")),
        "write_git_config": attempt(lambda: write(".git/config")),
        "write_workspace": attempt(lambda: write("notes.txt")),
        "home": os.environ.get("HOME"),
        "pids": len([p for p in os.listdir("/proc") if p.isdigit()]),
    }

Agent("prober", tools=[look]).run()
`;

/** The SDK the prober imports (installed editable into the venv), readable under isolation. */
const SDK_READABLE = `read_only_paths = [${JSON.stringify(join(REPO, 'sdk', 'python'))}]`;

/** The prober declared in loom.toml under `isolation`. */
const declared = (isolation: string) =>
  [
    '[agents.prober]',
    'command = "python"',
    'args = ["prober.py"]',
    `isolation = ${JSON.stringify(isolation)}`,
    SDK_READABLE,
  ].join('\n') + '\n';

function workspace(isolation: string, toml = declared(isolation)): { ws: string; outside: string } {
  const ws = makeWorkspace(toml);
  writeFileSync(join(ws, 'prober.py'), PROBER);
  mkdirSync(join(ws, '.git'));
  writeFileSync(join(ws, '.git', 'config'), '[core]\n');
  const outside = join(dirname(ws), `${ws.split('/').pop()}-outside.txt`);
  writeFileSync(outside, SECRET);
  return { ws, outside };
}

describe('isolation of agents and MCP servers (opt-in)', function () {
  this.timeout(90_000);
  const clients: Clients[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await stopAllRuntimes();
  });
  after(() => removeWorkspaces());

  async function probe(isolation: string): Promise<{ rt: RuntimeProcess; ws: string; seen: any; isolated: boolean }> {
    const { ws, outside } = workspace(isolation);
    const rt = await startRuntime(ws, [], { env: { LOOM_PYTHON: PYTHON } });
    const seen = await look(rt, outside);
    const c = connect(rt.discovery().address, { token: rt.discovery().token });
    clients.push(c);
    const info = (await call(c.runtime, 'ListAgents', {})).agents.find(
      (a: { agentId: string }) => a.agentId === 'prober',
    );
    return { rt, ws, seen, isolated: info!.isolated };
  }

  /** Waits for the prober's tool, then asks it what it can reach. */
  async function look(rt: RuntimeProcess, outside: string): Promise<any> {
    const c = connect(rt.discovery().address, { token: rt.discovery().token });
    clients.push(c);
    const deadline = Date.now() + 40_000;
    for (;;) {
      const tools = await call(c.tools, 'ListTools', {});
      if (tools.tools.some((t: { name: string }) => t.name === 'probe:look')) break;
      if (Date.now() > deadline) throw new Error(`the prober never registered\n${rt.stderrText.slice(-30).join('\n')}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const out = await call(c.tools, 'CallTool', {
      id: 'p1',
      name: 'probe:look',
      arguments: JSON.stringify({ outside }),
    });
    assert.equal(out.status, 'TOOL_OK', JSON.stringify(out));
    return JSON.parse(out.output);
  }

  /** What only a confined prober sees: nothing beside the workspace, no token, a scratch HOME. */
  function assertConfined(seen: any): void {
    assert.equal(seen.outside.ok, false, 'a file beside the workspace must not exist inside');
    assert.equal(seen.discovery.ok, false, 'the discovery file (and its token) must not be readable');
    assert.equal(seen.write_loom_toml.ok, false);
    assert.equal(seen.home, '/tmp/home');
  }

  it('an unconfined agent reaches the outside file, the discovery file and loom.toml (the control)', async () => {
    const { seen, isolated } = await probe('off');
    assert.equal(isolated, false, 'ListAgents says the process is not isolated');
    assert.equal(seen.outside.value, SECRET);
    assert.ok(seen.discovery.ok && seen.discovery.value.includes('"token"'));
    assert.equal(seen.write_loom_toml.ok, true);
  });

  it('an isolated agent still registers and calls, but cannot see outside the workspace, the data folder or the token, nor change loom.toml or .git', async () => {
    const { ws, seen, isolated } = await probe('required');
    assert.equal(isolated, true, 'ListAgents says the process is isolated');
    assert.equal(seen.outside.ok, false, 'a file beside the workspace must not exist inside');
    assert.deepEqual(seen.data_folder, { ok: true, value: [] }, 'the data folder is an empty mount');
    assert.equal(seen.discovery.ok, false);
    assert.equal(seen.write_loom_toml.ok, false);
    assert.equal(seen.write_git_config.ok, false);
    assert.equal(seen.write_workspace.ok, true, 'the workspace stays writable');
    assert.equal(seen.home, '/tmp/home');
    assert.ok(seen.pids <= 3, `only the sandbox's own processes are visible (saw ${seen.pids})`);
    assert.ok(!readFileSync(join(ws, 'loom.toml'), 'utf8').endsWith('x'));
    assert.equal(readFileSync(join(ws, '.git', 'config'), 'utf8'), '[core]\n');
    assert.equal(readFileSync(join(ws, 'notes.txt'), 'utf8'), 'x');
  });

  it('an ad-hoc agent runs under [adhoc_agents] as loom.toml has it at each start: saved, then Restart from the window, it is confined', async () => {
    const { ws, outside } = workspace('', '');
    const rt = await startRuntime(ws, [], { env: { LOOM_PYTHON: PYTHON } });
    const c = connect(rt.discovery().address, { token: rt.discovery().token });
    clients.push(c);
    const listed = async () =>
      (await call(c.runtime, 'ListAgents', {})).agents.find((a: { agentId: string }) => a.agentId === 'prober');
    const started = await call(c.runtime, 'StartAgent', {
      agentId: 'prober',
      script: 'prober.py',
      args: [],
      cwd: '',
      env: {},
      keepAlive: true,
      restart: '',
    });
    assert.equal(started.success, true, started.errorMessage);
    assert.equal(started.agent?.adHoc, true);
    // The control: no [adhoc_agents], so as unconfined as an agent declared without isolation.
    const before = await look(rt, outside);
    assert.equal(before.outside.value, SECRET);
    assert.ok(before.discovery.ok && before.discovery.value.includes('"token"'));
    const first = (await listed())!;
    assert.equal(first.isolated, false);

    writeFileSync(join(ws, 'loom.toml'), `[adhoc_agents]\nisolation = "required"\n${SDK_READABLE}\n`);
    await rt.waitFor('loom.toml to be reloaded', () => rt.logs.some((l) => l.msg === 'loom.toml reloaded'), 20_000);
    // What the window's Restart does for a script agent the runtime knows (extension/agents/adhoc.ts).
    const restarted = await call(c.runtime, 'ControlAgent', { agentId: 'prober', action: 'restart' });
    assert.equal(restarted.success, true, restarted.errorMessage);
    await until('the restarted prober to connect', async () => {
      const a = await listed();
      return !!a && a.pid > 0 && a.pid !== first.pid && a.state === 'connected';
    });
    assert.equal((await listed())!.isolated, true, 'ListAgents says the restarted process is isolated');
    assertConfined(await look(rt, outside));
  });

  it('an isolated agent whose spawn fails (a NUL byte in an argument) leaves no placeholder behind', async () => {
    // No .git here: a confined launch holds an empty .git placeholder until its last user ends.
    const toml = [
      '[agents.broken]',
      'command = "python"',
      'args = ["prober.py", "a\\u0000b"]',
      'isolation = "required"',
      'restart = "never"',
      SDK_READABLE,
    ];
    const ws = makeWorkspace(toml.join('\n') + '\n');
    writeFileSync(join(ws, 'prober.py'), PROBER);
    const rt = await startRuntime(ws, [], { env: { LOOM_PYTHON: PYTHON } });
    const c = connect(rt.discovery().address, { token: rt.discovery().token });
    clients.push(c);
    let lastError = '';
    await until('the agent to fail to start', async () => {
      const a = (await call(c.runtime, 'ListAgents', {})).agents.find(
        (x: { agentId: string }) => x.agentId === 'broken',
      );
      lastError = a?.lastError ?? '';
      return lastError !== '';
    });
    assert.match(lastError, /cannot start/);
    // A confined shell call after it: bwrap makes the placeholder, and the call's end must remove it.
    const out = await call(c.tools, 'CallTool', {
      id: 's1',
      name: 'system:shell',
      arguments: JSON.stringify({ command: 'echo', args: ['hi'] }),
    });
    assert.equal(out.status, 'TOOL_OK', JSON.stringify(out));
    assert.equal(existsSync(join(ws, '.git')), false, 'the empty .git placeholder outlived every confined process');
  });

  it('an agent that requires isolation where bubblewrap is missing does not start, and says what is missing', async () => {
    const { ws } = workspace('required');
    const rt = await startRuntime(ws, [], { env: { LOOM_PYTHON: PYTHON, LOOM_BWRAP: '/nonexistent/bwrap' } });
    const c = connect(rt.discovery().address, { token: rt.discovery().token });
    clients.push(c);
    const agent = await rt
      .waitFor(
        'the agent to fail',
        () =>
          rt.logs.find(
            (l) => l.msg.startsWith('agent') && String(l.error ?? l.reason ?? l.how ?? '').includes('bubblewrap'),
          ),
        30_000,
      )
      .catch(async () => undefined);
    const listed = (await call(c.runtime, 'ListAgents', {})).agents.find(
      (a: { agentId: string }) => a.agentId === 'prober',
    );
    const why = `${listed?.lastError ?? ''} ${JSON.stringify(agent ?? {})}`;
    assert.match(why, /bubblewrap/);
    assert.match(why, /agents\.prober\.isolation/);
    assert.ok(!listed?.pid, 'no process runs');
  });

  it('an MCP stdio server with isolation = "required" runs confined: its tool cannot read outside the workspace', async () => {
    const ws = makeWorkspace();
    const outside = join(dirname(ws), `${ws.split('/').pop()}-mcp-outside.txt`);
    writeFileSync(outside, SECRET);
    const server = join(REPO, 'test', 'fixtures', 'mcp', 'fixture-server.ts');
    const tsx = join(REPO, 'node_modules', 'tsx', 'dist', 'loader.mjs');
    const toml = [
      '[mcp.box]',
      `command = ${JSON.stringify(process.execPath)}`,
      `args = ["--import", ${JSON.stringify(tsx)}, ${JSON.stringify(server)}]`,
      'isolation = "required"',
      `read_only_paths = [${JSON.stringify(REPO)}]`,
      '[mcp.open]',
      `command = ${JSON.stringify(process.execPath)}`,
      `args = ["--import", ${JSON.stringify(tsx)}, ${JSON.stringify(server)}]`,
    ].join('\n');
    writeFileSync(join(ws, 'loom.toml'), toml + '\n');
    const rt = await startRuntime(ws);
    const c = connect(rt.discovery().address, { token: rt.discovery().token });
    clients.push(c);
    const deadline = Date.now() + 40_000;
    let names: string[] = [];
    while (Date.now() < deadline) {
      names = (await call(c.tools, 'ListTools', {})).tools.map((t: { name: string }) => t.name);
      if (names.some((n) => n.startsWith('box:')) && names.some((n) => n.startsWith('open:'))) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.ok(
      names.includes('box:read_file') && names.includes('open:read_file'),
      `both servers are up (tools: ${names.join(', ')})\n${rt.stderrText.slice(-20).join('\n')}`,
    );
    const confined = await call(c.tools, 'CallTool', {
      id: 'm1',
      name: 'box:read_file',
      arguments: JSON.stringify({ path: outside }),
    });
    const open = await call(c.tools, 'CallTool', {
      id: 'm2',
      name: 'open:read_file',
      arguments: JSON.stringify({ path: outside }),
    });
    assert.ok(
      JSON.stringify(open).includes(SECRET),
      `control: the unconfined server reads it (${JSON.stringify(open).slice(0, 300)})`,
    );
    assert.ok(!JSON.stringify(confined).includes(SECRET), 'the confined server cannot');
    assert.match(JSON.stringify(confined), /ENOENT/, 'for it, the file does not exist');
  });
});
