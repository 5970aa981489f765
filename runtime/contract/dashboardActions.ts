// Contract: what a person can do from the dashboard. One set of rules for both hosts: the headless runtime
// carries the actions out in-process (runtime/dashboard/actions.ts), the VS Code panel over its gRPC
// connection (extension/dashboard/actions.ts); each supplies the ports. Every failure is a result
// with a message, never a thrown error: a bad request from the page must not reach the runtime's core.
import type { ActionResult, DashboardAction, ToolInfoWire } from './dashboard';
import { messageOf } from './errors';

/** How a host carries out each action; a port may throw, the thrown message becomes the result's error. */
export interface ActionPorts {
  /** Publishes one event; resolves to the result's value (at least the event's id). */
  publish(topic: string, type: string, payload: Buffer): Promise<unknown>;
  /** Calls a tool with its arguments as JSON text ('{}' when the page sent none). */
  callTool(name: string, argsJson: string, timeoutMs?: number): Promise<ActionResult>;
  controlAgent(agentId: string, action: 'start' | 'stop' | 'restart'): Promise<unknown>;
  listTools(): Promise<ToolInfoWire[]>;
}

const AGENT_ACTIONS: readonly string[] = ['start', 'stop', 'restart'] satisfies DashboardAgentAction[];
type DashboardAgentAction = Parameters<ActionPorts['controlAgent']>[1];

export async function runDashboardAction(ports: ActionPorts, action: DashboardAction): Promise<ActionResult> {
  try {
    switch (action?.type) {
      case 'publish':
        return {
          ok: true,
          value: await ports.publish(
            action.topic,
            action.eventType || 'dashboard.test',
            Buffer.from(String(action.payload ?? '')),
          ),
        };
      case 'callTool':
        return await ports.callTool(action.name, action.arguments || '{}', action.timeoutMs);
      case 'agent':
        // The action names the supervisor's method to run: only these three.
        if (!AGENT_ACTIONS.includes(action.action))
          return {
            ok: false,
            error: `unknown agent action ${JSON.stringify(action.action)}: expected ${AGENT_ACTIONS.join(', ')}`,
          };
        return { ok: true, value: await ports.controlAgent(action.agentId, action.action) };
      case 'listTools':
        return { ok: true, value: await ports.listTools() };
      default:
        return {
          ok: false,
          error: `unknown action ${JSON.stringify((action as { type?: unknown })?.type)}: expected publish, callTool, agent or listTools`,
        };
    }
  } catch (e) {
    // A gRPC error carries the server's text in `details` (a string); a ToolError's details are a record.
    const details = (e as { details?: unknown }).details;
    return { ok: false, error: (typeof details === 'string' && details) || messageOf(e) };
  }
}
