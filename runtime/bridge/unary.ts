// Unary handlers written as async functions: a thrown StatusError becomes that gRPC status,
// anything else INTERNAL with its message; nothing thrown by a handler reaches the process.
import * as grpc from '@grpc/grpc-js';
import type { Logger } from '../log';
import { LoomError, messageOf } from '../contract/errors';

export class StatusError extends LoomError {
  constructor(
    readonly status: grpc.status,
    message: string,
  ) {
    super('grpc_status', message);
  }
}

export function invalidArgument(message: string): StatusError {
  return new StatusError(grpc.status.INVALID_ARGUMENT, message);
}

export function unary<Req, Res>(
  log: Logger,
  name: string,
  fn: (req: Req, call: grpc.ServerUnaryCall<Req, Res>) => Promise<Res> | Res,
): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    Promise.resolve()
      .then(() => fn(call.request, call))
      .then(
        (res) => callback(null, res),
        (err: unknown) => {
          const e = err instanceof Error ? err : new Error(String(err));
          const code = e instanceof StatusError ? e.status : grpc.status.INTERNAL;
          if (code === grpc.status.INTERNAL) log.error(`${name} failed`, { error: e.message });
          callback({ code, details: e.message });
        },
      );
  };
}

/** Codes of the runtime's own errors (StoreError, MemoryError) and the status a caller sees for each. */
const STATUS_FOR_CODE: Record<string, grpc.status> = {
  invalid_argument: grpc.status.INVALID_ARGUMENT,
  closed: grpc.status.UNAVAILABLE,
  locked: grpc.status.UNAVAILABLE,
};

/** unary() for handlers over parts whose errors carry a code: the caller sees the matching status instead of INTERNAL. */
export const codedUnary: typeof unary = (log, name, fn) =>
  unary(log, name, async (req, call) => {
    try {
      return await fn(req, call);
    } catch (err) {
      const status = STATUS_FOR_CODE[(err as { code?: string }).code ?? ''];
      throw status === undefined || err instanceof StatusError ? err : new StatusError(status, messageOf(err));
    }
  });

/** The calling agent's id as the client stated it (gRPC metadata x-loom-agent-id), or "". */
export function agentIdFrom(metadata: grpc.Metadata): string {
  const v = metadata.get('x-loom-agent-id')[0];
  return typeof v === 'string' ? v : '';
}
