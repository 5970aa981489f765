// loom.toml's one schema: the checked-in JSON Schema files are what the zod schema generates, and
// the runtime words each bad file of the shared corpus exactly as the corpus says (the Python SDK's
// tests hold it to the same lines: sdk/python/tests/unit/test_config_schema.py).
import { strict as assert } from 'node:assert';
import { promises as fs, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ConfigError, loadConfig } from '../../../runtime/config';
import { checkLoomToml, isMcpServerKey, type ConfigProblem } from '../../../runtime/contract';
import { parseMcpConfig } from '../../../runtime/mcp';
import { loomTomlSchemaText, SCHEMA_FILES } from '../../../runtime/config/schema';

const ROOT = path.resolve(__dirname, '../../..');
interface Case {
  name: string;
  toml: string;
  problems: string[];
}
const CORPUS: Case[] = JSON.parse(
  readFileSync(path.join(ROOT, 'test/fixtures/config-errors/cases.json'), 'utf8'),
).cases;

describe('config: the schema file', () => {
  for (const file of SCHEMA_FILES) {
    it(`${file} is what the zod schema generates (else: npm run gen:schema)`, () => {
      assert.equal(
        readFileSync(path.join(ROOT, file), 'utf8'),
        loomTomlSchemaText(),
        `${file} is out of date: run npm run gen:schema`,
      );
    });
  }

  it('covers every table, [mcp.*] and [llm.*] included', () => {
    const top = JSON.parse(loomTomlSchemaText()).properties;
    assert.ok(top.mcp.properties.settings.properties.headless_ask, '[mcp.settings]');
    assert.ok(top.mcp.properties.serve.properties.tool_policy, '[mcp.serve]');
    assert.ok(top.mcp.additionalProperties.properties.command, '[mcp.<name>]');
    assert.equal(top.llm.additionalProperties.properties.temperature.maximum, 2, '[llm.<name>]');
  });
});

describe('config: the shared corpus of bad files (test/fixtures/config-errors)', () => {
  it('has cases across the tables, [mcp.*] and [llm.*] included', () => {
    const keys = CORPUS.flatMap((c) => c.problems.map((p) => p.split(': ')[1]!.split('.')[0]));
    assert.ok(CORPUS.filter((c) => c.problems.length).length >= 10);
    for (const table of ['runtime', 'bridge', 'agents', 'mcp', 'llm'])
      assert.ok(keys.includes(table), `no case for [${table}]`);
  });

  it("tells a single MCP server's problem (the runtime starts without that server) from the others", () => {
    for (const key of ['mcp.github.command', 'mcp."a b".url', 'mcp.x']) assert.ok(isMcpServerKey(key), key);
    for (const key of ['mcp', 'mcp.settings.headless_ask', 'mcp.serve', 'llm.x.model', 'mcpx.y'])
      assert.ok(!isMcpServerKey(key), key);
  });

  for (const c of CORPUS) {
    it(`${c.name}: the runtime says what the corpus says`, async () => {
      const ws = await fs.mkdtemp(path.join(os.tmpdir(), 'loom-corpus-'));
      const lines = (ps: ConfigProblem[]) =>
        ps.length ? new ConfigError(path.join(ws, 'loom.toml'), 'loom.toml', ps).message.split('\n') : [];
      try {
        await fs.writeFile(path.join(ws, 'loom.toml'), c.toml);
        // The check the runtime's loader and the extension's Problems panel share.
        const { problems, mcpServerProblems } = await checkLoomToml(ws, {});
        assert.deepEqual([...lines(problems), ...lines(mcpServerProblems)].sort(), [...c.problems].sort());
        // The loader stops on the same lines, but for a single MCP server's...
        const loaded = await loadConfig(ws, undefined, { env: {} }).then(
          (config) => ({ config, stopped: [] as string[] }),
          (err: unknown) => {
            if (!(err instanceof ConfigError)) throw err;
            return { config: undefined, stopped: err.message.split('\n') };
          },
        );
        assert.deepEqual(loaded.stopped.sort(), lines(problems).sort());
        // ...which the MCP part reports (that server failed, the others run) in the same words.
        if (loaded.config && mcpServerProblems.length) {
          const reported = parseMcpConfig(loaded.config.mcp, ws)
            .problems.map((p) => p.message)
            .join('\n');
          for (const p of mcpServerProblems)
            assert.ok(reported.includes(`${p.key}: ${p.message}`), `${p.key}: ${p.message}\nnot in:\n${reported}`);
        }
      } finally {
        await fs.rm(ws, { recursive: true, force: true });
      }
    });
  }
});
