// Calls the server has answered while the client still sends. grpc-js ends its side of the HTTP/2
// stream with the status and leaves the client's side open until the client ends or resets it.
// A client that never does (one refused for a missing token that keeps its request body coming,
// or one that just stops there) kept that stream open for good, and a connection with an open
// stream is never idle: grpc.max_connection_idle_ms (server.ts) did not close it, so any local
// process could hold descriptors and sessions for as long as the runtime ran. RFC 9113 §8.1 lets a
// server that has sent a complete response reset the request with NO_ERROR. A well-behaved client
// ends its side at once on the status; the grace is theirs.
import { constants, type ServerHttp2Stream } from 'node:http2';
import type * as grpc from '@grpc/grpc-js';

/** How long a client has to end its side of a call once the runtime has ended its own. */
export const HALF_OPEN_GRACE_MS = 2000;

/**
 * Must come first among the interceptors: only the first is handed grpc-js's own call, whose
 * `stream` is the HTTP/2 stream. Where that is missing (another grpc-js), calls behave as before;
 * test/integration/idle-connections.test.ts notices.
 */
export function endHalfOpenCalls(graceMs = HALF_OPEN_GRACE_MS): grpc.ServerInterceptor {
  return (_method, call) => {
    const stream = streamOf(call);
    // 'finish': the server's side has ended, whoever sent the status (a handler, an interceptor, or
    // grpc-js itself for an oversized or undecodable message).
    // Most calls end with the client's side read to its end (every unary call): nothing to wait for.
    stream?.once('finish', () => {
      if (stream.closed || stream.readableEnded) return;
      const timer = setTimeout(() => {
        if (!stream.closed && !stream.destroyed) stream.close(constants.NGHTTP2_NO_ERROR);
      }, graceMs);
      timer.unref();
      stream.once('close', () => clearTimeout(timer));
    });
    // The call itself, not a pass-through layer around it (which would cost every call's messages a
    // hop): grpc-js uses only ServerInterceptingCallInterface's methods of what an interceptor returns.
    return call as grpc.ServerInterceptingCall;
  };
}

function streamOf(call: grpc.ServerInterceptingCallInterface): ServerHttp2Stream | undefined {
  const stream = (call as unknown as { stream?: Partial<ServerHttp2Stream> }).stream;
  return stream && typeof stream.close === 'function' && typeof stream.once === 'function'
    ? (stream as ServerHttp2Stream)
    : undefined;
}
