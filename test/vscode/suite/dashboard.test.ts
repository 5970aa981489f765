// @vscode-suite main 110
// The dashboard panel inside VS Code, against the real runtime: it opens from the command, shows
// what another client publishes (read back from the page itself through the typed test probe),
// follows the runtime across a restart, resumes after being hidden, and its Content Security
// Policy refuses an inline script, a remote image and a remote fetch.
import * as assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import * as vscode from 'vscode';
import { loadLoomPackage } from '../../../runtime/proto';
import type { LoomExports } from '../../../extension/extension';
import { eventually, loomApi, workspaceDir, screenshot } from './helpers';
import { join } from 'node:path';

type RuntimeInfo = { address: string; token: string; pid: number };

/** Publishes one event as its own client (agent "dashboard-test") with Runtime.Publish. */
async function publish(runtime: RuntimeInfo, topic: string, times = 1): Promise<void> {
  const pkg = loadLoomPackage();
  const client = new pkg.Runtime(runtime.address, grpc.credentials.createInsecure());
  const md = new grpc.Metadata();
  md.set('authorization', `Bearer ${runtime.token}`);
  md.set('x-loom-agent-id', 'dashboard-test');
  const event = () => ({
    id: randomUUID(),
    type: 'test',
    timestampMs: Date.now(),
    source: 'dashboard-test',
    metadata: {},
    payload: Buffer.from('{"n":1}'),
    confidence: 1,
    tags: [],
    priority: 0,
  });
  try {
    for (let i = 0; i < times; i++)
      await new Promise<void>((resolve, reject) =>
        client.Publish({ topic, event: event() }, md, (err) => (err ? reject(err) : resolve())),
      );
  } finally {
    client.close();
  }
}

function dashboardTab(): vscode.Tab | undefined {
  return vscode.window.tabGroups.all
    .flatMap((g) => g.tabs)
    .find((t) => t.input instanceof vscode.TabInputWebview && t.input.viewType.endsWith('loom.dashboard'));
}

describe('dashboard panel', () => {
  let api: LoomExports;

  /** Publishes on a fresh topic until the page lists it (the feed may still be opening). */
  async function seenOnPage(prefix: string): Promise<string> {
    const topic = `${prefix}.${randomUUID().slice(0, 8)}`;
    return eventually(`the dashboard page to list ${topic}`, async () => {
      await publish(api.runtime!, topic);
      const view = await api.dashboard.probe('view');
      return view.topics?.includes(topic) ? topic : undefined;
    });
  }

  before(async () => {
    api = (await loomApi()) as LoomExports;
  });

  after(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await vscode.commands.executeCommand('loom.stopRuntime');
  });

  it('"Loom: Open Dashboard" opens the panel and starts the runtime that feeds it', async () => {
    await vscode.commands.executeCommand('loom.openDashboard');
    const tab = await eventually('a dashboard tab', dashboardTab);
    assert.equal(tab.label, 'Loom Dashboard');
    assert.equal(api.dashboard.open, true);
    await eventually('the runtime to run', () => (api.state === 'running' ? true : undefined), 60_000);
    const view = await eventually('the page to say connected', async () => {
      const v = await api.dashboard.probe('view');
      return v.connection === 'connected' ? v : undefined;
    });
    assert.equal(view.connection, 'connected');
  });

  it('shows an event another client publishes, with its topic', async () => {
    const topic = await seenOnPage('dashboard.probe');
    const view = await api.dashboard.probe('view');
    assert.ok(view.topics!.includes(topic));
  });

  it('running the command again reveals the same panel instead of opening a second', async () => {
    await vscode.commands.executeCommand('loom.openDashboard');
    assert.equal(api.dashboard.visible, true);
    const tabs = vscode.window.tabGroups.all
      .flatMap((g) => g.tabs)
      .filter((t) => t.input instanceof vscode.TabInputWebview && t.input.viewType.endsWith('loom.dashboard'));
    assert.equal(tabs.length, 1);
  });

  it('its Content Security Policy refuses an inline script, a remote image and a remote fetch', async () => {
    const answer = await api.dashboard.probe('csp');
    assert.equal(answer.inlineScriptRan, false, 'the inline script did not run');
    const directives = answer.refused!.map((r) => r.directive).sort();
    assert.deepEqual(directives, ['connect-src', 'img-src', 'script-src-elem'], JSON.stringify(answer.refused));
    for (const r of answer.refused!.filter((x) => x.directive !== 'script-src-elem'))
      assert.match(r.blocked, /^https:\/\/example\.com\/loom-csp-probe/);
    assert.equal(answer.refused!.find((r) => r.directive === 'script-src-elem')!.blocked, 'inline');
  });

  it('closes the feed while hidden behind an editor, and resumes it when shown again', async () => {
    assert.equal(api.dashboard.streaming, true);
    const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(join(workspaceDir(), 'notes.txt')));
    await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.Active, preview: false });
    await eventually('the panel to be hidden', () => (api.dashboard.visible ? undefined : true));
    assert.equal(api.dashboard.streaming, false, 'no feed while hidden');
    await vscode.commands.executeCommand('loom.openDashboard');
    await eventually('the panel to be visible', () => (api.dashboard.visible ? true : undefined));
    assert.equal(api.dashboard.streaming, true, 'the feed is open again');
    await seenOnPage('dashboard.resumed');
  });

  it('shows what was published while it was hidden, and says how many events it missed beyond what the runtime keeps', async () => {
    const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(join(workspaceDir(), 'notes.txt')));
    await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.Active, preview: false });
    await eventually('the panel to be hidden', () => (api.dashboard.visible ? undefined : true));
    const early = `dashboard.hidden.${randomUUID().slice(0, 8)}`;
    await publish(api.runtime!, early);
    await publish(api.runtime!, 'dashboard.flood', 650); // more than the 500 the runtime keeps
    const late = `dashboard.hidden.${randomUUID().slice(0, 8)}`;
    await publish(api.runtime!, late);
    await vscode.commands.executeCommand('loom.openDashboard');
    const view = await eventually('the page to list what came while hidden', async () => {
      const v = await api.dashboard.probe('view');
      return v.topics?.includes(late) ? v : undefined;
    });
    assert.ok(!view.topics!.includes(early), 'the early event is beyond what the runtime keeps');
    assert.match(view.count ?? '', /· (\d+) missed while the dashboard was hidden/);
    const missed = Number(/· (\d+) missed/.exec(view.count!)![1]);
    assert.ok(missed >= 150, `missed ${missed} (651 published while hidden, 500 kept)`);
    await screenshot('dashboard-missed-while-hidden');
  });

  it('follows the runtime across a restart: the feed reconnects to the new runtime', async () => {
    const before = api.runtime!.pid;
    await vscode.commands.executeCommand('loom.restartRuntime');
    assert.notEqual(api.runtime!.pid, before, 'a new runtime process');
    await seenOnPage('dashboard.restarted');
    assert.equal((await api.dashboard.probe('view')).connection, 'connected');
  });

  it('says the runtime is not running when it stops, and closing the tab disposes the panel', async () => {
    await vscode.commands.executeCommand('loom.stopRuntime');
    const view = await eventually('the page to say the runtime is gone', async () => {
      const v = await api.dashboard.probe('view');
      return v.connection?.startsWith('lost') ? v : undefined;
    });
    assert.match(view.connection!, /not running/);
    await vscode.window.tabGroups.close(dashboardTab()!);
    assert.equal(api.dashboard.open, false);
    await assert.rejects(api.dashboard.probe('view'), /not open/);
  });
});
