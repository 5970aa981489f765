// The errors of the bus: BusError for everything the bus refuses, so callers (the bridge above all)
// can map a `code` onto a wire error without parsing messages; DeliveryDropped for a handler
// that declines a delivery.
import type { DropReason } from './types';

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

/**
 * Thrown (or rejected with) by a delivery handler that chose not to deliver: the bus counts the
 * delivery as dropped for `reason` instead of as a handler failure, and does not log it.
 */
export class DeliveryDropped extends Error {
  override readonly name = 'DeliveryDropped';
  constructor(
    readonly reason: DropReason,
    message: string,
  ) {
    super(message);
  }
}

export class BusError extends Error {
  override readonly name = 'BusError';
  constructor(
    readonly code: BusErrorCode,
    message: string,
  ) {
    super(message);
  }
}
