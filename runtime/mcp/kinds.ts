// What a tool does to the world — read, write or execute — as far as Loom can tell. It decides the
// default policy of a tool served over MCP and is what an MCP server's annotations turn into.
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import type { ToolDefinition } from '../tools';
// Deep, not through the tools index: the extension bundles this file (agent-mode confirmation), and
// the index would pull the registry and the built-ins into it. aliases.ts imports nothing.
import { canonicalToolName } from '../tools/aliases';

export { canonicalToolName } from '../tools/aliases';

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
export function toolKind(def: Pick<ToolDefinition, 'name' | 'metadata'>): ToolKind {
  const declared = def.metadata?.[KIND_KEY];
  if (declared === 'read' || declared === 'write' || declared === 'execute') return declared;
  if (def.metadata?.['mcp.destructive'] === 'true') return 'write';
  const name = canonicalToolName(def.name);
  return Object.hasOwn(KNOWN_KINDS, name) ? KNOWN_KINDS[name]! : 'read';
}

/**
 * MCP tool annotations as ToolDefinition metadata: the hints as "true"/"false" strings under
 * `mcp.*`, and `loom.kind` when they say enough (readOnlyHint → read; destructiveHint or an explicit
 * readOnlyHint = false → write). A tool without annotations gets no kind: it says nothing.
 */
export function annotationMetadata(annotations: Tool['annotations']): Record<string, string> {
  if (!annotations) return {};
  const out: Record<string, string> = {};
  const hints = { readOnlyHint: 'mcp.read_only', destructiveHint: 'mcp.destructive', idempotentHint: 'mcp.idempotent', openWorldHint: 'mcp.open_world' } as const;
  for (const [hint, key] of Object.entries(hints)) {
    const v = annotations[hint as keyof typeof hints];
    if (typeof v === 'boolean') out[key] = String(v);
  }
  if (annotations.readOnlyHint === true) out[KIND_KEY] = 'read';
  else if (annotations.destructiveHint === true || annotations.readOnlyHint === false) out[KIND_KEY] = 'write';
  return out;
}
