// Agent mode's confirmation decision for Loom tools, on the runtime's own tool kinds.
import * as assert from 'node:assert/strict';
import { needsConfirmation, type ListedTool } from '../../../extension/tools/confirmation';

describe('needsConfirmation', () => {
  const registry: ListedTool[] = [
    { name: 'fs:read', provider: 'NATIVE', metadata: {} },
    { name: 'fs:write', provider: 'NATIVE', metadata: {} },
    { name: 'system:shell', provider: 'NATIVE', metadata: {} },
    { name: 'editor:insert', provider: 'GRPC', metadata: {} },
    { name: 'mcp:files.read', provider: 'MCP', metadata: { 'loom.kind': 'read' } },
    { name: 'mcp:files.rm', provider: 'MCP', metadata: { 'mcp.destructive': 'true' } },
    { name: 'mcp:files.stat', provider: 'MCP', metadata: {} },
    { name: 'agent:deploy', provider: 'GRPC', metadata: { 'loom.kind': 'execute' } },
    { name: 'agent:lookup', provider: 'GRPC', metadata: { 'loom.kind': 'read' } },
    { name: 'agent:anything', provider: 'GRPC', metadata: {} },
  ];

  it('lets a tool the runtime knows only reads run without asking', () => {
    for (const name of ['fs:read', 'mcp:files.read', 'agent:lookup']) assert.equal(needsConfirmation(name, registry), false, name);
  });

  it("asks for tools that write or execute: Loom's own list, loom.kind, MCP's destructive hint", () => {
    for (const name of ['fs:write', 'system:shell', 'editor:insert', 'mcp:files.rm', 'agent:deploy']) assert.equal(needsConfirmation(name, registry), true, name);
  });

  it('asks for a tool of an agent or an MCP server that states no kind (the runtime would call it a reader)', () => {
    for (const name of ['agent:anything', 'mcp:files.stat']) assert.equal(needsConfirmation(name, registry), true, name);
  });

  it('asks for a tool the registry does not list', () => {
    assert.equal(needsConfirmation('nope:nothing', registry), true);
    assert.equal(needsConfirmation('fs:read', []), true);
  });
});
