import { strict as assert } from 'node:assert';
import { metrics, propagation, trace, SpanKind } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { EventBus, createEvent, type Delivery } from '../../../runtime/bus';
import { gate, until } from './helpers';

describe('bus telemetry through real OpenTelemetry SDKs', () => {
  afterEach(() => {
    trace.disable();
    propagation.disable();
    metrics.disable();
  });

  it('wraps publish in a producer span, writes its traceparent when the event has none, continues one it has', async () => {
    const spans = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
    trace.setGlobalTracerProvider(provider);
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());

    const bus = new EventBus();
    const got: Delivery[] = [];
    bus.subscribe('traced.>', (d) => void got.push(d));
    await bus.publish('traced.fresh', createEvent({ type: 't' }));
    const incoming = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    await bus.publish('traced.continued', createEvent({ type: 't', traceparent: incoming }));
    await until(() => got.length === 2);

    const [fresh, continued] = spans.getFinishedSpans();
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
    for (const rm of exporter.getMetrics()) for (const sm of rm.scopeMetrics) for (const m of sm.metrics) {
      for (const p of m.dataPoints) {
        const key = m.descriptor.name + (p.attributes['reason'] ? `:${p.attributes['reason']}` : '') + (p.attributes['qos'] ? `:${p.attributes['qos']}` : '');
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
