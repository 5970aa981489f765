// Typed tool errors and their mapping onto the wire (loom.v1 ToolResult), so the bridge and the
// registry speak the same codes.
import type { ToolResult } from '../proto/types';
import type { ToolErrorCode, ToolOutcome } from './types';
import { ToolError } from '../contract/toolError';

// The class is the contract's: the extension's editor tools throw and catch the same one.
export { ToolError };

export type ProtoToolStatus = 'TOOL_OK' | 'TOOL_ERROR' | 'TOOL_TIMEOUT' | 'TOOL_NOT_FOUND' | 'TOOL_INVALID_ARGUMENTS';

const STATUS_BY_CODE: Partial<Record<ToolErrorCode, ProtoToolStatus>> = {
  not_found: 'TOOL_NOT_FOUND',
  invalid_arguments: 'TOOL_INVALID_ARGUMENTS',
  timeout: 'TOOL_TIMEOUT',
};

const KNOWN_CODES = new Set<ToolErrorCode>([
  'not_found',
  'invalid_arguments',
  'denied',
  'timeout',
  'failed',
  'unavailable',
]);

/** The proto status for an error code; codes without their own status travel as TOOL_ERROR with error.code set. */
export function protoStatusFor(code: ToolErrorCode | undefined): ProtoToolStatus {
  if (code === undefined) return 'TOOL_OK';
  return STATUS_BY_CODE[code] ?? 'TOOL_ERROR';
}

/** Renders an outcome as the loom.v1 ToolResult the bridge sends. */
export function toolResultFromOutcome(outcome: ToolOutcome): ToolResult {
  if (outcome.status === 'ok') {
    return { id: outcome.id, status: 'TOOL_OK', output: JSON.stringify(outcome.output ?? null) };
  }
  const { code, message, details } = outcome.error;
  return { id: outcome.id, status: protoStatusFor(code), output: '', error: { code, message, details: details ?? {} } };
}

const CODE_BY_STATUS: Record<string, ToolErrorCode> = {
  TOOL_NOT_FOUND: 'not_found',
  TOOL_INVALID_ARGUMENTS: 'invalid_arguments',
  TOOL_TIMEOUT: 'timeout',
  '3': 'not_found',
  '4': 'invalid_arguments',
  '2': 'timeout',
};

/**
 * The other direction, for tools whose provider answers with a ToolResult (an agent over the
 * bridge): returns the parsed output, or throws the ToolError the result carries.
 */
export function unwrapToolResult(result: {
  status?: string | number | null;
  output?: string | null;
  error?: { code?: string | null; message?: string | null; details?: Record<string, string> | null } | null;
}): unknown {
  const status = String(result.status ?? 'TOOL_OK');
  if (status === 'TOOL_OK' || status === '0') {
    if (!result.output) return null;
    try {
      return JSON.parse(result.output);
    } catch {
      return result.output;
    }
  }
  const given = result.error?.code as ToolErrorCode | undefined;
  const code = CODE_BY_STATUS[status] ?? (given && KNOWN_CODES.has(given) ? given : 'failed');
  throw new ToolError(
    code,
    result.error?.message || `tool failed with status ${status}`,
    result.error?.details ?? undefined,
  );
}
