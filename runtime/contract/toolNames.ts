// Contract: the reference's names for Loom's own tools (fs:read_file, fs:write_file, fs:list_dir): the
// built-ins register them as aliases of the same handlers, so a reference agent finds what it
// expects. An alias is the same tool, so everything that judges a tool by its name — its kind
// (toolKinds.ts), the [mcp.serve] policy and exclude, VS Code's agent-mode confirmation —
// asks this module for all of its names. No imports: the extension and the runtime both use it.

/** alias → the tool it names. */
export const ALIASES: Readonly<Record<string, string>> = Object.freeze({
  'fs:read_file': 'fs:read',
  'fs:write_file': 'fs:write',
  'fs:list_dir': 'fs:list',
});

/** The tool a name stands for: the aliased tool for an alias, the name itself otherwise. */
export function canonicalToolName(name: string): string {
  return Object.hasOwn(ALIASES, name) ? ALIASES[name]! : name;
}
