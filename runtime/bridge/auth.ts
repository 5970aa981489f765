// Every call on every service carries `authorization: Bearer <credential>`. The check runs in a
// server interceptor, before any handler or message, so no service can forget it; which
// identity the credential proves, and what that identity may do, is identity/'s business. The
// same interceptor sees every status a call ends with, so it is where refusals are counted
// against their caller (refusalBudget.ts) and answered late once a caller has spent its budget.
import * as grpc from '@grpc/grpc-js';
import { CallsInFlight } from './callsInFlight';
import { holderOf, type Credentials } from './identity';
import { REFUSAL_STATUSES, type RefusalBudget } from './refusalBudget';

type Status = Parameters<grpc.ServerInterceptingCallInterface['sendStatus']>[0];

export interface CallerInterceptorOptions {
  credentials: Credentials;
  /** false (bridge.require_token = false): calls without a known credential go on, as `open`. */
  requireToken: boolean;
  budget: RefusalBudget;
  onRefused: (method: string, peer: string) => void;
}

/** Whom a refusal is counted against: the credential's holder, one budget for every call without a known credential. */
export function callerKey(credentials: Credentials, metadata: grpc.Metadata, requireToken: boolean): string {
  const who = credentials.identifyCall(metadata);
  return who ? holderOf(who) : requireToken ? 'unauthenticated' : 'open';
}

export function callerInterceptor(opts: CallerInterceptorOptions): grpc.ServerInterceptor {
  const { credentials, requireToken, budget } = opts;
  const inFlight = new CallsInFlight();
  return (method, call) => {
    let caller = 'unauthenticated';
    let release: (() => void) | undefined;
    const unary = !method.requestStream && !method.responseStream;
    const late = (send: (status: Status) => void, status: Status, refusal = REFUSAL_STATUSES.has(status.code)) => {
      const wait = refusal ? budget.charge(caller) : 0;
      if (wait === 0) send(status);
      else setTimeout(() => send(status), wait).unref();
    };
    const listener = new grpc.ServerListenerBuilder()
      .withOnReceiveMetadata((metadata, next) => {
        caller = callerKey(credentials, metadata, requireToken);
        if (!requireToken || caller !== 'unauthenticated') {
          if (!unary) return next(metadata);
          const place = inFlight.enter(caller);
          if ('release' in place) {
            release = place.release;
            return next(metadata);
          }
          // Refused before its message is read: the message is never held. Counted against the
          // caller's refusal budget, so a flood past the limit is slowed as a flood of bad requests is.
          return late(
            call.sendStatus.bind(call),
            {
              code: grpc.status.RESOURCE_EXHAUSTED,
              details: `${method.path} refused: ${place.refused}`,
              metadata: new grpc.Metadata(),
            },
            true,
          );
        }
        opts.onRefused(method.path, call.getPeer());
        const missing = metadata.get('authorization').length === 0;
        // Sent below this interceptor's own responder, so counted here.
        late(call.sendStatus.bind(call), {
          code: grpc.status.UNAUTHENTICATED,
          details: missing
            ? 'missing "authorization: Bearer <token>" metadata; the token is in the runtime\'s discovery file (.loom/runtime.json) or LOOM_TOKEN'
            : 'invalid token in "authorization" metadata (a supervised agent\'s token ends with its process; the workspace token with its runtime)',
          metadata: new grpc.Metadata(),
        });
      })
      .withOnCancel(() => release?.())
      .build();
    const responder = new grpc.ResponderBuilder()
      .withStart((next) => next(listener))
      .withSendStatus((status, next) => {
        release?.();
        late(next, status);
      })
      .build();
    return new grpc.ServerInterceptingCall(call, responder);
  };
}
