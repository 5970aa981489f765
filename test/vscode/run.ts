// Runs the extension's tests inside a real VS Code: code-server (VS Code's own server and Node
// extension host) serves the workbench, headless Chromium opens it with the extension under
// development and the test module in the URL payload, and the page reports the tests' exit code
// through window.codeAutomationExit — the way VS Code runs its own browser integration tests.
//
//   node --import tsx test/vscode/run.ts [--suite NAME] [--keep]
//
// Suites (test/vscode/suite/<NAME>.ts bundles): "main" (trusted workspace, default) and
// "untrusted" (Workspace Trust on, folder not trusted). Each opens its own fresh copy of
// test/vscode/fixtures/workspace. Exits with the tests' exit code.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { format } from 'node:util';
import * as esbuild from 'esbuild';
import { chromium, type Browser, type Page } from 'playwright-core';

const ROOT = resolve(__dirname, '..', '..');
const OUTPUT = join(ROOT, 'test', 'output');
const CHROMIUM = process.env.LOOM_CHROMIUM ?? '/usr/bin/chromium';
/** The whole suite, VS Code start-up included, must end within this (a hung test must not hang CI). */
const SUITE_LIMIT_MS = Number(process.env.LOOM_VSCODE_LIMIT_MS ?? 20 * 60_000);

interface Options {
  suites: string[];
  keep: boolean;
}

interface SuiteSettings {
  trust: boolean;
}

const SUITES: Record<string, SuiteSettings> = {
  main: { trust: false },
  untrusted: { trust: true },
};

/** mocha's summary lines, added up over the suites for the closing line. */
const totals = { passing: 0, failing: 0, pending: 0 };

function parseArgs(argv: string[]): Options {
  const opts: Options = { suites: Object.keys(SUITES), keep: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--suite') opts.suites = [argv[++i] ?? ''];
    else if (a === '--keep') opts.keep = true;
    else throw new Error(`unknown argument ${a} (expected --suite NAME, --keep)`);
  }
  for (const suite of opts.suites) if (!SUITES[suite]) throw new Error(`unknown suite "${suite}" (known: ${Object.keys(SUITES).join(', ')})`);
  return opts;
}

function log(message: string): void {
  process.stderr.write(`[vscode-test] ${message}\n`);
}

/**
 * Builds a private copy of the extension under `stage` (its own dist/, the manifest, the icons,
 * node_modules linked for classic-level), so that other builds of dist/ in the working tree cannot
 * change the files under test midway. Returns the test module's path.
 */
async function stageExtension(stage: string, suite: string): Promise<string> {
  const dist = join(stage, 'dist');
  const r = spawnSync(process.execPath, ['esbuild.mjs', `--outdir=${dist}`], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`node esbuild.mjs failed (exit ${r.status}):\n${r.stderr}`);
  for (const file of ['package.json', 'LICENSE', 'README.md']) if (existsSync(join(ROOT, file))) cpSync(join(ROOT, file), join(stage, file));
  cpSync(join(ROOT, 'extension', 'media'), join(stage, 'extension', 'media'), { recursive: true });
  symlinkSync(join(ROOT, 'node_modules'), join(stage, 'node_modules'), 'dir');
  // The extension host loads JS: bundle the test module beside the extension (it finds the protos
  // in dist/proto), leaving packages (mocha, grpc) to node_modules and `vscode` to the host.
  await esbuild.build({
    entryPoints: { [`vscode-test-${suite}`]: join(ROOT, 'test', 'vscode', 'suite', `${suite}.ts`) },
    outdir: dist,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    sourcemap: 'inline',
    packages: 'external',
    external: ['vscode'],
    logLevel: 'warning',
  });
  return join(dist, `vscode-test-${suite}.js`);
}

function codeServerBinary(): string {
  const r = spawnSync('bash', [join(ROOT, '.ci', 'code-server.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const path = r.stdout.trim().split('\n').pop();
  if (r.status !== 0 || !path) throw new Error(`.ci/code-server.sh failed (exit ${r.status})`);
  return path;
}

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const server = createServer();
    server.once('error', rej);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? res(address.port) : rej(new Error('no port'))));
    });
  });
}

function prepareDirs(tmp: string, settings: SuiteSettings): { userData: string; extensions: string; workspace: string; config: string } {
  const userData = join(tmp, 'user-data');
  const extensions = join(tmp, 'extensions');
  const workspace = join(tmp, 'workspace');
  const config = join(tmp, 'code-server.yaml');
  mkdirSync(join(userData, 'User'), { recursive: true });
  mkdirSync(extensions, { recursive: true });
  cpSync(join(ROOT, 'test', 'vscode', 'fixtures', 'workspace'), workspace, { recursive: true });
  writeFileSync(config, 'bind-addr: 127.0.0.1:0\nauth: none\ncert: false\n');
  const user: Record<string, unknown> = {
    'workbench.startupEditor': 'none',
    'workbench.tips.enabled': false,
    'telemetry.telemetryLevel': 'off',
    'extensions.autoCheckUpdates': false,
    'extensions.autoUpdate': false,
    'update.mode': 'none',
    'security.workspace.trust.enabled': settings.trust,
    'security.workspace.trust.startupPrompt': 'never',
    'security.workspace.trust.untrustedFiles': 'open',
    // The runtime is started by the tests, never implicitly.
    'loom.runtime.autoStart': false,
    'loom.pythonPath': process.env.LOOM_PYTHON ?? join(ROOT, '.venv', 'bin', 'python'),
  };
  writeFileSync(join(userData, 'User', 'settings.json'), JSON.stringify(user, null, 2));
  return { userData, extensions, workspace, config };
}

function startCodeServer(bin: string, port: number, dirs: ReturnType<typeof prepareDirs>): Promise<ChildProcess> {
  const args = [
    '--bind-addr', `127.0.0.1:${port}`,
    '--auth', 'none',
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-getting-started-override',
    '--config', dirs.config,
    '--user-data-dir', dirs.userData,
    '--extensions-dir', dirs.extensions,
  ];
  // Its own process group, so the extension host and anything it spawned go down with it.
  const child = spawn(process.execPath, [bin, ...args], {
    cwd: dirs.workspace,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    // An empty gallery: no machine here reaches a marketplace, so do not let the workbench try.
    env: { ...process.env, LOOM_VSCODE_TEST: '1', EXTENSIONS_GALLERY: '{}' },
  });
  return new Promise((res, rej) => {
    let seen = '';
    const onData = (chunk: Buffer) => {
      const text = chunk.toString();
      forwardServerOutput(text);
      seen += text;
      if (/HTTP server listening on/.test(seen)) res(child);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => rej(new Error(`code-server exited (code ${code}) before listening:\n${seen}`)));
  });
}

function forwardServerOutput(text: string): void {
  for (const line of text.split('\n')) {
    if (line.trim()) process.stdout.write(`  | ${line}\n`);
  }
}

function stopProcessGroup(child: ChildProcess): void {
  if (child.pid === undefined || child.exitCode !== null) return;
  try {
    process.kill(-child.pid, 'SIGTERM');
  } catch {
    /* already gone */
  }
}

function workbenchUrl(port: number, workspace: string, extensionPath: string, testsPath: string): string {
  const authority = `127.0.0.1:${port}`;
  const remote = (path: string) => `vscode-remote://${authority}${path}`;
  const payload = JSON.stringify([
    ['extensionDevelopmentPath', remote(extensionPath)],
    ['extensionTestsPath', remote(testsPath)],
    ['skipWelcome', 'true'],
  ]);
  return `http://${authority}/?folder=${encodeURIComponent(workspace)}&payload=${encodeURIComponent(payload)}`;
}

async function runInBrowser(url: string, suite: string): Promise<number> {
  const browser: Browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  try {
    // The clipboard tools reach the browser's clipboard: grant it as a person's browser would.
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, permissions: ['clipboard-read', 'clipboard-write'] });
    const page: Page = await context.newPage();
    page.on('pageerror', (err) => log(`page error: ${err.message}`));
    const exit = new Promise<number>((res) => {
      void page.exposeFunction('codeAutomationExit', (code: number) => res(Number(code)));
      // The workbench's and the extension host's console (mocha's report among them) arrive here.
      void page.exposeFunction('codeAutomationLog', (type: string, args: unknown[]) => {
        const text = format(...(args as [unknown, ...unknown[]]));
        const summary = /^\s*(\d+) (passing|failing|pending)\b/.exec(text);
        if (summary) totals[summary[2] as keyof typeof totals] += Number(summary[1]);
        process.stdout.write(type === 'error' || type === 'warn' ? `[${type}] ${text}\n` : `${text}\n`);
      });
    });
    let timer: NodeJS.Timeout | undefined;
    const limit = new Promise<number>((res) => {
      timer = setTimeout(() => {
        log(`suite did not finish within ${SUITE_LIMIT_MS} ms`);
        res(124);
      }, SUITE_LIMIT_MS);
    });
    await page.goto(url);
    const code = await Promise.race([exit, limit]);
    clearTimeout(timer);
    if (code !== 0) {
      mkdirSync(OUTPUT, { recursive: true });
      const shot = join(OUTPUT, `vscode-${suite}-failure.png`);
      await page.screenshot({ path: shot }).then(
        () => log(`screenshot: ${shot}`),
        (err: Error) => log(`screenshot failed: ${err.message}`),
      );
    }
    return code;
  } finally {
    await browser.close().catch(() => undefined);
  }
}

async function main(): Promise<number> {
  const opts = parseArgs(process.argv.slice(2));
  const bin = codeServerBinary();
  let worst = 0;
  for (const suite of opts.suites) {
    const code = await runSuite(suite, bin, opts.keep);
    if (code !== 0) worst = code;
  }
  // One closing summary for all suites (the CI script reads the last one).
  process.stdout.write(`\nvscode suites (${opts.suites.join(', ')}):\n  ${totals.passing} passing\n  ${totals.failing} failing\n  ${totals.pending} pending\n`);
  return worst;
}

async function runSuite(suite: string, bin: string, keep: boolean): Promise<number> {
  const settings = SUITES[suite]!;
  const tmp = mkdtempSync(join(tmpdir(), 'loom-vscode-'));
  const stage = join(tmp, 'extension-under-test');
  let server: ChildProcess | undefined;
  const cleanup = () => {
    if (server) stopProcessGroup(server);
    if (!keep) rmSync(tmp, { recursive: true, force: true });
  };
  process.once('SIGINT', () => {
    cleanup();
    process.exit(130);
  });
  try {
    const testsPath = await stageExtension(stage, suite);
    const dirs = prepareDirs(tmp, settings);
    const port = await freePort();
    log(`code-server on 127.0.0.1:${port}, suite "${suite}", workspace ${dirs.workspace}`);
    server = await startCodeServer(bin, port, dirs);
    const code = await runInBrowser(workbenchUrl(port, dirs.workspace, stage, testsPath), suite);
    log(`suite "${suite}" exit code ${code}`);
    return code;
  } finally {
    cleanup();
  }
}

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    log(err.stack ?? err.message);
    process.exit(1);
  },
);
