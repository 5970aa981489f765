// What a person can do from the dashboard. One set of rules for both hosts: the headless runtime
// carries the actions out in-process (dashboardActions below), the VS Code panel over its gRPC
// connection (extension/dashboard/actions.ts); each supplies the ports. Every failure is a result
// with a message, never a thrown error: a bad request from the page must not reach the runtime's core.
// createEvent comes from the envelope module rather than '../bus' because the extension imports this
// file, and the bus's index would bring the whole bus and OpenTelemetry into the extension bundle.
import { createEvent } from '../bus/envelope';
import type { Bus } from '../bus';
import type { ToolRegistry } from '../tools';
import type { ActionResult, DashboardAction, ToolInfoWire } from '../../webview/protocol';

/** How a host carries out each action; a port may throw, the thrown message becomes the result's error. */
export interface ActionPorts {
  /** Publishes one event; resolves to the result's value (at least the event's id). */
  publish(topic: string, type: string, payload: Buffer): Promise<unknown>;
  /** Calls a tool with its arguments as JSON text ('{}' when the page sent none). */
  callTool(name: string, argsJson: string, timeoutMs?: number): Promise<ActionResult>;
  controlAgent(agentId: string, action: 'start' | 'stop' | 'restart'): Promise<unknown>;
  listTools(): Promise<ToolInfoWire[]>;
}

export async function runDashboardAction(ports: ActionPorts, action: DashboardAction): Promise<ActionResult> {
  try {
    switch (action?.type) {
      case 'publish':
        return { ok: true, value: await ports.publish(action.topic, action.eventType || 'dashboard.test', Buffer.from(String(action.payload ?? ''))) };
      case 'callTool':
        return await ports.callTool(action.name, action.arguments || '{}', action.timeoutMs);
      case 'agent':
        return { ok: true, value: await ports.controlAgent(action.agentId, action.action) };
      case 'listTools':
        return { ok: true, value: await ports.listTools() };
      default:
        return { ok: false, error: `unknown action ${JSON.stringify((action as { type?: unknown })?.type)}: expected publish, callTool, agent or listTools` };
    }
  } catch (e) {
    // A gRPC error carries the server's text in `details` (a string); a ToolError's details are a record.
    const details = (e as { details?: unknown }).details;
    return { ok: false, error: (typeof details === 'string' && details) || (e as Error).message };
  }
}

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
      const event = createEvent({ type, payload, source: 'dashboard', sender: 'dashboard' });
      const r = await deps.bus.publish(topic, event);
      return { id: event.id, ...r };
    },
    async callTool(name, argsJson, timeoutMs) {
      const out = await deps.tools.call({ name, arguments: argsJson, caller: 'dashboard', timeoutMs });
      return out.status === 'ok' ? { ok: true, value: out.output } : { ok: false, error: `${out.error.code}: ${out.error.message}` };
    },
    controlAgent: (agentId, action) => deps.controlAgent(agentId, action),
    listTools: async () => deps.tools.list().map((t) => ({ name: t.name, description: t.description, parametersSchema: JSON.stringify(t.parametersSchema) })),
  };
  return { run: (action) => runDashboardAction(ports, action) };
}
