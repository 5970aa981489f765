// Aliases share their tool's policy: fs:write_file is fs:write for its kind, for the [mcp.serve]
// tool_policy and exclude, and for the registry's built-ins (runtime/contract/toolNames.ts is the one map).
import * as assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { silentLogger } from '../../../runtime/log';
import { toolKind } from '../../../runtime/contract/toolKinds';
import { servedToolPolicy } from '../../../runtime/mcp/policy';
import { createLoomMcpServer, type ServeOptions } from '../../../runtime/mcp/server';
import { ALIASES, canonicalToolName } from '../../../runtime/contract/toolNames';
import { makeFixture, type Fixture } from '../tools/helpers';

describe('tool aliases', () => {
  it('map the reference names onto Loom tools', () => {
    assert.deepEqual(
      { ...ALIASES },
      { 'fs:read_file': 'fs:read', 'fs:write_file': 'fs:write', 'fs:list_dir': 'fs:list' },
    );
    assert.equal(canonicalToolName('fs:write_file'), 'fs:write');
    assert.equal(canonicalToolName('fs:write'), 'fs:write');
    assert.equal(canonicalToolName('toString'), 'toString', 'an Object.prototype key is no alias');
  });

  it('have the kind of the tool they name', () => {
    assert.equal(toolKind({ name: 'fs:write_file' }), 'write');
    assert.equal(toolKind({ name: 'fs:write' }), 'write');
    assert.equal(toolKind({ name: 'fs:read_file' }), 'read');
    assert.equal(toolKind({ name: 'fs:list_dir' }), 'read');
    assert.equal(toolKind({ name: 'constructor' }), 'read', 'an Object.prototype key is no known kind');
  });

  describe('[mcp.serve] tool_policy', () => {
    const policy = (
      toolPolicy: Record<string, 'allow' | 'ask' | 'deny'>,
      name: string,
      servePolicy?: 'allow' | 'ask' | 'deny',
    ) => servedToolPolicy({ toolPolicy, policy: servePolicy })({ name });

    it('by default asks for an alias of a write tool, as for the tool', () => {
      assert.deepEqual(policy({}, 'fs:write_file'), { policy: 'ask', source: 'the mcp.serve default for write tools' });
      assert.deepEqual(policy({}, 'fs:read_file'), { policy: 'allow', source: 'the mcp.serve default for read tools' });
    });

    it('an entry naming the tool applies to its aliases; one naming only an alias leaves the tool alone', () => {
      assert.deepEqual(policy({ 'fs:write': 'deny' }, 'fs:write_file'), {
        policy: 'deny',
        source: 'mcp.serve.tool_policy."fs:write"',
      });
      assert.deepEqual(policy({ 'fs:read': 'deny' }, 'fs:read_file', 'allow'), {
        policy: 'deny',
        source: 'mcp.serve.tool_policy."fs:read"',
      });
      assert.deepEqual(policy({ 'fs:write_file': 'deny' }, 'fs:write_file'), {
        policy: 'deny',
        source: 'mcp.serve.tool_policy."fs:write_file"',
      });
      assert.deepEqual(policy({ 'fs:write_file': 'deny' }, 'fs:write'), {
        policy: 'ask',
        source: 'the mcp.serve default for write tools',
      });
    });

    it('an alias is never looser than its tool: where both have an exact entry, the stricter holds', () => {
      assert.deepEqual(policy({ 'fs:write': 'deny', 'fs:write_file': 'allow' }, 'fs:write_file'), {
        policy: 'deny',
        source: 'mcp.serve.tool_policy."fs:write"',
      });
      assert.deepEqual(policy({ 'fs:write': 'allow', 'fs:write_file': 'ask' }, 'fs:write_file'), {
        policy: 'ask',
        source: 'mcp.serve.tool_policy."fs:write_file"',
      });
      assert.deepEqual(
        policy({ 'fs:write': 'ask', 'fs:write_file': 'ask' }, 'fs:write_file'),
        { policy: 'ask', source: 'mcp.serve.tool_policy."fs:write_file"' },
        'a tie names the called name',
      );
      assert.deepEqual(policy({ 'fs:write': 'allow', 'fs:write_file': 'deny' }, 'fs:write'), {
        policy: 'allow',
        source: 'mcp.serve.tool_policy."fs:write"',
      });
    });

    it("globs: one matching the tool's name applies to the alias, the stricter of the two first matches holds, and an exact entry still wins", () => {
      assert.deepEqual(policy({ '*:write': 'deny' }, 'fs:write_file'), {
        policy: 'deny',
        source: 'mcp.serve.tool_policy."*:write"',
      });
      assert.deepEqual(policy({ 'fs:*_*': 'allow', 'fs:w*': 'deny' }, 'fs:write_file'), {
        policy: 'deny',
        source: 'mcp.serve.tool_policy."fs:w*"',
      });
      assert.deepEqual(
        policy({ 'fs:*_*': 'deny' }, 'fs:read'),
        { policy: 'allow', source: 'the mcp.serve default for read tools' },
        'a glob for the reference names leaves the tools alone',
      );
      assert.deepEqual(policy({ 'fs:*': 'deny', 'fs:write': 'allow' }, 'fs:write_file'), {
        policy: 'allow',
        source: 'mcp.serve.tool_policy."fs:write"',
      });
    });

    it('leaves other tools alone', () => {
      assert.deepEqual(policy({ 'fs:write': 'deny' }, 'fs:read_file'), {
        policy: 'allow',
        source: 'the mcp.serve default for read tools',
      });
      assert.deepEqual(policy({ 'fs:write': 'deny' }, 'fs:delete'), {
        policy: 'ask',
        source: 'the mcp.serve default for write tools',
      });
    });
  });

  describe('served over MCP, with the built-ins registered under every name', () => {
    let fixture: Fixture;
    const clients: Client[] = [];

    beforeEach(() => {
      fixture = makeFixture();
    });

    afterEach(async () => {
      for (const c of clients.splice(0)) await c.close();
      fixture.cleanup();
    });

    async function client(opts: Partial<ServeOptions>): Promise<Client> {
      const server = createLoomMcpServer({ registry: fixture.registry, log: silentLogger, ...opts });
      const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
      await server.connect(serverSide);
      const c = new Client({ name: 'alias-test', version: '1.0.0' });
      await c.connect(clientSide);
      clients.push(c);
      return c;
    }

    const listed = async (c: Client) =>
      (await c.listTools()).tools
        .map((t) => t.name)
        .filter((n) => n.startsWith('fs__'))
        .sort();
    const text = (r: unknown) => ((r as CallToolResult).content[0] as { text: string }).text;

    it('the registry has each alias, with its tool’s schema (fs:write_file makes folders by default, as the reference’s does)', () => {
      const defs = new Map(fixture.registry.list().map((d) => [d.name, d]));
      for (const [alias, target] of Object.entries(ALIASES)) {
        assert.ok(defs.has(alias), `${alias} is registered`);
        const expected = structuredClone(defs.get(target)!.parametersSchema) as any;
        if (alias === 'fs:write_file') expected.properties.create_dirs.default = true;
        assert.deepEqual(defs.get(alias)!.parametersSchema, expected);
      }
    });

    it('exclude naming a tool leaves out its aliases; naming only aliases keeps the tools', async () => {
      assert.deepEqual(await listed(await client({ exclude: ['fs:write'] })), [
        'fs__delete',
        'fs__list',
        'fs__list_dir',
        'fs__read',
        'fs__read_file',
      ]);
      assert.deepEqual(await listed(await client({ exclude: ['*:list', 'fs:read_file'] })), [
        'fs__delete',
        'fs__read',
        'fs__write',
        'fs__write_file',
      ]);
      assert.deepEqual(await listed(await client({ exclude: ['fs:*_*'] })), [
        'fs__delete',
        'fs__list',
        'fs__read',
        'fs__write',
      ]);
      const c = await client({ exclude: ['fs:write'] });
      await assert.rejects(
        c.callTool({ name: 'fs__write_file', arguments: { path: 'x.txt', content: 'x' } }),
        /Unknown tool: fs__write_file/,
      );
      assert.equal(fs.existsSync(path.join(fixture.ws, 'x.txt')), false);
    });

    it('include stays literal: it offers only the names it matches', async () => {
      assert.deepEqual(await listed(await client({ include: ['fs:read'] })), ['fs__read']);
    });

    it('tool_policy for fs:write decides fs:write_file: deny refuses naming the entry, allow lets it write', async () => {
      const denied = await client({ policy: { serve: { toolPolicy: { 'fs:write': 'deny' } } } });
      const refused = await denied.callTool({ name: 'fs__write_file', arguments: { path: 'x.txt', content: 'x' } });
      assert.equal((refused as CallToolResult).isError, true);
      assert.equal(
        text(refused),
        'denied: fs:write_file is denied by policy (mcp.serve.tool_policy."fs:write" = "deny")',
      );
      assert.equal(fs.existsSync(path.join(fixture.ws, 'x.txt')), false);

      const headless = await client({});
      assert.match(
        text(await headless.callTool({ name: 'fs__write_file', arguments: { path: 'x.txt', content: 'x' } })),
        /^denied: fs:write_file needs confirmation \(the mcp\.serve default for write tools: "ask"\)/,
      );

      const allowed = await client({ policy: { serve: { toolPolicy: { 'fs:write': 'allow' } } } });
      const ok = await allowed.callTool({ name: 'fs__write_file', arguments: { path: 'x.txt', content: 'written' } });
      assert.equal((ok as CallToolResult).isError, undefined, text(ok));
      assert.equal(fs.readFileSync(path.join(fixture.ws, 'x.txt'), 'utf8'), 'written');
    });
  });
});
