// What a person can do from the headless dashboard, carried out in-process. (The VS Code panel
// offers the same actions and carries them out over gRPC.) Every failure is a result with a
// message, never a thrown error: a bad request from the page must not reach the runtime's core.
import { createEvent, type Bus } from '../bus';
import type { ToolRegistry } from '../tools';
import type { ActionResult, DashboardAction, ToolInfoWire } from '../../webview/protocol';

export interface DashboardActions {
  run(action: DashboardAction): Promise<ActionResult>;
}

export interface ActionDeps {
  bus: Bus;
  tools: ToolRegistry;
  /** Start, stop or restart a supervised agent; rejects with a message for an unknown agent. */
  controlAgent(agentId: string, action: 'start' | 'stop' | 'restart'): Promise<unknown>;
}

export function dashboardActions(deps: ActionDeps): DashboardActions {
  return {
    async run(action) {
      try {
        switch (action?.type) {
          case 'publish': {
            const event = createEvent({ type: action.eventType || 'dashboard.test', payload: Buffer.from(String(action.payload ?? '')), source: 'dashboard', sender: 'dashboard' });
            const r = await deps.bus.publish(action.topic, event);
            return { ok: true, value: { id: event.id, ...r } };
          }
          case 'callTool': {
            const out = await deps.tools.call({ name: action.name, arguments: action.arguments || '{}', caller: 'dashboard', timeoutMs: action.timeoutMs });
            return out.status === 'ok' ? { ok: true, value: out.output } : { ok: false, error: `${out.error.code}: ${out.error.message}` };
          }
          case 'agent':
            return { ok: true, value: await deps.controlAgent(action.agentId, action.action) };
          case 'listTools': {
            const tools: ToolInfoWire[] = deps.tools.list().map((t) => ({ name: t.name, description: t.description, parametersSchema: JSON.stringify(t.parametersSchema) }));
            return { ok: true, value: tools };
          }
          default:
            return { ok: false, error: `unknown action ${JSON.stringify((action as { type?: unknown })?.type)}: expected publish, callTool, agent or listTools` };
        }
      } catch (e) {
        return { ok: false, error: (e as Error).message };
      }
    },
  };
}
