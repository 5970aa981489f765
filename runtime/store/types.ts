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
  /** Only items of the sessions for which this is true (what the caller may read); default: every session. */
  sessions?: (sessionId: string) => boolean;
}

/** For a write: refuse what could not be the only entry of a page of `pageBytes` (with its token). */
export interface PageLimit {
  pageBytes?: number;
}

export interface SaveOptions extends PageLimit {
  /** Saving under an id already taken: refused unless this is true of the session the item is in now. */
  mayReplace?: (sessionId: string) => boolean;
}

/** A ContextQuery read a page at a time. */
export interface ContextPageQuery extends ContextQuery {
  /** `next` of the previous page of the same query: this page starts after it. */
  after?: string;
  /** Cut the page before its items and its next position pass this many bytes (at least one item per page). */
  maxBytes?: number;
}

export interface ContextPage {
  items: ContextItem[];
  /** Where the scan stopped, when it stopped before the end of the query's range. */
  next?: string;
}

export interface StateEntry {
  key: string;
  value: Buffer;
}

/** An agent's state keys with `prefix`, in key order, a page at a time. */
export interface StatePageQuery {
  prefix?: string;
  /** At most this many in this page (default: no count limit). */
  limit?: number;
  /** `next` of the previous page of the same listing: this page starts after that key. */
  after?: string;
  /** Cut the page before its entries and its next position pass this many bytes (at least one entry per page). */
  maxBytes?: number;
}

export interface StatePage {
  entries: StateEntry[];
  /** The last key listed, when the listing stopped before the end of the prefix's range. */
  next?: string;
}

/** Which records of a bounded list readList returns. */
export interface ListQuery {
  /** Newest first instead of oldest first. */
  newestFirst?: boolean;
  /** At most this many (counted after `match`). Default: all. */
  limit?: number;
  /** Only the records for which this is true. */
  match?: (record: Buffer) => boolean;
}

export interface Store {
  /** Fills id and timestampMs when absent; durable once the promise resolves. */
  saveContext(
    item: Partial<ContextItem> & { sessionId: string; type: string; content: string },
    options?: SaveOptions,
  ): Promise<ContextItem>;
  queryContext(query: ContextQuery): Promise<ContextItem[]>;
  /** queryContext a page at a time: follow `next` (as `after`) until it is absent. */
  queryContextPage(query: ContextPageQuery): Promise<ContextPage>;
  getState(agentId: string, key: string): Promise<Buffer | undefined>;
  putState(agentId: string, key: string, value: Buffer, options?: PageLimit): Promise<void>;
  deleteState(agentId: string, key: string): Promise<boolean>;
  listState(agentId: string, prefix?: string, limit?: number): Promise<StateEntry[]>;
  /** listState a page at a time: follow `next` (as `after`) until it is absent. */
  listStatePage(agentId: string, query: StatePageQuery): Promise<StatePage>;
  /**
   * Bounded lists, in a key range of their own (never an agent's state or a context item): appends
   * `record` to the list `list` of `session` and drops its oldest records beyond `keep`, in one
   * atomic write; durable once the promise resolves. Appends to one list are applied in call order.
   */
  appendToList(list: string, session: string, record: Buffer, keep: number): Promise<void>;
  /** Records of one session's list, oldest first; `session` undefined: every session's list of that name, session by session. */
  readList(list: string, session: string | undefined, query?: ListQuery): Promise<Buffer[]>;
  /** Approximate bytes on disk. */
  sizeBytes(): Promise<number>;
  close(): Promise<void>;
}
