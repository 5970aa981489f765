// Unary handlers written as async functions: a thrown StatusError becomes that gRPC status,
// anything else INTERNAL with its message; nothing thrown by a handler reaches the process.
import * as grpc from '@grpc/grpc-js';
import type { Logger } from '../log';
import { LoomError, messageOf } from '../contract/errors';
import { Undecodable } from './lenientDecoding';

export class StatusError extends LoomError {
  constructor(
    readonly status: grpc.status,
    message: string,
  ) {
    super('grpc_status', message);
  }
}

/**
 * The most a status message takes in its trailer, percent-encoded as grpc-message is. Messages
 * often quote what the caller sent, and a header field past 64 KiB is an HPACK error at the
 * client (COMPRESSION_ERROR) that tears down its whole connection, every other call on it with it
 * (test/stress/'s fuzz saw its connection go silent for up to a minute); C-core clients (Python's
 * grpcio) refuse metadata past 8 KiB.
 */
export const MAX_STATUS_DETAILS_BYTES = 4096;

/** Lone UTF-16 surrogates, which encodeURI (and so grpc-js, writing grpc-message) throws on. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * `message` as it can travel in a gRPC status: lone surrogates replaced (U+FFFD), and cut, saying
 * so, where its percent-encoding would pass `maxBytes`. Also for messages in a stream's error
 * events, which share the limit so that what a client logs is what the status said.
 */
export function statusDetails(message: string, maxBytes = MAX_STATUS_DETAILS_BYTES): string {
  const text = message.replace(LONE_SURROGATE, '\uFFFD');
  // A UTF-16 unit takes at most 9 bytes percent-encoded (3 UTF-8 bytes as %XX each).
  if (text.length * 9 <= maxBytes || encodeURI(text).length <= maxBytes) return text;
  const note = ` … [cut: ${text.length} characters in all]`;
  const room = maxBytes - encodeURI(note).length;
  let keep = Math.min(text.length, room);
  for (;;) {
    // Never between the two halves of a surrogate pair, which would leave a lone one.
    if (keep > 0 && /[\uD800-\uDBFF]/.test(text[keep - 1]!)) keep--;
    const used = encodeURI(text.slice(0, keep)).length;
    if (used <= room) break;
    keep = Math.max(0, Math.floor((keep * room) / used) - 1);
  }
  return text.slice(0, keep) + note;
}

/**
 * An error's message for a response's `error_message` field: cut as a status message is, since many
 * quote what the caller sent (a 4 MB agent id would come back whole in every refusal).
 */
export function errorMessageOf(err: unknown): string {
  return statusDetails(messageOf(err));
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
      .then(() => {
        const request: unknown = call.request;
        if (request instanceof Undecodable) throw invalidArgument(`${request.describe()}; nothing was done`);
        return fn(call.request, call);
      })
      .then(
        (res) => callback(null, res),
        (err: unknown) => {
          const e = err instanceof Error ? err : new Error(String(err));
          const code = e instanceof StatusError ? e.status : grpc.status.INTERNAL;
          if (code === grpc.status.INTERNAL) log.error(`${name} failed`, { error: e.message });
          callback({ code, details: statusDetails(e.message) });
        },
      );
  };
}

/** Codes of the runtime's own errors (StoreError, MemoryError) and the status a caller sees for each. */
const STATUS_FOR_CODE: Record<string, grpc.status> = {
  invalid_argument: grpc.status.INVALID_ARGUMENT,
  closed: grpc.status.UNAVAILABLE,
  locked: grpc.status.UNAVAILABLE,
  permission_denied: grpc.status.PERMISSION_DENIED,
  resource_exhausted: grpc.status.RESOURCE_EXHAUSTED,
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
