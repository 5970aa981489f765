// A server published on npm (@modelcontextprotocol/server-filesystem, a devDependency) hosted by
// Loom over stdio: its tools become filesystem:* and a call reads a real file.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { silentLogger } from '../../../runtime/log';
import { startMcp, type McpManager } from '../../../runtime/mcp/manager';
import { ROOT, runtimeParts, tempDir } from './helpers';

describe('MCP client: a published server from npm', function () {
  this.timeout(60_000);
  let manager: McpManager | undefined;
  let dir: string;
  let parts: ReturnType<typeof runtimeParts>;

  beforeEach(() => {
    dir = tempDir('loom-mcp-published-');
    parts = runtimeParts();
  });
  afterEach(async () => {
    await manager?.close();
    await parts.bus.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('@modelcontextprotocol/server-filesystem: lists its tools and reads a file through Loom', async () => {
    fs.writeFileSync(path.join(dir, 'notes.md'), '# published servers work\n');
    const entry = path.join(ROOT, 'node_modules/@modelcontextprotocol/server-filesystem/dist/index.js');
    manager = await startMcp({
      registry: parts.registry,
      bus: parts.bus,
      workspace: dir,
      log: silentLogger,
      mcp: { filesystem: { command: process.execPath, args: [entry, '${workspaceFolder}'] } },
    });
    await manager.settled();
    const state = manager.state('filesystem')!;
    assert.equal(state.status, 'ready', state.lastError);
    assert.ok(state.tools.includes('filesystem:read_text_file'), state.tools.join(', '));
    assert.ok(state.tools.includes('filesystem:list_directory'));
    // The server's annotations reach the registry: readOnlyHint -> read, destructiveHint -> write.
    assert.equal(parts.registry.get('filesystem:read_text_file')!.metadata!['loom.kind'], 'read');
    assert.equal(parts.registry.get('filesystem:read_text_file')!.metadata!['mcp.read_only'], 'true');
    assert.equal(parts.registry.get('filesystem:write_file')!.metadata!['loom.kind'], 'write');
    assert.equal(parts.registry.get('filesystem:write_file')!.metadata!['mcp.destructive'], 'true');
    const read = await parts.registry.call({
      name: 'filesystem:read_text_file',
      arguments: { path: path.join(dir, 'notes.md') },
    });
    assert.equal(read.status, 'ok', read.status === 'error' ? read.error.message : '');
    const output = read.status === 'ok' ? (read.output as { content: Array<{ text: string }> }) : undefined;
    assert.equal(output?.content[0].text, '# published servers work\n');
    const outside = await parts.registry.call({
      name: 'filesystem:read_text_file',
      arguments: { path: '/etc/hostname' },
    });
    assert.equal(outside.status === 'error' && outside.error.code, 'failed');
    assert.match(
      outside.status === 'error' ? outside.error.message : '',
      /filesystem:read_text_file: .*(denied|outside)/i,
    );
  });
});
