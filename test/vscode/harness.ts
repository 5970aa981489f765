// The pieces of a real VS Code under test: a private staged build of the extension, code-server
// (VS Code's own server and Node extension host) on a free loopback port with its own user data,
// and headless Chromium (Debian's, driven by playwright-core) on the workbench.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import * as esbuild from 'esbuild';
import { chromium, type Browser, type BrowserContext } from 'playwright-core';

export const ROOT = resolve(__dirname, '..', '..');
export const OUTPUT = join(ROOT, 'test', 'output');
const CHROMIUM = process.env.LOOM_CHROMIUM ?? '/usr/bin/chromium';

export function log(message: string): void {
  process.stderr.write(`[vscode-test] ${message}\n`);
}

/**
 * Builds a private copy of the extension under `stage` (its own dist/, the manifest, the icons,
 * node_modules linked for classic-level), so that other builds of dist/ in the working tree cannot
 * change the files under test midway.
 */
export function stageExtension(stage: string): void {
  const r = spawnSync(process.execPath, ['esbuild.mjs', `--outdir=${join(stage, 'dist')}`], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`node esbuild.mjs failed (exit ${r.status}):\n${r.stderr}`);
  for (const file of ['package.json', 'LICENSE', 'README.md', '.vscodeignore'])
    if (existsSync(join(ROOT, file))) cpSync(join(ROOT, file), join(stage, file));
  cpSync(join(ROOT, 'extension', 'media'), join(stage, 'extension', 'media'), { recursive: true });
  symlinkSync(join(ROOT, 'node_modules'), join(stage, 'node_modules'), 'dir');
}

/** Bundles a test module beside the staged extension (it finds the protos in dist/proto). */
const SUITE_DIR = join(ROOT, 'test', 'vscode', 'suite');
const SUITE_MARKER = /^\/\/ @vscode-suite ([a-z][a-z0-9-]*) (\d+)\s*$/m;

/**
 * The extension-host suites, found rather than listed: every test/vscode/suite/*.test.ts carries a
 * marker line `// @vscode-suite NAME ORDER`; NAME groups the files into a suite (main, untrusted)
 * and ORDER is where the file runs within it (files share the suite's runtime and workspace, so
 * the order is kept explicit; ties run by file name). A test file without the marker is an error,
 * so a new file cannot silently be left out of every suite.
 */
export function hostSuites(): Map<string, string[]> {
  const found: { suite: string; order: number; file: string }[] = [];
  for (const file of readdirSync(SUITE_DIR)
    .filter((f) => f.endsWith('.test.ts'))
    .sort()) {
    const marker = SUITE_MARKER.exec(readFileSync(join(SUITE_DIR, file), 'utf8'));
    if (!marker)
      throw new Error(
        `test/vscode/suite/${file} has no "// @vscode-suite NAME ORDER" line (see test/vscode/harness.ts hostSuites)`,
      );
    found.push({ suite: marker[1]!, order: Number(marker[2]), file });
  }
  found.sort((a, b) => a.order - b.order || a.file.localeCompare(b.file));
  const suites = new Map<string, string[]>();
  for (const { suite, file } of found) suites.set(suite, [...(suites.get(suite) ?? []), file]);
  return suites;
}

export async function bundleTests(stage: string, suite: string): Promise<string> {
  const files = hostSuites().get(suite);
  if (!files?.length) throw new Error(`no test/vscode/suite/*.test.ts is marked "// @vscode-suite ${suite} ORDER"`);
  const outdir = join(stage, 'dist');
  // The entry VS Code loads as extensionTestsPath: run() requires the suite's files once mocha has
  // put describe/it on the global object (see suite/mocha.ts).
  const entry = [
    "import { runMocha } from './mocha';",
    'export function run(): Promise<void> {',
    '  return runMocha(() => {',
    ...files.map((f) => `    require(${JSON.stringify(`./${f.slice(0, -'.ts'.length)}`)});`),
    '  });',
    '}',
  ].join('\n');
  // The extension host loads JS; packages (mocha, grpc) stay in node_modules, `vscode` is the host's.
  await esbuild.build({
    stdin: { contents: entry, resolveDir: SUITE_DIR, sourcefile: `vscode-test-${suite}.ts`, loader: 'ts' },
    outfile: join(outdir, `vscode-test-${suite}.js`),
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    sourcemap: 'inline',
    packages: 'external',
    external: ['vscode'],
    logLevel: 'warning',
  });
  return join(outdir, `vscode-test-${suite}.js`);
}

export function codeServerBinary(): string {
  const r = spawnSync('bash', [join(ROOT, '.ci', 'code-server.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const path = r.stdout.trim().split('\n').pop();
  if (r.status !== 0 || !path) throw new Error(`.ci/code-server.sh failed (exit ${r.status})`);
  return path;
}

export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const server = createServer();
    server.once('error', rej);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? res(address.port) : rej(new Error('no port'))));
    });
  });
}

export interface VsCodeDirs {
  userData: string;
  extensions: string;
  workspace: string;
  config: string;
}

/** User data, extensions and a fresh copy of a fixture workspace under `tmp`. */
export function prepareDirs(tmp: string, fixture: string, settings: Record<string, unknown>): VsCodeDirs {
  const dirs = {
    userData: join(tmp, 'user-data'),
    extensions: join(tmp, 'extensions'),
    workspace: join(tmp, 'workspace'),
    config: join(tmp, 'code-server.yaml'),
  };
  mkdirSync(join(dirs.userData, 'User'), { recursive: true });
  mkdirSync(dirs.extensions, { recursive: true });
  cpSync(join(ROOT, 'test', 'vscode', 'fixtures', fixture), dirs.workspace, { recursive: true });
  writeFileSync(dirs.config, 'bind-addr: 127.0.0.1:0\nauth: none\ncert: false\n');
  const user = {
    'workbench.startupEditor': 'none',
    'workbench.tips.enabled': false,
    'telemetry.telemetryLevel': 'off',
    'extensions.autoCheckUpdates': false,
    'extensions.autoUpdate': false,
    'update.mode': 'none',
    'security.workspace.trust.startupPrompt': 'never',
    'security.workspace.trust.untrustedFiles': 'open',
    'loom.pythonPath': process.env.LOOM_PYTHON ?? join(ROOT, '.venv', 'bin', 'python'),
    ...settings,
  };
  writeFileSync(join(dirs.userData, 'User', 'settings.json'), JSON.stringify(user, null, 2));
  return dirs;
}

function serverArgs(dirs: VsCodeDirs): string[] {
  return [
    '--auth',
    'none',
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-getting-started-override',
    '--config',
    dirs.config,
    '--user-data-dir',
    dirs.userData,
    '--extensions-dir',
    dirs.extensions,
  ];
}

// An empty gallery: no machine here reaches a marketplace, so do not let the workbench try.
const SERVER_ENV = { ...process.env, EXTENSIONS_GALLERY: '{}' };

/** `code-server --install-extension`: the way a user installs the VSIX. */
export function installExtension(bin: string, dirs: VsCodeDirs, vsix: string): void {
  const r = spawnSync(process.execPath, [bin, ...serverArgs(dirs), '--install-extension', vsix], {
    encoding: 'utf8',
    env: SERVER_ENV,
  });
  if (r.status !== 0)
    throw new Error(`code-server --install-extension failed (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
}

export function startCodeServer(
  bin: string,
  port: number,
  dirs: VsCodeDirs,
  onOutput: (line: string) => void = (l) => process.stdout.write(`  | ${l}\n`),
): Promise<ChildProcess> {
  // Its own process group, so the extension host and anything it spawned go down with it.
  const child = spawn(process.execPath, [bin, '--bind-addr', `127.0.0.1:${port}`, ...serverArgs(dirs)], {
    cwd: dirs.workspace,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: SERVER_ENV,
  });
  return new Promise((res, rej) => {
    let seen = '';
    const onData = (chunk: Buffer) => {
      const text = chunk.toString();
      for (const line of text.split('\n')) if (line.trim()) onOutput(line);
      seen += text;
      if (/HTTP server listening on/.test(seen)) res(child);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => rej(new Error(`code-server exited (code ${code}) before listening:\n${seen}`)));
  });
}

export function stopProcessGroup(child: ChildProcess): void {
  if (child.pid === undefined || child.exitCode !== null) return;
  try {
    process.kill(-child.pid, 'SIGTERM');
  } catch {
    /* already gone */
  }
}

/** Processes (by pid) whose command line or working directory lies under `dir`. */
function processesUnder(dir: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      const cwd = readlinkSync(`/proc/${pid}/cwd`);
      if (cmdline.includes(dir) || cwd === dir || cwd.startsWith(`${dir}/`)) pids.push(pid);
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return pids;
}

/**
 * Stops code-server, then whatever the test started under its temp folder that outlived it (the
 * extension host is not in code-server's process group; a runtime it started may be orphaned).
 * Returns the pids that had to be killed, so a leak shows in the log.
 */
export async function stopAll(server: ChildProcess | undefined, tmp: string): Promise<number[]> {
  if (server) {
    const exited =
      server.exitCode !== null ? Promise.resolve() : new Promise<void>((r) => server.once('exit', () => r()));
    stopProcessGroup(server);
    await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
  }
  const deadline = Date.now() + 5000;
  let left = processesUnder(tmp);
  while (left.length && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
    left = processesUnder(tmp);
  }
  for (const pid of left) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  if (left.length) log(`killed ${left.length} process(es) left under ${tmp}: ${left.join(', ')}`);
  return left;
}

/** The workbench on a folder; with a payload, VS Code loads the extension under development and runs the test module. */
export function workbenchUrl(
  port: number,
  workspace: string,
  dev?: { extensionPath: string; testsPath: string },
): string {
  const authority = `127.0.0.1:${port}`;
  const remote = (path: string) => `vscode-remote://${authority}${path}`;
  let url = `http://${authority}/?folder=${encodeURIComponent(workspace)}`;
  if (dev) {
    const payload = JSON.stringify([
      ['extensionDevelopmentPath', remote(dev.extensionPath)],
      ['extensionTestsPath', remote(dev.testsPath)],
      ['skipWelcome', 'true'],
    ]);
    url += `&payload=${encodeURIComponent(payload)}`;
  }
  return url;
}

export async function launchBrowser(): Promise<{ browser: Browser; context: BrowserContext }> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  // The clipboard tools reach the browser's clipboard: grant it as a person's browser would.
  const context = await browser.newContext({
    viewport: { width: 1280, height: 800 },
    permissions: ['clipboard-read', 'clipboard-write'],
  });
  return { browser, context };
}
