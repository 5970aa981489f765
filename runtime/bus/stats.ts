// Counters the bus keeps for stats(): per topic (bounded, least recently published evicted first,
// so a flood of distinct topics cannot grow memory without bound) and bus-wide totals.
import { INBOX_PREFIX } from '../contract/topics';
import type { DropReason, TopicStats } from './types';

/** Every request has its own inbox topic; they share one stats row so they cannot crowd out real topics. */
export const INBOX_STATS_TOPIC = INBOX_PREFIX + '>';
const INBOX = INBOX_PREFIX; // a local: see the note on imported bindings in bus.ts

export type DropCounts = Partial<Record<DropReason, number>>;

export function countDrop(dropped: DropCounts, reason: DropReason, n = 1): void {
  dropped[reason] = (dropped[reason] ?? 0) + n;
}

export interface TopicCounters {
  readonly topic: string;
  /** Touch number when this entry last moved to the most-recent end. */
  refreshed: number;
  published: number;
  delivered: number;
  dropped: DropCounts;
}

export class TopicStatsTable {
  // A Map iterates in insertion order, so re-inserting a topic moves it to the most-recent end
  // and eviction takes the first key in O(1). Re-inserting on every publish cost two map
  // operations per event; an entry is moved only when half the table has been touched since it
  // last moved, so whatever reaches the front has not been published for limit/2 touches.
  private readonly byTopic = new Map<string, TopicCounters>();
  private touches = 0;

  constructor(private readonly limit: number) {}

  /** The counters for a topic being published now (created, or moved to most recent). */
  touch(published: string): TopicCounters {
    const topic = published.startsWith(INBOX) ? INBOX_STATS_TOPIC : published;
    const now = ++this.touches;
    let c = this.byTopic.get(topic);
    if (c) {
      if (now - c.refreshed <= this.limit / 2) return c;
      this.byTopic.delete(topic);
    } else {
      c = { topic, refreshed: now, published: 0, delivered: 0, dropped: {} };
      if (this.byTopic.size >= this.limit) this.byTopic.delete(this.byTopic.keys().next().value as string);
    }
    c.refreshed = now;
    this.byTopic.set(topic, c);
    return c;
  }

  get size(): number {
    return this.byTopic.size;
  }

  snapshot(): TopicStats[] {
    return [...this.byTopic.values()].map((c) => ({
      topic: c.topic,
      published: c.published,
      delivered: c.delivered,
      dropped: { ...c.dropped },
    }));
  }
}
