// One base for Loom's errors: every error class it defines is a LoomError with a stable `code`,
// and messageOf reads a message off anything thrown.
import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { LoomError, messageOf } from '../../../runtime/contract';
import { BusError } from '../../../runtime/contract/busError';
import { DeliveryDropped } from '../../../runtime/bus/errors';
import { SupervisorError } from '../../../runtime/agents/supervisor';
import { ConfigError } from '../../../runtime/config/errors';
import { UsageError } from '../../../runtime/cli';
import { StoreError } from '../../../runtime/store/store';
import { ToolError } from '../../../runtime/tools/errors';
import { FeedOptionError } from '../../../runtime/feed/feed';
import { StatusError } from '../../../runtime/bridge/unary';
import { SenderMismatch } from '../../../runtime/bridge/convert';
import { McpConfigError } from '../../../runtime/mcp/config';
import { MemoryError } from '../../../runtime/memory/limits';
import { ToolFailure } from '../../../extension/bridge/client';

const ROOT = resolve(__dirname, '../../..');

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory()) {
      if (entry.name !== 'node_modules' && entry.name !== 'gen') out.push(...sources(path));
    } else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

describe('contract: errors', () => {
  describe('messageOf', () => {
    it("is an Error's message", () => {
      assert.equal(messageOf(new Error('boom')), 'boom');
      assert.equal(messageOf(new TypeError('bad type')), 'bad type');
      assert.equal(messageOf(new ToolError('failed', 'tool broke')), 'tool broke');
    });
    it('is a thrown string itself', () => {
      assert.equal(messageOf('plain text'), 'plain text');
      assert.equal(messageOf(''), '');
    });
    it('is String() of anything else', () => {
      assert.equal(messageOf(undefined), 'undefined');
      assert.equal(messageOf(null), 'null');
      assert.equal(messageOf(42), '42');
      assert.equal(messageOf({ toString: () => 'custom' }), 'custom');
      assert.equal(messageOf({ message: 'not an Error' }), '[object Object]');
    });
  });

  it('every error class is a LoomError with a code, keeping its name and message', () => {
    const cases: [Error, string, string][] = [
      [new BusError('invalid_topic', 'm1'), 'invalid_topic', 'BusError'],
      [new DeliveryDropped('closed', 'm2'), 'delivery_dropped', 'DeliveryDropped'],
      [new SupervisorError('m3'), 'supervisor_error', 'Error'],
      [new ConfigError('/x/loom.toml', 'loom.toml', [{ key: 'agents', message: 'm4' }]), 'config_error', 'ConfigError'],
      [new UsageError('m5'), 'usage_error', 'Error'],
      [new StoreError('locked', 'm6'), 'locked', 'StoreError'],
      [new ToolError('denied', 'm7'), 'denied', 'ToolError'],
      [new FeedOptionError('max_events', 'm8'), 'invalid_feed_option', 'Error'],
      [new StatusError(3, 'm9'), 'grpc_status', 'Error'],
      [new SenderMismatch('m10'), 'sender_mismatch', 'Error'],
      [new McpConfigError('m11'), 'mcp_config_error', 'McpConfigError'],
      [new MemoryError('invalid_argument', 'm12'), 'invalid_argument', 'MemoryError'],
      [new ToolFailure('TOOL_ERROR', 'unavailable', 'm13'), 'unavailable', 'Error'],
    ];
    for (const [err, code, name] of cases) {
      assert.ok(err instanceof LoomError, `${err.constructor.name} is a LoomError`);
      assert.ok(err instanceof Error);
      assert.equal((err as LoomError).code, code, err.constructor.name);
      assert.equal(err.name, name, err.constructor.name);
    }
    assert.equal(
      new ConfigError('/x/loom.toml', 'loom.toml', [{ key: 'agents', message: 'm4', line: 3 }]).message,
      'loom.toml:3:1: agents: m4',
    );
    assert.equal(new StatusError(3, 'm9').status, 3);
    assert.equal(new ToolFailure('TOOL_INVALID_ARGUMENTS', 'invalid_arguments', 'x').status, 'TOOL_INVALID_ARGUMENTS');
  });

  it('no class in runtime/, extension/ or webview/ extends a built-in error but LoomError itself', () => {
    const builtin = /class\s+(\w+)\s+extends\s+(Error|RangeError|TypeError|SyntaxError)\b/g;
    const bad: string[] = [];
    for (const file of [...sources('runtime'), ...sources('extension'), ...sources('webview')]) {
      for (const m of readFileSync(join(ROOT, file), 'utf8').matchAll(builtin)) {
        if (!(file === 'runtime/contract/errors.ts' && m[1] === 'LoomError')) bad.push(`${file}: ${m[0]}`);
      }
    }
    assert.deepEqual(bad, []);
  });
});
