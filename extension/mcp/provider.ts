// Offers the runtime's own MCP endpoint (`[mcp.serve] http = true`) to VS Code's agent mode through
// vscode.lm.registerMcpServerDefinitionProvider (VS Code 1.101+). @types/vscode is pinned below
// that, and older hosts (code-server 4.100 = VS Code 1.100) lack the API, so it is looked up at run
// time and the feature stays off where it is absent.
import { readFileSync } from 'node:fs';
import * as vscode from 'vscode';
import type { DiscoveryInfo } from '../../runtime/contract';
import { messageOf } from '../../runtime/contract';

export const PROVIDER_ID = 'loom';

/** The arguments of `new vscode.McpHttpServerDefinition(label, uri, headers, version)`. */
export interface LoomMcpDefinition {
  label: string;
  uri: string;
  headers: Record<string, string>;
  version: string;
}

const LOOPBACK = new Set(['127.0.0.1', '[::1]', 'localhost']);

/**
 * The definition for a runtime serving MCP at `mcpUrl`, or undefined when it serves none. The
 * token goes only to a loopback http URL: the runtime never serves anywhere else, so any other
 * URL in the discovery file is not the runtime's.
 */
export function loomMcpDefinition(
  info: Pick<DiscoveryInfo, 'token' | 'version' | 'pid'>,
  mcpUrl: string | undefined,
  workspaceName: string,
): LoomMcpDefinition | undefined {
  if (!mcpUrl) return undefined;
  let url: URL;
  try {
    url = new URL(mcpUrl);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' || !LOOPBACK.has(url.hostname)) return undefined;
  return {
    label: `Loom (${workspaceName})`,
    uri: url.toString(),
    headers: { Authorization: `Bearer ${info.token}` },
    // A new runtime has a new token and may have new tools: a new version tells VS Code to refresh.
    version: `${info.version || '0'}+${info.pid}`,
  };
}

/** The "mcp" URL of the discovery file, when the file still describes this runtime. */
export function servedMcpUrl(discoveryFile: string, info: Pick<DiscoveryInfo, 'pid' | 'token'>): string | undefined {
  try {
    const raw = JSON.parse(readFileSync(discoveryFile, 'utf8')) as { pid?: unknown; token?: unknown; mcp?: unknown };
    if (raw.pid !== info.pid || raw.token !== info.token) return undefined;
    return typeof raw.mcp === 'string' ? raw.mcp : undefined;
  } catch {
    return undefined;
  }
}

interface LmWithMcp {
  registerMcpServerDefinitionProvider?: (id: string, provider: unknown) => vscode.Disposable;
}

type HttpDefinitionClass = new (
  label: string,
  uri: vscode.Uri,
  headers?: Record<string, string>,
  version?: string,
) => unknown;

/** Whether this VS Code has the API (1.101 and later). */
export function mcpProviderApiAvailable(): boolean {
  const lm = (vscode as unknown as { lm?: LmWithMcp }).lm;
  return (
    typeof lm?.registerMcpServerDefinitionProvider === 'function' &&
    typeof (vscode as unknown as { McpHttpServerDefinition?: unknown }).McpHttpServerDefinition === 'function'
  );
}

/** A registration that may not have happened: `registered` says whether VS Code took it. */
export interface ProviderRegistration extends vscode.Disposable {
  readonly registered: boolean;
  /** Why not, when it was not. */
  readonly reason?: string;
}

/**
 * Registers the provider where the API exists; `current` is asked each time VS Code wants the
 * list, and `changed` (runtime started, stopped, restarted) makes VS Code ask again when the
 * endpoint differs. Never throws: VS Code 1.100 has the function as a proposal that refuses an
 * extension without its (since renamed) contribution, so an optional feature stays off and says why.
 */
export function registerLoomMcpProvider(
  current: () => LoomMcpDefinition | undefined,
  changed: vscode.Event<unknown>,
): ProviderRegistration {
  if (!mcpProviderApiAvailable())
    return {
      registered: false,
      reason: `VS Code ${vscode.version} has no vscode.lm.registerMcpServerDefinitionProvider`,
      dispose: () => undefined,
    };
  const api = vscode as unknown as { lm: Required<LmWithMcp>; McpHttpServerDefinition: HttpDefinitionClass };
  const emitter = new vscode.EventEmitter<void>();
  let registration: vscode.Disposable;
  try {
    registration = api.lm.registerMcpServerDefinitionProvider(PROVIDER_ID, {
      onDidChangeMcpServerDefinitions: emitter.event,
      provideMcpServerDefinitions: () => {
        const d = current();
        return d ? [new api.McpHttpServerDefinition(d.label, vscode.Uri.parse(d.uri), d.headers, d.version)] : [];
      },
    });
  } catch (err) {
    emitter.dispose();
    return {
      registered: false,
      reason: `VS Code ${vscode.version} refused the MCP server definition provider: ${messageOf(err)}`,
      dispose: () => undefined,
    };
  }
  // The runtime's state changes often (every refresh); VS Code only needs to hear of a new endpoint.
  let last = JSON.stringify(current() ?? null);
  const onChange = changed(() => {
    const now = JSON.stringify(current() ?? null);
    if (now !== last) {
      last = now;
      emitter.fire();
    }
  });
  const all = vscode.Disposable.from(registration, onChange, emitter);
  return { registered: true, dispose: () => all.dispose() };
}
