// The window's test-mode commands, in one place: registered only when the extension runs under
// test (ExtensionMode.Test), they show what the views and channels hold, which VS Code offers no
// way to read. (The MCP features and the language model tools keep their own beside their code.)
import * as vscode from 'vscode';
import type { LogLine } from './runtime/logLines';
import type { AgentsTree } from './views/trees';

/** (channel name) → its recent lines [{level, text}], undefined when there is no such channel. */
export const TEST_CHANNEL_COMMAND = 'loom.test.channel';
/** () → the Agents view's rows: label, description, contextValue and the runtime's AgentInfo. */
export const TEST_AGENTS_TREE_COMMAND = 'loom.test.agentsTree';
/** () → the context keys this window set for the manifest's `when` clauses: { hasConfig }. */
export const TEST_CONTEXT_COMMAND = 'loom.test.context';
/** () → the ids of the calls of the window's own tools (editor:*, ui:*) running now. */
export const TEST_TOOL_CALLS_COMMAND = 'loom.test.toolCalls';

export interface TestHooksHost {
  /** The output channel of that name that keeps its lines (the runtime's, an agent's). */
  channel(name: string): { readonly lines: readonly LogLine[] } | undefined;
  readonly agents: AgentsTree;
  readonly hasConfig: boolean;
  readonly runningToolCalls: readonly string[];
}

/** Nothing outside a test run. */
export function registerTestHooks(mode: vscode.ExtensionMode, host: TestHooksHost): vscode.Disposable[] {
  if (mode !== vscode.ExtensionMode.Test) return [];
  return [
    vscode.commands.registerCommand(TEST_CHANNEL_COMMAND, (name: string) =>
      host.channel(name)?.lines.map((l) => ({ ...l })),
    ),
    vscode.commands.registerCommand(TEST_AGENTS_TREE_COMMAND, () =>
      host.agents.getChildren().map((item) => ({
        label: item.label,
        description: item.description,
        contextValue: item.contextValue,
        info: item.row.info,
      })),
    ),
    vscode.commands.registerCommand(TEST_CONTEXT_COMMAND, () => ({ hasConfig: host.hasConfig })),
    vscode.commands.registerCommand(TEST_TOOL_CALLS_COMMAND, () => [...host.runningToolCalls]),
  ];
}
