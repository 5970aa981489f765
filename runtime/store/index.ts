export type * from './types';
export { openStore, StoreError, type StoreErrorCode } from './store';
export { privateFiles } from './private';
export { isItemTail } from './keys';
