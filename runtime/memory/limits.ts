// What agent memory keeps and accepts. Every list is per session and drops its oldest records
// beyond its size; the plan, execution and event sizes are the reference's, so an agent sees
// the same history here as there. Input beyond these bounds is refused (MemoryError
// 'invalid_argument', naming the field), never truncated.
import { LoomError } from '../contract/errors';
import type { EpisodeEvent, Execution, Plan } from './types';

export const LIMITS = {
  /** Plans kept per session, all symbols together (SavePlan). */
  plansPerSession: 100,
  /** Execution records kept per session (MarkExecuted). */
  executionsPerSession: 1000,
  /** Episode lines kept per session (AppendEvent). */
  eventsPerSession: 500,
  /** Duplicates and repeats reported per session, the basis of duplicate_prevented. */
  preventedPerSession: 1000,
  /** GetRecentPlans.limit is clamped to 1..this. */
  maxRecentPlans: 100,
  /** GetExecutionStats.recent_executions. */
  recentExecutions: 10,
  /** CheckDuplicate.time_window_sec below this counts as this. */
  minDuplicateWindowSec: 60,
  /** Retrieve.k is clamped to 1..this. */
  maxRetrieve: 100,
  /** SummarizeEpisode.max_events: 0 means the default; larger values are clamped. */
  defaultSummaryEvents: 50,
  maxSummaryEvents: 500,
  /** session_id, symbol, action, plan_hash, method, status, order_id, event type and source, a metadata key. */
  maxNameBytes: 256,
  /** reasoning, error_message, the Retrieve query, a metadata value. */
  maxTextBytes: 16 * 1024,
  /** Entries of one metadata or filters map. */
  maxMapEntries: 64,
} as const;

export type MemoryErrorCode = 'invalid_argument';

export class MemoryError extends LoomError {
  override readonly name = 'MemoryError';
  constructor(
    override readonly code: MemoryErrorCode,
    message: string,
  ) {
    super(code, message);
  }
}

const invalid = (message: string) => new MemoryError('invalid_argument', message);

function bounded(field: string, value: unknown, maxBytes: number): string {
  if (typeof value !== 'string') throw invalid(`${field} must be a string (got ${typeof value})`);
  const bytes = Buffer.byteLength(value, 'utf8');
  if (bytes > maxBytes) throw invalid(`${field} is too long (${bytes} bytes; at most ${maxBytes})`);
  return value;
}

const name = (field: string, value: unknown) => bounded(field, value, LIMITS.maxNameBytes);
const text = (field: string, value: unknown) => bounded(field, value, LIMITS.maxTextBytes);

function finite(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value))
    throw invalid(`${field} must be a finite number (got ${String(value)})`);
  return value;
}

function timestamp(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0)
    throw invalid(`${field} must be a non-negative number of milliseconds (got ${String(value)})`);
  return value;
}

/** A count the caller chooses (limit, k, max_events): negative is a mistake, 0 the default. */
export function count(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0)
    throw invalid(`${field} must be a non-negative integer (got ${String(value)})`);
  return value;
}

export function stringMap(field: string, value: unknown): Record<string, string> {
  const map = (value ?? {}) as Record<string, unknown>;
  if (typeof map !== 'object') throw invalid(`${field} must be a map of strings`);
  const entries = Object.entries(map);
  if (entries.length > LIMITS.maxMapEntries)
    throw invalid(`${field} has too many entries (${entries.length}; at most ${LIMITS.maxMapEntries})`);
  return Object.fromEntries(entries.map(([k, v]) => [name(`${field} key`, k), text(`${field}["${k}"]`, v)]));
}

export function sessionId(value: unknown): string {
  const session = name('session_id', value);
  if (!session) throw invalid('session_id is required');
  return session;
}

export function planHash(field: string, value: unknown): string {
  return name(field, value);
}

export function query(value: unknown): string {
  return text('query', value);
}

export function plan(value: Partial<Plan> | null | undefined, field = 'plan'): Plan {
  if (!value) throw invalid(`${field} is required`);
  return {
    timestampMs: timestamp(`${field}.timestamp_ms`, value.timestampMs ?? 0),
    symbol: name(`${field}.symbol`, value.symbol ?? ''),
    action: name(`${field}.action`, value.action ?? ''),
    confidence: finite(`${field}.confidence`, value.confidence ?? 0),
    reasoning: text(`${field}.reasoning`, value.reasoning ?? ''),
    planHash: name(`${field}.plan_hash`, value.planHash ?? ''),
    method: name(`${field}.method`, value.method ?? ''),
    metadata: stringMap(`${field}.metadata`, value.metadata),
  };
}

export function execution(value: Partial<Execution>, field = 'execution'): Execution {
  return {
    timestampMs: timestamp(`${field}.timestamp_ms`, value.timestampMs ?? 0),
    planHash: name(`${field}.plan_hash`, value.planHash ?? ''),
    symbol: name(`${field}.symbol`, value.symbol ?? ''),
    action: name(`${field}.action`, value.action ?? ''),
    confidence: finite(`${field}.confidence`, value.confidence ?? 0),
    status: name(`${field}.status`, value.status ?? ''),
    executed: value.executed === true,
    orderId: name(`${field}.order_id`, value.orderId ?? ''),
    orderSizeUsdt: finite(`${field}.order_size_usdt`, value.orderSizeUsdt ?? 0),
    errorMessage: text(`${field}.error_message`, value.errorMessage ?? ''),
  };
}

export function episodeEvent(value: Partial<EpisodeEvent> | null | undefined, field = 'event'): EpisodeEvent {
  if (!value) throw invalid(`${field} is required`);
  return {
    timestampMs: timestamp(`${field}.timestamp_ms`, value.timestampMs ?? 0),
    type: name(`${field}.type`, value.type ?? ''),
    source: name(`${field}.source`, value.source ?? ''),
  };
}
