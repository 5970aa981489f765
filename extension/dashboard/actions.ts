// What a person can do from the dashboard in VS Code, carried out over this window's gRPC
// connection (the headless runtime carries out the same actions in-process: runtime/dashboard/
// actions.ts). Every failure is a result with a message, never a thrown error.
import type { RuntimeConnection } from '../bridge/client';
import type { ActionResult, DashboardAction, ToolInfoWire } from '../../webview/protocol';

export async function runDashboardAction(conn: RuntimeConnection, action: DashboardAction): Promise<ActionResult> {
  try {
    switch (action?.type) {
      case 'publish': {
        const id = await conn.publishOnce(action.topic, action.eventType || 'dashboard.test', Buffer.from(String(action.payload ?? '')));
        return { ok: true, value: { id } };
      }
      case 'callTool': {
        let args: unknown = {};
        try {
          if (action.arguments?.trim()) args = JSON.parse(action.arguments);
        } catch (e) {
          return { ok: false, error: `invalid_arguments: the arguments of "${action.name}" are not valid JSON: ${(e as Error).message}` };
        }
        const res = await conn.callTool(action.name, args, action.timeoutMs);
        if (res.status !== 'TOOL_OK') return { ok: false, error: `${res.error?.code || res.status}: ${res.error?.message ?? ''}` };
        return { ok: true, value: res.output ? (JSON.parse(res.output) as unknown) : null };
      }
      case 'agent':
        return { ok: true, value: await conn.controlAgent(action.agentId, action.action) };
      case 'listTools': {
        const tools: ToolInfoWire[] = (await conn.listTools()).map((t) => ({ name: t.name, description: t.description, parametersSchema: t.parametersSchema }));
        return { ok: true, value: tools };
      }
      default:
        return { ok: false, error: `unknown action ${JSON.stringify((action as { type?: unknown })?.type)}: expected publish, callTool, agent or listTools` };
    }
  } catch (e) {
    return { ok: false, error: (e as { details?: string }).details || (e as Error).message };
  }
}
