export type { ContextItem, ContextQuery, ListQuery, StateEntry, Store } from './types';
export { openStore, StoreError, type StoreErrorCode } from './store';
export { privateFiles } from './private';
