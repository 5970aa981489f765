// Which dialect a call speaks (see agents' Dialect): Loom's clients say so in a request header
// on every call; a client that does not (the reference loom-py) gets the reference's rules.
import type * as grpc from '@grpc/grpc-js';
import type { Dialect } from '../agents';
import type { ToolResult } from '../proto/types';

/** gRPC metadata by which a client declares Loom's dialect: `loom-dialect: loom`. */
export const DIALECT_HEADER = 'loom-dialect';

export function dialectOf(metadata: grpc.Metadata): Dialect {
  return metadata.get(DIALECT_HEADER)[0] === 'loom' ? 'loom' : 'reference';
}

/** The reference's codes and wording (its ToolError display) for each of Loom's codes. */
const REFERENCE_ERRORS: Record<string, { code: string; prefix: string }> = {
  not_found: { code: 'NOT_FOUND', prefix: 'Tool not found' },
  invalid_arguments: { code: 'INVALID_ARGUMENTS', prefix: 'Invalid arguments' },
  timeout: { code: 'TIMEOUT', prefix: 'Timeout' },
  denied: { code: 'EXECUTION_ERROR', prefix: 'Permission denied' },
};
const OTHER_ERROR = { code: 'EXECUTION_ERROR', prefix: 'Execution failed' };

/**
 * A ToolResult as the reference words it: its upper-case code and message prefix ("Tool not
 * found: web.search"); Loom's code and message stay in the details, so nothing is lost.
 */
export function inReferenceDialect(result: ToolResult, toolName: string): ToolResult {
  const error = result.error;
  if (!error?.code) return result;
  const ours = error.code;
  const { code, prefix } = REFERENCE_ERRORS[ours] ?? OTHER_ERROR;
  const message = ours === 'not_found' ? `${prefix}: ${toolName}` : `${prefix}: ${error.message ?? ''}`;
  return {
    ...result,
    error: { code, message, details: { ...error.details, 'loom.code': ours, 'loom.message': error.message ?? '' } },
  };
}
