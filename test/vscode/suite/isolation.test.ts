// @vscode-suite main 120
// The runtime status bar item says how system:shell is confined (GetStats' isolation): bubblewrap
// as normal; a warning look naming what is missing and the setting when isolation is required and
// unavailable; "unconfined" for best-effort; "off" when it is off. A missing bubblewrap is what the
// runtime sees with LOOM_BWRAP naming one that does not exist (the launcher passes the extension
// host's environment on), and [tools.shell] isolation is set in the workspace's loom.toml.
import * as assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { Probe, loomApi, workspaceDir } from './helpers';

type RuntimeInfo = { address: string; token: string; pid: number };

const MISSING_BWRAP = '/nonexistent/bwrap';

describe('the status bar on the isolation of system:shell', () => {
  const toml = () => join(workspaceDir(), 'loom.toml');
  let original: string;
  let bwrapBefore: string | undefined;

  before(async () => {
    await vscode.commands.executeCommand('loom.stopRuntime');
    original = readFileSync(toml(), 'utf8');
    bwrapBefore = process.env.LOOM_BWRAP;
  });

  afterEach(async () => {
    await vscode.commands.executeCommand('loom.stopRuntime');
    writeFileSync(toml(), original);
    if (bwrapBefore === undefined) delete process.env.LOOM_BWRAP;
    else process.env.LOOM_BWRAP = bwrapBefore;
  });

  /** Starts a runtime with `isolation` in loom.toml (none: the default) and bubblewrap present or not. */
  async function start(o: { isolation?: string; bwrap: 'present' | 'missing' }): Promise<RuntimeInfo> {
    if (o.isolation) writeFileSync(toml(), `${original}\n[tools.shell]\nisolation = "${o.isolation}"\n`);
    if (o.bwrap === 'missing') process.env.LOOM_BWRAP = MISSING_BWRAP;
    else delete process.env.LOOM_BWRAP;
    const info = await vscode.commands.executeCommand<RuntimeInfo>('loom.startRuntime');
    assert.equal((await loomApi()).state, 'running');
    return info;
  }

  it('normally: no warning look, and the tooltip says commands run under bubblewrap', async () => {
    await start({ bwrap: 'present' });
    const api = await loomApi();
    assert.equal(api.statusBackground, undefined);
    assert.doesNotMatch(api.statusText, /\$\(warning\)/);
    assert.match(
      api.statusTooltip,
      /system:shell runs commands under bubblewrap \(tools\.shell\.isolation = "required"\)\./,
    );
  });

  it('required and unavailable: the warning look, and a tooltip naming bubblewrap and the setting; the shell refuses', async () => {
    const info = await start({ bwrap: 'missing' });
    const api = await loomApi();
    assert.equal(api.statusBackground, 'statusBarItem.warningBackground');
    assert.match(api.statusText, /^\$\(pulse\) Loom: \d+ agents? \$\(warning\)$/);
    assert.match(
      api.statusTooltip,
      /system:shell refuses: OS isolation is required \(tools\.shell\.isolation = "required"\) and unavailable: bubblewrap \(bwrap\) is not installed/,
    );
    assert.ok(api.statusTooltip.includes(MISSING_BWRAP), api.statusTooltip);
    assert.match(api.statusTooltip, /set tools\.shell\.isolation = "best-effort" or "off" in loom\.toml/);
    // What the item says is what the runtime does.
    const probe = new Probe(info);
    try {
      const shell = await probe.callTool('system:shell', { command: 'echo', args: ['hi'] });
      assert.equal(shell.error?.code, 'unavailable');
      assert.match(shell.error!.message, /tools\.shell\.isolation/);
    } finally {
      probe.close();
    }
    // Stopped, the runtime's isolation is no longer shown.
    await vscode.commands.executeCommand('loom.stopRuntime');
    assert.equal(api.statusBackground, undefined);
    assert.doesNotMatch(api.statusTooltip, /system:shell/);
  });

  it('best-effort and unavailable: no warning look; the tooltip says commands run unconfined', async () => {
    await start({ isolation: 'best-effort', bwrap: 'missing' });
    const api = await loomApi();
    assert.equal(api.statusBackground, undefined);
    assert.match(
      api.statusTooltip,
      /system:shell runs commands unconfined: OS isolation is unavailable \(tools\.shell\.isolation = "best-effort"\): bubblewrap \(bwrap\) is not installed/,
    );
  });

  it('off: the tooltip says isolation is off', async () => {
    await start({ isolation: 'off', bwrap: 'present' });
    const api = await loomApi();
    assert.equal(api.statusBackground, undefined);
    assert.match(
      api.statusTooltip,
      /OS isolation is off \(tools\.shell\.isolation = "off" in loom\.toml\): system:shell runs commands unconfined/,
    );
  });
});
