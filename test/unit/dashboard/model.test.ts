// The dashboard's model (webview/model.ts), pure logic: topic rates over a window, not between
// two updates half a second apart.
import { strict as assert } from 'node:assert';
import { fmtRate } from '../../../webview/dom';
import { DashboardModel, RATE_WINDOW_MS } from '../../../webview/model';
import type { FeedUpdateWire } from '../../../runtime/contract/dashboard';

function update(t: number, published: Record<string, number>): FeedUpdateWire {
  return {
    timestampMs: t,
    events: [],
    eventsOmitted: 0,
    toolCalls: [],
    spans: [],
    stats: {
      agents: [],
      mcpServers: [],
      subscriptions: [],
      storeBytes: 0,
      topics: Object.entries(published).map(([topic, n]) => ({ topic, published: n, delivered: n, dropped: {} })),
    },
  } as unknown as FeedUpdateWire;
}

describe('dashboard model: topic rates', () => {
  it('a topic that fires every 3 s reads about 0.33/s at every update, not 0.0/s between its events', () => {
    const m = new DashboardModel();
    let n = 0;
    const seen: number[] = [];
    for (let t = 0; t <= 30_000; t += 500) {
      if (t > 0 && t % 3000 === 0) n++;
      m.apply(update(t, { 'timer.tick': n }));
      if (t >= 6000) seen.push(m.topicRates.get('timer.tick')!);
    }
    for (const r of seen) assert.ok(r > 0.2 && r < 0.5, `rate ${r}`);
    assert.equal(fmtRate(seen.at(-1)!), '0.3/s');
  });

  it('forgets what lies beyond the window', () => {
    const m = new DashboardModel();
    m.apply(update(0, { burst: 0 }));
    m.apply(update(1000, { burst: 1000 })); // a burst, then silence
    for (let t = 2000; t <= RATE_WINDOW_MS + 5000; t += 1000) m.apply(update(t, { burst: 1000 }));
    assert.equal(m.topicRates.get('burst'), 0);
  });

  it('shows slow rates per minute', () => {
    assert.equal(fmtRate(1 / 60), '1.0/min');
    assert.equal(fmtRate(0), '0.0/s');
    assert.equal(fmtRate(2500), '2.5k/s');
  });
});
