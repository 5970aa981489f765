// Timers from [timers.<name>] in loom.toml: each tick publishes `timer.<name>`.
import { Cron } from 'croner';
import { createEvent, type Bus } from '../bus';
import type { LoomConfig } from '../config';
import type { Logger } from '../log';
import { messageOf } from '../contract/errors';

type TimerConfig = LoomConfig['timers'][string];

export interface TimerPayload {
  name: string;
  /** 1 for the first tick. */
  tick: number;
  /** When the tick was due (an interval's start + tick × interval, or the cron slot). */
  scheduled_ms: number;
  /** The timer's `payload` from loom.toml, or null. */
  payload: unknown;
}

export interface Timers {
  close(): void;
}

/**
 * Starts every configured timer. Bus QoS is chosen by subscribers, so a timer's `qos` travels
 * as the `loom.qos` metadata hint. Throws, naming the timer, for a timer the config loader
 * would have rejected (both or neither of intervalMs/cron, a bad cron expression).
 */
export function startTimers(bus: Bus, config: LoomConfig, log: Logger): Timers {
  const stops: (() => void)[] = [];
  try {
    for (const [name, timer] of Object.entries(config.timers)) stops.push(startTimer(bus, name, timer, log));
  } catch (err) {
    for (const stop of stops) stop();
    throw err;
  }
  return { close: () => stops.splice(0).forEach((stop) => stop()) };
}

function startTimer(bus: Bus, name: string, timer: TimerConfig, log: Logger): () => void {
  const topic = `timer.${name}`;
  let tick = 0;
  const fire = (scheduledMs: number) => {
    tick++;
    const payload: TimerPayload = { name, tick, scheduled_ms: scheduledMs, payload: timer.payload ?? null };
    const event = createEvent({ type: topic, source: 'timer', payload, metadata: { 'loom.qos': timer.qos } });
    bus
      .publish(topic, event)
      .catch((err: Error) => log.warn('timer tick not published', { timer: name, tick, error: err }));
  };

  const { intervalMs, cron } = timer;
  if ((intervalMs === undefined) === (cron === undefined))
    throw new Error(`timers.${name}: needs exactly one of intervalMs or cron`);
  if (intervalMs !== undefined) {
    if (!Number.isInteger(intervalMs) || intervalMs < 1)
      throw new Error(`timers.${name}.intervalMs: must be a positive integer (got ${intervalMs})`);
    const start = Date.now();
    const handle = setInterval(() => fire(start + (tick + 1) * intervalMs), intervalMs);
    log.info('timer started', { timer: name, intervalMs });
    return () => clearInterval(handle);
  }
  let job: Cron;
  // croner hands the callback the time it ran, not the slot it was due; track the slot.
  let due: Date | null = null;
  try {
    job = new Cron(cron!, (self: Cron) => {
      const scheduled = due?.getTime() ?? Date.now();
      due = self.nextRun();
      fire(scheduled);
    });
  } catch (err) {
    throw new Error(`timers.${name}.cron: not a valid cron expression: ${messageOf(err)}`);
  }
  due = job.nextRun();
  log.info('timer started', { timer: name, cron, next: job.nextRun()?.toISOString() });
  return () => job.stop();
}
