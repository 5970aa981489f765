import assert from 'node:assert/strict';
import {
  CommandSlots,
  MAX_COMMANDS,
  MAX_COMMANDS_PER_CALLER,
  MAX_WAITING,
  MAX_WAITING_PER_CALLER,
} from '../../../runtime/tools/builtin/commandSlots';
import { ToolError } from '../../../runtime/tools/errors';

/** A call to enter, and what became of it so far. */
function enter(slots: CommandSlots, caller: string, signal = new AbortController().signal) {
  const entry: { release?: () => void; error?: unknown } = {};
  const settled = slots.enter(caller, 'tail', signal).then(
    (release) => void (entry.release = release),
    (err: unknown) => void (entry.error = err),
  );
  return Object.assign(entry, { settled });
}

const tick = () => new Promise((r) => setImmediate(r));

describe('system:shell command slots', () => {
  it('runs 8 of one caller at once; the 9th waits for one to end, and another caller does not wait', async () => {
    const slots = new CommandSlots();
    const first = Array.from({ length: MAX_COMMANDS_PER_CALLER }, () => enter(slots, 'greedy'));
    const ninth = enter(slots, 'greedy');
    const other = enter(slots, 'other');
    await tick();
    assert.ok(first.every((e) => e.release));
    assert.equal(ninth.release, undefined);
    assert.ok(other.release, "another caller's call is not held up by greedy's");
    assert.deepEqual(slots.counts('greedy'), { running: 8, waiting: 1 });

    first[3]!.release!();
    await ninth.settled;
    assert.ok(ninth.release);
    assert.deepEqual(slots.counts('greedy'), { running: 8, waiting: 0 });
    // A second release of the same place frees nothing more.
    first[3]!.release!();
    assert.deepEqual(slots.counts(), { running: 9, waiting: 0 });
  });

  it('runs 32 in all; past that the first waiting call whose caller has a place left starts, in order', async () => {
    const slots = new CommandSlots();
    const callers = Array.from({ length: MAX_COMMANDS / MAX_COMMANDS_PER_CALLER }, (_, i) => `c${i}`);
    const running = callers.flatMap((c) => Array.from({ length: MAX_COMMANDS_PER_CALLER }, () => enter(slots, c)));
    const c0Waits = enter(slots, 'c0'); // c0 is at its own limit as well
    const newcomer = enter(slots, 'newcomer');
    const later = enter(slots, 'later');
    await tick();
    assert.deepEqual(slots.counts(), { running: 32, waiting: 3 });

    // c1 ends one: c0's call, first in line, cannot take it (c0 still runs 8); the newcomer can.
    running[MAX_COMMANDS_PER_CALLER]!.release!();
    await newcomer.settled;
    assert.ok(newcomer.release);
    assert.equal(c0Waits.release, undefined);
    assert.equal(later.release, undefined);

    // c0 ends one: its own waiting call takes the place, ahead of `later`.
    running[0]!.release!();
    await c0Waits.settled;
    assert.ok(c0Waits.release);
    assert.equal(later.release, undefined);
    assert.deepEqual(slots.counts(), { running: 32, waiting: 1 });
  });

  it('refuses a call past 64 waiting of one caller, and past 256 waiting in all, naming the limits', async () => {
    const slots = new CommandSlots();
    for (let i = 0; i < MAX_COMMANDS_PER_CALLER + MAX_WAITING_PER_CALLER; i++) enter(slots, 'greedy');
    const refused = enter(slots, 'greedy');
    await refused.settled;
    assert.ok(refused.error instanceof ToolError);
    assert.equal(refused.error.code, 'unavailable');
    assert.equal(refused.error.details?.reason, 'too_many_commands');
    assert.match(
      refused.error.message,
      /tail was not started: 8 commands of greedy are running and 64 more wait, at most 8 running and 64 waiting for one caller; try again when one has ended/,
    );
    assert.deepEqual(slots.counts('greedy'), { running: 8, waiting: 64 });

    // Fill every place and the rest of the line from other callers, each under its own limits.
    let n = 0;
    while (slots.counts().running < MAX_COMMANDS || slots.counts().waiting < MAX_WAITING)
      for (let i = 0; i < MAX_COMMANDS_PER_CALLER + MAX_WAITING_PER_CALLER; i++) enter(slots, `many${n++ % 8}`);
    await tick();
    assert.deepEqual(slots.counts(), { running: 32, waiting: 256 });
    const fresh = enter(slots, 'fresh');
    await fresh.settled;
    assert.ok(fresh.error instanceof ToolError);
    assert.match(
      fresh.error.message,
      /32 commands are running and 256 more wait, at most 32 running and 256 waiting for all callers/,
    );
  });

  it('a waiting call whose call ends (timeout, cancel) leaves the line with its reason and never starts', async () => {
    const slots = new CommandSlots();
    const running = Array.from({ length: MAX_COMMANDS_PER_CALLER }, () => enter(slots, 'a'));
    const controller = new AbortController();
    const cancelled = enter(slots, 'a', controller.signal);
    const next = enter(slots, 'a');
    await tick();
    const reason = new ToolError('failed', 'system:shell was cancelled by the caller', { reason: 'cancelled' });
    controller.abort(reason);
    await cancelled.settled;
    assert.equal(cancelled.error, reason);
    assert.deepEqual(slots.counts('a'), { running: 8, waiting: 1 });

    running[0]!.release!();
    await next.settled;
    assert.ok(next.release, 'the place goes to the next in line, not to the cancelled call');
    assert.equal(cancelled.release, undefined);

    // Already ended when it would have to wait: refused at once, nothing left in line.
    const gone = new AbortController();
    gone.abort(reason);
    const late = enter(slots, 'a', gone.signal);
    await late.settled;
    assert.equal(late.error, reason);
    assert.deepEqual(slots.counts('a'), { running: 8, waiting: 0 });
  });
});
