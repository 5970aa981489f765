// Tool namespaces that are Loom's own: the runtime's built-ins, the window's editor tools, and
// names kept for the runtime's parts. Nobody else registers tools in them — not an MCP server
// (its name is its namespace) and not an agent — so a tool named "ui:confirm" or "fs:read" is
// always the one Loom provides, and an agent cannot take a name the window is about to register.
export const LOOM_NAMESPACES: readonly string[] = [
  'fs',
  'system',
  'weather',
  'web',
  'llm',
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

/** Who the built-in tools are registered as (their owner in the registry). */
export const BUILTIN_OWNER = 'runtime';
/** The VS Code window's agent id, which owns its editor tools. */
export const WINDOW_OWNER = 'vscode';

/** The namespaces the VS Code window's own tools use (its agent id is "vscode"). */
export const WINDOW_NAMESPACES: readonly string[] = ['editor', 'ui', 'clipboard'];

/**
 * Namespaces of built-ins whose dotted spelling stays open to agents: the reference's own README
 * agent registers "web.search", and reference clients call it by that name (the SDK tries an
 * agent's "web.search" before Loom's web:search). Their ":" and "__" spellings are Loom's: an
 * agent's "web__search" had taken the built-in's name from the person's MCP client.
 */
const DOTTED_FOR_AGENTS = ['web', 'llm'];

/**
 * The Loom namespace `tool` reads as being in, whichever way it is spelled: "fs:read", the
 * reference's dotted "fs.read", and "fs__read", the name MCP clients see for fs:read (runtime/mcp
 * turns ":" into "__"): a tool of that name would stand in for Loom's own there.
 */
export function loomNamespaceOf(tool: string): { namespace: string; separator: string; rest: string } | undefined {
  for (const separator of [':', '.', '__']) {
    const at = tool.indexOf(separator);
    const namespace = at > 0 ? tool.slice(0, at).toLowerCase() : undefined;
    if (namespace === undefined || !LOOM_NAMESPACES.includes(namespace)) continue;
    if (separator === '.' && DOTTED_FOR_AGENTS.includes(namespace)) continue;
    return { namespace, separator, rest: tool.slice(at + separator.length) };
  }
  return undefined;
}

/** Every namespace `tool` can be read as being in: what comes before its first ":", "." or "__". */
export function namespacesOf(tool: string): string[] {
  const out: string[] = [];
  for (const separator of [':', '.', '__']) {
    const at = tool.indexOf(separator);
    if (at > 0) out.push(tool.slice(0, at));
  }
  return out;
}

/** Why an agent may not register `tool`, or undefined when it may. */
export function refuseAgentToolName(agentId: string, tool: string): string | undefined {
  const loom = loomNamespaceOf(tool);
  if (!loom) return undefined;
  if (agentId === WINDOW_OWNER && loom.separator === ':' && WINDOW_NAMESPACES.includes(loom.namespace))
    return undefined;
  return `tool ${JSON.stringify(tool)} is in the "${loom.namespace}${loom.separator}" namespace, which is Loom's own; name it "${agentId}:${loom.rest}" or under another namespace`;
}
