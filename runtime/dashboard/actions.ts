// What a person can do from the dashboard, carried out in-process by the headless runtime (the
// rules, runDashboardAction, are the contract's: runtime/contract/dashboardActions.ts; the VS Code panel
// carries them out over its gRPC connection, extension/dashboard/actions.ts). Every failure is a result
// with a message, never a thrown error: a bad request from the page must not reach the runtime's core.
import { createEvent, type Bus } from '../bus';
import type { ToolRegistry } from '../tools';
import { assertClientTopic } from '../contract/topics';
import type { ActionResult, DashboardAction } from '../contract/dashboard';
import { runDashboardAction, type ActionPorts } from '../contract/dashboardActions';

export interface DashboardActions {
  run(action: DashboardAction): Promise<ActionResult>;
}

export interface ActionDeps {
  bus: Bus;
  tools: ToolRegistry;
  /** Start, stop or restart a supervised agent; rejects with a message for an unknown agent. */
  controlAgent(agentId: string, action: 'start' | 'stop' | 'restart'): Promise<unknown>;
}

/** The in-process ports: events are sent as 'dashboard', tools are called with caller 'dashboard'. */
export function dashboardActions(deps: ActionDeps): DashboardActions {
  const ports: ActionPorts = {
    async publish(topic, type, payload) {
      assertClientTopic(topic);
      const event = createEvent({ type, payload, source: 'dashboard', sender: 'dashboard' });
      const r = await deps.bus.publish(topic, event);
      return { id: event.id, ...r };
    },
    async callTool(name, argsJson, timeoutMs) {
      const out = await deps.tools.call({ name, arguments: argsJson, caller: 'dashboard', timeoutMs });
      return out.status === 'ok'
        ? { ok: true, value: out.output }
        : { ok: false, error: `${out.error.code}: ${out.error.message}` };
    },
    controlAgent: (agentId, action) => deps.controlAgent(agentId, action),
    listTools: async () =>
      deps.tools.list().map((t) => ({
        name: t.name,
        description: t.description,
        parametersSchema: JSON.stringify(t.parametersSchema),
      })),
  };
  return { run: (action) => runDashboardAction(ports, action) };
}
