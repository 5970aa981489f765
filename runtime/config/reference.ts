// The reference's loom.toml, read as it is: its keys are accepted and mapped onto Loom's, or
// accepted and noted where they mean nothing here, so a reference app's folder runs unchanged.
// Without this its file stops the runtime at the first unknown key.
//
// Its command-less [agents.<id>] tables (settings for agents started by hand) are set aside by
// setAsideAgentSettings, in the contract (runtime/contract/loomToml.ts): the extension reads the file
// the same way.
import { isTable, type ConfigNote } from '../contract/loomToml';
import type { ConfigProblem } from './errors';
import { messageOf } from '../contract/errors';

export { AGENT_PROCESS_KEYS, setAsideAgentSettings, splitAddress, type ConfigNote } from '../contract/loomToml';

type Table = Record<string, unknown>;

/** [bridge] keys only the reference's file has: mapped (address) or noted, so none has a default. */
export const REFERENCE_BRIDGE_KEYS = ['address', 'mode', 'version'];

/** What the reference's keys that have no effect here are for, as noted in the log. */
export function referenceNotes(raw: Table): ConfigNote[] {
  const notes: ConfigNote[] = [];
  const bridge = isTable(raw.bridge) ? raw.bridge : {};
  const workspace = isTable(raw.workspace) ? raw.workspace : {};
  if (bridge.mode !== undefined)
    notes.push({
      key: 'bridge.mode',
      message: "is the reference CLI's choice of bridge binary; this runtime always serves everything",
    });
  if (bridge.version !== undefined)
    notes.push({
      key: 'bridge.version',
      message: "is the reference CLI's binary version; this runtime is its own version",
    });
  if (workspace.reports_dir !== undefined)
    notes.push({ key: 'workspace.reports_dir', message: 'is read by the agents, not the runtime' });
  return notes;
}

/**
 * LOOM_MCP_SERVERS, as the reference reads it: a JSON array of {name, command, args, env, cwd}
 * or an object of such entries by name. Returns [mcp.<name>] tables in loom.toml's shape.
 */
export function mcpServersFromEnv(value: string | undefined): {
  servers: Record<string, Table>;
  problems: ConfigProblem[];
  notes: ConfigNote[];
} {
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
  if (Array.isArray(parsed))
    named = parsed.map((e, i) => [isTable(e) && typeof e.name === 'string' && e.name ? e.name : `#${i}`, e]);
  else if (isTable(parsed)) named = Object.entries(parsed);
  else {
    problems.push({
      key: 'LOOM_MCP_SERVERS',
      message: 'must be a JSON array of servers or an object of servers by name',
    });
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
    if (protocolVersion !== undefined)
      notes.push({ key: `${key}.protocol_version`, message: 'is negotiated by the MCP client here' });
    servers[name] = rest;
  }
  // Worded as the reference logs it: its own tests look for this line.
  if (Object.keys(servers).length)
    notes.push({
      key: 'LOOM_MCP_SERVERS',
      message: `Loading MCP servers from LOOM_MCP_SERVERS: ${Object.keys(servers).join(', ')}`,
    });
  return { servers, problems, notes };
}
