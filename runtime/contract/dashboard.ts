// Contract: messages between the dashboard UI and its host: the VS Code panel (postMessage) or the
// runtime's headless HTTP server (NDJSON stream + POST). One set of types for both, derived from
// the generated loom.v1 types so the UI shows exactly what the runtime sends.
import type { FeedUpdate, FeedUpdate__Output } from '../proto/gen/loom/v1/FeedUpdate';

/** A generated message type as it travels in JSON: bytes become base64 strings, numbers stay numbers. */
export type Wire<T> = T extends Buffer | Uint8Array
  ? string
  : T extends (infer U)[]
    ? Wire<U>[]
    : T extends object
      ? { [K in keyof T]-?: Wire<NonNullable<T[K]>> }
      : T;

/** The runtime fills every field (proto defaults), so the wire form has no nulls. */
export type FeedUpdateWire = Wire<FeedUpdate__Output>;
export type FeedEventWire = FeedUpdateWire['events'][number];
export type AgentInfoWire = FeedUpdateWire['stats']['agents'][number];
export type McpServerWire = FeedUpdateWire['stats']['mcpServers'][number];
export type ToolCallWire = FeedUpdateWire['toolCalls'][number];
export type SpanWire = FeedUpdateWire['spans'][number];

export type DashboardAction =
  | { type: 'publish'; topic: string; eventType: string; payload: string }
  | { type: 'callTool'; name: string; arguments: string; timeoutMs?: number }
  | { type: 'agent'; agentId: string; action: 'start' | 'stop' | 'restart' }
  | { type: 'listTools' };

export interface ToolInfoWire {
  name: string;
  description: string;
  parametersSchema: string;
}

export type ActionResult = { ok: true; value: unknown } | { ok: false; error: string };

export type ConnectionState = 'connected' | 'connecting' | 'lost';

/**
 * Questions the VS Code host asks the page only when a test asks it (the extension host cannot
 * read a webview's DOM): 'view' = what the page shows, 'csp' = the page tries what its policy
 * forbids and reports what was refused.
 */
export type ProbeQuery = 'view' | 'csp';

export interface ProbeAnswer {
  /** 'view': the connection label and the topics of the event rows on screen, newest first. */
  connection?: string;
  topics?: string[];
  /** 'view': the line above the event list (how many events, how many omitted or missed). */
  count?: string;
  /** 'csp': the policy's refusals (directive, blocked URI) and whether the inline script ran anyway. */
  refused?: { directive: string; blocked: string }[];
  inlineScriptRan?: boolean;
}

/** Host → UI. */
export type HostMessage =
  | { kind: 'feed'; update: FeedUpdateWire }
  | { kind: 'actionResult'; requestId: number; result: ActionResult }
  | { kind: 'connection'; state: ConnectionState; detail?: string }
  | { kind: 'probe'; requestId: number; query: ProbeQuery };

/** UI → host. */
export type UiMessage =
  | { kind: 'ready' }
  | { kind: 'action'; requestId: number; action: DashboardAction }
  | { kind: 'probeAnswer'; requestId: number; answer: ProbeAnswer };

/** Converts a runtime FeedUpdate (Buffers inside) to its JSON wire form. */
/** The last FeedEvent.seq of an update (0 when it carries none): where a resumed feed goes on from. */
export function lastSeqOf(update: { events?: { seq?: number | string | null }[] | null }, previous: number): number {
  let last = previous;
  for (const e of update.events ?? []) last = Math.max(last, Number(e.seq ?? 0));
  return last;
}

/** How many events from before it a dashboard asks for when its feed (re)starts. */
export const FEED_BACKLOG = 500;

export function feedUpdateToWire(update: FeedUpdate): FeedUpdateWire {
  return JSON.parse(
    JSON.stringify(update, (_k, v) => {
      if (v && typeof v === 'object' && v.type === 'Buffer' && Array.isArray(v.data))
        return bytesToBase64(Uint8Array.from(v.data));
      return v;
    }),
  ) as FeedUpdateWire;
}

export function bytesToBase64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
  return btoa(s);
}

export function base64ToText(b64: string): string {
  try {
    const bin = atob(b64);
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    return new TextDecoder('utf-8', { fatal: false }).decode(bytes);
  } catch {
    return '';
  }
}
