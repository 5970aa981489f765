// Tool namespaces that are Loom's own: the runtime's built-ins, the window's editor tools, and
// names kept for the runtime's parts. Nobody else registers tools in them — not an MCP server
// (its name is its namespace) and not an agent — so a tool named "ui:confirm" or "fs:read" is
// always the one Loom provides, and an agent cannot take a name the window is about to register.
export const LOOM_NAMESPACES: readonly string[] = [
  'fs',
  'system',
  'weather',
  'editor',
  'ui',
  'clipboard',
  'agent',
  'agents',
  'mcp',
  'loom',
  'runtime',
  'bus',
  'store',
  'vscode',
];

/** The namespaces the VS Code window's own tools use (its agent id is "vscode"). */
export const WINDOW_NAMESPACES: readonly string[] = ['editor', 'ui', 'clipboard'];

/**
 * Why an agent may not register `tool`, or undefined when it may. A reference-style dotted name
 * ("fs.read") counts its first segment as the namespace: it would read as Loom's own tool.
 */
export function refuseAgentToolName(agentId: string, tool: string): string | undefined {
  const separator = tool.includes(':') ? ':' : '.';
  const at = tool.indexOf(separator);
  const namespace = at > 0 ? tool.slice(0, at).toLowerCase() : undefined;
  if (namespace === undefined || !LOOM_NAMESPACES.includes(namespace)) return undefined;
  if (agentId === 'vscode' && WINDOW_NAMESPACES.includes(namespace)) return undefined;
  return `tool ${JSON.stringify(tool)} is in the "${namespace}${separator}" namespace, which is Loom's own; name it "${agentId}:${tool.slice(at + 1)}" or under another namespace`;
}
