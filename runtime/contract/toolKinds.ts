// Contract: what a tool does to the world — read, write or execute — as far as Loom can tell. It
// decides the default policy of a tool served over MCP (runtime/mcp) and VS Code's agent-mode
// confirmation (extension/tools/confirmation.ts): one rule for both processes.
import { canonicalToolName } from './toolNames';

export type ToolKind = 'read' | 'write' | 'execute';

/** ToolDefinition.metadata key any provider may set ("read" | "write" | "execute"). */
export const KIND_KEY = 'loom.kind';

/** Loom's own tools that change files or run programs (the extension's editor tools included); their aliases share the kind. */
const KNOWN_KINDS: Record<string, ToolKind> = {
  'fs:write': 'write',
  'fs:delete': 'write',
  'editor:insert': 'write',
  'editor:replace': 'write',
  'system:shell': 'execute',
};

/** A tool's kind: its `loom.kind`, then MCP annotations passed through, then Loom's list (an alias as the tool it names); otherwise read. */
export function toolKind(def: { name: string; metadata?: Readonly<Record<string, string>> | null }): ToolKind {
  const declared = def.metadata?.[KIND_KEY];
  if (declared === 'read' || declared === 'write' || declared === 'execute') return declared;
  if (def.metadata?.['mcp.destructive'] === 'true') return 'write';
  const name = canonicalToolName(def.name);
  return Object.hasOwn(KNOWN_KINDS, name) ? KNOWN_KINDS[name]! : 'read';
}
