// Every call on every service carries `authorization: Bearer <token>`. The check runs in a
// server interceptor, before any handler or message, so no service can forget it.
import * as grpc from '@grpc/grpc-js';
import { bearerMatches } from '../localAuth';


function metadataBearerMatches(metadata: grpc.Metadata, token: string): boolean {
  const header = metadata.get('authorization')[0];
  return typeof header === 'string' && bearerMatches(header, token);
}

export function tokenInterceptor(token: string, onRefused: (method: string, peer: string) => void): grpc.ServerInterceptor {
  return (method, call) => {
    const listener = new grpc.ServerListenerBuilder()
      .withOnReceiveMetadata((metadata, next) => {
        if (metadataBearerMatches(metadata, token)) return next(metadata);
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
