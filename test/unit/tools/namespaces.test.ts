// Loom's namespaces are Loom's in every spelling a client reads a tool name in: "fs:read", the
// reference's "fs.read", and "fs__read", which is what an MCP client sees for fs:read. An agent
// registered "fs__read" and "system__shell", and MCP clients of Loom called its tools instead of
// Loom's (red-team finding).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { defaultConfig } from '../../../runtime/config';
import { silentLogger } from '../../../runtime/log';
import { registerBuiltinTools } from '../../../runtime/tools/builtin';
import { loomNamespaceOf, refuseAgentToolName } from '../../../runtime/tools/namespaces';
import { DefaultToolRegistry } from '../../../runtime/tools/registry';

describe("tools: Loom's own namespaces", () => {
  for (const name of [
    'fs:read',
    'fs.read',
    'fs__read',
    'system__shell',
    'SYSTEM__shell',
    'editor__open',
    'ui.confirm',
    // The built-ins web:search and llm:generate, as Loom and MCP clients spell them: an agent's
    // "web__search" took the built-in's name from the person's MCP client.
    'web:search',
    'web__search',
    'llm__generate',
  ])
    it(`an agent may not register ${JSON.stringify(name)}`, () => {
      assert.match(refuseAgentToolName('mallory', name) ?? '', /namespace, which is Loom's own; name it "mallory:/);
    });

  // web.search is the reference's own README agent's tool: the dotted spelling stays the agents'.
  for (const name of [
    'mallory:fs__read',
    'notes',
    'fsx__y',
    'web.search',
    'llm.generate',
    'calc:add',
    'my_tool',
    '__fs',
  ])
    it(`an agent may register ${JSON.stringify(name)}`, () => {
      assert.equal(refuseAgentToolName('mallory', name), undefined);
    });

  it("the window registers its own namespaces in Loom's spelling only", () => {
    assert.equal(refuseAgentToolName('vscode', 'editor:open'), undefined);
    assert.match(refuseAgentToolName('vscode', 'editor__open') ?? '', /Loom's own/);
    assert.match(refuseAgentToolName('vscode', 'fs:read') ?? '', /Loom's own/);
  });

  it('every tool the runtime registers is in one of its namespaces', () => {
    const registry = new DefaultToolRegistry({ defaultTimeoutMs: 1000, log: silentLogger });
    const ws = mkdtempSync(path.join(os.tmpdir(), 'loom-ns-'));
    try {
      registerBuiltinTools(registry, defaultConfig(ws), silentLogger);
      const names = registry.list().map((t) => t.name);
      assert.ok(names.includes('web:search') && names.includes('llm:generate'), names.join(', '));
      for (const name of names) assert.ok(loomNamespaceOf(name), `${name} is outside Loom's namespaces`);
    } finally {
      rmSync(ws, { recursive: true, force: true });
    }
  });

  it('says which namespace and spelling a name is in', () => {
    assert.deepEqual(loomNamespaceOf('system__shell'), { namespace: 'system', separator: '__', rest: 'shell' });
    assert.deepEqual(loomNamespaceOf('fs.read'), { namespace: 'fs', separator: '.', rest: 'read' });
    assert.equal(loomNamespaceOf('github:fs__x'), undefined);
  });
});
