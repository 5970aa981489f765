// Every call on every service carries `authorization: Bearer <credential>`. The check runs in a
// server interceptor, before any handler or message, so no service can forget it; which
// identity the credential proves, and what that identity may do, is identity/'s business.
import * as grpc from '@grpc/grpc-js';
import type { Credentials } from './identity';

export function credentialInterceptor(
  credentials: Credentials,
  onRefused: (method: string, peer: string) => void,
): grpc.ServerInterceptor {
  return (method, call) => {
    const listener = new grpc.ServerListenerBuilder()
      .withOnReceiveMetadata((metadata, next) => {
        if (credentials.identifyCall(metadata)) return next(metadata);
        onRefused(method.path, call.getPeer());
        const missing = metadata.get('authorization').length === 0;
        call.sendStatus({
          code: grpc.status.UNAUTHENTICATED,
          details: missing
            ? 'missing "authorization: Bearer <token>" metadata; the token is in the runtime\'s discovery file (.loom/runtime.json) or LOOM_TOKEN'
            : 'invalid token in "authorization" metadata (a supervised agent\'s token ends with its process; the workspace token with its runtime)',
          metadata: new grpc.Metadata(),
        });
      })
      .build();
    const responder = new grpc.ResponderBuilder().withStart((next) => next(listener)).build();
    return new grpc.ServerInterceptingCall(call, responder);
  };
}
