// "Allow for this Session" in ui:confirm: what one answer allows (pure logic; the dialog itself is
// in the real-host suite, test/vscode/suite/mcp.test.ts).
import { strict as assert } from 'node:assert';
import { ALLOW_SESSION, ConfirmTool, DENY, type ConfirmRequest } from '../../../extension/mcp/confirm';
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
