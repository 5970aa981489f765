// allow / ask / deny, for the tools of external MCP servers (per server and per tool) and for the
// registry's tools served to MCP clients ([mcp.serve]). `ask` goes to an injected confirm (a VS Code
// dialog inside the extension); with none, it follows `[mcp.settings] headless_ask` and says so.
import picomatch from 'picomatch';
import type { Logger } from '../log';
import { ToolError, type ToolDefinition } from '../tools';
import type { ConfirmFn } from '../tools/types';
import type { McpPolicy, McpServeConfig, McpServerConfig } from './config';
import { canonicalToolName } from '../contract/toolNames';
import { toolKind } from '../contract/toolKinds';
import { messageOf } from '../contract/errors';

/** Asks a person whether `toolName` may run with `args`. */
// `undefined` from a ConfirmFn: nobody can be asked, so the headless rule ([mcp.settings]
// headless_ask) decides.
export type { ConfirmFn };

export interface PolicyOptions {
  confirm?: ConfirmFn;
  headlessAsk: 'allow' | 'deny';
  log: Logger;
}

/** A policy and the setting it came from (named in every refusal). */
export interface PolicyDecision {
  policy: McpPolicy;
  source: string;
}

export function policyFor(server: Pick<McpServerConfig, 'policy' | 'toolPolicy'>, tool: string): McpPolicy {
  return server.toolPolicy[tool] ?? server.policy;
}

/** The policy of an external server's tool: its tool_policy entry, else the server's policy. */
export function serverToolPolicy(
  server: Pick<McpServerConfig, 'name' | 'policy' | 'toolPolicy'>,
  tool: string,
): PolicyDecision {
  return {
    policy: policyFor(server, tool),
    source:
      server.toolPolicy[tool] !== undefined ? `mcp.${server.name}.tool_policy.${tool}` : `mcp.${server.name}.policy`,
  };
}

const STRICTNESS: Record<McpPolicy, number> = { allow: 0, ask: 1, deny: 2 };

/** The stricter of two decisions (`a` on a tie), either of which may be missing. */
function stricter(a: PolicyDecision | undefined, b: PolicyDecision | undefined): PolicyDecision | undefined {
  if (!a || !b) return a ?? b;
  return STRICTNESS[b.policy] > STRICTNESS[a.policy] ? b : a;
}

/**
 * The policy of a registry tool served to MCP clients: `[mcp.serve] tool_policy` (an exact name,
 * then globs in the order written), then `[mcp.serve] policy`, then by kind: read tools allow,
 * write and execute tools ask. An alias (runtime/contract/toolNames.ts) is never looser than its tool:
 * entries naming the tool apply to the alias too, and where the alias's own entry at the same
 * level (exact, or glob) says otherwise, the stricter of the two holds.
 */
export function servedToolPolicy(
  serve: Pick<McpServeConfig, 'policy' | 'toolPolicy'>,
): (def: Pick<ToolDefinition, 'name' | 'metadata'>) => PolicyDecision {
  const globs = Object.entries(serve.toolPolicy).map(([pattern, policy]) => ({
    pattern,
    policy,
    match: picomatch(pattern),
  }));
  const exactFor = (name: string): PolicyDecision | undefined =>
    Object.hasOwn(serve.toolPolicy, name)
      ? { policy: serve.toolPolicy[name]!, source: `mcp.serve.tool_policy."${name}"` }
      : undefined;
  const globFor = (name: string): PolicyDecision | undefined => {
    const glob = globs.find((g) => g.match(name));
    return glob && { policy: glob.policy, source: `mcp.serve.tool_policy."${glob.pattern}"` };
  };
  return (def) => {
    const tool = canonicalToolName(def.name);
    const alias = tool !== def.name;
    const exact = alias ? stricter(exactFor(def.name), exactFor(tool)) : exactFor(def.name);
    if (exact) return exact;
    const glob = alias ? stricter(globFor(def.name), globFor(tool)) : globFor(def.name);
    if (glob) return glob;
    if (serve.policy) return { policy: serve.policy, source: 'mcp.serve.policy' };
    const kind = toolKind(def);
    return kind === 'read'
      ? { policy: 'allow', source: 'the mcp.serve default for read tools' }
      : { policy: 'ask', source: `the mcp.serve default for ${kind} tools` };
  };
}

/** Resolves when the call may go ahead; throws ToolError("denied") naming the tool and the setting otherwise. */
export async function enforce(
  tool: string,
  decision: PolicyDecision,
  args: Record<string, unknown>,
  opts: PolicyOptions,
  caller?: string,
): Promise<void> {
  const { policy, source } = decision;
  const setting = source.startsWith('mcp.') ? `${source} = "${policy}"` : `${source}: "${policy}"`;
  if (policy === 'allow') return;
  if (policy === 'deny') throw new ToolError('denied', `${tool} is denied by policy (${setting})`, { policy, source });
  let answer: boolean | undefined;
  try {
    answer = opts.confirm ? await opts.confirm(tool, args, setting, caller) : undefined;
  } catch (err) {
    throw new ToolError('denied', `${tool} needs confirmation (${setting}) and asking failed: ${messageOf(err)}`, {
      policy,
      source,
    });
  }
  if (answer === undefined) {
    opts.log.info('mcp: ask policy answered headless', {
      tool,
      answer: opts.headlessAsk,
      setting: 'mcp.settings.headless_ask',
    });
    if (opts.headlessAsk === 'allow') return;
    throw new ToolError(
      'denied',
      `${tool} needs confirmation (${setting}) and no one can be asked; mcp.settings.headless_ask = "deny"`,
      { policy, source },
    );
  }
  const ok = answer;
  if (!ok) throw new ToolError('denied', `${tool} was declined when asked (${setting})`, { policy, source });
}

/** enforce() for an external server's tool. */
export function enforcePolicy(
  server: Pick<McpServerConfig, 'name' | 'policy' | 'toolPolicy'>,
  tool: string,
  args: Record<string, unknown>,
  opts: PolicyOptions,
  caller?: string,
): Promise<void> {
  return enforce(`${server.name}:${tool}`, serverToolPolicy(server, tool), args, opts, caller);
}
