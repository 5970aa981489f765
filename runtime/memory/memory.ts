// Agent memory behind loom.v1.MemoryService: the plans a planning agent made, what an executing
// agent did with them, and an episode of events, per session (the reference SDK uses the agent's
// id as its session). The semantics are the reference runtime's (loom-os/loom, its bridge's
// in-process memory), with these differences:
// - it is kept in the runtime's store (bounded lists, store/keys.ts), so it outlives a runtime
//   restart; the reference keeps it in process memory and loses it with the process;
// - duplicate_prevented counts what CheckDuplicate and CheckExecuted reported (a duplicate plan,
//   a plan already executed: what the reference SDK's planner and executor act on); the
//   reference always answers 0;
// - SummarizeEpisode honours max_events and answers how many lines it summarised; the reference
//   always takes 50 and echoes max_events back as event_count;
// - Retrieve searches the session it names (all sessions when none is named, for a caller allowed
//   to); the reference ignores session_id and searches every session;
// - a missing plan_hash or timestamp is filled in (SavePlan, MarkExecuted), a zero timestamp on
//   CheckDuplicate means now, and a missing plan (CheckDuplicate) or plan_hash (MarkExecuted,
//   CheckExecuted) is refused: the reference would store or search for an empty value.
// Who wrote each record (the caller's identity, from the bridge) is stored with it.
import { createHash } from 'node:crypto';
import type { Store } from '../store';
import * as valid from './limits';
import { LIMITS, MemoryError } from './limits';
import type { Duplicate, EpisodeEvent, Execution, ExecutionStats, Plan, Summary } from './types';

/** The store's lists memory uses; each is per session. */
const PLANS = 'plans';
const EXECUTIONS = 'executions';
const EPISODE = 'episode';
const PREVENTED = 'prevented';

/** A stored record: the value and who wrote it. */
interface Stored<T> {
  v: T;
  by: string;
}

interface Prevented {
  kind: 'duplicate' | 'executed';
  symbol: string;
  planHash: string;
}

interface EpisodeLine {
  line: string;
}

const clamp = (n: number, lo: number, hi: number) => Math.min(Math.max(n, lo), hi);

/** The reference SDK's plan hash (first 8 hex digits of MD5 over "symbol|action|reasoning"), so a hash filled in here is the one it computes. */
export function planHashOf(plan: Pick<Plan, 'symbol' | 'action' | 'reasoning'>): string {
  return createHash('md5').update(`${plan.symbol}|${plan.action}|${plan.reasoning}`, 'utf8').digest('hex').slice(0, 8);
}

/** One episode line, in the reference's words: "[<timestamp_ms>] <type> from <source>". */
export function episodeLine(event: EpisodeEvent): string {
  return `[${event.timestampMs}] ${event.type} from ${event.source}`;
}

export class Memory {
  constructor(
    private readonly store: Store,
    private readonly now: () => number = Date.now,
  ) {}

  /** Keeps the plan (the newest LIMITS.plansPerSession per session); answers it as stored. */
  async savePlan(session: string, input: Partial<Plan> | null | undefined, by: string): Promise<Plan> {
    const plan = valid.plan(input);
    if (!plan.timestampMs) plan.timestampMs = this.now();
    if (!plan.planHash) plan.planHash = planHashOf(plan);
    await this.append(PLANS, session, plan, by, LIMITS.plansPerSession);
    return plan;
  }

  /** The session's plans for `symbol` (exactly; "" is a symbol too), newest saved first. */
  async recentPlans(session: string, symbol: string, limit: number): Promise<Plan[]> {
    const n = clamp(valid.count('limit', limit), 1, LIMITS.maxRecentPlans);
    return this.read<Plan>(PLANS, session, { newestFirst: true, limit: n, where: (p) => p.symbol === symbol });
  }

  /**
   * The oldest kept plan of the session with the same symbol and action whose time is within the
   * window (at least LIMITS.minDuplicateWindowSec) of this plan's, before or after it.
   */
  async checkDuplicate(
    session: string,
    input: Partial<Plan> | null | undefined,
    windowSec: number,
    by: string,
  ): Promise<Duplicate | undefined> {
    const plan = valid.plan(input);
    if (!Number.isInteger(windowSec))
      throw new MemoryError('invalid_argument', `time_window_sec must be an integer (got ${String(windowSec)})`);
    const at = plan.timestampMs || this.now();
    const windowMs = Math.max(windowSec, LIMITS.minDuplicateWindowSec) * 1000;
    const [found] = await this.read<Plan>(PLANS, session, {
      limit: 1,
      where: (p) => p.symbol === plan.symbol && p.action === plan.action && Math.abs(at - p.timestampMs) < windowMs,
    });
    if (!found) return undefined;
    await this.prevented(session, { kind: 'duplicate', symbol: plan.symbol, planHash: found.planHash }, by);
    return { plan: found, sinceMs: Math.abs(at - found.timestampMs) };
  }

  /** Records what became of a plan (the newest LIMITS.executionsPerSession per session). */
  async markExecuted(
    session: string,
    planHash: string,
    input: Partial<Execution> | null | undefined,
    by: string,
  ): Promise<Execution> {
    const hash = valid.planHash('plan_hash', planHash);
    const record = input
      ? valid.execution(input)
      : valid.execution({ planHash: hash, status: 'executed', executed: true });
    if (!record.planHash) record.planHash = hash;
    else if (hash && record.planHash !== hash) {
      throw new MemoryError(
        'invalid_argument',
        `execution.plan_hash "${record.planHash}" differs from plan_hash "${hash}"`,
      );
    }
    if (!record.planHash) throw new MemoryError('invalid_argument', 'plan_hash is required');
    if (!record.timestampMs) record.timestampMs = this.now();
    await this.append(EXECUTIONS, session, record, by, LIMITS.executionsPerSession);
    return record;
  }

  /** The first kept execution record of the plan, if any. */
  async checkExecuted(session: string, planHash: string, by: string): Promise<Execution | undefined> {
    const hash = valid.planHash('plan_hash', planHash);
    if (!hash) throw new MemoryError('invalid_argument', 'plan_hash is required');
    const [found] = await this.read<Execution>(EXECUTIONS, session, { limit: 1, where: (e) => e.planHash === hash });
    if (found) await this.prevented(session, { kind: 'executed', symbol: found.symbol, planHash: hash }, by);
    return found;
  }

  /** Over the kept execution records of `symbol` ("" = every symbol): "success" and "error" counted. */
  async executionStats(session: string, symbol: string): Promise<ExecutionStats> {
    const ofSymbol = (s: string) => symbol === '' || s === symbol;
    const executions = await this.read<Execution>(EXECUTIONS, session, { where: (e) => ofSymbol(e.symbol) });
    const prevented = await this.read<Prevented>(PREVENTED, session, { where: (p) => ofSymbol(p.symbol) });
    const total = executions.length;
    const successful = executions.filter((e) => e.status === 'success').length;
    return {
      totalExecutions: total,
      successfulExecutions: successful,
      failedExecutions: executions.filter((e) => e.status === 'error').length,
      winRate: total > 0 ? successful / total : 0,
      duplicatePrevented: prevented.length,
      recentExecutions: executions.slice(-LIMITS.recentExecutions).reverse(),
    };
  }

  /** Keeps one line for the event (type, source, time; not its payload), the newest LIMITS.eventsPerSession per session. */
  async appendEvent(
    session: string,
    input: Partial<EpisodeEvent> | null | undefined,
    metadata: unknown,
    by: string,
  ): Promise<void> {
    const event = valid.episodeEvent(input);
    valid.stringMap('metadata', metadata); // bounded, not kept (the reference ignores it too)
    await this.append<EpisodeLine>(EPISODE, session, { line: episodeLine(event) }, by, LIMITS.eventsPerSession);
  }

  /**
   * Episode lines containing `query` (case-insensitive), oldest first, at most k (1..LIMITS.maxRetrieve);
   * `session` undefined: every session's, session by session. Filters are bounded and, as in the
   * reference, not applied.
   */
  async retrieve(session: string | undefined, query: string, k: number, filters: unknown): Promise<string[]> {
    const needle = valid.query(query).toLowerCase();
    const n = clamp(valid.count('k', k), 1, LIMITS.maxRetrieve);
    valid.stringMap('filters', filters);
    const found = await this.read<EpisodeLine>(EPISODE, session, {
      limit: n,
      where: (e) => e.line.toLowerCase().includes(needle),
    });
    return found.map((e) => e.line);
  }

  /** The session's first kept episode lines (max_events of them; 0 = LIMITS.defaultSummaryEvents), one per line. */
  async summarize(session: string, maxEvents: number): Promise<Summary> {
    const n = clamp(valid.count('max_events', maxEvents) || LIMITS.defaultSummaryEvents, 1, LIMITS.maxSummaryEvents);
    const lines = await this.read<EpisodeLine>(EPISODE, session, { limit: n });
    return { summary: lines.map((e) => e.line).join('\n'), eventCount: lines.length };
  }

  private prevented(session: string, what: Prevented, by: string): Promise<void> {
    return this.append(PREVENTED, session, what, by, LIMITS.preventedPerSession);
  }

  private append<T>(list: string, session: string, value: T, by: string, keep: number): Promise<void> {
    const stored: Stored<T> = { v: value, by };
    return this.store.appendToList(list, valid.sessionId(session), Buffer.from(JSON.stringify(stored), 'utf8'), keep);
  }

  /** Kept values of a list, decoded once: the store's `match` both filters and collects them. */
  private async read<T>(
    list: string,
    session: string | undefined,
    opts: { newestFirst?: boolean; limit?: number; where?: (value: T) => boolean },
  ): Promise<T[]> {
    const values: T[] = [];
    await this.store.readList(list, session === undefined ? undefined : valid.sessionId(session), {
      newestFirst: opts.newestFirst,
      limit: opts.limit,
      match: (record) => {
        const value = (JSON.parse(record.toString('utf8')) as Stored<T>).v;
        if (opts.where && !opts.where(value)) return false;
        values.push(value);
        return true;
      },
    });
    return values;
  }
}
