// The agents a user can start from the palette: those declared in loom.toml ([agents.<id>]) and
// the Python files under agents/ that no declaration runs yet.
import { existsSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { CONFIG_FILE, checkLoomToml, ConfigError } from '../../runtime/contract';

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

/** What the catalog needs of one [agents.<id>] table. */
export interface DeclaredAgent {
  args: string[];
}

/** The [agents.*] of loom.toml as the runtime reads them (the same check, the reference's agent settings set aside). */
export async function declaredAgents(workspace: string): Promise<Record<string, DeclaredAgent>> {
  const { file, problems } = await checkLoomToml(workspace, ANY_ENV);
  if (problems.length) {
    const message = new ConfigError(join(workspace, CONFIG_FILE), CONFIG_FILE, problems).message;
    throw new Error(`cannot list the agents: loom.toml has problems:\n${message}`);
  }
  const agents = (file.agents ?? {}) as Record<string, { args?: string[] }>;
  return Object.fromEntries(Object.entries(agents).map(([id, a]) => [id, { args: a.args ?? [] }]));
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
