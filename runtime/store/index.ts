export type * from './types';
export { MAX_NAME_BYTES, openStore, SEQ_BLOCK, StoreError, type StoreErrorCode } from './store';
export { privateFiles } from './private';
export { isItemTail } from './keys';
