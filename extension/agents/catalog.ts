// The agents a user can start from the palette: those declared in loom.toml ([agents.<id>]) and
// the Python files under agents/ that no declaration runs yet.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';

export interface AgentEntry {
  id: string;
  /** "config": declared in loom.toml (the runtime's supervisor runs it); "script": agents/<id>.py only. */
  source: 'config' | 'script';
  /** The script path relative to the workspace, when known. */
  script?: string;
}

export async function declaredAgents(workspace: string): Promise<Record<string, { args?: unknown }>> {
  const file = join(workspace, 'loom.toml');
  if (!existsSync(file)) return {};
  const { parse } = await import('smol-toml');
  const parsed = parse(readFileSync(file, 'utf8')) as { agents?: Record<string, { args?: unknown }> };
  return parsed.agents ?? {};
}

export async function listAgentEntries(workspace: string): Promise<AgentEntry[]> {
  const declared = await declaredAgents(workspace);
  const entries: AgentEntry[] = Object.entries(declared).map(([id, def]) => {
    const args = Array.isArray(def.args) ? def.args.filter((a): a is string => typeof a === 'string') : [];
    return { id, source: 'config', script: args.find((a) => a.endsWith('.py')) };
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
