// Per-server and per-tool allow/ask/deny for MCP tools. `ask` goes to an injected confirm (a VS Code
// dialog inside the extension); with none, it follows `[mcp.settings] headless_ask` and logs that it did.
import type { Logger } from '../log';
import { ToolError } from '../tools/errors';
import type { McpPolicy, McpServerConfig } from './config';

/** Asks a person whether `toolName` may run with `args`. */
export type ConfirmFn = (toolName: string, args: Record<string, unknown>) => Promise<boolean>;

export interface PolicyOptions {
  confirm?: ConfirmFn;
  headlessAsk: 'allow' | 'deny';
  log: Logger;
}

export function policyFor(server: Pick<McpServerConfig, 'policy' | 'toolPolicy'>, tool: string): McpPolicy {
  return server.toolPolicy[tool] ?? server.policy;
}

/** Resolves when the call may go ahead; throws ToolError("denied") naming the tool and the policy otherwise. */
export async function enforcePolicy(
  server: Pick<McpServerConfig, 'name' | 'policy' | 'toolPolicy'>,
  tool: string,
  args: Record<string, unknown>,
  opts: PolicyOptions,
): Promise<void> {
  const qualified = `${server.name}:${tool}`;
  const policy = policyFor(server, tool);
  const source = server.toolPolicy[tool] !== undefined ? `mcp.${server.name}.tool_policy.${tool}` : `mcp.${server.name}.policy`;
  if (policy === 'allow') return;
  if (policy === 'deny') {
    throw new ToolError('denied', `${qualified} is denied by policy (${source} = "deny")`, { policy, source });
  }
  if (!opts.confirm) {
    opts.log.info('mcp: ask policy answered headless', { tool: qualified, answer: opts.headlessAsk, setting: 'mcp.settings.headless_ask' });
    if (opts.headlessAsk === 'allow') return;
    throw new ToolError('denied', `${qualified} needs confirmation (${source} = "ask") and no one can be asked; mcp.settings.headless_ask = "deny"`, {
      policy,
      source,
    });
  }
  let ok: boolean;
  try {
    ok = await opts.confirm(qualified, args);
  } catch (err) {
    throw new ToolError('denied', `${qualified} needs confirmation (${source} = "ask") and asking failed: ${(err as Error).message}`, { policy, source });
  }
  if (!ok) throw new ToolError('denied', `${qualified} was declined when asked (${source} = "ask")`, { policy, source });
}
