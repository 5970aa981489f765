// A tool call is one span that continues the caller's W3C trace. @opentelemetry/api alone is
// installed, so the test registers the smallest tracer provider and traceparent propagator that
// record what the registry asks of them, and removes them afterwards.
import assert from 'node:assert/strict';
import {
  context,
  INVALID_SPAN_CONTEXT,
  propagation,
  type Context,
  type Span,
  type SpanContext,
  trace,
  type TextMapPropagator,
  type Tracer,
  type TracerProvider,
} from '@opentelemetry/api';
import { silentLogger } from '../../../runtime/log';
import { DefaultToolRegistry } from '../../../runtime/tools/registry';
import type { ToolContext } from '../../../runtime/tools/types';

interface Recorded {
  name: string;
  parent?: SpanContext;
  attributes: Record<string, unknown>;
  status?: number;
  ended: boolean;
  spanContext: SpanContext;
}

const traceparentPropagator: TextMapPropagator = {
  inject(ctx, carrier: Record<string, string>) {
    const sc = trace.getSpanContext(ctx);
    if (sc) carrier.traceparent = `00-${sc.traceId}-${sc.spanId}-0${sc.traceFlags}`;
  },
  extract(ctx, carrier: Record<string, string>) {
    const m = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/.exec(carrier.traceparent ?? '');
    return m
      ? trace.setSpanContext(ctx, { traceId: m[1], spanId: m[2], traceFlags: parseInt(m[3], 16), isRemote: true })
      : ctx;
  },
  fields: () => ['traceparent'],
};

// The API's proxy tracer keeps its delegate once found, so after the test this one stops
// recording instead of relying on trace.disable() alone.
let recording = true;

function recordingProvider(spans: Recorded[]): TracerProvider {
  let next = 1;
  const tracer = {
    startSpan(name: string, options: { attributes?: Record<string, unknown> } = {}, ctx: Context = context.active()) {
      const parent = trace.getSpanContext(ctx);
      if (!recording) return trace.wrapSpanContext(INVALID_SPAN_CONTEXT);
      const spanContext: SpanContext = {
        traceId: parent?.traceId ?? 'f'.repeat(32),
        spanId: (next++).toString(16).padStart(16, '0'),
        traceFlags: 1,
      };
      const rec: Recorded = { name, parent, attributes: { ...(options.attributes ?? {}) }, ended: false, spanContext };
      spans.push(rec);
      const span = {
        spanContext: () => spanContext,
        setAttribute: (k: string, v: unknown) => ((rec.attributes[k] = v), span),
        setStatus: (s: { code: number }) => ((rec.status = s.code), span),
        end: () => void (rec.ended = true),
      };
      return span as unknown as Span;
    },
  } as unknown as Tracer;
  return { getTracer: () => tracer };
}

describe('tools: telemetry', () => {
  const spans: Recorded[] = [];
  before(() => {
    trace.setGlobalTracerProvider(recordingProvider(spans));
    propagation.setGlobalPropagator(traceparentPropagator);
  });
  after(() => {
    recording = false;
    trace.disable();
    propagation.disable();
  });

  it('records one span per call, child of the traceparent in the headers, and passes the new context on', async () => {
    const registry = new DefaultToolRegistry({ defaultTimeoutMs: 5000, log: silentLogger });
    let seen: ToolContext | undefined;
    registry.register(
      { name: 'demo:traced', description: '', parametersSchema: { type: 'object' }, provider: 'native' },
      async (_a, ctx) => {
        seen = ctx;
        return 1;
      },
    );
    registry.register(
      { name: 'demo:fails', description: '', parametersSchema: { type: 'object' }, provider: 'native' },
      async () => {
        throw new Error('nope');
      },
    );
    const traceId = '0af7651916cd43dd8448eb211c80319c';
    await registry.call({
      name: 'demo:traced',
      arguments: {},
      headers: { traceparent: `00-${traceId}-b7ad6b7169203331-01` },
    });
    await registry.call({ name: 'demo:fails', arguments: {} });

    assert.deepEqual(
      spans.map((s) => [s.name, s.ended, s.attributes['loom.tool.status']]),
      [
        ['tool demo:traced', true, 'ok'],
        ['tool demo:fails', true, 'failed'],
      ],
    );
    assert.equal(spans[0].parent?.traceId, traceId);
    assert.equal(spans[0].parent?.spanId, 'b7ad6b7169203331');
    assert.equal(spans[1].status, 2 /* SpanStatusCode.ERROR */);
    // The handler (e.g. a call forwarded to an agent) carries the call's own span onwards.
    assert.equal(seen!.headers.traceparent, `00-${traceId}-${spans[0].spanContext.spanId}-01`);
  });
});
