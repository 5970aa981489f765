// @vscode-suite main 90
// "Loom: Set API Key": the key goes to SecretStorage (not settings) and reaches the runtime's
// environment, which the runtime hands to the agents it spawns.
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as vscode from 'vscode';
import { Probe, eventually } from './helpers';

type RuntimeInfo = { address: string; token: string; pid: number };

function environOf(pid: number): Map<string, string> {
  const entries = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter(Boolean);
  return new Map(entries.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
}

describe('API keys', () => {
  after(async () => {
    await vscode.commands.executeCommand('loom.stopRuntime');
  });

  it('stores a key in secret storage and hands it to the runtime it starts, and on to its agents', async () => {
    await vscode.commands.executeCommand('loom.setApiKey', { name: 'TEST_LOOM_API_KEY', value: 'sk-test-123' });
    const inspected = vscode.workspace.getConfiguration().inspect('TEST_LOOM_API_KEY');
    assert.equal(inspected?.globalValue, undefined, 'not written to settings');
    await vscode.commands.executeCommand('loom.stopRuntime');
    const info = await vscode.commands.executeCommand<RuntimeInfo>('loom.startRuntime');
    const env = environOf(info.pid);
    assert.equal(env.get('TEST_LOOM_API_KEY'), 'sk-test-123');
    assert.equal(env.get('ELECTRON_RUN_AS_NODE'), '1');
    assert.ok(env.get('LOOM_PYTHON'), 'the interpreter for agents is passed on');

    await vscode.commands.executeCommand('loom.startAgent', 'watcher');
    const probe = new Probe(info);
    try {
      const pid = await eventually(
        'agent watcher to connect',
        async () => {
          const a = (await probe.listAgents()).find((x) => x.agentId === 'watcher');
          return a?.state === 'connected' && a.pid ? a.pid : undefined;
        },
        60_000,
      );
      const agentEnv = environOf(pid);
      assert.equal(agentEnv.get('TEST_LOOM_API_KEY'), 'sk-test-123', 'the spawned agent has the key');
      assert.equal(agentEnv.get('LOOM_AGENT_ID'), 'watcher', 'it is the agent process');
    } finally {
      probe.close();
    }
  });

  it('refuses a name that is not an environment variable name', async () => {
    await assert.rejects(
      Promise.resolve(vscode.commands.executeCommand('loom.setApiKey', { name: 'bad name', value: 'x' })),
      /not an environment variable name/,
    );
  });

  it('refuses a name that would change how the runtime or its agents run', async () => {
    for (const name of ['NODE_OPTIONS', 'LD_PRELOAD', 'PYTHONPATH', 'LOOM_TOKEN', 'LOOM_ADDR_KEY'])
      await assert.rejects(
        Promise.resolve(vscode.commands.executeCommand('loom.setApiKey', { name, value: 'x' })),
        new RegExp(`"${name}" is not a name for a secret`),
      );
  });
});
