// Whether agent mode must ask the user before a Loom tool runs. The runtime decides what a tool
// does (toolKind: its loom.kind, MCP annotations, then Loom's own list, aliases as the tool they
// name); only reading is let through. No vscode here, so the unit tests run it as is.
import { KIND_KEY, toolKind } from '../../runtime/contract';
import type { ProviderKind__Output } from '../../runtime/proto/gen/loom/v1/ProviderKind';

/** The provider the runtime's own tools are listed with, as ListTools sends it (runtime/bridge/convert.ts). */
export const NATIVE_PROVIDER: ProviderKind__Output = 'PROVIDER_NATIVE';

export interface ListedTool {
  name: string;
  /** The wire's ProviderKind, as ListTools sends it: PROVIDER_NATIVE for the runtime's own tools. */
  provider?: ProviderKind__Output;
  metadata?: Record<string, string>;
}

/**
 * True unless the registry lists the tool and it only reads. toolKind takes a tool that states no
 * kind for a reader; that is safe for the runtime's own tools (the ones that write are on its
 * list), but a tool an agent or another process provides must say `loom.kind = "read"` itself.
 */
export function needsConfirmation(name: string, registry: readonly ListedTool[]): boolean {
  const tool = registry.find((t) => t.name === name);
  if (!tool || toolKind(tool) !== 'read') return true;
  return tool.provider !== NATIVE_PROVIDER && tool.metadata?.[KIND_KEY] !== 'read';
}
