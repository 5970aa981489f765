// A unary answer larger than bridge.max_message_bytes. grpc-js refuses to send it, after the
// handler has done its work, with RESOURCE_EXHAUSTED "Sent message larger than max (N vs. M)": a
// tool call that ran, or a query that read its thousands of items, ends in an error that names
// neither the setting nor what to do. Here each unary answer is encoded once, before grpc-js sees
// it: one that fits goes on as those bytes (the definition's serializer passes them through, so
// nothing is encoded twice), one that does not is refused with a status that says what to do.
import * as grpc from '@grpc/grpc-js';
import { messageOf } from '../contract/errors';
import type { Logger } from '../log';
import { statusDetails } from './unary';

export function capUnaryAnswers<S extends grpc.ServiceDefinition, H extends grpc.UntypedServiceImplementation>(
  definition: S,
  handlers: H,
  maxBytes: number,
  log: Logger,
): [S, H] {
  const capped: grpc.UntypedServiceImplementation = { ...handlers };
  const methods = Object.entries(definition).map(([name, method]) => {
    const encode = method.responseSerialize;
    const handler = handlers[name];
    if (method.requestStream || method.responseStream || typeof handler !== 'function') return [name, method];
    capped[name] = ((call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) =>
      (handler as grpc.handleUnaryCall<unknown, unknown>)(call, (err, value, trailer, flags) => {
        if (err || value === null || value === undefined) return callback(err, value, trailer, flags);
        let bytes: Buffer;
        try {
          bytes = encode(value);
        } catch (e) {
          // A handler's answer that does not fit its type: the runtime's defect, answered as grpc-js would.
          log.error(`${method.path}: cannot encode the answer`, { error: messageOf(e) });
          return callback({
            code: grpc.status.INTERNAL,
            details: statusDetails(`cannot encode the answer: ${messageOf(e)}`),
          });
        }
        if (bytes.length <= maxBytes) return callback(null, bytes, trailer, flags);
        log.warn('answer over bridge.max_message_bytes refused', {
          method: method.path,
          bytes: bytes.length,
          maxBytes,
        });
        callback({
          code: grpc.status.RESOURCE_EXHAUSTED,
          details: statusDetails(
            `the answer to ${method.path} is ${bytes.length} bytes, more than one message may carry ` +
              `(bridge.max_message_bytes = ${maxBytes}); the call itself ran. Ask for less (a lower limit, ` +
              `a narrower range, a tool's own size argument) or raise bridge.max_message_bytes`,
          ),
        });
      })) as grpc.handleUnaryCall<unknown, unknown>;
    const responseSerialize = (value: unknown): Buffer => (Buffer.isBuffer(value) ? value : encode(value));
    return [name, { ...method, responseSerialize }];
  });
  return [Object.fromEntries(methods) as S, capped as H];
}
