// Every call on every service carries `authorization: Bearer <token>`. The check runs in a
// server interceptor, before any handler or message, so no service can forget it.
import * as grpc from '@grpc/grpc-js';
import { randomBytes, timingSafeEqual } from 'node:crypto';

/** 32 random bytes, hex. */
export function generateToken(): string {
  return randomBytes(32).toString('hex');
}

export function bearerMatches(metadata: grpc.Metadata, token: string): boolean {
  const header = metadata.get('authorization')[0];
  if (typeof header !== 'string') return false;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match) return false;
  const given = Buffer.from(match[1]!, 'utf8');
  const expected = Buffer.from(token, 'utf8');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export function tokenInterceptor(token: string, onRefused: (method: string, peer: string) => void): grpc.ServerInterceptor {
  return (method, call) => {
    const listener = new grpc.ServerListenerBuilder()
      .withOnReceiveMetadata((metadata, next) => {
        if (bearerMatches(metadata, token)) return next(metadata);
        onRefused(method.path, call.getPeer());
        const missing = metadata.get('authorization').length === 0;
        call.sendStatus({
          code: grpc.status.UNAUTHENTICATED,
          details: missing
            ? 'missing "authorization: Bearer <token>" metadata; the token is in the runtime\'s discovery file (.loom/runtime.json) or LOOM_TOKEN'
            : 'invalid token in "authorization" metadata',
          metadata: new grpc.Metadata(),
        });
      })
      .build();
    const responder = new grpc.ResponderBuilder().withStart((next) => next(listener)).build();
    return new grpc.ServerInterceptingCall(call, responder);
  };
}
