// The agents a user can start from the palette: those declared in loom.toml ([agents.<id>]) and
// the Python files under agents/ that no declaration runs yet.
import { existsSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { ConfigError, loadConfig, type AgentConfig } from '../../runtime/contract';

export interface AgentEntry {
  id: string;
  /** "config": declared in loom.toml (the runtime's supervisor runs it); "script": agents/<id>.py only. */
  source: 'config' | 'script';
  /** The script path relative to the workspace, when known. */
  script?: string;
}

/**
 * Agent env values may name variables (${OPENAI_API_KEY}) that only the runtime's environment
 * holds (keys from secret storage): the catalog needs ids and scripts, so any name counts as set.
 */
const ANY_ENV = new Proxy<Record<string, string>>({}, { get: () => '' });

/** The [agents.*] of loom.toml as the runtime reads them (the same loader, the same validation). */
export async function declaredAgents(workspace: string): Promise<Record<string, AgentConfig>> {
  try {
    return (await loadConfig(workspace, undefined, { env: ANY_ENV })).agents;
  } catch (err) {
    if (err instanceof ConfigError) throw new Error(`cannot list the agents: loom.toml has problems:\n${err.message}`);
    throw err;
  }
}

export async function listAgentEntries(workspace: string): Promise<AgentEntry[]> {
  const declared = await declaredAgents(workspace);
  const entries: AgentEntry[] = Object.entries(declared).map(([id, def]) => {
    return { id, source: 'config', script: def.args.find((a) => a.endsWith('.py')) };
  });
  const claimed = new Set(entries.map((e) => e.script).filter(Boolean));
  const dir = join(workspace, 'agents');
  const scripts = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.py') && !f.startsWith('_')) : [];
  for (const file of scripts.sort()) {
    const script = `agents/${file}`;
    const id = basename(file, '.py');
    if (!claimed.has(script) && !declared[id]) entries.push({ id, source: 'script', script });
  }
  return entries;
}
