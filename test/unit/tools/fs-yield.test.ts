// The file tools' walk makes synchronous lookups (runtime/tools/fsat/chain.ts); a large folder
// must still let the event loop turn while it is listed or surveyed, so heartbeats and a call's
// timeout go on. Counted in event-loop turns, not in time.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { expectOk, makeFixture, type Fixture } from './helpers';

const FILES = 2000;

describe('tools: fs walks let the event loop turn', () => {
  let f: Fixture;
  before(() => {
    f = makeFixture();
    const big = path.join(f.ws, 'big');
    fs.mkdirSync(big);
    for (let i = 0; i < FILES; i++) fs.writeFileSync(path.join(big, `f${i}`), '');
  });
  after(() => f.cleanup());

  /** Runs `work` while counting setImmediate turns; returns its result and the count. */
  async function countingTurns<T>(work: () => Promise<T>): Promise<{ result: T; turns: number }> {
    let turns = 0;
    let running = true;
    const tick = () => {
      if (!running) return;
      turns++;
      setImmediate(tick);
    };
    setImmediate(tick);
    const before = turns;
    const result = await work();
    running = false;
    return { result, turns: turns - before };
  }

  it(`fs:list of a folder of ${FILES} entries`, async () => {
    const { result, turns } = await countingTurns(() => f.call('fs:list', { path: 'big', max_entries: 10_000 }));
    assert.equal((expectOk(result) as { entries: unknown[] }).entries.length, FILES);
    assert.ok(turns >= Math.floor(FILES / 256) - 1, `the loop turned ${turns} times during the listing`);
  });

  it(`a recursive fs:delete of a folder of ${FILES} entries (its survey first)`, async () => {
    const { result, turns } = await countingTurns(() => f.call('fs:delete', { path: 'big', recursive: true }));
    expectOk(result);
    assert.equal(fs.existsSync(path.join(f.ws, 'big')), false);
    assert.ok(turns >= Math.floor(FILES / 256) - 1, `the loop turned ${turns} times during the delete`);
  });
});
