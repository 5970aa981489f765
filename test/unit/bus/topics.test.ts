import { strict as assert } from 'node:assert';
import { BusError, EventBus, createEvent, parsePattern, topicMatches, assertTopic } from '../../../runtime/bus';
import { SegmentTrie } from '../../../runtime/bus/trie';
import { until } from './helpers';

// pattern, topic, expected (NATS rules: `*` one segment, `>` one or more trailing segments)
const TABLE: [string, string, boolean][] = [
  ['a', 'a', true],
  ['a', 'b', false],
  ['a', 'a.b', false],
  ['a.b', 'a', false],
  ['a.b.c', 'a.b.c', true],
  ['a.b.c', 'a.b.d', false],
  ['*', 'a', true],
  ['*', 'a.b', false],
  ['a.*', 'a.b', true],
  ['a.*', 'a', false],
  ['a.*', 'a.b.c', false],
  ['*.b', 'a.b', true],
  ['*.b', 'a.c', false],
  ['a.*.c', 'a.x.c', true],
  ['a.*.c', 'a.x.y.c', false],
  ['*.*', 'a.b', true],
  ['*.*', 'a.b.c', false],
  ['>', 'a', true],
  ['>', 'a.b.c.d', true],
  ['a.>', 'a', false],
  ['a.>', 'a.b', true],
  ['a.>', 'a.b.c.d', true],
  ['a.>', 'b.c', false],
  ['a.*.>', 'a.b', false],
  ['a.*.>', 'a.b.c', true],
  ['a.*.>', 'a.b.c.d', true],
  ['*.>', 'a', false],
  ['*.>', 'a.b', true],
  ['fs.changed', 'fs.changed', true],
  ['fs.*', 'fs.created', true],
  ['agent.*.reply', 'agent.counter.reply', true],
  ['agent.*.reply', 'agent.counter.request', false],
  ['timer.>', 'timer.tick', true],
  ['Timer.tick', 'timer.tick', false],
  ['tool:fs.read', 'tool:fs.read', true],
];

describe('bus topics: wildcard matching table', () => {
  const valid = TABLE;
  it(`has at least 25 rows`, () => assert.ok(valid.length >= 25));

  for (const [pattern, topic, expected] of valid) {
    it(`${pattern} ${expected ? 'matches' : 'does not match'} ${topic} (rule and trie agree)`, () => {
      assert.equal(topicMatches(pattern, topic), expected);
      const trie = new SegmentTrie<string>();
      trie.add(parsePattern(pattern), pattern);
      assert.deepEqual(trie.match(topic.split('.')), expected ? [pattern] : []);
    });
  }

  it('delivers through a real bus exactly where the table says, naming the concrete topic', async () => {
    const bus = new EventBus();
    const seen = new Map<string, string[]>();
    for (const [pattern] of valid) {
      if (seen.has(pattern)) continue;
      seen.set(pattern, []);
      bus.subscribe(pattern, (d) => void seen.get(pattern)!.push(d.topic));
    }
    const topics = [...new Set(valid.map(([, t]) => t))];
    for (const t of topics) await bus.publish(t, createEvent({ type: 'probe' }));
    await until(() => bus.stats().subscriptions.every((s) => s.queueDepth === 0));
    for (const [pattern, topic, expected] of valid) {
      assert.equal(seen.get(pattern)!.includes(topic), expected, `${pattern} vs ${topic}`);
    }
    await bus.close();
  });
});

describe('bus topics: invalid topics and patterns', () => {
  const badTopics: [unknown, RegExp][] = [
    ['', /empty/],
    ['a..b', /empty segment at position 2/],
    ['.a', /empty segment at position 1/],
    ['a.', /empty segment at position 2/],
    ['a.*', /wildcard/],
    ['a.>', /wildcard/],
    ['a.b*c', /wildcard/],
    ['a b', /whitespace/],
    [42, /must be a string/],
    ['x'.repeat(2000), /longer than/],
  ];
  for (const [topic, message] of badTopics) {
    it(`refuses topic ${JSON.stringify(topic).slice(0, 30)} with invalid_topic`, async () => {
      assert.throws(
        () => assertTopic(topic),
        (e: unknown) => e instanceof BusError && e.code === 'invalid_topic' && message.test(e.message),
      );
      const bus = new EventBus();
      await assert.rejects(
        bus.publish(topic as string, createEvent({ type: 't' })),
        (e: unknown) => e instanceof BusError && e.code === 'invalid_topic',
      );
      await bus.close();
    });
  }

  const badPatterns: [unknown, RegExp][] = [
    ['', /empty/],
    ['a..b', /segment 2 is empty/],
    ['a.>.b', /">" may only be the last segment/],
    ['>.a', /">" may only be the last segment/],
    ['a.b*', /must stand alone/],
    ['a.>>', /must stand alone/],
    ['a. b', /whitespace/],
    [null, /must be a string/],
  ];
  for (const [pattern, message] of badPatterns) {
    it(`refuses pattern ${JSON.stringify(pattern)} with invalid_pattern`, async () => {
      const bus = new EventBus();
      assert.throws(
        () => bus.subscribe(pattern as string, () => {}),
        (e: unknown) => e instanceof BusError && e.code === 'invalid_pattern' && message.test(e.message),
      );
      assert.equal(bus.stats().subscriptions.length, 0);
      await bus.close();
    });
  }
});

describe('bus topics: segment trie', () => {
  it('removing every pattern leaves only the root (nothing leaks)', () => {
    const trie = new SegmentTrie<number>();
    const patterns = ['a.b.c', 'a.*.c', 'a.>', '*.b', '>', 'a.b.c', 'x.y.z.>'];
    patterns.forEach((p, i) => trie.add(parsePattern(p), i));
    assert.equal(trie.size, patterns.length);
    assert.ok(trie.nodeCount() > 1);
    patterns.forEach((p, i) => assert.equal(trie.remove(parsePattern(p), i), true));
    assert.equal(trie.size, 0);
    assert.equal(trie.nodeCount(), 1);
    assert.equal(trie.remove(parsePattern('a.b.c'), 0), false);
  });

  it('matches 10 000 wildcard patterns exactly like the plain rule', () => {
    const trie = new SegmentTrie<string>();
    const patterns: string[] = [];
    for (let i = 0; i < 10_000; i++) {
      const p = [`agent.${i % 100}.*`, `*.${i % 50}.reply`, `tenant.${i % 20}.>`, `a.*.${i % 7}.*`][i % 4];
      patterns.push(p);
      trie.add(parsePattern(p), `${i}`);
    }
    for (const topic of ['agent.5.x', 'q.3.reply', 'tenant.7.a.b', 'a.b.3.c', 'agent.5.3.reply', 'none']) {
      const segs = topic.split('.');
      const expected = patterns.flatMap((p, i) => (topicMatches(p, topic) ? [`${i}`] : [])).sort();
      assert.deepEqual(trie.match(segs).sort(), expected, topic);
    }
  });
});
