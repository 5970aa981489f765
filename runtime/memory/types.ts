// The records of agent memory, shaped as loom.v1 memory.proto's (camelCase, int64 as number), so
// the bridge hands the decoded messages over as they are.

export interface Plan {
  timestampMs: number;
  symbol: string;
  action: string;
  confidence: number;
  reasoning: string;
  planHash: string;
  method: string;
  metadata: Record<string, string>;
}

export interface Execution {
  timestampMs: number;
  planHash: string;
  symbol: string;
  action: string;
  confidence: number;
  status: string;
  executed: boolean;
  orderId: string;
  orderSizeUsdt: number;
  errorMessage: string;
}

/** What AppendEvent keeps of an event: one line of the episode. */
export interface EpisodeEvent {
  timestampMs: number;
  type: string;
  source: string;
}

export interface ExecutionStats {
  totalExecutions: number;
  successfulExecutions: number;
  failedExecutions: number;
  winRate: number;
  duplicatePrevented: number;
  recentExecutions: Execution[];
}

export interface Duplicate {
  plan: Plan;
  sinceMs: number;
}

export interface Summary {
  summary: string;
  eventCount: number;
}
