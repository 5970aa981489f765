// Whether agent mode must ask the user before a Loom tool runs. The runtime decides what a tool
// does (toolKind: its loom.kind, MCP annotations, then Loom's own list); only reading is let
// through. No vscode here, so the unit tests run it as is.
import { toolKind } from '../../runtime/mcp/kinds';

export interface ListedTool {
  name: string;
  metadata?: Record<string, string>;
}

/** True unless the registry lists the tool and it only reads; a tool it does not list may be anything. */
export function needsConfirmation(name: string, registry: readonly ListedTool[]): boolean {
  const tool = registry.find((t) => t.name === name);
  return !tool || toolKind(tool) !== 'read';
}
