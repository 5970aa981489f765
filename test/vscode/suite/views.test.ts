// @vscode-suite main 60
// The palette commands without a suite of their own, the "Loom Runtime" and agent channels, the
// Agents tree's rows and the status bar item — read through the test-mode commands, against the
// real runtime and a real Python agent.
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { TEST_AGENTS_TREE_COMMAND, TEST_CHANNEL_COMMAND } from '../../../extension/loom';
import { Probe, eventually, loomApi, outputOf, workspaceDir } from './helpers';

type RuntimeInfo = { address: string; token: string; pid: number; owned: boolean };
type Line = { level: string; text: string };
type Row = {
  label: string;
  description: string;
  contextValue: string;
  info?: { state: string; pid: number; restarts: number; lastHeartbeatMs: number };
};

const channel = async (name: string) =>
  (await vscode.commands.executeCommand<Line[] | undefined>(TEST_CHANNEL_COMMAND, name)) ?? [];
const rows = async () => vscode.commands.executeCommand<Row[]>(TEST_AGENTS_TREE_COMMAND);

async function connected(probe: Probe, id: string, unlike?: number): Promise<number> {
  return eventually(
    `agent ${id} to connect${unlike ? ` with a pid other than ${unlike}` : ''}`,
    async () => {
      const a = (await probe.listAgents()).find((x) => x.agentId === id);
      return a?.state === 'connected' && a.pid && a.pid !== unlike ? a.pid : undefined;
    },
    60_000,
  );
}

describe('commands, channels and views', () => {
  let probe: Probe;

  before(async () => {
    probe = new Probe(await vscode.commands.executeCommand<RuntimeInfo>('loom.startRuntime'));
  });

  after(async () => {
    probe?.close();
    await vscode.commands.executeCommand('loom.stopRuntime');
  });

  it("the runtime status bar item's command opens the dashboard", async () => {
    const api = await loomApi();
    assert.equal((api as { statusCommand?: string }).statusCommand, 'loom.openDashboard');
    assert.ok((await vscode.commands.getCommands(true)).includes('loom.openDashboard'));
  });

  it('Show Runtime Log and Refresh resolve; Refresh lists the agents loom.toml declares', async () => {
    await vscode.commands.executeCommand('loom.showRuntimeLog');
    await vscode.commands.executeCommand('loom.refresh');
    const watcher = (await rows()).find((r) => r.label === 'watcher');
    assert.ok(watcher, 'watcher is in the Agents tree');
    assert.equal(watcher.contextValue, 'loomAgent.stopped');
  });

  it('the runtime channel keeps the levels of the runtime log lines it was piped', async () => {
    const lines = await channel('Loom Runtime');
    const started = lines.find((l) => l.text.startsWith('runtime started'));
    assert.ok(started, `"runtime started" is in the channel: ${JSON.stringify(lines.slice(-5))}`);
    assert.equal(started.level, 'info');
    assert.ok(
      lines.some((l) => l.level === 'debug'),
      'the fixture runs the runtime at log_level debug: debug lines stay debug',
    );
  });

  it('Restart Agent restarts a supervised agent: a new process', async () => {
    await vscode.commands.executeCommand('loom.startAgent', 'watcher');
    const before = await connected(probe, 'watcher');
    await vscode.commands.executeCommand('loom.restartAgent', 'watcher');
    const after = await connected(probe, 'watcher', before);
    assert.notEqual(after, before);
  });

  it('the Agents tree row shows state, pid, restarts and how long ago the last heartbeat was', async () => {
    const agent = (await probe.listAgents()).find((a) => a.agentId === 'watcher')!;
    await vscode.commands.executeCommand('loom.refresh');
    const row = await eventually('the watcher row to show the running agent', async () =>
      (await rows()).find((r) => r.label === 'watcher' && r.info?.pid === agent.pid),
    );
    assert.equal(row.contextValue, 'loomAgent.running');
    assert.equal(row.info!.state, 'connected');
    const restarts = agent.restarts ? ` · ${agent.restarts} restart${agent.restarts === 1 ? '' : 's'}` : '';
    assert.match(row.description, new RegExp(`^connected · pid ${agent.pid}${restarts} · heartbeat \\d+s ago$`));
  });

  it("Show Agent Logs opens the agent's channel holding what the supervisor kept (agents:logs)", async () => {
    const kept = await eventually('the supervisor to keep some output of watcher', async () => {
      const { lines } = outputOf(await probe.callTool('agents:logs', { agent_id: 'watcher', limit: 1000 })) as {
        lines: { line: string }[];
      };
      return lines.length ? lines : undefined;
    });
    assert.equal(await vscode.commands.executeCommand('loom.showAgentLogs', 'watcher'), 'watcher');
    const shown = (await channel('Loom Agent: watcher')).map((l) => l.text);
    for (const { line } of kept)
      assert.ok(
        shown.some((t) => t.endsWith(line)),
        `"${line}" is in the channel`,
      );
  });

  describe('a kept-alive runtime', () => {
    before(async () => {
      probe.close();
      await vscode.commands.executeCommand('loom.stopRuntime');
      await vscode.workspace
        .getConfiguration('loom')
        .update('runtime.keepAlive', true, vscode.ConfigurationTarget.Workspace);
    });

    after(async () => {
      await vscode.commands.executeCommand('loom.stopRuntime');
      await vscode.workspace
        .getConfiguration('loom')
        .update('runtime.keepAlive', undefined, vscode.ConfigurationTarget.Workspace);
    });

    it('its output, which goes to .loom/runtime.log, reaches the runtime channel with its levels', async () => {
      const info = await vscode.commands.executeCommand<RuntimeInfo>('loom.startRuntime');
      assert.equal(info.owned, true);
      const file = join(workspaceDir(), '.loom', 'runtime.log');
      const mine = new RegExp(`"msg":"runtime started".*"pid":${info.pid}\\b`);
      await eventually('the runtime to log its start to the file', () =>
        mine.test(readFileSync(file, 'utf8')) ? true : undefined,
      );
      const line = await eventually('the start line of this runtime in the channel', async () =>
        (await channel('Loom Runtime')).find(
          (l) => l.text.startsWith('runtime started') && l.text.includes(`pid=${info.pid}`),
        ),
      );
      assert.equal(line.level, 'info');
      // A line written after start comes through too: the file is followed, not read once.
      await vscode.commands.executeCommand('loom.refresh');
      probe = new Probe(info);
      await probe.subscribe(['views.test.>']);
      const registered = new RegExp(`${probe.id}`);
      await eventually('a line about the probe registering', async () =>
        registered.test(readFileSync(file, 'utf8')) ? true : undefined,
      );
      await eventually('that line in the channel', async () =>
        (await channel('Loom Runtime')).some((l) => registered.test(l.text)) ? true : undefined,
      );
    });
  });
});
