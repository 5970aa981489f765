// Contract: a tool's typed failure. The runtime's tools throw it and map its code onto the wire
// (runtime/tools/errors.ts); the extension's editor tools get it from the file sandbox (./sandbox)
// and map it onto their own results, so both processes refuse a path with one error.

import { LoomError } from './errors';

export type ToolErrorCode = 'not_found' | 'invalid_arguments' | 'denied' | 'timeout' | 'failed' | 'unavailable';

export class ToolError extends LoomError {
  constructor(
    override readonly code: ToolErrorCode,
    message: string,
    readonly details?: Record<string, string>,
  ) {
    super(code, message);
    this.name = 'ToolError';
  }
}
