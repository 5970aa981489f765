// The errors of the bus: BusError for everything the bus refuses, so callers (the bridge above all)
// can map a `code` onto a wire error without parsing messages; DeliveryDropped for a handler
// that declines a delivery.
import { LoomError } from '../contract/errors';
import type { DropReason } from './types';

export { BusError, type BusErrorCode } from '../contract/busError';

/**
 * Thrown (or rejected with) by a delivery handler that chose not to deliver: the bus counts the
 * delivery as dropped for `reason` instead of as a handler failure, and does not log it.
 */
export class DeliveryDropped extends LoomError {
  override readonly name = 'DeliveryDropped';
  constructor(
    readonly reason: DropReason,
    message: string,
  ) {
    super('delivery_dropped', message);
  }
}
