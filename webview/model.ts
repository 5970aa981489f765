// What the dashboard knows, derived only from the runtime's feed: bounded rings of recent events,
// tool calls and spans; rates computed from the deltas of cumulative counters between updates.
import type {
  AgentInfoWire,
  FeedEventWire,
  FeedUpdateWire,
  McpServerWire,
  SpanWire,
  ToolCallWire,
} from '../runtime/contract/dashboard';

export const MAX_EVENTS = 5000;
export const HISTORY_SECONDS = 600;
/**
 * Topic rates are averaged over this window: counted between two updates half a second apart, a
 * topic that fires every 3 s read 0.0/s almost always.
 */
export const RATE_WINDOW_MS = 60_000;

export interface EventRow extends FeedEventWire {
  seq: number;
  receivedMs: number;
}

export interface MetricsSample {
  t: number;
  perQos: Record<'realtime' | 'batched' | 'background', number>; // deliveries/s
  published: number; // events/s
  dropped: number; // drops/s
  backlog: number; // sum of queue depths
  storeBytes: number;
}

export interface ToolSummary {
  name: string;
  calls: number;
  errors: number;
  p50: number;
  p99: number;
  recent: ToolCallWire[];
}

const QOS_KEY = { QOS_REALTIME: 'realtime', QOS_BATCHED: 'batched', QOS_BACKGROUND: 'background' } as const;

export class DashboardModel {
  events: EventRow[] = [];
  eventsOmitted = 0;
  /** Events published while the dashboard was hidden (or before it reconnected) that the runtime no longer kept. */
  eventsMissed = 0;
  agents: AgentInfoWire[] = [];
  mcpServers: McpServerWire[] = [];
  topicRates = new Map<string, number>();
  history: MetricsSample[] = [];
  spans: SpanWire[] = [];
  lastUpdate?: FeedUpdateWire;
  private seq = 0;
  private readonly durations = new Map<string, { calls: number; errors: number; recent: ToolCallWire[] }>();
  private prev?: { t: number; published: Map<string, number>; perQos: Record<string, number>; dropped: number };
  /** Cumulative published counts per topic, newest last, over the rate window. */
  private counts: { t: number; published: Map<string, number> }[] = [];
  private listeners = new Set<() => void>();

  onChange(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  apply(update: FeedUpdateWire): void {
    const now = update.timestampMs;
    for (const e of update.events) this.events.push({ ...e, seq: ++this.seq, receivedMs: now });
    if (this.events.length > MAX_EVENTS) this.events.splice(0, this.events.length - MAX_EVENTS);
    this.eventsOmitted += update.eventsOmitted;
    this.eventsMissed += Number(update.eventsMissed ?? 0);
    this.agents = update.stats.agents;
    this.mcpServers = update.stats.mcpServers ?? [];
    for (const c of update.toolCalls) this.addToolCall(c);
    this.spans.push(...update.spans);
    if (this.spans.length > 2000) this.spans.splice(0, this.spans.length - 2000);
    this.sample(update);
    this.lastUpdate = update;
    for (const fn of this.listeners) fn();
  }

  tools(): ToolSummary[] {
    return [...this.durations.entries()]
      .map(([name, d]) => {
        const sorted = d.recent.map((c) => c.durationMs).sort((a, b) => a - b);
        return {
          name,
          calls: d.calls,
          errors: d.errors,
          p50: percentile(sorted, 0.5),
          p99: percentile(sorted, 0.99),
          recent: d.recent,
        };
      })
      .sort((a, b) => b.calls - a.calls);
  }

  private addToolCall(c: ToolCallWire): void {
    let d = this.durations.get(c.name);
    if (!d) this.durations.set(c.name, (d = { calls: 0, errors: 0, recent: [] }));
    d.calls++;
    if (c.status !== 'TOOL_OK') d.errors++;
    d.recent.push(c);
    if (d.recent.length > 200) d.recent.shift();
  }

  private sample(update: FeedUpdateWire): void {
    const s = update.stats;
    const published = new Map(s.topics.map((t) => [t.topic, Number(t.published)] as const));
    const perQos: Record<string, number> = { realtime: 0, batched: 0, background: 0 };
    let backlog = 0;
    for (const sub of s.subscriptions) {
      perQos[QOS_KEY[sub.qos as keyof typeof QOS_KEY] ?? 'realtime'] += Number(sub.delivered);
      backlog += sub.queueDepth;
    }
    let dropped = 0;
    for (const t of s.topics) for (const n of Object.values(t.dropped)) dropped += Number(n);
    const t = update.timestampMs;
    if (this.prev && t > this.prev.t) {
      const dt = (t - this.prev.t) / 1000;
      const rate = (a: number, b: number) => Math.max(0, (a - b) / dt);
      let totalPublished = 0;
      for (const [topic, n] of published) totalPublished += Math.max(0, n - (this.prev.published.get(topic) ?? n));
      this.history.push({
        t,
        perQos: {
          realtime: rate(perQos.realtime, this.prev.perQos.realtime),
          batched: rate(perQos.batched, this.prev.perQos.batched),
          background: rate(perQos.background, this.prev.perQos.background),
        },
        published: totalPublished / dt,
        dropped: rate(dropped, this.prev.dropped),
        backlog,
        storeBytes: Number(s.storeBytes),
      });
      const cutoff = t - HISTORY_SECONDS * 1000;
      while (this.history.length && this.history[0].t < cutoff) this.history.shift();
    }
    this.prev = { t, published, perQos, dropped };
    this.rateTopics(t, published);
  }

  /** Each topic's events/s since the oldest count within the window (a topic new since then counts from 0). */
  private rateTopics(t: number, published: Map<string, number>): void {
    this.counts.push({ t, published });
    while (this.counts.length > 2 && this.counts[1]!.t <= t - RATE_WINDOW_MS) this.counts.shift();
    const oldest = this.counts[0]!;
    const dt = (t - oldest.t) / 1000;
    if (dt <= 0) return;
    this.topicRates = new Map(
      [...published].map(([topic, n]) => [topic, Math.max(0, n - (oldest.published.get(topic) ?? 0)) / dt]),
    );
  }
}

export function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
}
