// Loom for VS Code's agent mode: language model tools (declared under
// contributes.languageModelTools) that reach the runtime's tool registry, agents and bus.
// Anything that writes or executes asks the user first.
import * as vscode from 'vscode';
import type { Loom } from './loom';
import { needsConfirmation } from './tools/confirmation';
import { visible } from './mcp/confirm';

interface CallInput {
  name: string;
  arguments?: Record<string, unknown>;
}

function text(value: unknown): vscode.LanguageModelToolResult {
  return new vscode.LanguageModelToolResult([
    new vscode.LanguageModelTextPart(typeof value === 'string' ? value : JSON.stringify(value, null, 2)),
  ]);
}

export const LM_TOOLS = ['loom_list_tools', 'loom_call_tool', 'loom_list_agents', 'loom_publish'] as const;

/**
 * Test mode only: (input of loom_call_tool) → the title of the confirmation agent mode would show
 * before it, or null when it runs without asking. The same prepareInvocation the tool is registered
 * with: VS Code's own confirmation dialog is skipped under extension tests, so it cannot be watched.
 */
export const TEST_CALL_CONFIRMATION_COMMAND = 'loom.test.callToolConfirmation';

function callTool(loom: Loom): vscode.LanguageModelTool<CallInput> {
  return {
    prepareInvocation: async (opts) => {
      const tools = loom.connection ? await loom.connection.listTools().catch(() => []) : [];
      const args = visible(JSON.stringify(opts.input.arguments ?? {}, null, 2));
      return {
        invocationMessage: `Calling Loom tool ${opts.input.name}`,
        confirmationMessages: !needsConfirmation(opts.input.name, tools)
          ? undefined
          : {
              title: `Run Loom tool ${opts.input.name}?`,
              message: new vscode.MarkdownString(
                `This tool may change files, run commands or act for you.\n\n\`\`\`json\n${args}\n\`\`\``,
              ),
            },
      };
    },
    invoke: async (opts) => {
      const session = await loom.ensureRuntime();
      const res = await session.conn.callTool(opts.input.name, opts.input.arguments ?? {});
      if (res.status !== 'TOOL_OK')
        throw new Error(`${opts.input.name} failed (${res.status}): ${res.error?.message ?? ''}`);
      return text(res.output || 'null');
    },
  };
}

export function registerLanguageModelTools(loom: Loom): vscode.Disposable[] {
  if (typeof vscode.lm?.registerTool !== 'function') return []; // a host without the API
  const call = callTool(loom);
  const testOnly =
    loom.context.extensionMode === vscode.ExtensionMode.Test
      ? [
          vscode.commands.registerCommand(TEST_CALL_CONFIRMATION_COMMAND, async (input: CallInput) => {
            const prepared = await call.prepareInvocation!(
              { input } as vscode.LanguageModelToolInvocationPrepareOptions<CallInput>,
              new vscode.CancellationTokenSource().token,
            );
            return prepared?.confirmationMessages?.title ?? null;
          }),
        ]
      : [];
  return [
    ...testOnly,
    vscode.lm.registerTool<{ prefix?: string }>('loom_list_tools', {
      invoke: async (opts) => {
        const session = await loom.ensureRuntime();
        const tools = await session.conn.listTools(opts.input.prefix ?? '');
        return text(
          tools.map((t) => ({
            name: t.name,
            description: t.description,
            parameters: JSON.parse(t.parametersSchema || '{}') as unknown,
          })),
        );
      },
    }),
    vscode.lm.registerTool<CallInput>('loom_call_tool', call),
    vscode.lm.registerTool<Record<string, never>>('loom_list_agents', {
      invoke: async () => {
        const session = await loom.ensureRuntime();
        const agents = await session.conn.listAgents();
        return text(
          agents.map((a) => ({
            id: a.agentId,
            state: a.state,
            topics: a.topics,
            tools: a.tools,
            restarts: a.restarts,
            lastError: a.lastError,
          })),
        );
      },
    }),
    vscode.lm.registerTool<{ topic: string; payload?: unknown }>('loom_publish', {
      prepareInvocation: (opts) => ({
        invocationMessage: `Publishing on ${opts.input.topic}`,
        confirmationMessages: {
          title: `Publish an event on ${opts.input.topic}?`,
          message: `Agents subscribed to ${opts.input.topic} will act on it.`,
        },
      }),
      invoke: async (opts) => {
        const session = await loom.ensureRuntime();
        session.conn.publish(opts.input.topic, opts.input.topic, opts.input.payload ?? {}, 'copilot');
        return text({ published: opts.input.topic });
      },
    }),
  ];
}
