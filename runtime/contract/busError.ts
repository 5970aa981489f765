// Contract: the error the bus's rules throw (topic and pattern checks included), with a `code` a
// client can map onto a wire error without parsing messages. Here because the topic rules
// (topics.ts) are shared with the dashboard UI; the bus re-exports it (runtime/bus/errors.ts).
import { LoomError } from './errors';

export type BusErrorCode =
  | 'invalid_topic'
  | 'reserved_topic'
  | 'invalid_pattern'
  | 'invalid_event'
  | 'invalid_envelope'
  | 'invalid_options'
  | 'ttl_expired'
  | 'hop_limit'
  | 'no_responders'
  | 'no_reply_to'
  | 'timeout'
  | 'closed';

export class BusError extends LoomError {
  override readonly name = 'BusError';
  constructor(
    override readonly code: BusErrorCode,
    message: string,
  ) {
    super(code, message);
  }
}
