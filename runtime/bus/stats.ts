// Counters the bus keeps for stats(): per topic (bounded, least recently published evicted first,
// so a flood of distinct topics cannot grow memory without bound) and bus-wide totals.
import { INBOX_PREFIX } from './topics';
import type { DropReason, TopicStats } from './types';

/** Every request has its own inbox topic; they share one stats row so they cannot crowd out real topics. */
export const INBOX_STATS_TOPIC = INBOX_PREFIX + '>';

export type DropCounts = Partial<Record<DropReason, number>>;

export function countDrop(dropped: DropCounts, reason: DropReason, n = 1): void {
  dropped[reason] = (dropped[reason] ?? 0) + n;
}

export interface TopicCounters {
  readonly topic: string;
  published: number;
  delivered: number;
  dropped: DropCounts;
}

export class TopicStatsTable {
  // A Map iterates in insertion order; re-inserting on every publish keeps the least recently
  // published topic first, which makes eviction O(1).
  private readonly byTopic = new Map<string, TopicCounters>();

  constructor(private readonly limit: number) {}

  /** The counters for a topic being published now (created, or moved to most recent). */
  touch(published: string): TopicCounters {
    const topic = published.startsWith(INBOX_PREFIX) ? INBOX_STATS_TOPIC : published;
    let c = this.byTopic.get(topic);
    if (c) {
      this.byTopic.delete(topic);
    } else {
      c = { topic, published: 0, delivered: 0, dropped: {} };
      if (this.byTopic.size >= this.limit) this.byTopic.delete(this.byTopic.keys().next().value as string);
    }
    this.byTopic.set(topic, c);
    return c;
  }

  get size(): number {
    return this.byTopic.size;
  }

  snapshot(): TopicStats[] {
    return [...this.byTopic.values()].map((c) => ({ topic: c.topic, published: c.published, delivered: c.delivered, dropped: { ...c.dropped } }));
  }
}
