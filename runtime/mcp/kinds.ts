// An MCP server's tool annotations as Loom's tool kinds (the rule itself: runtime/contract/toolKinds.ts).
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { KIND_KEY } from '../contract/toolKinds';

/**
 * MCP tool annotations as ToolDefinition metadata: the hints as "true"/"false" strings under
 * `mcp.*`, and `loom.kind` when they say enough (readOnlyHint → read; destructiveHint or an explicit
 * readOnlyHint = false → write). A tool without annotations gets no kind: it says nothing.
 */
export function annotationMetadata(annotations: Tool['annotations']): Record<string, string> {
  if (!annotations) return {};
  const out: Record<string, string> = {};
  const hints = {
    readOnlyHint: 'mcp.read_only',
    destructiveHint: 'mcp.destructive',
    idempotentHint: 'mcp.idempotent',
    openWorldHint: 'mcp.open_world',
  } as const;
  for (const [hint, key] of Object.entries(hints)) {
    const v = annotations[hint as keyof typeof hints];
    if (typeof v === 'boolean') out[key] = String(v);
  }
  if (annotations.readOnlyHint === true) out[KIND_KEY] = 'read';
  else if (annotations.destructiveHint === true || annotations.readOnlyHint === false) out[KIND_KEY] = 'write';
  return out;
}
