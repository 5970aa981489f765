// Builds the bundles: dist/runtime.js (the headless runtime, plain node), dist/extension.js (the
// VS Code extension) and dist/webview.js + .css (the dashboard, browser code). Native packages stay
// external and ship in node_modules (classic-level loads its prebuild from its own folder).
import * as esbuild from 'esbuild';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';

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
  external: ['classic-level'],
};
// The extension host provides `vscode` at run time; only the extension's bundles may name it (the
// runtime's build fails on an import of it, as its typecheck does: runtime/tsconfig.json).
const extensionHost = { ...common, external: [...common.external, 'vscode'] };

const allBuilds = [
  { ...common, entryPoints: { runtime: 'runtime/cli.ts' }, outdir },
  // The extension's entry: tiny, so activation is cheap; the banner marks when VS Code starts
  // loading it (activation is measured from there). core.js is the rest, loaded just after.
  {
    ...extensionHost,
    entryPoints: { extension: 'extension/extension.ts' },
    outdir,
    banner: { js: 'globalThis.__loomLoadStart = performance.now();' },
  },
  { ...extensionHost, entryPoints: { core: 'extension/core.ts' }, outdir },
  // The dashboard UI: browser code, served by the VS Code panel and by the headless runtime.
  {
    ...common,
    platform: 'browser',
    target: 'es2022',
    format: 'iife',
    external: [],
    entryPoints: { webview: 'webview/main.ts' },
    outdir,
  },
];

// `--only=extension` builds just the named bundles (by entry name).
const only = process.argv
  .find((a) => a.startsWith('--only='))
  ?.slice('--only='.length)
  .split(',');
const builds = only
  ? allBuilds.filter((b) => Object.keys(b.entryPoints).some((name) => only.includes(name)))
  : allBuilds;

mkdirSync(outdir, { recursive: true });
cpSync('proto', `${outdir}/proto`, { recursive: true });
cpSync('webview/style.css', `${outdir}/webview.css`);

// The Python SDK as a wheel (<outdir>/sdk/loom_vscode_sdk-<version>-py3-none-any.whl): the VSIX carries
// it, and "Install Loom SDK" puts it into the interpreter agents run with. Rebuilt only when a
// source of sdk/python is newer; without a Python with pip and setuptools the build says so and
// goes on (the extension then offers no install, only the interpreter check).
function newestMtime(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === '__pycache__' || entry.name.endsWith('.egg-info')) continue;
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}
function buildSdkWheel() {
  const out = join(outdir, 'sdk');
  const wheels = existsSync(out) ? readdirSync(out).filter((f) => f.endsWith('.whl')) : [];
  const sources = Math.max(newestMtime('sdk/python/loom'), statSync('sdk/python/pyproject.toml').mtimeMs);
  if (wheels.length === 1 && statSync(join(out, wheels[0])).mtimeMs >= sources) return;
  rmSync(out, { recursive: true, force: true });
  const python = process.env.LOOM_PYTHON || (existsSync('.venv/bin/python') ? '.venv/bin/python' : 'python3');
  const r = spawnSync(
    python,
    ['-m', 'pip', 'wheel', '-q', '--no-deps', '--no-build-isolation', 'sdk/python', '-w', out],
    { encoding: 'utf8' },
  );
  if (r.status !== 0)
    console.warn(
      `esbuild.mjs: the Python SDK wheel was not built (${python}: ${(r.stderr || r.error?.message || '').trim().split('\n').pop()})`,
    );
  rmSync('sdk/python/build', { recursive: true, force: true });
}
if (!watch && !only) buildSdkWheel();

if (watch) {
  for (const b of builds) await (await esbuild.context(b)).watch();
} else {
  await Promise.all(builds.map((b) => esbuild.build(b)));
}
