// @vscode-suite main 125
// The loom.cluster.* settings and the status bar: with loom.cluster.servers naming a real
// nats-server (which wants a token, kept as a secret and named by loom.cluster.tokenSecret), the
// runtime the window starts joins it under loom.cluster.node although loom.toml has no [cluster];
// the status bar item shows the link, takes the warning look when the server dies, and recovers
// when it is back (cluster.health events, over time).
import * as assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { NatsCluster } from '../../support/nats';
import { EXTENSION_ID, Probe, eventually, loomApi, workspaceDir } from './helpers';

type RuntimeInfo = { address: string; token: string; pid: number };
type Row = { label: string; description: string; contextValue: string };

const TOKEN_SECRET = 'TEST_LOOM_NATS_TOKEN';
const KEYS = ['cluster.servers', 'cluster.node', 'cluster.tokenSecret', 'cluster.share'];

describe('loom.cluster.* settings and the status bar', function () {
  this.timeout(120_000);
  const config = () => vscode.workspace.getConfiguration('loom');
  let nats: NatsCluster | undefined;
  let probe: Probe | undefined;
  let other: { dir: string; proc: ChildProcess } | undefined;

  after(async () => {
    probe?.close();
    if (other) {
      const { proc, dir } = other;
      if (proc.exitCode === null) {
        const exited = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGTERM'); // it stops its agent first
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    }
    for (const key of KEYS) await config().update(key, undefined, vscode.ConfigurationTarget.Workspace);
    await vscode.commands.executeCommand('loom.stopRuntime');
    await nats?.stop();
  });

  it('join the server they name, and the status bar follows the link as the server dies and returns', async () => {
    nats = await NatsCluster.start({ nodes: 1, token: 'cluster-secret-token' });
    await vscode.commands.executeCommand('loom.setApiKey', { name: TOKEN_SECRET, value: 'cluster-secret-token' });
    await config().update('cluster.servers', nats.urls, vscode.ConfigurationTarget.Workspace);
    await config().update('cluster.node', 'vscode-window', vscode.ConfigurationTarget.Workspace);
    await config().update('cluster.tokenSecret', TOKEN_SECRET, vscode.ConfigurationTarget.Workspace);
    await config().update('cluster.share', ['settings.cluster.>'], vscode.ConfigurationTarget.Workspace);
    const info = await vscode.commands.executeCommand<RuntimeInfo>('loom.restartRuntime');
    probe = new Probe(info);
    const api = await loomApi();

    const stats = await eventually('the runtime to join the cluster', async () => {
      const s = await probe!.stats();
      return s.cluster?.state === 'connected' ? s : undefined;
    });
    assert.equal(stats.cluster?.node, 'vscode-window');
    const hostPort = nats.urls[0]!.replace(/^nats:\/\//, ''); // the NATS client names a server without its scheme
    assert.equal(stats.cluster?.server, hostPort);
    await eventually('the status bar to show the link', async () =>
      /\$\(cloud\)$/.test(api.statusText) ? true : undefined,
    );
    assert.match(api.statusTooltip, new RegExp(`Cluster: node "vscode-window" connected to ${hostPort}`));
    assert.equal(api.statusBackground, undefined);
    assert.doesNotMatch(api.statusTooltip, /cluster-secret-token/, 'the token is never shown');

    // A headless runtime on another node with an agent of the same id as one this window's
    // loom.toml declares: the Agents view shows both, the other one marked as another runtime's.
    const dir = mkdtempSync(join(tmpdir(), 'loom-vscode-other-'));
    writeFileSync(
      join(dir, 'loom.toml'),
      `[cluster]\nservers = ${JSON.stringify(nats.urls)}\nnode = "other-node"\ntoken = "cluster-secret-token"\n\n` +
        `[agents.watcher]\ncommand = "python"\nargs = [${JSON.stringify(join(workspaceDir(), 'agents', 'watcher.py'))}]\n`,
    );
    const runtimeJs = join(vscode.extensions.getExtension(EXTENSION_ID)!.extensionPath, 'dist', 'runtime.js');
    other = { dir, proc: spawn(process.execPath, [runtimeJs, '--workspace', dir], { stdio: 'ignore' }) };
    const rows = await eventually(
      "the other runtime's agent in the Agents view",
      async () => {
        await vscode.commands.executeCommand('loom.refresh');
        const all = (await vscode.commands.executeCommand<Row[]>('loom.test.agentsTree')).filter(
          (r) => r.label === 'watcher',
        );
        const remote = all.find((r) => r.contextValue === 'loomAgent.remote');
        const local = all.find((r) => r.contextValue !== 'loomAgent.remote');
        return remote && local ? { remote, local } : undefined;
      },
      60_000,
    );
    assert.match(rows.remote.description, /on other-node/);
    assert.doesNotMatch(rows.local.description ?? '', /on other-node/);

    await nats.kill(nats.nodes[0]!);
    await eventually('the status bar to say the link is lost', async () =>
      /\$\(cloud-offline\)/.test(api.statusText) && api.statusBackground === 'statusBarItem.warningBackground'
        ? true
        : undefined,
    );
    assert.match(api.statusTooltip, /Cluster: node "vscode-window" (reconnecting|disconnected)/);
    assert.match(api.statusTooltip, /Agents keep working locally/);
    assert.equal(api.state, 'running', 'the runtime goes on without NATS');

    await nats.launch(nats.nodes[0]!);
    await eventually('the status bar to show the link again', async () =>
      /\$\(cloud\)$/.test(api.statusText) && api.statusBackground === undefined ? true : undefined,
    );
  });

  it('a bad setting stops the start with an error naming it', async () => {
    await config().update('cluster.servers', ['http://not-nats:1'], vscode.ConfigurationTarget.Workspace);
    await assert.rejects(
      Promise.resolve(vscode.commands.executeCommand('loom.restartRuntime')),
      /cluster\.servers\[0\]: must be a NATS URL/,
    );
  });
});
