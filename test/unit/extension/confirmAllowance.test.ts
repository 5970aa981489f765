// "Allow for this Session" in ui:confirm: what one answer allows (pure logic; the dialog itself is
// in the real-host suite, test/vscode/suite/mcp.test.ts).
import { strict as assert } from 'node:assert';
import {
  ALLOW,
  ALLOW_SESSION,
  ConfirmTool,
  confirmQuestion,
  DENY,
  visible,
  type ConfirmRequest,
} from '../../../extension/mcp/confirm';
import type { McpUi } from '../../../extension/mcp/ui';

describe('ui:confirm allowances', () => {
  function scripted(answers: string[]): { ui: McpUi; asked: string[] } {
    const asked: string[] = [];
    const ui: McpUi = {
      modal: async (q) => {
        asked.push(q.message);
        return answers.shift();
      },
      input: async () => undefined,
    };
    return { ui, asked };
  }
  const write = (caller: string, path: string): ConfirmRequest => ({
    tool: 'fs:write',
    arguments: { path, content: 'x' },
    caller,
    reason: `fs:write wants to write ${JSON.stringify(path)}: it is inside .vscode (tools.fs.protected_writes = "ask")`,
  });

  it('allows the same agent, tool and reason again; not another agent, nor another path', async () => {
    const { ui, asked } = scripted([ALLOW_SESSION, DENY, DENY]);
    const confirm = new ConfirmTool(ui);
    assert.deepEqual(await confirm.confirm(write('alice', '.vscode/extensions.json')), {
      allowed: true,
      remembered: true,
    });
    assert.deepEqual(await confirm.confirm(write('alice', '.vscode/extensions.json')), {
      allowed: true,
      remembered: true,
    });
    assert.equal(asked.length, 1);
    assert.deepEqual(await confirm.confirm(write('mallory', '.vscode/extensions.json')), {
      allowed: false,
      remembered: false,
    });
    assert.deepEqual(await confirm.confirm(write('alice', '.vscode/tasks.json')), {
      allowed: false,
      remembered: false,
    });
    assert.equal(asked.length, 3);
  });

  it('forgets every allowance when told (a new runtime)', async () => {
    const { ui, asked } = scripted([ALLOW_SESSION, DENY]);
    const confirm = new ConfirmTool(ui);
    await confirm.confirm(write('alice', 'loom.toml'));
    confirm.forget();
    assert.deepEqual(await confirm.confirm(write('alice', 'loom.toml')), { allowed: false, remembered: false });
    assert.equal(asked.length, 2);
  });
});

describe('ui:confirm: what the dialog shows', () => {
  it('offers Deny first (the focused button), then Allow and Allow for this Session', async () => {
    let choices: string[] = [];
    const ui: McpUi = {
      modal: async (q) => ((choices = q.choices), undefined),
      input: async () => undefined,
    };
    const answer = await new ConfirmTool(ui).confirm({ tool: 'fs:write', arguments: {} });
    assert.deepEqual(choices, [DENY, ALLOW, ALLOW_SESSION]);
    assert.deepEqual(answer, { allowed: false, remembered: false }, 'Escape (undefined) denies');
  });

  it('shows bidi controls, zero-width characters, separators and C1 controls escaped, in arguments and reason', () => {
    // As an agent would spell ".vscode/settings.json" backwards behind a right-to-left override.
    const { detail } = confirmQuestion({
      tool: 'fs:write',
      arguments: { content: '["\u202Enosj.sgnittes/edocsv.\u202C"]', ['p\u200Bath']: 'a\u2028b\u2029c\u0085d\u2066e' },
      reason: 'tools.fs.protected_writes = "ask"\u202E',
    });
    for (const c of ['\u202E', '\u202C', '\u200B', '\u2028', '\u2029', '\u0085', '\u2066'])
      assert.ok(!detail.includes(c), `U+${c.codePointAt(0)!.toString(16)} is shown raw`);
    for (const e of ['\\u202e', '\\u202c', '\\u200b', '\\u2028', '\\u2029', '\\u0085', '\\u2066'])
      assert.ok(detail.includes(e), `${e} is missing: ${detail}`);
    assert.match(detail, /Asked because tools\.fs\.protected_writes = "ask"\\u202e\./);
    assert.equal(visible('line one\nline two, é'), 'line one\nline two, é', 'newlines and letters stay');
  });
});
