// End to end, as a user: the VSIX is installed into code-server with --install-extension, a
// workspace with a Python agent opens in Chromium, "Loom: Start Agent" runs from the palette,
// a file saved in the editor brings the agent's notification, and so does the hotkey; the
// dashboard opens from the palette, publishes from its page, and is restored after a window
// reload. Screenshots of each step land in test/output/.
import * as assert from 'node:assert/strict';
import { spawnSync, type ChildProcess } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Frame, Page } from 'playwright-core';
import {
  OUTPUT,
  ROOT,
  codeServerBinary,
  freePort,
  installExtension,
  launchBrowser,
  prepareDirs,
  stageExtension,
  startCodeServer,
  stopAll,
  workbenchUrl,
  type VsCodeDirs,
} from './harness';
import { eventually } from '../support/eventually';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Saves a screenshot and checks it is a real PNG of the whole viewport. */
async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(OUTPUT, { recursive: true });
  const path = join(OUTPUT, `e2e-${name}.png`);
  await page.screenshot({ path });
  const png = readFileSync(path);
  assert.ok(png.subarray(0, 8).equals(PNG_SIGNATURE), `${path} is a PNG`);
  assert.deepEqual(
    [png.readUInt32BE(16), png.readUInt32BE(20)],
    [1280, 800],
    `${path} shows the whole 1280x800 window`,
  );
  return path;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function until<T>(what: string, check: () => T | undefined, timeoutMs = 60_000): Promise<T> {
  return eventually(what, check, { timeoutMs, intervalMs: 200 });
}

function packageVsix(stage: string, out: string): void {
  const vsce = join(ROOT, 'node_modules', '@vscode', 'vsce', 'vsce');
  const r = spawnSync(
    process.execPath,
    [vsce, 'package', '--allow-missing-repository', '--no-rewrite-relative-links', '--out', out],
    { cwd: stage, encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`vsce package failed (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
}

describe('end to end: the installed VSIX in code-server', function () {
  let tmp: string;
  let dirs: VsCodeDirs;
  let server: ChildProcess | undefined;
  let browser: Browser | undefined;
  let page: Page;

  const statusItem = (text: RegExp) => page.locator('.statusbar-item', { hasText: text });
  const toast = (text: string) => page.locator('.notification-toast', { hasText: text });

  /** Waits until the notification has slid in and stands fully inside the window. */
  async function settledToast(text: string): Promise<void> {
    const t = toast(text);
    await t.waitFor({ timeout: 60_000 });
    await t.evaluate((el) => Promise.all(el.getAnimations({ subtree: true }).map((a) => a.finished)));
    await page.waitForFunction(
      (el) => el !== null && el.getAnimations().length === 0 && el.getBoundingClientRect().bottom <= window.innerHeight,
      await t.elementHandle(),
    );
    const box = await t.boundingBox();
    assert.ok(
      box && box.y >= 0 && box.y + box.height <= 800 && box.height > 0,
      `the notification "${text}" is on screen`,
    );
  }

  async function runFromPalette(command: string): Promise<void> {
    await page.keyboard.press('F1');
    const input = page.locator('.quick-input-widget input');
    await input.waitFor({ state: 'visible' });
    await input.fill(`>${command}`);
    await page.locator('.quick-input-list .monaco-list-row', { hasText: command }).first().waitFor();
    await page.keyboard.press('Enter');
  }

  before(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'loom-e2e-'));
    const stage = join(tmp, 'extension-under-test');
    stageExtension(stage);
    const vsix = join(tmp, 'loom.vsix');
    packageVsix(stage, vsix);
    const bin = codeServerBinary();
    dirs = prepareDirs(tmp, 'workspace', { 'security.workspace.trust.enabled': false, 'loom.runtime.autoStart': true });
    installExtension(bin, dirs, vsix);
    const port = await freePort();
    server = await startCodeServer(bin, port, dirs, () => undefined);
    ({ browser } = await launchBrowser().then(async ({ browser, context }) => {
      page = await context.newPage();
      return { browser };
    }));
    await page.goto(workbenchUrl(port, dirs.workspace));
    await page.locator('.monaco-workbench').waitFor({ timeout: 120_000 });
  });

  after(async () => {
    await browser?.close().catch(() => undefined);
    await stopAll(server, tmp);
    if (tmp && !process.env.LOOM_VSCODE_KEEP) rmSync(tmp, { recursive: true, force: true });
  });

  it('the installed extension carries the Python SDK as a wheel (for "Install Loom SDK")', () => {
    const installed = readdirSync(dirs.extensions).find((d) => d.includes('loom'));
    assert.ok(installed, `installed extensions: ${readdirSync(dirs.extensions).join(', ')}`);
    const wheels = readdirSync(join(dirs.extensions, installed, 'dist', 'sdk')).filter((f) => f.endsWith('.whl'));
    assert.deepEqual(
      wheels.map((w) => w.replace(/-\d+\.\d+\.\d+-/, '-X-')),
      ['loom_vscode_sdk-X-py3-none-any.whl'],
    );
  });

  it('the installed extension carries loom-close-fds, executable (the isolated shell starts bubblewrap through it)', () => {
    const installed = readdirSync(dirs.extensions).find((d) => d.includes('loom'))!;
    const launcher = join(dirs.extensions, installed, 'dist', 'bin', 'loom-close-fds');
    assert.equal(statSync(launcher).mode & 0o111, 0o111, `${launcher} is not executable`);
    const run = spawnSync(launcher, ['/bin/sh', '-c', 'ls /proc/self/fd'], {
      encoding: 'utf8',
      stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
    });
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(
      run.stdout
        .split('\n')
        .filter(Boolean)
        .map(Number)
        .sort((a, b) => a - b),
      [0, 1, 2, 3],
      "fd 3 is ls's own listing",
    );
  });

  it('starts the runtime when a workspace with loom.toml opens (status bar)', async () => {
    await statusItem(/Loom: 0 agents/).waitFor({ timeout: 120_000 });
    await screenshot(page, '1-runtime-started');
  });

  it('"Loom: Start Agent" from the palette starts the Python agent', async () => {
    await runFromPalette('Loom: Start Agent');
    const pick = page.locator('.quick-input-list .monaco-list-row', { hasText: 'watcher' });
    await pick.waitFor();
    await pick.click();
    await statusItem(/Loom: 1 agent\b/).waitFor({ timeout: 120_000 });
    await screenshot(page, '2-agent-started');
  });

  it('the Loom view lists the agent as connected, with its pid', async () => {
    await page.locator('.activitybar .action-item a[aria-label^="Loom"]').click();
    const row = page.locator('.monaco-list-row', { hasText: 'watcher' });
    await row.filter({ hasText: /connected · pid \d+/ }).waitFor({ timeout: 60_000 });
    await screenshot(page, '2b-agents-view');
    await page.locator('.activitybar .action-item a[aria-label^="Explorer"]').click();
  });

  it("saving a file in the editor brings the agent's notification", async () => {
    await runFromPalette('Go to File');
    const input = page.locator('.quick-input-widget input');
    await input.fill('notes.txt');
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'notes.txt' }).first().waitFor();
    await page.keyboard.press('Enter');
    const editor = page.locator('.monaco-editor .view-lines').first();
    await editor.waitFor();
    await editor.click();
    await page.keyboard.press('Control+End');
    await page.keyboard.type('a line typed in the browser\n');
    await page.keyboard.press('Control+S');
    await settledToast('watcher saw notes.txt saved');
    await screenshot(page, '3-save-notification');
    assert.match(readFileSync(join(dirs.workspace, 'notes.txt'), 'utf8'), /a line typed in the browser/);
  });

  it('the hotkey (ctrl+alt+l) reaches the agent, which answers in a notification and the status bar', async () => {
    await page.locator('.monaco-editor .view-lines').first().click();
    await page.keyboard.press('Control+Alt+KeyL');
    // The status bar says who heard it (for a few seconds).
    await statusItem(/Loom: sent hotkey\.default to .*watcher/).waitFor({ timeout: 4000 });
    await settledToast('watcher got hotkey.default in notes.txt');
    await statusItem(/watcher got hotkey\.default in notes\.txt/).waitFor();
    await screenshot(page, '4-hotkey-notification');
  });

  it('the getting-started walkthrough opens from the palette, its first step Initialize Workspace', async () => {
    await runFromPalette('Welcome: Open Walkthrough...');
    const pick = page.locator('.quick-input-list .monaco-list-row', { hasText: 'Get started with Loom' });
    await pick.waitFor({ timeout: 30_000 });
    await pick.click();
    await page
      .locator('.getting-started-step', { hasText: 'Initialize the workspace' })
      .first()
      .waitFor({ timeout: 30_000 });
    await screenshot(page, '4c-walkthrough');
    await page.locator('.tabs-container .tab', { hasText: 'Walkthrough' }).locator('.codicon-close').click();
    await page.locator('.tabs-container .tab', { hasText: 'Walkthrough' }).waitFor({ state: 'detached' });
  });

  /** The dashboard page: the webview's inner frame (VS Code nests it in two iframes) that holds our UI. */
  async function dashboardFrame(): Promise<Frame> {
    const deadline = Date.now() + 60_000;
    for (;;) {
      for (const frame of page.frames()) {
        if (
          await frame
            .locator('[data-testid=connection]')
            .count()
            .catch(() => 0)
        )
          return frame;
      }
      if (Date.now() > deadline) throw new Error('timed out waiting for the dashboard webview');
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  const dashboardTab = () => page.locator('.tabs-container .tab', { hasText: 'Loom Dashboard' });

  it('"Loom: Open Dashboard" shows the live dashboard; publishing from it puts the event on its list', async () => {
    await runFromPalette('Loom: Open Dashboard');
    await dashboardTab().waitFor({ timeout: 60_000 });
    const frame = await dashboardFrame();
    await frame.locator('[data-testid=connection].connected').waitFor({ timeout: 60_000 });
    await frame.locator('[data-testid=publish-topic]').fill('dashboard.e2e');
    await frame.locator('[data-testid=publish]').click();
    await frame.locator('[data-testid=publish-result]', { hasText: 'published' }).waitFor({ timeout: 30_000 });
    const row = frame.locator('[data-testid=event-list] .row[data-topic="dashboard.e2e"]').first();
    await row.waitFor({ timeout: 30_000 });
    await row.click();
    assert.match(
      (await frame.locator('[data-testid=event-detail]').textContent()) ?? '',
      /topic: dashboard\.e2e[\s\S]*"hello": "from the dashboard"/,
    );
    await screenshot(page, 'dashboard-events');
    await frame.locator('[data-testid=tab-agents]').click();
    await frame.locator('[data-testid=state-watcher]', { hasText: 'connected' }).waitFor({ timeout: 30_000 });
    await screenshot(page, 'dashboard-agents');
    await frame.locator('[data-testid=tab-events]').click();
  });

  it('the dashboard page runs no script its Content Security Policy does not allow', async () => {
    const frame = await dashboardFrame();
    const ran = await frame.evaluate(() => {
      const w = window as unknown as { loomE2eInline?: boolean };
      const s = document.createElement('script');
      s.textContent = 'window.loomE2eInline = true;';
      document.body.append(s);
      s.remove();
      return w.loomE2eInline === true;
    });
    assert.equal(ran, false, 'an inline script without the nonce did not run');
  });

  it('after "Developer: Reload Window" the dashboard is restored and live again', async () => {
    const reloaded = page.waitForEvent('framenavigated', { predicate: (f) => f === page.mainFrame(), timeout: 60_000 });
    await runFromPalette('Developer: Reload Window');
    await reloaded;
    await page.locator('.monaco-workbench').waitFor({ timeout: 120_000 });
    await dashboardTab().waitFor({ timeout: 120_000 });
    const frame = await dashboardFrame();
    await frame.locator('[data-testid=connection].connected').waitFor({ timeout: 120_000 });
    await frame.locator('[data-testid=publish-topic]').fill('dashboard.restored');
    await frame.locator('[data-testid=publish]').click();
    await frame
      .locator('[data-testid=event-list] .row[data-topic="dashboard.restored"]')
      .first()
      .waitFor({ timeout: 30_000 });
    await screenshot(page, 'dashboard-restored');
    await runFromPalette('View: Close All Editors');
    await dashboardTab().waitFor({ state: 'detached' });
  });

  const runtimePid = (): number | undefined => {
    const file = join(dirs.workspace, '.loom', 'runtime.json');
    return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { pid: number }).pid : undefined;
  };

  /** Closing the window and opening it again: the old extension host ends, a new one starts. */
  async function reopenWindow(): Promise<void> {
    await page.reload();
    await page.locator('.monaco-workbench').waitFor({ timeout: 120_000 });
  }

  it('closing the window stops the runtime it started, and the next window starts its own', async () => {
    const before = await until('the discovery file', runtimePid);
    await reopenWindow();
    const after = await until('a new runtime', () => {
      const pid = runtimePid();
      return pid !== undefined && pid !== before ? pid : undefined;
    });
    await until('the old runtime to end', () => (isAlive(before) ? undefined : true));
    assert.ok(isAlive(after));
    await statusItem(/Loom: 0 agents/).waitFor({ timeout: 60_000 });
  });

  it('when the extension host is killed, the runtime it started exits within seconds', async () => {
    const runtime = await until('the discovery file', runtimePid);
    // The window started it with --parent-pid <its extension host>: that is the process to kill.
    const args = readFileSync(`/proc/${runtime}/cmdline`, 'utf8').split('\0');
    const host = Number(args[args.indexOf('--parent-pid') + 1]);
    assert.ok(host > 0 && isAlive(host), `the runtime names its parent: ${args.join(' ')}`);
    process.kill(host, 'SIGKILL');
    const t0 = Date.now();
    await until('the runtime to exit', () => (isAlive(runtime) ? undefined : true));
    console.log(`      the runtime exited ${Date.now() - t0} ms after its extension host was killed`);
    assert.ok(
      !existsSync(join(dirs.workspace, '.loom', 'runtime.json')) || runtimePid() !== runtime,
      'its discovery file went with it',
    );
    await reopenWindow();
    await statusItem(/Loom: 0 agents/).waitFor({ timeout: 60_000 });
    await screenshot(page, '4b-runtime-after-host-killed');
  });

  it('with loom.runtime.keepAlive the runtime outlives the window, and the next window attaches to it', async () => {
    const old = await until('the discovery file', runtimePid);
    await runFromPalette('Loom: Stop Runtime');
    await until('the runtime to stop', () => (isAlive(old) ? undefined : true));
    // The next window reads the setting as it opens and starts a runtime that is kept alive.
    const settingsFile = join(dirs.userData, 'User', 'settings.json');
    const settings = JSON.parse(readFileSync(settingsFile, 'utf8')) as Record<string, unknown>;
    writeFileSync(settingsFile, JSON.stringify({ ...settings, 'loom.runtime.keepAlive': true }, null, 2));
    await reopenWindow();
    const kept = await until('a kept-alive runtime', () => {
      const pid = runtimePid();
      return pid !== undefined && pid !== old && existsSync(join(dirs.workspace, '.loom', 'runtime.log'))
        ? pid
        : undefined;
    });
    await statusItem(/Loom: 0 agents/).waitFor({ timeout: 60_000 });
    await reopenWindow();
    await statusItem(/Loom: 0 agents/).waitFor({ timeout: 60_000 });
    assert.equal(runtimePid(), kept, 'the new window attached to the same runtime');
    assert.ok(isAlive(kept));
    await screenshot(page, '5-attached-after-host-restart');
    // Leave nothing running: Stop Runtime stops even a kept-alive runtime.
    await runFromPalette('Loom: Stop Runtime');
    await until('the kept runtime to end', () => (isAlive(kept) ? undefined : true));
  });
});
