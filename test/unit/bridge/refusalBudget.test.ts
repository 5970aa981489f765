// The refusal budget's arithmetic on a clock the test moves: a burst free, then the rate, waits
// capped, callers apart, and a caller that stops is soon free again.
import { strict as assert } from 'node:assert';
import { RefusalBudget } from '../../../runtime/bridge/refusalBudget';

describe('RefusalBudget', () => {
  let now = 0;
  /** 10 a second (one per 100 ms) after a burst of 5; waits capped at 1 s. */
  const budget = () => new RefusalBudget(10, 5, 1000, () => now);
  beforeEach(() => (now = 1_000_000));

  it('lets a burst through without waiting, then makes each refusal wait its turn at the rate', () => {
    const b = budget();
    const waits = Array.from({ length: 8 }, () => b.charge('mallory'));
    assert.deepEqual(waits, [0, 0, 0, 0, 0, 100, 200, 300]);
  });

  it('never makes anyone wait longer than the cap, and does not push a waiting caller further back', () => {
    const b = budget();
    const waits = Array.from({ length: 40 }, () => b.charge('mallory'));
    assert.equal(Math.max(...waits), 1000);
    assert.deepEqual(waits.slice(-3), [1000, 1000, 1000]);
    // It stops; one interval later its next refusal waits less than the cap: the flood did not pile up.
    now += 100;
    assert.equal(b.charge('mallory'), 1000);
    now += 1100;
    assert.ok(b.charge('mallory') < 1000);
  });

  it('keeps callers apart: one caller spending its budget costs another nothing', () => {
    const b = budget();
    for (let i = 0; i < 20; i++) b.charge('mallory');
    assert.equal(b.charge('alice'), 0);
    assert.ok(b.charge('mallory') > 0);
  });

  it('refills at the rate: a caller refused at the rate or slower never waits', () => {
    const b = budget();
    for (let i = 0; i < 100; i++) {
      assert.equal(b.charge('steady'), 0, `refusal ${i}`);
      now += 100;
    }
  });

  it('a caller that stopped gets its whole burst back', () => {
    const b = budget();
    for (let i = 0; i < 20; i++) b.charge('mallory');
    now += 5_000;
    assert.deepEqual(
      Array.from({ length: 5 }, () => b.charge('mallory')),
      [0, 0, 0, 0, 0],
    );
  });

  it('forgets callers whose turn has passed once many are remembered', () => {
    const b = budget();
    for (let i = 0; i < 300; i++) b.charge(`caller ${i}`);
    now += 1000;
    b.charge('one more');
    const remembered = (b as unknown as { due: Map<string, number> }).due.size;
    assert.equal(remembered, 1);
  });
});
