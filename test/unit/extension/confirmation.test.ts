// Agent mode's confirmation decision for Loom tools, on what ListTools really sends: the runtime's
// built-ins (aliases included) turned into wire descriptors by the bridge's own conversion.
import * as assert from 'node:assert/strict';
import { toolToWire } from '../../../runtime/bridge/convert';
import type { ToolDefinition } from '../../../runtime/tools/types';
import { NATIVE_PROVIDER, needsConfirmation, type ListedTool } from '../../../extension/tools/confirmation';
import { makeFixture, type Fixture } from '../tools/helpers';

describe('needsConfirmation', () => {
  let fixture: Fixture;
  let registry: ListedTool[];

  /** A tool another provider registers, as the wire lists it. */
  const other = (
    name: string,
    provider: ToolDefinition['provider'],
    metadata: Record<string, string> = {},
  ): ListedTool =>
    toolToWire({ name, description: name, parametersSchema: { type: 'object' }, provider, metadata }) as ListedTool;

  before(() => {
    fixture = makeFixture();
    registry = [
      ...fixture.registry.list().map((d) => toolToWire(d) as ListedTool),
      // The extension's editor tools, as it registers them (an agent's tools, loom.kind set).
      other('editor:selection', 'grpc', { 'loom.kind': 'read' }),
      other('editor:insert', 'grpc', { 'loom.kind': 'write' }),
      other('editor:replace', 'grpc'),
      other('mcp:files.read', 'mcp', { 'loom.kind': 'read' }),
      other('mcp:files.rm', 'mcp', { 'mcp.destructive': 'true' }),
      other('mcp:files.stat', 'mcp'),
      other('agent:deploy', 'grpc', { 'loom.kind': 'execute' }),
      other('agent:lookup', 'grpc', { 'loom.kind': 'read' }),
      other('agent:anything', 'grpc'),
    ];
  });

  after(() => fixture.cleanup());

  it("the runtime's own tools are listed with the wire's PROVIDER_NATIVE, which is what it compares", () => {
    const fsRead = registry.find((t) => t.name === 'fs:read');
    assert.equal(fsRead?.provider, 'PROVIDER_NATIVE');
    assert.equal(NATIVE_PROVIDER, 'PROVIDER_NATIVE');
  });

  it("lets the runtime's read tools (and their aliases) and tools that declare reading run without asking", () => {
    for (const name of [
      'fs:read',
      'fs:read_file',
      'fs:list',
      'fs:list_dir',
      'weather:get',
      'editor:selection',
      'mcp:files.read',
      'agent:lookup',
    ]) {
      assert.equal(needsConfirmation(name, registry), false, name);
    }
  });

  it("asks for tools that write or execute: Loom's own list, their aliases, loom.kind, MCP's destructive hint", () => {
    for (const name of [
      'fs:write',
      'fs:write_file',
      'fs:delete',
      'system:shell',
      'editor:insert',
      'editor:replace',
      'mcp:files.rm',
      'agent:deploy',
    ]) {
      assert.equal(needsConfirmation(name, registry), true, name);
    }
  });

  it('asks for a tool of an agent or an MCP server that states no kind (the runtime would call it a reader)', () => {
    for (const name of ['agent:anything', 'mcp:files.stat'])
      assert.equal(needsConfirmation(name, registry), true, name);
  });

  it('asks for a tool the registry does not list, or one listed under another provider than the runtime', () => {
    assert.equal(needsConfirmation('nope:nothing', registry), true);
    assert.equal(needsConfirmation('fs:read', []), true);
    assert.equal(needsConfirmation('fs:read', [{ name: 'fs:read', provider: 'PROVIDER_GRPC', metadata: {} }]), true);
  });
});
