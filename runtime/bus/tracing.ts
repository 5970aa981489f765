// Spans for deliveries and drops. Each delivery is a CONSUMER span, child of the trace the event
// carries; a drop is an event on the delivery's span when it happened in the handler, else a
// short span of its own. Without a registered SDK none of this runs: the check below costs
// about 30 ns, less than making and discarding a no-op span per delivery.
import * as telemetry from '../telemetry';
import type { DropReason, LoomEvent, QoS } from './types';

// Locals, not imported bindings: under a CommonJS transform each access to those is a getter call.
const { contextFrom, SpanKind, SpanStatusCode, tracer } = telemetry;
type Span = telemetry.Span;

/** True once a tracer provider is registered (trace.disable() makes it false again). */
export const tracingActive = telemetry.tracingActive;

/** Who a delivery or drop was for; absent for an event the bus refused as a whole. */
export interface Receiver {
  readonly subscriber: string;
  readonly qos: QoS;
}

function attributes(topic: string, receiver: Receiver | undefined, reason?: DropReason) {
  return {
    'messaging.destination.name': topic,
    ...(receiver ? { 'loom.bus.subscriber': receiver.subscriber, 'loom.bus.qos': receiver.qos } : {}),
    ...(reason ? { 'loom.bus.drop_reason': reason } : {}),
  };
}

export function startDeliverSpan(topic: string, event: LoomEvent, receiver: Receiver): Span {
  return tracer.startSpan(
    'loom.bus.deliver',
    { kind: SpanKind.CONSUMER, attributes: attributes(topic, receiver) },
    contextFrom(event.metadata),
  );
}

/** Ends a delivery's span; `dropped` when the handler failed or declined it. */
export function endDeliverSpan(span: Span, dropped?: { reason: DropReason; error?: Error }): void {
  if (dropped) {
    span.addEvent('loom.bus.drop', { 'loom.bus.drop_reason': dropped.reason });
    if (dropped.error) {
      span.recordException(dropped.error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: dropped.error.message });
    }
  }
  span.end();
}

/** A drop outside any delivery (queue full, expired in the queue, unsubscribed, refused at publish). */
export function recordDrop(topic: string, event: LoomEvent, reason: DropReason, receiver?: Receiver): void {
  tracer
    .startSpan(
      'loom.bus.drop',
      { kind: SpanKind.INTERNAL, attributes: attributes(topic, receiver, reason) },
      contextFrom(event.metadata),
    )
    .end();
}
