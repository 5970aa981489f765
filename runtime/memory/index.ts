export { Memory, episodeLine, planHashOf } from './memory';
export { LIMITS as MEMORY_LIMITS, MemoryError, sessionId as validSessionId, type MemoryErrorCode } from './limits';
export type { Duplicate, EpisodeEvent, Execution, ExecutionStats, Plan, Summary } from './types';
