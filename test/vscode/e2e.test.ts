// End to end, as a user: the VSIX is installed into code-server with --install-extension, a
// workspace with a Python agent opens in Chromium, "Loom: Start Agent" runs from the palette,
// a file saved in the editor brings the agent's notification, and so does the hotkey.
// Screenshots of each step land in test/output/.
import * as assert from 'node:assert/strict';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { OUTPUT, ROOT, codeServerBinary, freePort, installExtension, launchBrowser, prepareDirs, stageExtension, startCodeServer, stopProcessGroup, workbenchUrl, type VsCodeDirs } from './harness';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Saves a screenshot and checks it is a real PNG of the whole viewport. */
async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(OUTPUT, { recursive: true });
  const path = join(OUTPUT, `e2e-${name}.png`);
  await page.screenshot({ path });
  const png = readFileSync(path);
  assert.ok(png.subarray(0, 8).equals(PNG_SIGNATURE), `${path} is a PNG`);
  assert.deepEqual([png.readUInt32BE(16), png.readUInt32BE(20)], [1280, 800], `${path} shows the whole 1280x800 window`);
  return path;
}

function packageVsix(stage: string, out: string): void {
  const vsce = join(ROOT, 'node_modules', '@vscode', 'vsce', 'vsce');
  const r = spawnSync(process.execPath, [vsce, 'package', '--allow-missing-repository', '--no-rewrite-relative-links', '--out', out], { cwd: stage, encoding: 'utf8' });
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
    await page.waitForFunction((el) => el !== null && el.getAnimations().length === 0 && el.getBoundingClientRect().bottom <= window.innerHeight, await t.elementHandle());
    const box = await t.boundingBox();
    assert.ok(box && box.y >= 0 && box.y + box.height <= 800 && box.height > 0, `the notification "${text}" is on screen`);
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
    if (server) stopProcessGroup(server);
    if (tmp) rmSync(tmp, { recursive: true, force: true });
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
    await settledToast('watcher got hotkey.default in notes.txt');
    await statusItem(/watcher got hotkey\.default in notes\.txt/).waitFor();
    await screenshot(page, '4-hotkey-notification');
  });
});
