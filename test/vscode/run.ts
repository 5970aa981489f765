// Runs the extension's tests inside a real VS Code: code-server serves the workbench, headless
// Chromium opens it with the extension under development and the test module in the URL payload,
// and the page reports the tests' exit code through window.codeAutomationExit — the way VS Code
// runs its own browser integration tests. Then the end-to-end suite drives the installed VSIX.
//
//   node --import tsx test/vscode/run.ts [--suite main|untrusted|e2e] [--keep]
//
// Extension-host suites: the test/vscode/suite/*.test.ts files, grouped by the marker line
// `// @vscode-suite NAME ORDER` each carries (harness.ts hostSuites): "main" (trusted workspace) and
// "untrusted" (Workspace Trust on, folder not trusted), each on a fresh copy of
// test/vscode/fixtures/workspace. "e2e" runs test/vscode/e2e.test.ts with mocha in this process.
// Without --suite, all of them. Exits non-zero when any failed; the last lines sum them up.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { format } from 'node:util';
import {
  OUTPUT,
  ROOT,
  bundleTests,
  hostSuites,
  codeServerBinary,
  freePort,
  launchBrowser,
  log,
  prepareDirs,
  stageExtension,
  startCodeServer,
  stopAll,
  stopProcessGroup,
  workbenchUrl,
} from './harness';
import type { Page } from 'playwright-core';

/** The whole suite, VS Code start-up included, must end within this (a hung test must not hang CI). */
const SUITE_LIMIT_MS = Number(process.env.LOOM_VSCODE_LIMIT_MS ?? 20 * 60_000);

/** How each host suite's workspace is set up; a marker naming any other suite is an error. */
const HOST_SUITES: Record<string, { trust: boolean }> = {
  main: { trust: false },
  untrusted: { trust: true },
};
for (const [suite, files] of hostSuites()) {
  if (!HOST_SUITES[suite])
    throw new Error(
      `${files.join(', ')}: unknown suite "${suite}" in "// @vscode-suite" (known: ${Object.keys(HOST_SUITES).join(', ')})`,
    );
}
const ALL_SUITES = [...Object.keys(HOST_SUITES), 'e2e'];

/** mocha's summary lines, added up over the suites for the closing line. */
const totals = { passing: 0, failing: 0, pending: 0 };

function countSummary(text: string): void {
  for (const line of text.split('\n')) {
    const summary = /^\s*(\d+) (passing|failing|pending)\b/.exec(line);
    if (summary) totals[summary[2] as keyof typeof totals] += Number(summary[1]);
  }
}

interface Options {
  suites: string[];
  keep: boolean;
}

function parseArgs(argv: string[]): Options {
  const opts: Options = { suites: ALL_SUITES, keep: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--suite') opts.suites = [argv[++i] ?? ''];
    else if (a === '--keep') opts.keep = true;
    else throw new Error(`unknown argument ${a} (expected --suite NAME, --keep)`);
  }
  for (const suite of opts.suites)
    if (!ALL_SUITES.includes(suite)) throw new Error(`unknown suite "${suite}" (known: ${ALL_SUITES.join(', ')})`);
  return opts;
}

/**
 * Screenshots on the host suites' request: a test (helpers.ts screenshot()) drops NAME.request in
 * `dir` and waits for NAME.done; the page is captured to test/output/vscode-<suite>-NAME.png.
 */
function serveScreenshots(page: Page, dir: string, suite: string): () => void {
  mkdirSync(dir, { recursive: true });
  mkdirSync(OUTPUT, { recursive: true });
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    const name = readdirSync(dir)
      .find((f) => f.endsWith('.request'))
      ?.slice(0, -'.request'.length);
    if (!name) return;
    busy = true;
    rmSync(join(dir, `${name}.request`), { force: true });
    const path = join(OUTPUT, `vscode-${suite}-${name}.png`);
    // A notification slides in for a few hundred ms: let it settle before the picture.
    void new Promise((r) => setTimeout(r, 700))
      .then(() => page.screenshot({ path }))
      .then(
        () => log(`screenshot: ${path}`),
        (err: Error) => log(`screenshot ${name} failed: ${err.message}`),
      )
      .finally(() => {
        writeFileSync(join(dir, `${name}.done`), '');
        busy = false;
      });
  }, 100);
  return () => clearInterval(timer);
}

async function runInBrowser(url: string, suite: string, shots: string): Promise<number> {
  const { browser, context } = await launchBrowser();
  let stopShots = () => {};
  try {
    const page = await context.newPage();
    stopShots = serveScreenshots(page, shots, suite);
    page.on('pageerror', (err) => log(`page error: ${err.message}`));
    const exit = new Promise<number>((res) => {
      void page.exposeFunction('codeAutomationExit', (code: number) => res(Number(code)));
      // The workbench's and the extension host's console (mocha's report among them) arrive here.
      void page.exposeFunction('codeAutomationLog', (type: string, args: unknown[]) => {
        const text = format(...(args as [unknown, ...unknown[]]));
        countSummary(text);
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
    stopShots();
    await browser.close().catch(() => undefined);
  }
}

async function runHostSuite(suite: string, bin: string, keep: boolean): Promise<number> {
  const tmp = mkdtempSync(join(tmpdir(), 'loom-vscode-'));
  const stage = join(tmp, 'extension-under-test');
  let server: ChildProcess | undefined;
  const cleanup = async () => {
    await stopAll(server, tmp);
    if (!keep) rmSync(tmp, { recursive: true, force: true });
  };
  const onSigint = () => {
    if (server) stopProcessGroup(server);
    process.exit(130);
  };
  process.once('SIGINT', onSigint);
  try {
    stageExtension(stage);
    const testsPath = await bundleTests(stage, suite);
    const dirs = prepareDirs(tmp, 'workspace', {
      'security.workspace.trust.enabled': HOST_SUITES[suite]!.trust,
      // The runtime is started by the tests, never implicitly.
      'loom.runtime.autoStart': false,
      // Wide enough that a test's burst of edits is one editor.changed event even on a busy machine.
      'loom.editor.changeDebounceMs': 1500,
    });
    const port = await freePort();
    log(`code-server on 127.0.0.1:${port}, suite "${suite}", workspace ${dirs.workspace}`);
    server = await startCodeServer(bin, port, dirs);
    // Beside the workspace, where the suite's screenshot() finds it (see helpers.ts).
    const code = await runInBrowser(
      workbenchUrl(port, dirs.workspace, { extensionPath: stage, testsPath }),
      suite,
      join(tmp, 'shots'),
    );
    log(`suite "${suite}" exit code ${code}`);
    return code;
  } finally {
    process.off('SIGINT', onSigint);
    await cleanup();
  }
}

/** The end-to-end suite is a Node-side mocha file: it installs the VSIX and drives the workbench. */
function runE2e(): Promise<number> {
  return new Promise((res) => {
    const child = spawn(
      process.execPath,
      [
        join(ROOT, 'node_modules', 'mocha', 'bin', 'mocha.js'),
        '--timeout',
        '600000',
        join(ROOT, 'test', 'vscode', 'e2e.test.ts'),
      ],
      {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    child.stdout!.on('data', (chunk: Buffer) => {
      const text = chunk.toString();
      countSummary(text);
      process.stdout.write(text);
    });
    child.once('exit', (code) => res(code ?? 1));
  });
}

async function main(): Promise<number> {
  const opts = parseArgs(process.argv.slice(2));
  const bin = codeServerBinary();
  let worst = 0;
  for (const suite of opts.suites) {
    const code = suite === 'e2e' ? await runE2e() : await runHostSuite(suite, bin, opts.keep);
    if (code !== 0) worst = code;
  }
  // One closing summary for all suites (the CI script reads the last one).
  process.stdout.write(
    `\nvscode suites (${opts.suites.join(', ')}):\n  ${totals.passing} passing\n  ${totals.failing} failing\n  ${totals.pending} pending\n`,
  );
  return worst;
}

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    log(err.stack ?? err.message);
    process.exit(1);
  },
);
