export type { AgentConfig, IsolationMode, LoomConfig, ProcessIsolation } from './types';
export { defaultAgent, defaultConfig, defaultTimer } from './defaults';
export { ConfigError, type ConfigProblem } from './errors';
export {
  CONFIG_FILE,
  expandEnv,
  loadConfig,
  loopbackHost,
  type ConfigOverrides,
  type DeepPartial,
  type LoadOptions,
} from './load';
export type { McpServeTable, McpServerTable, McpSettingsTable } from './schema';
export { restrictForUntrusted } from './trust';
export { dataDirOf, openDataDir } from './dataDir';
export { followConfig, type ConfigFollower, type ReloadOutcome } from './follow';
