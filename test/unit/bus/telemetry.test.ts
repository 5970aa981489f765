import { strict as assert } from 'node:assert';
import { metrics, propagation, trace, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { DeliveryDropped, EventBus, createEvent, payloadText, type Delivery } from '../../../runtime/bus';
import { tracingActive } from '../../../runtime/bus/tracing';
import { gate, until } from './helpers';

describe('bus telemetry through real OpenTelemetry SDKs', () => {
  afterEach(() => {
    trace.disable();
    propagation.disable();
    metrics.disable();
  });

  function tracing() {
    const spans = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
    trace.setGlobalTracerProvider(provider);
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    const named = (name: string) => spans.getFinishedSpans().filter((s) => s.name === name);
    return { provider, named };
  }
  const incoming = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

  it('wraps publish in a producer span, writes its traceparent when the event has none, continues one it has', async () => {
    const { provider, named } = tracing();

    const bus = new EventBus();
    const got: Delivery[] = [];
    bus.subscribe('traced.>', (d) => void got.push(d));
    await bus.publish('traced.fresh', createEvent({ type: 't' }));
    await bus.publish('traced.continued', createEvent({ type: 't', traceparent: incoming }));
    await until(() => got.length === 2);

    const [fresh, continued] = named('loom.bus.publish');
    assert.equal(fresh.name, 'loom.bus.publish');
    assert.equal(fresh.kind, SpanKind.PRODUCER);
    assert.equal(fresh.attributes['messaging.destination.name'], 'traced.fresh');
    assert.equal(fresh.attributes['loom.bus.queued'], 1);
    const { traceId, spanId } = fresh.spanContext();
    assert.equal(got[0].event.metadata['traceparent'], `00-${traceId}-${spanId}-01`);

    assert.equal(continued.spanContext().traceId, '0af7651916cd43dd8448eb211c80319c');
    assert.equal(continued.parentSpanContext?.spanId, 'b7ad6b7169203331');
    assert.equal(got[1].event.metadata['traceparent'], incoming, 'an incoming traceparent is kept');
    await bus.close();
    await provider.shutdown();
  });

  it('knows whether a tracer provider is registered, so deliveries make no spans without one', () => {
    assert.equal(tracingActive(), false);
    const { provider } = tracing();
    assert.equal(tracingActive(), true);
    trace.disable();
    assert.equal(tracingActive(), false);
    void provider.shutdown();
  });

  it('traces each delivery as a consumer span, child of the trace the event carries, ended when the handler settles', async () => {
    const { provider, named } = tracing();
    const bus = new EventBus();
    const g = gate();
    let settled = 0;
    bus.subscribe(
      'd.>',
      async () => {
        await g.promise;
        settled++;
      },
      { qos: 'batched', subscriber: 'slow-agent' },
    );
    bus.subscribe('d.>', () => void settled++, { qos: 'realtime', subscriber: 'fast-agent' });
    await bus.publish('d.fresh', createEvent({ type: 't' }));
    await bus.publish('d.continued', createEvent({ type: 't', traceparent: incoming }));
    await until(() => named('loom.bus.deliver').length === 2, 'the fast deliveries');
    assert.equal(settled, 2, 'the slow handler has not settled: its spans are still open');
    g.open();
    await until(() => named('loom.bus.deliver').length === 4, 'the slow deliveries');

    const publish = named('loom.bus.publish').find((s) => s.attributes['messaging.destination.name'] === 'd.fresh')!;
    const delivers = named('loom.bus.deliver');
    for (const d of delivers) assert.equal(d.kind, SpanKind.CONSUMER);
    const of = (topic: string, subscriber: string) =>
      delivers.find(
        (d) =>
          d.attributes['messaging.destination.name'] === topic && d.attributes['loom.bus.subscriber'] === subscriber,
      )!;
    assert.deepEqual(of('d.fresh', 'slow-agent').attributes, {
      'messaging.destination.name': 'd.fresh',
      'loom.bus.subscriber': 'slow-agent',
      'loom.bus.qos': 'batched',
    });
    assert.equal(of('d.fresh', 'fast-agent').attributes['loom.bus.qos'], 'realtime');
    for (const subscriber of ['slow-agent', 'fast-agent']) {
      const fresh = of('d.fresh', subscriber);
      assert.equal(fresh.spanContext().traceId, publish.spanContext().traceId);
      assert.equal(
        fresh.parentSpanContext?.spanId,
        publish.spanContext().spanId,
        'a fresh event: child of its publish span',
      );
      const continued = of('d.continued', subscriber);
      assert.equal(continued.spanContext().traceId, '0af7651916cd43dd8448eb211c80319c');
      assert.equal(
        continued.parentSpanContext?.spanId,
        'b7ad6b7169203331',
        'an incoming trace: child of the traceparent it carries',
      );
      assert.equal(fresh.status.code, SpanStatusCode.UNSET);
      assert.equal(fresh.events.length, 0);
    }
    await bus.close();
    await provider.shutdown();
  });

  it('traces drops with their reason: on the delivery span from a handler, as a short span otherwise', async () => {
    const { provider, named } = tracing();
    const bus = new EventBus({ maxHops: 3 });
    const g = gate();
    bus.subscribe('x.full', () => g.promise, { qos: 'realtime', queueSize: 1, subscriber: 'stuck' });
    bus.subscribe(
      'x.handler',
      (d) => {
        if (payloadText(d.event) === 'boom') throw new Error('handler broke');
        throw new DeliveryDropped('too_large', 'too big for the wire');
      },
      { subscriber: 'picky' },
    );
    for (let i = 0; i < 3; i++) await bus.publish('x.full', createEvent({ type: 't', traceparent: incoming })); // 1 in the handler, 1 queued, 1 dropped
    await bus.publish('x.handler', createEvent({ type: 't', payload: 'boom' }));
    await bus.publish('x.handler', createEvent({ type: 't', payload: 'big' }));
    await bus.publish('x.refused', createEvent({ type: 't', hop: 2, traceparent: incoming }));
    await until(() => bus.stats().dropped.too_large === 1);

    const drops = named('loom.bus.drop');
    const full = drops.find((s) => s.attributes['loom.bus.drop_reason'] === 'queue_full')!;
    assert.deepEqual(full.attributes, {
      'messaging.destination.name': 'x.full',
      'loom.bus.subscriber': 'stuck',
      'loom.bus.qos': 'realtime',
      'loom.bus.drop_reason': 'queue_full',
    });
    assert.equal(full.spanContext().traceId, '0af7651916cd43dd8448eb211c80319c');
    const refused = drops.find((s) => s.attributes['loom.bus.drop_reason'] === 'hop_limit')!;
    assert.deepEqual(refused.attributes, {
      'messaging.destination.name': 'x.refused',
      'loom.bus.drop_reason': 'hop_limit',
    });
    assert.equal(refused.parentSpanContext?.spanId, 'b7ad6b7169203331');

    const handled = named('loom.bus.deliver').filter((s) => s.attributes['loom.bus.subscriber'] === 'picky');
    const [broke, declined] = handled;
    assert.deepEqual(
      broke.events.map((e) => [e.name, e.attributes?.['loom.bus.drop_reason'] ?? e.attributes?.['exception.message']]),
      [
        ['loom.bus.drop', 'handler_error'],
        ['exception', 'handler broke'],
      ],
    );
    assert.equal(broke.status.code, SpanStatusCode.ERROR);
    assert.equal(broke.status.message, 'handler broke');
    assert.deepEqual(
      declined.events.map((e) => [e.name, e.attributes?.['loom.bus.drop_reason']]),
      [['loom.bus.drop', 'too_large']],
    );
    assert.equal(declined.status.code, SpanStatusCode.UNSET);
    assert.equal(
      drops.some((s) => s.attributes['loom.bus.subscriber'] === 'picky'),
      false,
      'no second span for a drop already on its delivery span',
    );

    // Closing drops what is still queued (reason closed).
    await bus.close();
    assert.equal(
      named('loom.bus.drop').filter(
        (s) => s.attributes['loom.bus.drop_reason'] === 'closed' && s.attributes['loom.bus.subscriber'] === 'stuck',
      ).length,
      1,
    );
    g.open();
    await provider.shutdown();
  });

  it('counts publishes, deliveries and drops by reason', async () => {
    const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 60_000 });
    const provider = new MeterProvider({ readers: [reader] });
    metrics.setGlobalMeterProvider(provider);

    const bus = new EventBus({ maxHops: 3 });
    const g = gate();
    bus.subscribe('m.x', () => g.promise, { qos: 'realtime', queueSize: 1 });
    for (let i = 0; i < 4; i++) await bus.publish('m.x', createEvent({ type: 't' })); // 1 in handler, 1 queued, 2 dropped
    await bus.publish('m.x', createEvent({ type: 't', timestampMs: 1, ttlMs: 1 }));
    await bus.publish('m.x', createEvent({ type: 't', hop: 2 }));
    g.open();
    await until(() => bus.stats().delivered === 2);

    await reader.forceFlush();
    const sums = new Map<string, number>();
    for (const rm of exporter.getMetrics())
      for (const sm of rm.scopeMetrics)
        for (const m of sm.metrics) {
          for (const p of m.dataPoints) {
            const key =
              m.descriptor.name +
              (p.attributes['reason'] ? `:${p.attributes['reason']}` : '') +
              (p.attributes['qos'] ? `:${p.attributes['qos']}` : '');
            sums.set(key, (sums.get(key) ?? 0) + (p.value as number));
          }
        }
    assert.equal(sums.get('loom.bus.published'), 6);
    assert.equal(sums.get('loom.bus.delivered:realtime'), 2);
    assert.equal(sums.get('loom.bus.dropped:queue_full'), 2);
    assert.equal(sums.get('loom.bus.dropped:ttl_expired'), 1);
    assert.equal(sums.get('loom.bus.dropped:hop_limit'), 1);
    await bus.close();
    await provider.shutdown();
  });
});
