// The numbers of a feed request: integers within FEED_LIMITS, 0 = default where the proto says so,
// anything else refused with the field (as the caller spells it) and its range.
import { strict as assert } from 'node:assert';
import { FEED_LIMITS, FeedOptionError, resolveFeedOptions } from '../../../runtime/feed/feed';

describe('telemetry: feed options', () => {
  it('fills in the defaults for absent options and for 0 where 0 means the default', () => {
    const d = {
      maxEvents: 200,
      intervalMs: 250,
      maxPayloadBytes: 2048,
      maxTopics: 200,
      backlog: 0,
      afterSeq: 0,
      filter: undefined,
    };
    assert.deepEqual(resolveFeedOptions({}), d);
    assert.deepEqual(resolveFeedOptions({ maxEvents: 0, intervalMs: 0 }), d);
    assert.deepEqual(resolveFeedOptions({ maxPayloadBytes: 0 }), { ...d, maxPayloadBytes: 0 });
    assert.deepEqual(resolveFeedOptions({ intervalMs: 50, maxEvents: 5000, topicFilter: 'fs.*' }), {
      ...d,
      intervalMs: 50,
      maxEvents: 5000,
      filter: ['fs', '*'],
    });
  });

  it('refuses NaN, infinities, fractions and numbers out of range, naming the field and the range', () => {
    const refused = (o: Parameters<typeof resolveFeedOptions>[0], pattern: RegExp) =>
      assert.throws(
        () => resolveFeedOptions(o, { intervalMs: 'interval_ms', maxEvents: 'max_events' }),
        (e: unknown) => e instanceof FeedOptionError && pattern.test(e.message),
      );
    refused(
      { intervalMs: NaN },
      /^interval_ms must be an integer from 50 to 60000 \(or 0 for the default, 250\), got NaN$/,
    );
    refused({ intervalMs: Infinity }, /interval_ms .* got Infinity/);
    refused({ intervalMs: -1 }, /interval_ms/);
    refused({ intervalMs: 49 }, /interval_ms/);
    refused({ intervalMs: 60_001 }, /interval_ms/);
    refused({ intervalMs: 100.5 }, /interval_ms/);
    refused({ maxEvents: 5001 }, /^max_events must be an integer from 1 to 5000/);
    refused({ maxTopics: 0 }, /^maxTopics must be an integer from 1 to 10000, got 0$/);
    refused({ maxPayloadBytes: FEED_LIMITS.maxPayloadBytes.max + 1 }, /maxPayloadBytes/);
    refused({ topicFilter: 'a..b' }, /^topicFilter is not a valid topic pattern/);
  });
});
