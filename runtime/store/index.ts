export type * from './types';
export { openStore, SEQ_BLOCK, StoreError, type StoreErrorCode } from './store';
export { privateFiles } from './private';
export { isItemTail } from './keys';
