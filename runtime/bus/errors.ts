// One error type for everything the bus refuses, so callers (the bridge above all) can map a
// `code` onto a wire error without parsing messages.
export type BusErrorCode =
  | 'invalid_topic'
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

export class BusError extends Error {
  override readonly name = 'BusError';
  constructor(
    readonly code: BusErrorCode,
    message: string,
  ) {
    super(message);
  }
}
