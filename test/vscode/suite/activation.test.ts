// @vscode-suite main 10
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { COMMANDS } from '../../../extension/commands';
import { SETTING_KEYS } from '../../../extension/settings';
import { EXTENSION_ID, loomApi } from './helpers';

describe('activation', () => {
  it('activates in a workspace with loom.toml without starting the runtime (autoStart is off here)', async () => {
    const api = await loomApi();
    assert.equal(vscode.extensions.getExtension(EXTENSION_ID)?.isActive, true);
    assert.equal(api.state, 'stopped');
    assert.equal(api.runtime, undefined);
    assert.match(api.statusText, /Loom stopped/);
  });

  it('reports how long loading the bundle and the activate call took', async () => {
    const { activation } = (await loomApi()) as unknown as {
      activation: { loadMs: number; activateMs: number; coreLoadMs: number };
    };
    // Figures, not a timed assertion: the entry bundle and activate call stay small, core loads after.
    console.log(
      `      activation: load ${activation.loadMs.toFixed(1)} ms, activate call ${activation.activateMs.toFixed(1)} ms; then core ${activation.coreLoadMs.toFixed(1)} ms`,
    );
    assert.ok(activation.loadMs > 0 && activation.activateMs > 0 && activation.coreLoadMs > 0);
  });

  it('registers every command it contributes, and contributes every command it registers', async () => {
    await loomApi();
    const registered = new Set(await vscode.commands.getCommands(true));
    const missing = COMMANDS.filter((c) => !registered.has(c));
    assert.deepEqual(missing, []);
    const manifest = vscode.extensions.getExtension(EXTENSION_ID)!.packageJSON as {
      contributes: { commands: { command: string; category: string }[] };
    };
    assert.deepEqual(manifest.contributes.commands.map((c) => c.command).sort(), [...COMMANDS].sort());
    assert.ok(
      manifest.contributes.commands.every((c) => c.category === 'Loom'),
      'every command sits under "Loom" in the palette',
    );
  });

  it("its walkthrough's steps show files the extension carries and run commands it contributes", async () => {
    const ext = vscode.extensions.getExtension(EXTENSION_ID)!;
    const manifest = ext.packageJSON as {
      contributes: { walkthroughs: { id: string; steps: { description: string; media: { markdown: string } }[] }[] };
    };
    const [walkthrough] = manifest.contributes.walkthroughs;
    assert.equal(walkthrough?.id, 'loom.gettingStarted');
    assert.ok(walkthrough.steps.length >= 4);
    for (const step of walkthrough.steps) {
      assert.match(readFileSync(join(ext.extensionPath, step.media.markdown), 'utf8'), /^# /, step.media.markdown);
      for (const [, command] of step.description.matchAll(/\(command:([\w.]+)\)/g))
        assert.ok((COMMANDS as readonly string[]).includes(command!), `${command} is contributed`);
    }
  });

  it('activates where a loom.toml is (or on its commands and views), and shows its views and runtime commands only there', () => {
    type Manifest = {
      activationEvents: string[];
      contributes: {
        views: { loom: { id: string; when: string }[] };
        menus: { commandPalette: { command: string; when: string }[] };
      };
    };
    const manifest = vscode.extensions.getExtension(EXTENSION_ID)!.packageJSON as Manifest;
    // Commands and views activate it by themselves (VS Code derives onCommand/onView from contributes).
    assert.deepEqual(manifest.activationEvents, ['workspaceContains:loom.toml', 'onWebviewPanel:loom.dashboard']);
    for (const view of manifest.contributes.views.loom) assert.match(view.when, /\bloom\.hasConfig\b/, view.id);
    const hidden = new Map(manifest.contributes.menus.commandPalette.map((m) => [m.command, m.when]));
    for (const command of ['loom.startRuntime', 'loom.restartRuntime', 'loom.openDashboard', 'loom.newAgent'])
      assert.match(hidden.get(command) ?? '', /loom\.hasConfig/, command);
    // Reachable in a folder without loom.toml: the way to make one (the walkthrough's first step runs it).
    assert.equal(hidden.get('loom.initWorkspace'), undefined);
  });

  it('documents every setting it reads', () => {
    const manifest = vscode.extensions.getExtension(EXTENSION_ID)!.packageJSON as {
      contributes: {
        configuration: { properties: Record<string, { markdownDescription?: string; description?: string }> };
      };
    };
    const props = manifest.contributes.configuration.properties;
    for (const key of SETTING_KEYS) {
      const p = props[`loom.${key}`];
      assert.ok(p, `loom.${key} is declared`);
      assert.ok((p.markdownDescription ?? p.description ?? '').length > 20, `loom.${key} is documented`);
    }
    assert.deepEqual(Object.keys(props).sort(), SETTING_KEYS.map((k) => `loom.${k}`).sort());
  });

  it('binds ctrl+alt+l to hotkey.default and runs in the workspace extension host', () => {
    const ext = vscode.extensions.getExtension(EXTENSION_ID)!;
    const manifest = ext.packageJSON as {
      contributes: { keybindings: { command: string; key: string; args: unknown }[] };
      extensionKind: string[];
    };
    assert.deepEqual(
      manifest.contributes.keybindings.find((k) => k.key === 'ctrl+alt+l'),
      {
        command: 'loom.hotkey',
        key: 'ctrl+alt+l',
        mac: 'cmd+alt+l',
        args: { name: 'default' },
        when: 'loom.hasConfig',
      },
    );
    assert.ok(manifest.extensionKind.includes('workspace'));
    assert.equal(ext.extensionKind, vscode.ExtensionKind.Workspace);
    // The manifest on disk is the one VS Code loaded.
    const onDisk = JSON.parse(readFileSync(join(ext.extensionPath, 'package.json'), 'utf8')) as {
      contributes: unknown;
    };
    assert.deepEqual(onDisk.contributes, (ext.packageJSON as { contributes: unknown }).contributes);
  });
});
