// "Did you mean" for unknown tool names and loom.toml keys: one rule in every process, so it lives
// in the contract (runtime/contract/suggest.ts).
export { closestNames } from './contract/suggest';
