// @vscode/test-cli configuration for desktops that reach the VS Code download server:
//   npm run build && npx vscode-test
// It downloads a desktop VS Code and runs the same extension-host tests as test/vscode/run.ts
// (which uses code-server and headless Chromium instead, for machines without that server).
// The tests are bundled here (the extension host loads JS) and run against a fresh copy of the
// fixture workspace with the same user settings as the code-server suite.
import { defineConfig } from '@vscode/test-cli';
import * as esbuild from 'esbuild';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname);
const suite = join(root, 'test', 'vscode', 'suite');
const out = join(root, 'dist', 'vscode-test-desktop');

esbuild.buildSync({
  entryPoints: readdirSync(suite).filter((f) => f.endsWith('.test.ts') && f !== 'trust.test.ts').map((f) => join(suite, f)),
  outdir: out,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  packages: 'external',
  external: ['vscode'],
  logLevel: 'warning',
});

const tmp = mkdtempSync(join(tmpdir(), 'loom-vscode-desktop-'));
const workspace = join(tmp, 'workspace');
cpSync(join(root, 'test', 'vscode', 'fixtures', 'workspace'), workspace, { recursive: true });
mkdirSync(join(tmp, 'user-data', 'User'), { recursive: true });
writeFileSync(
  join(tmp, 'user-data', 'User', 'settings.json'),
  JSON.stringify({ 'loom.runtime.autoStart': false, 'loom.pythonPath': process.env.LOOM_PYTHON ?? join(root, '.venv', 'bin', 'python') }),
);

export default defineConfig({
  label: 'extension-host',
  files: join(out, '*.test.js'),
  version: '1.95.0',
  workspaceFolder: workspace,
  launchArgs: ['--disable-workspace-trust', '--user-data-dir', join(tmp, 'user-data')],
  mocha: { ui: 'bdd', timeout: 120_000 },
});
