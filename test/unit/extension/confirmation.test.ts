// Agent mode's confirmation decision for Loom tools, on the runtime's own tool kinds.
import * as assert from 'node:assert/strict';
import { needsConfirmation, type ListedTool } from '../../../extension/tools/confirmation';

describe('needsConfirmation', () => {
  const registry: ListedTool[] = [
    { name: 'fs:read', metadata: {} },
    { name: 'fs:write', metadata: {} },
    { name: 'system:shell', metadata: {} },
    { name: 'editor:insert', metadata: {} },
    { name: 'mcp:files.read', metadata: { 'loom.kind': 'read' } },
    { name: 'mcp:files.rm', metadata: { 'mcp.destructive': 'true' } },
    { name: 'agent:deploy', metadata: { 'loom.kind': 'execute' } },
    { name: 'agent:lookup', metadata: { 'loom.kind': 'read' } },
  ];

  it('lets a tool the runtime knows only reads run without asking', () => {
    for (const name of ['fs:read', 'mcp:files.read', 'agent:lookup']) assert.equal(needsConfirmation(name, registry), false, name);
  });

  it("asks for tools that write or execute: Loom's own list, loom.kind, MCP's destructive hint", () => {
    for (const name of ['fs:write', 'system:shell', 'editor:insert', 'mcp:files.rm', 'agent:deploy']) assert.equal(needsConfirmation(name, registry), true, name);
  });

  it('asks for a tool the registry does not list', () => {
    assert.equal(needsConfirmation('nope:nothing', registry), true);
    assert.equal(needsConfirmation('fs:read', []), true);
  });
});
