export type { ContextItem, ContextQuery, StateEntry, Store } from './types';
export { openStore, StoreError, type StoreErrorCode } from './store';
export { privateFiles } from './private';
