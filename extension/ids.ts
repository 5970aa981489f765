// The extension's ids that its entry needs before anything else loads (extension.ts imports
// only this and \`vscode\`): every contributed command, and the dashboard's webview type.

export const MCP_COMMANDS = ['loom.clearMcpInputs', 'loom.restartMcpServer'] as const;

/** Every command the extension contributes (package.json's contributes.commands agrees; a test checks). */
export const COMMANDS = [
  'loom.startRuntime',
  'loom.stopRuntime',
  'loom.restartRuntime',
  'loom.startAgent',
  'loom.stopAgent',
  'loom.restartAgent',
  'loom.showAgentLogs',
  'loom.showRuntimeLog',
  'loom.openDashboard',
  'loom.hotkey',
  'loom.emitHotkey',
  'loom.sendSelection',
  'loom.callTool',
  'loom.newAgent',
  'loom.initWorkspace',
  'loom.installSdk',
  'loom.setApiKey',
  'loom.refresh',
  ...MCP_COMMANDS,
] as const;

export const DASHBOARD_VIEW_TYPE = 'loom.dashboard';
