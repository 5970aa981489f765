// Unary handlers written as async functions: a thrown StatusError becomes that gRPC status,
// anything else INTERNAL with its message; nothing thrown by a handler reaches the process.
import * as grpc from '@grpc/grpc-js';
import type { Logger } from '../log';

export class StatusError extends Error {
  constructor(readonly code: grpc.status, message: string) {
    super(message);
  }
}

export function invalidArgument(message: string): StatusError {
  return new StatusError(grpc.status.INVALID_ARGUMENT, message);
}

export function unary<Req, Res>(log: Logger, name: string, fn: (req: Req, call: grpc.ServerUnaryCall<Req, Res>) => Promise<Res> | Res): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    Promise.resolve()
      .then(() => fn(call.request, call))
      .then(
        (res) => callback(null, res),
        (err: unknown) => {
          const e = err instanceof Error ? err : new Error(String(err));
          const code = e instanceof StatusError ? e.code : grpc.status.INTERNAL;
          if (code === grpc.status.INTERNAL) log.error(`${name} failed`, { error: e.message });
          callback({ code, details: e.message });
        },
      );
  };
}

/** The calling agent's id as the client stated it (gRPC metadata x-loom-agent-id), or "". */
export function agentIdFrom(metadata: grpc.Metadata): string {
  const v = metadata.get('x-loom-agent-id')[0];
  return typeof v === 'string' ? v : '';
}
