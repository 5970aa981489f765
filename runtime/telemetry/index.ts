// Telemetry hooks through @opentelemetry/api. They cost next to nothing and do nothing until
// an SDK is registered (by an embedder, or a later exporter option); every part records through
// these names so a trace and the counters read the same everywhere.
import { randomBytes } from 'node:crypto';
import {
  context,
  metrics,
  propagation,
  ProxyTracerProvider,
  trace,
  type Context,
  type MeterProvider,
  type Span,
  type Tracer,
  SpanKind,
  SpanStatusCode,
} from '@opentelemetry/api';

// Asked of the global provider at each use: a tracer taken once would keep feeding a provider
// that has since been disabled or replaced (trace.disable() makes a fresh proxy provider).
export const tracer: Tracer = {
  startSpan: (name, options, ctx) => trace.getTracer('loom').startSpan(name, options, ctx),
  startActiveSpan: ((...args: Parameters<Tracer['startActiveSpan']>) =>
    (trace.getTracer('loom').startActiveSpan as (...a: unknown[]) => unknown)(...args)) as Tracer['startActiveSpan'],
};

/** What the global proxy delegates to while no SDK is registered (one shared instance). */
const NOOP_TRACER_PROVIDER = new ProxyTracerProvider().getDelegate();

/**
 * True once a tracer provider is registered (trace.disable() makes it false again). About 30 ns:
 * less than making and ending a no-op span, which hot paths skip while it is false.
 */
export function tracingActive(): boolean {
  const provider = trace.getTracerProvider();
  return !(provider instanceof ProxyTracerProvider) || provider.getDelegate() !== NOOP_TRACER_PROVIDER;
}

// Meters have no proxy: a meter taken before an SDK registers stays a no-op forever. So the
// instruments are re-made whenever the global meter provider changes (a cheap identity check).
function makeInstruments(provider: MeterProvider) {
  const meter = provider.getMeter('loom');
  return {
    published: meter.createCounter('loom.bus.published', { description: 'events published' }),
    delivered: meter.createCounter('loom.bus.delivered', { description: 'events handed to a subscriber' }),
    dropped: meter.createCounter('loom.bus.dropped', { description: 'events dropped, by reason' }),
    toolCalls: meter.createCounter('loom.tools.calls', { description: 'tool calls, by status' }),
    toolDuration: meter.createHistogram('loom.tools.duration', { description: 'tool call duration', unit: 'ms' }),
  };
}
export type Instruments = ReturnType<typeof makeInstruments>;
let bound: { provider: MeterProvider; instruments: Instruments } | undefined;
/** The instruments of the meter provider registered now (a hot path takes them once per event). */
export function instruments(): Instruments {
  const provider = metrics.getMeterProvider();
  if (bound?.provider !== provider) bound = { provider, instruments: makeInstruments(provider) };
  return bound.instruments;
}

export const counters: Instruments = {
  get published() {
    return instruments().published;
  },
  get delivered() {
    return instruments().delivered;
  },
  get dropped() {
    return instruments().dropped;
  },
  get toolCalls() {
    return instruments().toolCalls;
  },
  get toolDuration() {
    return instruments().toolDuration;
  },
};

// Root trace ids for events that arrive with none while no SDK records: a random per-process prefix
// and a counter, unique without a crypto call per event. They let the dashboard's timeline follow
// one event through agents and tool calls even when nobody has set up OpenTelemetry.
const ROOT_PREFIX = randomBytes(8).toString('hex');
let rootCounter = 0;
// The counter as 16 hex digits is its upper 14 (redone every 256 ids) and a last byte from a
// table: every event without a trace takes one, and formatting the whole number each time
// showed in the bus's publish profile.
const HEX_BYTE = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
let rootUpper = '';

/** A fresh W3C traceparent starting a new trace (sampled). */
export function rootTraceparent(): string {
  rootCounter++;
  const low = rootCounter & 0xff;
  if (low === 0 || rootUpper === '')
    rootUpper = Math.floor(rootCounter / 256)
      .toString(16)
      .padStart(14, '0');
  const last = HEX_BYTE[low];
  return '00-' + ROOT_PREFIX + rootUpper + last + '-' + rootUpper + last[0] + '1-01';
}

/** Continues the W3C trace carried in an event's or call's metadata (key "traceparent"). */
export function contextFrom(carrier: Record<string, string> | undefined): Context {
  if (!carrier) return context.active();
  const tp = carrier['traceparent'] ?? carrier['loom.traceparent'];
  if (!tp) return context.active();
  return propagation.extract(context.active(), {
    traceparent: tp,
    ...(carrier['tracestate'] ? { tracestate: carrier['tracestate'] } : {}),
  });
}

/** Writes the active span's traceparent into a carrier (no-op without an SDK and propagator). */
export function injectInto(carrier: Record<string, string>, ctx: Context = context.active()): void {
  propagation.inject(ctx, carrier);
}

export { context, trace, SpanKind, SpanStatusCode, type Span, type Context };
