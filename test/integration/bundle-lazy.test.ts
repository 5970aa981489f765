// What the built bundles load and when: esbuild.mjs puts the MCP SDK, the NATS client, ajv, json5
// and zod (the runtime's), and ajv and json5 (the extension core's), into dist/lazy/,
// loaded on first use only, and compiles loom.toml's validator at build time
// (dist/loomToml.validate.js). Each runtime case runs the real runtime with a preload that writes, as
// the process exits, every module file it loaded; the cases that use a part show the check can fail.
import assert from 'node:assert/strict';
import Ajv from 'ajv';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LOOM_TOML_AJV_OPTIONS, parseLoomToml } from '../../runtime/contract/loomToml';
import { loomTomlSchema } from '../../runtime/config/schema';
import {
  buildRuntime,
  makeWorkspace,
  removeWorkspaces,
  REPO,
  startRuntime,
  stopAllRuntimes,
  type Discovery,
  type RuntimeProcess,
} from './helpers/runtime';
import { call, connect } from '../support/grpc';

const DIST = join(REPO, 'dist');
const scratch = mkdtempSync(join(tmpdir(), 'loom-it-lazy-'));
const PRELOAD = join(scratch, 'preload.js');
writeFileSync(
  PRELOAD,
  `const { writeFileSync } = require('node:fs');
process.on('exit', () => writeFileSync(process.env.LOOM_TEST_LOADED, JSON.stringify(Object.keys(require.cache))));
`,
);

let n = 0;
/** The files of dist/ the runtime had loaded when it stopped, relative to dist/. */
async function loadedFromDist(toml: string, use?: (rt: RuntimeProcess) => Promise<void>): Promise<string[]> {
  const out = join(scratch, `loaded-${n++}.json`);
  const rt = await startRuntime(makeWorkspace(toml), [], {
    env: { NODE_OPTIONS: `--require ${PRELOAD}`, LOOM_TEST_LOADED: out },
  });
  await use?.(rt);
  await rt.stop();
  return (JSON.parse(readFileSync(out, 'utf8')) as string[])
    .filter((f) => f.startsWith(DIST + '/'))
    .map((f) => f.slice(DIST.length + 1))
    .sort();
}

describe('the built bundles load the MCP SDK, the NATS client, ajv, zod and json5 only when used', function () {
  this.timeout(120_000);
  before(() => buildRuntime());
  afterEach(() => stopAllRuntimes());
  after(() => {
    removeWorkspaces();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('a runtime with neither MCP nor [cluster] loads nothing of dist/lazy/', async () => {
    assert.deepEqual(await loadedFromDist('[runtime]\nlog_level = "warn"\n'), [
      'loomToml.validate.js',
      'runtime-main.js',
      'runtime.js',
    ]);
    // Node reads runtime.js itself whole; the rest (requireInPieces) in pieces below glibc's mmap threshold.
    assert.ok(statSync(join(DIST, 'runtime.js')).size < 64 * 1024, 'runtime.js is only the small entry');
  });

  it('an MCP client of [mcp.serve] http loads the MCP SDK, and only it', async () => {
    const initialize = async (rt: RuntimeProcess) => {
      const { mcp, token } = rt.discovery() as Discovery & { mcp: string };
      const res = await fetch(mcp, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
        },
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 1,
          method: 'initialize',
          params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'test', version: '1' } },
        }),
      });
      const text = await res.text();
      assert.equal(res.status, 200, text);
      assert.match(text, /"result"/, text);
    };
    assert.deepEqual(await loadedFromDist('[mcp.serve]\nhttp = true\n', initialize), [
      'lazy/mcp.js',
      'loomToml.validate.js',
      'runtime-main.js',
      'runtime.js',
    ]);
  });

  it("a tool's first call loads ajv, which checks its arguments", async () => {
    let refusal = '';
    const callWithBadArguments = async (rt: RuntimeProcess) => {
      const { address, token } = rt.discovery();
      const c = connect(address, { token });
      try {
        const res = await call(c.tools, 'CallTool', { name: 'fs:read', arguments: JSON.stringify({ paht: 'x' }) });
        refusal = `${res.error?.code}: ${res.error?.message}`;
      } finally {
        c.close();
      }
    };
    assert.deepEqual(await loadedFromDist('[runtime]\nlog_level = "warn"\n', callWithBadArguments), [
      'lazy/ajv.js',
      'loomToml.validate.js',
      'runtime-main.js',
      'runtime.js',
    ]);
    assert.match(refusal, /^invalid_arguments: .*paht/, refusal);
  });

  it("the extension's core bundle leaves ajv and json5 to dist/lazy/, loaded on first use", () => {
    // The VS Code suites run this bundle: an editor tool refusing bad arguments (tools.test.ts) and
    // .vscode/mcp.json's inputs load these parts there.
    const core = readFileSync(join(DIST, 'core.js'), 'utf8');
    for (const [part, marker] of [
      ['core-ajv', 'unknown format'],
      ['json5', 'JSON5: invalid'], // the runtime's own: one file for both bundles
    ]) {
      assert.ok(!core.includes(marker), `core.js holds ${part}'s code ("${marker}")`);
      assert.ok(core.includes(`join(__dirname, "lazy/${part}.js")`), `core.js does not load lazy/${part}.js`);
      assert.ok(
        readFileSync(join(DIST, 'lazy', `${part}.js`), 'utf8').includes(marker),
        `lazy/${part}.js lacks "${marker}"`,
      );
    }
  });

  it('[cluster] loads the NATS client, and zod to check it', async () => {
    // Nothing listens on port 1: the runtime starts, keeps trying in the background, and stops.
    const loaded = await loadedFromDist('[cluster]\nservers = ["nats://127.0.0.1:1"]\nshare = ["a.>"]\n');
    assert.ok(loaded.includes('lazy/nats.js'), loaded.join(', '));
    assert.ok(loaded.includes('lazy/zod.js'), `[cluster] is checked with zod: ${loaded.join(', ')}`);
  });

  it('the prebuilt loom.toml validator answers as ajv compiling the schema does, errors included', async () => {
    type Validate = ((doc: unknown) => boolean) & { errors?: unknown };
    const built = (require(join(DIST, 'loomToml.validate.js')) as { validate: Validate }).validate;
    const compiled = new Ajv(LOOM_TOML_AJV_OPTIONS).compile(loomTomlSchema) as Validate;
    const { cases } = JSON.parse(
      readFileSync(join(REPO, 'test', 'fixtures', 'config-errors', 'cases.json'), 'utf8'),
    ) as {
      cases: { toml: string }[];
    };
    const docs: unknown[] = [{}, { runtime: { log_level: 'debug' }, agents: { a: { command: 'x' } } }];
    for (const c of cases) docs.push(await parseLoomToml('loom.toml', c.toml).catch(() => undefined));
    for (const doc of docs) {
      assert.equal(built(doc), compiled(doc), JSON.stringify(doc));
      assert.deepEqual(JSON.parse(JSON.stringify(built.errors)), JSON.parse(JSON.stringify(compiled.errors)));
    }
  });

  it("the prebuilt loom.toml validator is for the runtime's own schema and options (so it is used)", () => {
    const built = require(join(DIST, 'loomToml.validate.js')) as { schema: string; options: string };
    assert.equal(built.schema, JSON.stringify(loomTomlSchema), 'dist/ is stale or the schema drifted: rebuild');
    assert.equal(built.options, JSON.stringify(LOOM_TOML_AJV_OPTIONS), 'esbuild.mjs compiles with other ajv options');
  });
});
