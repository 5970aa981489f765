// The reference's loom.toml, read as it is: its keys are accepted and mapped onto Loom's, or
// accepted and noted where they mean nothing here, so a reference app's folder runs unchanged.
// Without this its file stops the runtime at the first unknown key.
//
// Its [agents.<id>] tables have no `command`: they hold settings for agents the person starts by
// hand (topics, llm_provider, free keys the agent reads). Such a table is set aside for the
// agent; a table that names any of Loom's process keys, or a key close to `command`, stays a
// Loom table and is checked as one ("command is required", "did you mean command?"): a typo
// is never taken for a reference table.
import { closestNames } from '../suggest';
import { tomlPath, type ConfigProblem } from './errors';
import { messageOf } from '../contract/errors';

type Table = Record<string, unknown>;

/** Something in the file that was accepted without effect here, said once in the log at start. */
export interface ConfigNote {
  key: string;
  message: string;
}

/** [bridge] keys only the reference's file has: mapped (address) or noted, so none has a default. */
export const REFERENCE_BRIDGE_KEYS = ['address', 'mode', 'version'];

/** Keys of [agents.<id>] that describe the process Loom starts (schema.ts); any of them means the table is Loom's. */
export const AGENT_PROCESS_KEYS = [
  'command', 'args', 'env', 'cwd', 'restart', 'autostart', 'max_restarts', 'restart_window_ms', 'backoff_initial_ms',
  'backoff_max_ms', 'stop_grace_ms', 'log_lines', 'isolation', 'network', 'read_only_paths', 'state_access',
];

const isTable = (v: unknown): v is Table => !!v && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Date);

/**
 * Takes the reference's command-less [agents.<id>] tables out of `raw.agents` (they are the
 * agents' own settings) and says so for each.
 */
export function setAsideAgentSettings(raw: Table): ConfigNote[] {
  const notes: ConfigNote[] = [];
  if (!isTable(raw.agents)) return notes;
  for (const [id, agent] of Object.entries(raw.agents)) {
    if (!isTable(agent)) continue;
    const keys = Object.keys(agent);
    if (keys.some((k) => AGENT_PROCESS_KEYS.includes(k) || closestNames(k, ['command'], 1).length > 0)) continue;
    delete raw.agents[id];
    notes.push({ key: tomlPath(['agents', id]), message: `has no command: the runtime starts nothing for "${id}"; its settings (${keys.join(', ') || 'none'}) are for the agent, started by hand, to read` });
  }
  return notes;
}

/** 127.0.0.1:50051 → host and port; undefined when it is not host:port. */
export function splitAddress(address: string): { host: string; port: number } | undefined {
  const m = /^\[?([^\s\]]+?)\]?:(\d{1,5})$/.exec(address);
  if (!m) return undefined;
  const port = Number(m[2]);
  return port <= 65535 ? { host: m[1], port } : undefined;
}

/** What the reference's keys that have no effect here are for, as noted in the log. */
export function referenceNotes(raw: Table): ConfigNote[] {
  const notes: ConfigNote[] = [];
  const bridge = isTable(raw.bridge) ? raw.bridge : {};
  const workspace = isTable(raw.workspace) ? raw.workspace : {};
  if (bridge.mode !== undefined) notes.push({ key: 'bridge.mode', message: 'is the reference CLI\'s choice of bridge binary; this runtime always serves everything' });
  if (bridge.version !== undefined) notes.push({ key: 'bridge.version', message: 'is the reference CLI\'s binary version; this runtime is its own version' });
  if (workspace.reports_dir !== undefined) notes.push({ key: 'workspace.reports_dir', message: 'is read by the agents, not the runtime' });
  return notes;
}

/**
 * LOOM_MCP_SERVERS, as the reference reads it: a JSON array of {name, command, args, env, cwd}
 * or an object of such entries by name. Returns [mcp.<name>] tables in loom.toml's shape.
 */
export function mcpServersFromEnv(value: string | undefined): { servers: Record<string, Table>; problems: ConfigProblem[]; notes: ConfigNote[] } {
  const servers: Record<string, Table> = {};
  const problems: ConfigProblem[] = [];
  const notes: ConfigNote[] = [];
  if (!value?.trim()) return { servers, problems, notes };
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch (err) {
    problems.push({ key: 'LOOM_MCP_SERVERS', message: `is not JSON: ${messageOf(err)}` });
    return { servers, problems, notes };
  }
  let named: Array<[string, unknown]>;
  if (Array.isArray(parsed)) named = parsed.map((e, i) => [isTable(e) && typeof e.name === 'string' && e.name ? e.name : `#${i}`, e]);
  else if (isTable(parsed)) named = Object.entries(parsed);
  else {
    problems.push({ key: 'LOOM_MCP_SERVERS', message: 'must be a JSON array of servers or an object of servers by name' });
    return { servers, problems, notes };
  }
  for (const [name, entry] of named) {
    const key = `LOOM_MCP_SERVERS.${name}`;
    if (!isTable(entry) || typeof entry.command !== 'string' || !entry.command) {
      problems.push({ key, message: 'needs command, the program that serves MCP over stdio' });
      continue;
    }
    if (name.startsWith('#')) {
      problems.push({ key, message: 'needs name' });
      continue;
    }
    const { name: _name, protocol_version: protocolVersion, ...rest } = entry;
    if (protocolVersion !== undefined) notes.push({ key: `${key}.protocol_version`, message: 'is negotiated by the MCP client here' });
    servers[name] = rest;
  }
  // Worded as the reference logs it: its own tests look for this line.
  if (Object.keys(servers).length) notes.push({ key: 'LOOM_MCP_SERVERS', message: `Loading MCP servers from LOOM_MCP_SERVERS: ${Object.keys(servers).join(', ')}` });
  return { servers, problems, notes };
}
