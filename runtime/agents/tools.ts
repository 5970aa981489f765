// Tools the agents part offers: `agents:logs` reads a supervised agent's output ring, so a
// person (the extension, an agent) can see why a child crashed without a terminal.
import { ToolError, type Disposable, type ToolRegistry } from '../tools';
import type { Supervisor } from './supervisor';

/**
 * `mayRead(caller, agentId)`: whether a supervised agent may read another's output, which often
 * carries what the agent keeps from others (keys in tracebacks, the replies it got).
 */
export function registerAgentTools(
  tools: ToolRegistry,
  supervisor: Supervisor,
  mayRead: (caller: string, agentId: string) => boolean,
): Disposable {
  // Here, a supervised caller holds an agent's credential; the others hold the person's (the
  // window, the workspace token's clients) or are the runtime. A call from another runtime of a
  // cluster ("<caller>@<node>") says nothing of the credential behind it: only names no agent
  // can hold pass (the window, the runtime, the dashboard, MCP clients).
  const callerMayRead = (caller: string, agentId: string): boolean => {
    const at = caller.lastIndexOf('@');
    if (at < 0) return !supervisor.has(caller) || mayRead(caller, agentId);
    const remote = caller.slice(0, at);
    return ['vscode', 'runtime', 'dashboard', 'mcp-client'].includes(remote) || remote.startsWith('mcp-client.');
  };
  return tools.register(
    {
      name: 'agents:logs',
      description:
        'The newest lines a supervised agent wrote to stdout and stderr (its bounded log ring), oldest first.',
      parametersSchema: {
        type: 'object',
        properties: {
          agent_id: { type: 'string', minLength: 1 },
          limit: {
            type: 'integer',
            minimum: 1,
            description: 'At most this many of the newest lines. Default: the whole ring.',
          },
        },
        required: ['agent_id'],
        additionalProperties: false,
      },
      provider: 'native',
      owner: 'runtime',
    },
    async (args, ctx) => {
      const id = args.agent_id as string;
      if (!callerMayRead(ctx.caller, id))
        throw new ToolError(
          'denied',
          ctx.caller.includes('@')
            ? `agent "${ctx.caller}" (of another runtime) may not read the output of agent "${id}": over the cluster only the window, the runtime and MCP clients may`
            : `agent "${ctx.caller}" may not read the output of agent "${id}"; grant it with state_access = ["${id}"] in [agents.${ctx.caller}] of loom.toml`,
        );
      if (!supervisor.has(id))
        throw new ToolError(
          'not_found',
          `no supervised agent "${id}" (declare it in loom.toml as [agents.${id}], or start it with StartAgent)`,
        );
      const { lines, discarded } = supervisor.logs(id);
      const limit = typeof args.limit === 'number' ? args.limit : lines.length;
      return { agent_id: id, discarded: discarded + Math.max(0, lines.length - limit), lines: lines.slice(-limit) };
    },
    // The runtime's own schema: compiled at the first call, not at every start (see RegisterOptions).
    { trustedSchema: true },
  );
}
