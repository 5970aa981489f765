import { strict as assert } from 'node:assert';
import { EventBus } from '../../../runtime/bus';
import { defaultConfig, type LoomConfig } from '../../../runtime/config';
import { silentLogger } from '../../../runtime/log';
import { startTimers, type TimerPayload, type Timers } from '../../../runtime/sources';
import { activeHandles, Collector } from './collector';

describe('sources: timers', function () {
  this.timeout(20_000);
  let bus: EventBus;
  let ticks: Collector<TimerPayload>;
  let timers: Timers | undefined;

  beforeEach(() => {
    bus = new EventBus();
    ticks = new Collector(bus, 'timer.*');
  });
  afterEach(async () => {
    timers?.close();
    ticks.close();
    await bus.close();
  });

  function configWith(entries: LoomConfig['timers']): LoomConfig {
    const config = defaultConfig('/tmp');
    config.timers = entries;
    return config;
  }

  it('publishes timer.<name> on every interval tick, numbered, with the configured payload', async () => {
    timers = startTimers(
      bus,
      configWith({ fast: { intervalMs: 20, payload: { job: 'sweep' }, qos: 'realtime' } }),
      silentLogger,
    );
    await ticks.next((t) => t.payload.tick === 3);
    const [first, second, third] = ticks.seen;
    assert.equal(first.type, 'timer.fast');
    assert.equal(first.source, 'timer');
    assert.equal(first.metadata['loom.qos'], 'realtime');
    assert.deepEqual(
      [first, second, third].map((t) => t.payload.tick),
      [1, 2, 3],
    );
    assert.deepEqual(first.payload.payload, { job: 'sweep' });
    assert.equal(first.payload.name, 'fast');
    assert.equal(second.payload.scheduled_ms - first.payload.scheduled_ms, 20);
    assert.equal(third.payload.scheduled_ms - second.payload.scheduled_ms, 20);
  });

  it('runs several timers side by side, each on its own topic', async () => {
    timers = startTimers(
      bus,
      configWith({ a: { intervalMs: 15, qos: 'batched' }, b: { intervalMs: 25, qos: 'batched' } }),
      silentLogger,
    );
    await ticks.next((t) => t.type === 'timer.a' && t.payload.tick === 2);
    await ticks.next((t) => t.type === 'timer.b' && t.payload.tick === 2);
    assert.ok(ticks.seen.every((t) => t.type === `timer.${t.payload.name}` && t.payload.payload === null));
  });

  it('fires on a cron schedule (seconds field) at the scheduled slot', async () => {
    timers = startTimers(bus, configWith({ everySecond: { cron: '* * * * * *', qos: 'batched' } }), silentLogger);
    const tick = await ticks.next((t) => t.type === 'timer.everySecond');
    assert.equal(tick.payload.tick, 1);
    assert.equal(tick.payload.scheduled_ms % 1000, 0);
  });

  it('rejects a bad cron expression or a timer with both or neither schedule, naming the timer', () => {
    assert.throws(
      () => startTimers(bus, configWith({ nightly: { cron: '61 * * * *', qos: 'batched' } }), silentLogger),
      /timers\.nightly\.cron: not a valid cron expression/,
    );
    assert.throws(
      () => startTimers(bus, configWith({ both: { cron: '* * * * *', intervalMs: 5, qos: 'batched' } }), silentLogger),
      /timers\.both: needs exactly one/,
    );
    assert.throws(
      () => startTimers(bus, configWith({ none: { qos: 'batched' } }), silentLogger),
      /timers\.none: needs exactly one/,
    );
    assert.throws(
      () => startTimers(bus, configWith({ zero: { intervalMs: 0, qos: 'batched' } }), silentLogger),
      /timers\.zero\.intervalMs: must be a positive integer/,
    );
  });

  it('stops every timer on close, also those started before a failing one', () => {
    const before = activeHandles('Timeout');
    assert.throws(() =>
      startTimers(
        bus,
        configWith({ ok: { intervalMs: 1000, qos: 'batched' }, bad: { cron: 'nope', qos: 'batched' } }),
        silentLogger,
      ),
    );
    assert.equal(activeHandles('Timeout'), before);
    const started = startTimers(
      bus,
      configWith({ i: { intervalMs: 1000, qos: 'batched' }, c: { cron: '0 0 1 1 *', qos: 'batched' } }),
      silentLogger,
    );
    assert.equal(activeHandles('Timeout'), before + 2);
    started.close();
    started.close();
    assert.equal(activeHandles('Timeout'), before);
  });
});
