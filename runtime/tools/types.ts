// The tool registry contract. Built-in tools, agent-provided tools (bridge), MCP tools and the
// extension's tools all register here; callers see one namespace.

export type ToolProviderKind = 'native' | 'wasm' | 'grpc' | 'mcp';

import type { ToolErrorCode } from '../contract/toolError';

export type { ToolErrorCode } from '../contract/toolError';

export interface ToolDefinition {
  /** "namespace:name", e.g. "fs:read". */
  name: string;
  description: string;
  /** JSON Schema for the arguments object. */
  parametersSchema: Record<string, unknown>;
  provider: ToolProviderKind;
  metadata?: Record<string, string>;
  /** Who provides it: "runtime", an agent id, "mcp:<server>", "vscode". Used to withdraw an owner's tools at once. */
  owner?: string;
}

export interface ToolContext {
  callId: string;
  /** The calling agent's id, or "runtime". */
  caller: string;
  timeoutMs: number;
  /** Aborted when the call times out or is cancelled; a handler must stop and kill what it started. */
  signal: AbortSignal;
  headers: Record<string, string>;
}

/** Returns the output (JSON-serialisable). Throws ToolError (or any Error, which becomes "failed"). */
export type ToolHandler = (args: Record<string, unknown>, ctx: ToolContext) => Promise<unknown>;

export interface ToolCallRequest {
  name: string;
  /** An object, or a JSON string as it arrives on the wire. */
  arguments: Record<string, unknown> | string;
  id?: string;
  caller?: string;
  timeoutMs?: number;
  headers?: Record<string, string>;
  correlationId?: string;
  /** Cancels the call from outside (a caller that disconnected); the outcome is "failed" with details.reason "cancelled". */
  signal?: CancelSignal;
}

/** What cancels a call from outside: an AbortSignal (the MCP SDK's), or a CallCancel (callCancel.ts). */
export interface CancelSignal {
  readonly aborted: boolean;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

export type ToolOutcome =
  | { id: string; status: 'ok'; output: unknown; durationMs: number }
  | {
      id: string;
      status: 'error';
      error: { code: ToolErrorCode; message: string; details?: Record<string, string> };
      durationMs: number;
    };

export interface Disposable {
  dispose(): void;
}

export interface ToolRegistry {
  /**
   * Throws ToolError("invalid_arguments") for a bad name or schema, or when the name is taken.
   * `trustedSchema`: the runtime's own tools only; their schema is compiled at the first call.
   */
  register(definition: ToolDefinition, handler: ToolHandler, options?: { trustedSchema?: boolean }): Disposable;
  unregister(name: string): boolean;
  /** Withdraws every tool of an owner (an agent that disconnected, an MCP server that died). */
  unregisterOwner(owner: string): number;
  get(name: string): ToolDefinition | undefined;
  list(prefix?: string): ToolDefinition[];
  /** Never throws: every failure is an outcome with a typed error code and a clear message. */
  call(request: ToolCallRequest): Promise<ToolOutcome>;
  /** Called after the set of tools changes (a tool registered or withdrawn), once per change. */
  onDidChangeTools(listener: () => void): Disposable;
  /** Called after every call finishes (telemetry, dashboard feed). */
  onDidCall(listener: (request: ToolCallRequest, outcome: ToolOutcome) => void): Disposable;
}

/**
 * Asks a person whether a call may go ahead (an `ask` policy, a protected write). `undefined`:
 * nobody can be asked right now (no window is connected). `reason` says why it asks; `caller` is
 * the agent on whose behalf the tool would run, which the question names.
 */
export type ConfirmFn = (
  toolName: string,
  args: Record<string, unknown>,
  reason: string,
  caller?: string,
) => Promise<boolean | undefined>;
