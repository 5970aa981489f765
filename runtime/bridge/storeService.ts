// loom.v1.Store: context items and per-agent key-value state in the runtime's store.
import type { Logger } from '../log';
import type { StoreHandlers } from '../proto/gen/loom/v1/Store';
import { isItemTail, type ContextItem, type Store } from '../store';
import type { Access } from './identity';
import type * as grpc from '@grpc/grpc-js';
import { decodePageToken, encodePageToken, PAGE_OVERHEAD_BYTES } from './pageToken';
import { codedUnary as unary, invalidArgument } from './unary';

function required(value: string, field: string): string {
  if (!value) throw invalidArgument(`${field} is required`);
  return value;
}

function itemToWire(item: ContextItem) {
  return { ...item };
}

/** QueryContext's page tokens name the key tail ("<ts>!<seq>!<id>") of the last item the page gave. */
const CONTEXT_TOKEN_KIND = 'qc1';
/** ListState's name the last key listed (within the listing's prefix). */
const STATE_TOKEN_KIND = 'ls1';

export function storeService(store: Store, access: Access, log: Logger, maxMessageBytes: number): StoreHandlers {
  /** An agent's credential reaches its own state (and what [agents.<id>] state_access grants). */
  const owner = (agentId: string, call: { metadata: grpc.Metadata }) =>
    access.stateOwner(access.identify(call.metadata), agentId);
  // A page's items or entries and its token; a write that could not be read back in one is refused.
  const pageBytes = Math.max(1, maxMessageBytes - PAGE_OVERHEAD_BYTES);
  return {
    SaveContext: unary(log, 'SaveContext', async (req, call) => {
      const item = req.item;
      if (!item) throw invalidArgument('item is required');
      const who = access.identify(call.metadata);
      const saved = await store.saveContext(
        {
          ...(item.id ? { id: item.id } : {}),
          ...(Number(item.timestampMs) > 0 ? { timestampMs: Number(item.timestampMs) } : {}),
          sessionId: access.contextSession(who, required(item.sessionId, 'item.session_id')),
          type: required(item.type, 'item.type'),
          content: item.content,
          metadata: item.metadata,
        },
        // An id taken by an item of a session the caller may not reach: no moving or overwriting it.
        { pageBytes, mayReplace: (session) => access.contextReaches(who, session) },
      );
      return { item: itemToWire(saved) };
    }),
    QueryContext: unary(log, 'QueryContext', async (req, call) => {
      const who = access.identify(call.metadata);
      const page = await store.queryContextPage({
        sessionId: req.sessionId ? access.contextSession(who, req.sessionId) : undefined,
        // Without a session, the sessions the caller reaches (an agent's: not others' "agent:<id>").
        sessions: req.sessionId || who.kind !== 'agent' ? undefined : (session) => access.contextReaches(who, session),
        type: req.type || undefined,
        sinceMs: Number(req.sinceMs) || undefined,
        untilMs: Number(req.untilMs) || undefined,
        text: req.text || undefined,
        limit: req.limit > 0 ? req.limit : undefined,
        newestFirst: req.newestFirst,
        after: req.pageToken
          ? decodePageToken(CONTEXT_TOKEN_KIND, req.pageToken, 'QueryContext', isItemTail)
          : undefined,
        maxBytes: pageBytes,
      });
      return {
        items: page.items.map(itemToWire),
        nextPageToken: page.next === undefined ? '' : encodePageToken(CONTEXT_TOKEN_KIND, page.next),
      };
    }),
    GetState: unary(log, 'GetState', async (req, call) => {
      const value = await store.getState(owner(req.agentId, call), required(req.key, 'key'));
      return value ? { found: true, value } : { found: false };
    }),
    PutState: unary(log, 'PutState', async (req, call) => {
      await store.putState(owner(req.agentId, call), required(req.key, 'key'), req.value, { pageBytes });
      return {};
    }),
    DeleteState: unary(log, 'DeleteState', async (req, call) => ({
      existed: await store.deleteState(owner(req.agentId, call), required(req.key, 'key')),
    })),
    ListState: unary(log, 'ListState', async (req, call) => {
      const prefix = req.prefix || '';
      const page = await store.listStatePage(owner(req.agentId, call), {
        prefix,
        limit: req.limit > 0 ? req.limit : undefined,
        after: req.pageToken
          ? decodePageToken(
              STATE_TOKEN_KIND,
              req.pageToken,
              'ListState',
              (after) => after.length > 0 && after.startsWith(prefix),
            )
          : undefined,
        maxBytes: pageBytes,
      });
      return {
        entries: page.entries,
        nextPageToken: page.next === undefined ? '' : encodePageToken(STATE_TOKEN_KIND, page.next),
      };
    }),
  };
}
