// The persistent store contract (classic-level under the workspace's .loom/ folder).

export interface ContextItem {
  id: string;
  sessionId: string;
  type: string;
  content: string;
  metadata: Record<string, string>;
  timestampMs: number;
}

export interface ContextQuery {
  sessionId?: string;
  type?: string;
  /** Inclusive. */
  sinceMs?: number;
  /** Exclusive. */
  untilMs?: number;
  /** Case-insensitive substring of content. */
  text?: string;
  /** Default 100. */
  limit?: number;
  newestFirst?: boolean;
}

export interface StateEntry {
  key: string;
  value: Buffer;
}

export interface Store {
  /** Fills id and timestampMs when absent; durable once the promise resolves. */
  saveContext(item: Partial<ContextItem> & { sessionId: string; type: string; content: string }): Promise<ContextItem>;
  queryContext(query: ContextQuery): Promise<ContextItem[]>;
  getState(agentId: string, key: string): Promise<Buffer | undefined>;
  putState(agentId: string, key: string, value: Buffer): Promise<void>;
  deleteState(agentId: string, key: string): Promise<boolean>;
  listState(agentId: string, prefix?: string, limit?: number): Promise<StateEntry[]>;
  /** Approximate bytes on disk. */
  sizeBytes(): Promise<number>;
  close(): Promise<void>;
}
