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
  // cluster ("<caller>@<node>", the only callers with "@") names a caller and a node that anyone
  // who reaches NATS may claim (runtime/cluster/README.md): it is never the window, the runtime or
  // an MCP client, and never reads an agent's output.
  const callerMayRead = (caller: string, agentId: string): boolean =>
    !caller.includes('@') && (!supervisor.has(caller) || mayRead(caller, agentId));
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
            ? `"${ctx.caller}" (a call from another runtime) may not read the output of agent "${id}": a caller over the cluster is the other runtime's unverified claim, so no call from there may, whoever it names`
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
