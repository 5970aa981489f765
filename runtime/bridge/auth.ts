// Every call on every service carries `authorization: Bearer <credential>`. The check runs in a
// server interceptor, before any handler or message, so no service can forget it; which
// identity the credential proves, and what that identity may do, is identity/'s business. The
// same interceptor sees every status a call ends with, so it is where refusals are counted
// against their caller (refusalBudget.ts) and answered late once a caller has spent its budget.
import * as grpc from '@grpc/grpc-js';
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
  return (method, call) => {
    let caller = 'unauthenticated';
    const late = (send: (status: Status) => void, status: Status) => {
      const wait = REFUSAL_STATUSES.has(status.code) ? budget.charge(caller) : 0;
      if (wait === 0) send(status);
      else setTimeout(() => send(status), wait).unref();
    };
    const listener = new grpc.ServerListenerBuilder()
      .withOnReceiveMetadata((metadata, next) => {
        caller = callerKey(credentials, metadata, requireToken);
        if (!requireToken || caller !== 'unauthenticated') return next(metadata);
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
      .build();
    const responder = new grpc.ResponderBuilder()
      .withStart((next) => next(listener))
      .withSendStatus((status, next) => late(next, status))
      .build();
    return new grpc.ServerInterceptingCall(call, responder);
  };
}
