export type { ContextItem, ContextPage, ContextPageQuery, ContextQuery, ListQuery, StateEntry, Store } from './types';
export { openStore, StoreError, type StoreErrorCode } from './store';
export { privateFiles } from './private';
export { isItemTail } from './keys';
