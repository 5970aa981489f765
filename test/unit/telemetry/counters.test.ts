import { strict as assert } from 'node:assert';
import { metrics } from '@opentelemetry/api';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import { EventBus, createEvent } from '../../../runtime/bus';
import { DefaultToolRegistry } from '../../../runtime/tools/registry';
import { silentLogger } from '../../../runtime/log';

describe('telemetry counters', () => {
  afterEach(() => metrics.disable());

  it('record through a metrics SDK registered after the runtime parts were loaded', async () => {
    const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 60_000 });
    const provider = new MeterProvider({ readers: [reader] });
    metrics.setGlobalMeterProvider(provider);

    const bus = new EventBus();
    bus.subscribe('a.>', () => {});
    for (let i = 0; i < 3; i++) await bus.publish('a.b', createEvent({ type: 't' }));
    const tools = new DefaultToolRegistry({ defaultTimeoutMs: 1000, log: silentLogger });
    await tools.call({ name: 'no:such', arguments: {} });
    await new Promise((r) => setTimeout(r, 50));

    await reader.forceFlush();
    const points = new Map<string, number>();
    for (const rm of exporter.getMetrics())
      for (const sm of rm.scopeMetrics)
        for (const m of sm.metrics) {
          points.set(
            m.descriptor.name,
            m.dataPoints.reduce(
              (n, p) => n + (typeof p.value === 'number' ? p.value : (p.value as { count: number }).count),
              0,
            ),
          );
        }
    assert.equal(points.get('loom.bus.published'), 3);
    assert.ok((points.get('loom.bus.delivered') ?? 0) >= 1);
    assert.equal(points.get('loom.tools.calls'), 1);
    await provider.shutdown();
  });
});
