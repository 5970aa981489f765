// What a person can do from the dashboard in VS Code: the runtime's rules (runtime/contract/
// dashboardActions.ts) carried out over this window's gRPC connection.
import type { RuntimeConnection } from '../bridge/client';
import {
  runDashboardAction as runWith,
  type ActionPorts,
  type ActionResult,
  type DashboardAction,
} from '../../runtime/contract';
import { messageOf } from '../../runtime/contract';

function grpcPorts(conn: RuntimeConnection): ActionPorts {
  return {
    publish: async (topic, type, payload) => ({ id: await conn.publishOnce(topic, type, payload) }),
    async callTool(name, argsJson, timeoutMs) {
      let args: unknown = {};
      try {
        if (argsJson.trim()) args = JSON.parse(argsJson);
      } catch (e) {
        return {
          ok: false,
          error: `invalid_arguments: the arguments of "${name}" are not valid JSON: ${messageOf(e)}`,
        };
      }
      const res = await conn.callTool(name, args, timeoutMs);
      if (res.status !== 'TOOL_OK')
        return { ok: false, error: `${res.error?.code || res.status}: ${res.error?.message ?? ''}` };
      return { ok: true, value: res.output ? (JSON.parse(res.output) as unknown) : null };
    },
    controlAgent: (agentId, action) => conn.controlAgent(agentId, action),
    listTools: async () =>
      (await conn.listTools()).map((t) => ({
        name: t.name,
        description: t.description,
        parametersSchema: t.parametersSchema,
      })),
  };
}

export function runDashboardAction(conn: RuntimeConnection, action: DashboardAction): Promise<ActionResult> {
  return runWith(grpcPorts(conn), action);
}
