// loom.toml's problems and how they are worded live in the contract (runtime/contract/configProblems.ts):
// the extension and the Python SDK word them the same way.
export { ConfigError, problemsFromAjv, suggestion, tomlPath, type ConfigProblem } from '../contract/configProblems';
export { describe } from '../contract/describe';
