// Contract: loom.toml as both processes read it. The extension shows the file's problems and lists
// its agents with the very loader the runtime starts with, so a file the editor accepts is one the
// runtime accepts. This module is the extension's one door to that loader (runtime/config); the
// loader itself stays in runtime/config, so the extension bundle still carries it.
export { CONFIG_FILE } from './dataDir';
export { ConfigError, type ConfigProblem } from '../config/errors';
export { loadConfig, type ConfigOverrides, type DeepPartial } from '../config/load';
export { defaultConfig } from '../config/defaults';
export type { AgentConfig, LoomConfig } from '../config/types';
