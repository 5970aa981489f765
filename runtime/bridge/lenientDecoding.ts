// Requests are decoded here, leniently, for every method of every service. grpc-js (1.14) answers
// a request that does not decode with INTERNAL "Error deserializing request" before any Loom code
// sees it: a status that says the runtime failed, with no word of what was wrong with the bytes.
// On a stream it is worse: it ends the stream without telling the handler, and a write the
// handler makes after that keeps the status from ever reaching the client, whose call then hangs
// (found by test/stress/fuzz). Here such a request reaches the handler as an Undecodable instead:
// unary() and Feed answer it with INVALID_ARGUMENT naming the type and the decoder's complaint,
// and EventStream answers it with an error event and goes on, since the stream's framing is intact.
import type * as grpc from '@grpc/grpc-js';
import { messageOf } from '../contract/errors';

/** What a request that does not decode arrives as, in place of the message. */
export class Undecodable {
  /** Never a oneof case: EventStream's switch on `msg` passes it by. */
  readonly msg = undefined;

  constructor(
    /** The message type the bytes were meant to be (ToolCall), or the method's path. */
    readonly expected: string,
    /** What the decoder said. */
    readonly reason: string,
  ) {}

  /** "the request does not decode as a ToolCall (index out of range: 3 + 127 > 3)". */
  describe(what = 'the request'): string {
    const article = /^[AEIOU]/i.test(this.expected) ? 'an' : 'a';
    return `${what} does not decode as ${article} ${this.expected} (${this.reason})`;
  }
}

/** `service` with every method's requests decoded leniently: bytes that do not decode arrive as an Undecodable. */
export function withLenientDecoding<S extends grpc.ServiceDefinition>(service: S): S {
  const lenient = Object.entries(service).map(([name, method]) => {
    const decode = method.requestDeserialize;
    const requestDeserialize = (bytes: Buffer): unknown => {
      try {
        return decode(bytes);
      } catch (err) {
        return new Undecodable(typeName(method), messageOf(err));
      }
    };
    return [name, { ...method, requestDeserialize }];
  });
  return Object.fromEntries(lenient) as S;
}

/**
 * The request's message type (ToolCall), else the method's path. Read only when a request fails:
 * the bundle's loader builds `requestType` lazily (runtime/proto), and reading it for every
 * method at start cost about 15 ms.
 */
function typeName(method: grpc.MethodDefinition<unknown, unknown>): string {
  return (method as { requestType?: { type?: { name?: string } } }).requestType?.type?.name ?? method.path;
}
