// Loom's namespaces are Loom's in every spelling a client reads a tool name in: "fs:read", the
// reference's "fs.read", and "fs__read", which is what an MCP client sees for fs:read. An agent
// registered "fs__read" and "system__shell", and MCP clients of Loom called its tools instead of
// Loom's (red-team finding).
import assert from 'node:assert/strict';
import { loomNamespaceOf, refuseAgentToolName } from '../../../runtime/tools/namespaces';

describe("tools: Loom's own namespaces", () => {
  for (const name of ['fs:read', 'fs.read', 'fs__read', 'system__shell', 'SYSTEM__shell', 'editor__open', 'ui.confirm'])
    it(`an agent may not register ${JSON.stringify(name)}`, () => {
      assert.match(refuseAgentToolName('mallory', name) ?? '', /namespace, which is Loom's own; name it "mallory:/);
    });

  for (const name of ['mallory:fs__read', 'notes', 'fsx__y', 'web.search', 'calc:add', 'my_tool', '__fs'])
    it(`an agent may register ${JSON.stringify(name)}`, () => {
      assert.equal(refuseAgentToolName('mallory', name), undefined);
    });

  it("the window registers its own namespaces in Loom's spelling only", () => {
    assert.equal(refuseAgentToolName('vscode', 'editor:open'), undefined);
    assert.match(refuseAgentToolName('vscode', 'editor__open') ?? '', /Loom's own/);
    assert.match(refuseAgentToolName('vscode', 'fs:read') ?? '', /Loom's own/);
  });

  it('says which namespace and spelling a name is in', () => {
    assert.deepEqual(loomNamespaceOf('system__shell'), { namespace: 'system', separator: '__', rest: 'shell' });
    assert.deepEqual(loomNamespaceOf('fs.read'), { namespace: 'fs', separator: '.', rest: 'read' });
    assert.equal(loomNamespaceOf('github:fs__x'), undefined);
  });
});
