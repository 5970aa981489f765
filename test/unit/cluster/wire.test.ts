// The ids a runtime remembers (runtime/cluster/wire.ts RecentIds): dedup of arrivals and the marks
// of what it injected. Ids come from the wire: bounded by count alone, 100 000 ids of 900 KB each
// took a runtime to gigabytes (decodeEvent refuses such ids now; the set holds its bound anyway).
import { strict as assert } from 'node:assert';
import { RecentIds } from '../../../runtime/cluster/wire';

describe('cluster wire: the recent ids a runtime keeps', () => {
  it('forgets the oldest past its count', () => {
    const ids = new RecentIds(3);
    for (const id of ['a', 'b', 'c', 'd']) ids.add(id);
    assert.equal(ids.size, 3);
    assert.ok(!ids.has('a') && ids.has('b') && ids.has('d'));
  });

  it('forgets the oldest past its characters, however few the ids', () => {
    const ids = new RecentIds(1000, 100);
    for (let i = 0; i < 10; i++) ids.add(`${i}`.padEnd(40, 'x'));
    assert.equal(ids.size, 2, 'two ids of 40 characters fit in 100');
    assert.ok(ids.has('9'.padEnd(40, 'x')) && !ids.has('0'.padEnd(40, 'x')));
  });
});
