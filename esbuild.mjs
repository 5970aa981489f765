// Builds the bundles: dist/runtime.js (the headless runtime, plain node), dist/extension.js (the
// VS Code extension) and dist/webview.js + .css (the dashboard, browser code). Native packages stay
// external and ship in node_modules (classic-level loads its prebuild from its own folder).
import * as esbuild from 'esbuild';
import { cpSync, mkdirSync } from 'node:fs';

const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');
// `--outdir=DIR` writes the bundles elsewhere than dist/ (the VS Code suites stage a private copy).
const outdir = process.argv.find((a) => a.startsWith('--outdir='))?.slice('--outdir='.length) ?? 'dist';

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: !production,
  minify: production,
  logLevel: 'info',
  external: ['classic-level', 'vscode'],
};

const allBuilds = [
  { ...common, entryPoints: { runtime: 'runtime/cli.ts' }, outdir },
  // The extension host loads this; `vscode` is provided by the host at run time.
  { ...common, entryPoints: { extension: 'extension/extension.ts' }, outdir },
  // The dashboard UI: browser code, served by the VS Code panel and by the headless runtime.
  { ...common, platform: 'browser', target: 'es2022', format: 'iife', external: [], entryPoints: { webview: 'webview/main.ts' }, outdir },
];

// `--only=extension` builds just the named bundles (by entry name).
const only = process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length).split(',');
const builds = only ? allBuilds.filter((b) => Object.keys(b.entryPoints).some((name) => only.includes(name))) : allBuilds;

mkdirSync(outdir, { recursive: true });
cpSync('proto', `${outdir}/proto`, { recursive: true });
cpSync('webview/style.css', `${outdir}/webview.css`);

if (watch) {
  for (const b of builds) await (await esbuild.context(b)).watch();
} else {
  await Promise.all(builds.map((b) => esbuild.build(b)));
}
