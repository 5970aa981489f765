// Workspace Trust. An untrusted workspace's loom.toml is someone else's file: it must not be able
// to run programs or widen what Loom reaches. Agents are listed but not spawned (the supervisor),
// system:shell refuses every call (the tool), and the settings below are set back to their safe
// defaults here, so no part can honour them by accident.
import { defaultConfig } from './defaults';
import type { LoomConfig } from './types';

/** The config with untrusted-only restrictions applied, and the keys that were ignored. */
export function restrictForUntrusted(config: LoomConfig): { config: LoomConfig; ignored: string[] } {
  if (config.runtime.trusted) return { config, ignored: [] };
  const safe = defaultConfig(config.workspace);
  const ignored: string[] = [];
  const out: LoomConfig = structuredClone(config);

  if (config.runtime.roots.length) {
    ignored.push('runtime.roots');
    out.runtime.roots = [];
  }
  if (!config.bridge.requireToken) {
    ignored.push('bridge.require_token');
    out.bridge.requireToken = true;
  }
  if (config.bridge.compat !== 'none') {
    ignored.push('bridge.compat');
    out.bridge.compat = 'none';
  }
  if (config.tools.weather.baseUrl !== safe.tools.weather.baseUrl) {
    ignored.push('tools.weather.base_url');
    out.tools.weather.baseUrl = safe.tools.weather.baseUrl;
  }
  // web:search and llm:generate send keys from the runtime's environment (BRAVE_API_KEY, a preset's
  // OPENAI_API_KEY, any ${VAR} a table names) to the endpoint the file gives: only the defaults.
  for (const key of ['baseUrl', 'apiKey'] as const) {
    if (config.tools.webSearch[key] !== safe.tools.webSearch[key]) {
      ignored.push(`tools.web_search.${key === 'baseUrl' ? 'base_url' : 'api_key'}`);
      out.tools.webSearch[key] = safe.tools.webSearch[key];
    }
  }
  out.llm = {};
  ignored.push(...Object.keys(config.llm).map((name) => `llm.${name} (for llm:generate)`));
  // MCP servers are programs (stdio) or endpoints given secrets (HTTP): none run, and
  // .vscode/mcp.json is not imported. Loom's own MCP server ([mcp.serve]) stays as configured.
  out.mcp = {};
  for (const [name, table] of Object.entries(config.mcp)) {
    if (name === 'serve') out.mcp.serve = table;
    else if (name === 'settings') {
      const { import_vscode: imported, ...rest } = table;
      if (imported) ignored.push('mcp.settings.import_vscode');
      out.mcp.settings = rest;
    } else ignored.push(`mcp.${name}`);
  }
  return { config: out, ignored };
}
