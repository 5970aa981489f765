// The window's reconnect schedule (extension/session/reconnect.ts): backoff, giving up, and a
// cancel that also voids the attempt under way. The real-host suite drives it through real
// runtimes (test/vscode/suite/runtime.test.ts); the race with a stop is timed here, where it
// can be made to happen every time.
import * as assert from 'node:assert/strict';
import { Reconnector, type ReconnectHooks } from '../../../extension/session/reconnect';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Hooks that record what happened; `outcomes` says how each attempt ends (default: it fails). */
function recorder(outcomes: (() => Promise<unknown>)[] = []) {
  const seen = { attempts: 0, scheduled: [] as [number, number, string][], reconnected: 0, gaveUp: [] as string[] };
  const hooks: ReconnectHooks = {
    attempt: () => {
      const outcome = outcomes[seen.attempts++] ?? (() => Promise.reject(new Error(`attempt ${seen.attempts} failed`)));
      return outcome();
    },
    scheduled: (n, _max, delay, reason) => seen.scheduled.push([n, delay, reason]),
    reconnected: () => seen.reconnected++,
    gaveUp: (reason) => seen.gaveUp.push(reason),
  };
  return { seen, hooks };
}

describe('extension: reconnecting after a lost link', () => {
  it('backs off doubling up to the cap, and gives up after the last attempt fails, naming its reason', async () => {
    const { seen, hooks } = recorder();
    const r = new Reconnector(hooks, 5, 1, 4);
    r.schedule('link dropped');
    await sleep(200);
    assert.deepEqual(
      seen.scheduled.map(([n, delay]) => [n, delay]),
      [
        [1, 1],
        [2, 2],
        [3, 4],
        [4, 4],
        [5, 4],
      ],
    );
    assert.equal(seen.scheduled[0]![2], 'link dropped');
    assert.equal(seen.scheduled[1]![2], 'attempt 1 failed');
    assert.equal(seen.attempts, 5);
    assert.deepEqual(seen.gaveUp, ['attempt 5 failed']);
  });

  it('an attempt that succeeds ends the schedule, and the next loss starts again at the first attempt', async () => {
    const { seen, hooks } = recorder([() => Promise.reject(new Error('not yet')), () => Promise.resolve()]);
    const r = new Reconnector(hooks, 5, 1, 4);
    r.schedule('link dropped');
    await sleep(50);
    assert.equal(seen.attempts, 2);
    assert.equal(seen.reconnected, 1);
    r.schedule('dropped again');
    assert.deepEqual(seen.scheduled.at(-1), [1, 1, 'dropped again']);
    r.cancel();
  });

  it('cancel() before the timer fires: no attempt', async () => {
    const { seen, hooks } = recorder();
    const r = new Reconnector(hooks, 5, 20, 20);
    r.schedule('link dropped');
    r.cancel();
    await sleep(60);
    assert.equal(seen.attempts, 0);
  });

  it('cancel() while an attempt is under way: its failure schedules no other, its success reports nothing', async () => {
    // A stop that waits for the attempt under way (RuntimeSessions.stop) cancels first: before, the
    // attempt's failure armed a new timer, and a runtime the window had given up on started again.
    let fail!: (err: Error) => void;
    const failing = recorder([() => new Promise((_resolve, reject) => (fail = reject))]);
    const r = new Reconnector(failing.hooks, 5, 1, 1);
    r.schedule('link dropped');
    await sleep(20);
    assert.equal(failing.seen.attempts, 1, 'the attempt is under way');
    r.cancel();
    fail(new Error('the runtime died during the attempt'));
    await sleep(50);
    assert.equal(failing.seen.attempts, 1, 'no attempt after the cancel');
    assert.equal(failing.seen.scheduled.length, 1);
    assert.deepEqual(failing.seen.gaveUp, []);

    let succeed!: () => void;
    const succeeding = recorder([() => new Promise<void>((resolve) => (succeed = resolve))]);
    const r2 = new Reconnector(succeeding.hooks, 5, 1, 1);
    r2.schedule('link dropped');
    await sleep(20);
    r2.cancel();
    succeed();
    await sleep(10);
    assert.equal(succeeding.seen.reconnected, 0);
  });
});
