// Builds the bundles: dist/runtime.js (the headless runtime, plain node), dist/extension.js (the
// VS Code extension) and dist/webview.js + .css (the dashboard, browser code). Native packages stay
// external and ship in node_modules (classic-level loads its prebuild from its own folder).
import * as esbuild from 'esbuild';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative, resolve } from 'node:path';
import Ajv from 'ajv';
import standaloneCode from 'ajv/dist/standalone/index.js';

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

// Libraries a bundle needs only for some uses. The runtime's: the MCP SDK (MCP servers,
// [mcp.serve]), the NATS client ([cluster]), ajv (a tool's schema, compiled at its first call or
// registration; loom.toml's own validator is prebuilt), json5 (.vscode/mcp.json) and zod ([cluster]
// is checked with it; loom.toml's schema, generated from zod, is checked in as JSON). The extension
// core's: ajv (an editor tool's arguments, at its first call) and json5
// (.vscode/mcp.json's inputs, read when a runtime starts in a workspace that has one). Each part is
// bundled into its own file, <outdir>/lazy/<part>.js, and the bundle holds for each module of it
// imported there a stand-in whose exports load that file on first use (with requireInPieces,
// runtime/contract/requireInPieces.ts, as the runtime's own bundle is loaded): a start that uses none of
// them does not parse or run them. A part of the same name in two bundles is one file, built once
// (json5: both bundles import just "json5"); they must import the same modules from it.
const ours = (args) => !args.importer.includes('/node_modules/');
const LAZY = {
  runtime: {
    entry: 'runtime/cli.ts',
    parts: {
      mcp: (args) => ours(args) && /^@modelcontextprotocol\/sdk\//.test(args.path),
      nats: (args) => ours(args) && /^@nats-io\//.test(args.path),
      ajv: (args) => ours(args) && /^ajv(-formats)?(\/|$)/.test(args.path),
      json5: (args) => ours(args) && args.path === 'json5',
      zod: (args) => ours(args) && /^zod(\/|$)/.test(args.path),
    },
  },
  core: {
    entry: 'extension/core.ts',
    parts: {
      'core-ajv': (args) => ours(args) && args.path === 'ajv',
      json5: (args) => ours(args) && args.path === 'json5',
    },
  },
};
const LAZY_FILTER = /^(@|ajv|json5|zod)/;
const lazyPartOf = (parts, args) => Object.keys(parts).find((part) => parts[part](args));
/** A bare specifier as it is; a relative one as the file it names, from here ("./node_modules/…"). */
const lazyKey = (args) =>
  args.path.startsWith('.') ? `./${relative(process.cwd(), resolve(args.resolveDir, args.path))}` : args.path;

/** The lazy parts built in this run, by name: who built each, and from which modules. */
const builtParts = new Map();

/** Builds <outdir>/lazy/<part>.js for each part of a bundle; returns, for each module imported from one, the names it exports. */
async function buildLazyParts({ entry, parts }, build) {
  const used = new Map(); // specifier -> part
  const findUsed = {
    name: 'find-lazy-imports',
    setup(b) {
      b.onResolve({ filter: LAZY_FILTER }, (args) => {
        const part = lazyPartOf(parts, args);
        if (!part) return undefined;
        used.set(lazyKey(args), part);
        return { path: lazyKey(args), external: true };
      });
    },
  };
  await esbuild.build({
    ...build,
    entryPoints: [entry],
    write: false,
    sourcemap: false,
    logLevel: 'error',
    outdir,
    plugins: [findUsed],
  });
  const exportsOf = new Map();
  const require = createRequire(import.meta.url);
  for (const part of Object.keys(parts)) {
    const specifiers = [...used].filter(([, p]) => p === part).map(([spec]) => spec);
    if (specifiers.length === 0) throw new Error(`esbuild.mjs: ${entry} imports nothing from the lazy part "${part}"`);
    const built = builtParts.get(part);
    if (built) {
      if (built.specifiers.join('\n') !== specifiers.join('\n'))
        throw new Error(
          `esbuild.mjs: the lazy part "${part}" is shared, but ${entry} imports ${specifiers.join(', ')} from it and ${built.entry} ${built.specifiers.join(', ')}`,
        );
      for (const spec of specifiers) exportsOf.set(spec, built.exportsOf.get(spec));
      continue;
    }
    builtParts.set(part, { entry, specifiers, exportsOf });
    const outfile = resolve(outdir, 'lazy', `${part}.js`);
    await esbuild.build({
      ...common,
      stdin: {
        contents:
          specifiers.map((spec, i) => `import * as m${i} from ${JSON.stringify(spec)};`).join('\n') +
          `\nexport const modules = { ${specifiers.map((spec, i) => `${JSON.stringify(spec)}: m${i}`).join(', ')} };\n`,
        resolveDir: process.cwd(),
        sourcefile: `lazy-${part}.js`,
      },
      logLevel: 'warning',
      outfile,
    });
    delete require.cache[outfile];
    const { modules } = require(outfile);
    for (const spec of specifiers) exportsOf.set(spec, { part, names: Object.keys(modules[spec]) });
  }
  return exportsOf;
}

/** For a bundle's build: each import of a lazy part becomes a stand-in that requires the part's file on first use. */
function lazyImports(parts, exportsOf) {
  return {
    name: 'lazy-imports',
    setup(b) {
      b.onResolve({ filter: LAZY_FILTER }, (args) => {
        if (!lazyPartOf(parts, args)) return undefined;
        const key = lazyKey(args);
        if (!exportsOf.has(key)) throw new Error(`esbuild.mjs: ${key} is not in its lazy part (rebuild)`);
        return { path: key, namespace: 'lazy' };
      });
      b.onLoad({ filter: /.*/, namespace: 'lazy' }, (args) => {
        const { part, names } = exportsOf.get(args.path);
        const file = JSON.stringify(`lazy/${part}.js`);
        const spec = JSON.stringify(args.path);
        const getters = names.map(
          (n) => `${JSON.stringify(n)}: { enumerable: true, get: () => load()[${JSON.stringify(n)}] }`,
        );
        return {
          contents:
            `const { requireInPieces } = require('./runtime/contract/requireInPieces');\nlet loaded;\n` +
            `const load = () => (loaded ??= requireInPieces(require('node:path').join(__dirname, ${file})).modules[${spec}]);\n` +
            `Object.defineProperties(module.exports, {\n  __esModule: { value: true },\n  ${getters.join(',\n  ')}\n});\n`,
          loader: 'js',
          resolveDir: process.cwd(),
        };
      });
    },
  };
}

const allBuilds = [
  // runtime.js is a small entry that loads the bundle, runtime-main.js (runtime/entry.ts).
  { ...common, entryPoints: { runtime: 'runtime/entry.ts', 'runtime-main': 'runtime/cli.ts' }, outdir },
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
writeProtoJson();
await writeLoomTomlValidator();
cpSync('webview/style.css', `${outdir}/webview.css`);

// The protos, parsed now, as protobuf.js JSON (<outdir>/proto/loom.json): runtime/proto/index.ts
// loads that instead of parsing the .proto files at every start. Parsed by proto-loader itself,
// with the loader's options, so what it yields is what loadSync would have; with each method's
// originalName as proto-loader words it.
function writeProtoJson() {
  const require = createRequire(import.meta.url);
  const { loadProtosWithOptionsSync } = require('@grpc/proto-loader/build/src/util.js');
  const files = readdirSync('proto/loom/v1')
    .filter((f) => f.endsWith('.proto'))
    .map((f) => `loom/v1/${f}`);
  const root = loadProtosWithOptionsSync(files, { keepCase: false, includeDirs: [resolve('proto')] });
  // A method's name as proto-loader gives it to grpc-js (originalName), with the very function it uses.
  const camelCase = createRequire(require.resolve('@grpc/proto-loader'))('lodash.camelcase');
  const originalNames = {};
  const walk = (ns, prefix) => {
    for (const obj of ns.nestedArray ?? []) {
      const name = prefix ? `${prefix}.${obj.name}` : obj.name;
      for (const method of obj.methodsArray ?? []) originalNames[`${name}.${method.name}`] = camelCase(method.name);
      walk(obj, name);
    }
  };
  walk(root, '');
  writeFileSync(join(outdir, 'proto', 'loom.json'), JSON.stringify({ files, root: root.toJSON(), originalNames }));
}

// loom.toml's validator, compiled now by ajv into plain code (<outdir>/loomToml.validate.js):
// compiling the schema costs every start about 100 ms. runtime/contract/loomToml.ts uses it only
// for this very schema (runtime/contract/loom.schema.json) with these very options; any other
// schema, or other options there, is compiled as before.
async function writeLoomTomlValidator() {
  const schema = JSON.parse(readFileSync('runtime/contract/loom.schema.json', 'utf8'));
  const options = { allErrors: true, verbose: true, strict: true };
  const ajv = new Ajv({ ...options, code: { source: true } });
  const code = standaloneCode(ajv, ajv.compile(schema));
  await esbuild.build({
    stdin: {
      contents: `${code}\nmodule.exports = { schema: ${JSON.stringify(JSON.stringify(schema))}, options: ${JSON.stringify(JSON.stringify(options))}, validate: module.exports };\n`,
      resolveDir: process.cwd(),
      loader: 'js',
    },
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    minify: production,
    logLevel: 'warning',
    outfile: join(outdir, 'loomToml.validate.js'),
  });
}

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

// The launcher that closes inherited descriptors before bubblewrap starts
// (runtime/tools/isolation/close-fds.c, <outdir>/bin/loom-close-fds), built with the C compiler
// when the source is newer. Without a compiler, or on an architecture it has no stubs for, the
// build says so and goes on: the runtime then closes them with bash, about 1 ms slower a call.
function buildCloseFds() {
  if (process.platform !== 'linux') return;
  const source = 'runtime/tools/isolation/close-fds.c';
  const out = join(outdir, 'bin', 'loom-close-fds');
  if (existsSync(out) && statSync(out).mtimeMs >= statSync(source).mtimeMs) return;
  mkdirSync(join(outdir, 'bin'), { recursive: true });
  rmSync(out, { force: true });
  const cc = process.env.CC || 'cc';
  const r = spawnSync(
    cc,
    [
      ...['-Os', '-Wall', '-static', '-nostdlib', '-ffreestanding', '-fno-stack-protector'],
      ...['-fno-asynchronous-unwind-tables', '-Wl,--build-id=none', '-s', '-o', out, source],
    ],
    { encoding: 'utf8' },
  );
  if (r.status !== 0)
    console.warn(
      `esbuild.mjs: ${out} was not built (${cc}: ${(r.stderr || r.error?.message || '').trim().split('\n').pop()}); system:shell will close descriptors with bash instead`,
    );
}
if (!watch && (!only || only.includes('runtime'))) buildCloseFds();

// A part no longer built must not linger there (the VSIX takes every file of it).
if (!only) rmSync(join(outdir, 'lazy'), { recursive: true, force: true });
for (const b of builds) {
  const lazy = LAZY[Object.keys(b.entryPoints)[0]];
  if (lazy) b.plugins = [lazyImports(lazy.parts, await buildLazyParts(lazy, b))];
}
const runtimeBuild = builds.find((b) => 'runtime' in b.entryPoints);

if (watch) {
  for (const b of builds) await (await esbuild.context(b)).watch();
} else {
  await Promise.all(builds.map((b) => esbuild.build(b)));
  if (runtimeBuild) latin1Source(join(outdir, 'runtime-main.js'));
}

/**
 * V8 holds a script's source for as long as it runs, two bytes a character if any character is
 * beyond Latin-1. esbuild escapes those in code but keeps comments as written: one "…" in a comment
 * doubles the memory runtime-main.js's 1.7 MB of source takes (its lazy parts are left as they are). Each
 * such character of a line comment becomes "?" (one UTF-16 unit for one: the source map holds).
 */
function latin1Source(file) {
  const text = readFileSync(file, 'utf8');
  if (!/[\u0100-\uffff]/.test(text)) return;
  const lines = text
    .split('\n')
    .map((line) =>
      /[\u0100-\uffff]/.test(line) && line.trimStart().startsWith('//') ? line.replace(/[\u0100-\uffff]/g, '?') : line,
    );
  const left = lines.filter((line) => /[\u0100-\uffff]/.test(line)).length;
  if (left)
    console.warn(`esbuild.mjs: ${file} keeps ${left} lines with characters beyond Latin-1 (not in a line comment)`);
  writeFileSync(file, lines.join('\n'));
}
