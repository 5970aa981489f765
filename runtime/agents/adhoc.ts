// An ad-hoc agent's request (loom.v1.StartAgentRequest, as plain data) made into the settings the
// supervisor runs it with. The caller names a Python file of the workspace, not a program: the
// interpreter is the configured one ("python": LOOM_PYTHON, else python3), so the window's
// credential can start the workspace's scripts and nothing else. Paths are judged by real path,
// every symlink followed, by the file tools' own sandbox rule.
import { stat } from 'node:fs/promises';
import { defaultAgent, type AgentConfig } from '../config';
import { Sandbox } from '../tools';
import { messageOf } from '../contract/errors';
import { clientOwnId, validateAgentId } from './directory';
import { SupervisorError } from './supervisor';

export interface AdHocRequest {
  agentId: string;
  /** A .py file inside the workspace, relative to it or absolute. */
  script: string;
  args: string[];
  /** Inside the workspace, relative to it; empty = the workspace. */
  cwd: string;
  env: Record<string, string>;
  /** '' = on-failure. */
  restart: string;
}

const RESTART_POLICIES = ['always', 'on-failure', 'never'] as const;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** What the supervisor sets for every agent it spawns: a request may not set them. */
const RUNTIME_ENV = new Set([
  'LOOM_BRIDGE_ADDR',
  'LOOM_TOKEN',
  'LOOM_AGENT_ID',
  'LOOM_RUNTIME',
  'LOOM_HEARTBEAT_TIMEOUT_MS',
]);

/** The request's mistake, named: the bridge answers it as INVALID_ARGUMENT. */
export class AdHocRequestError extends SupervisorError {}

/**
 * The settings an ad-hoc agent runs with: a declared agent's defaults, not started with the
 * runtime; its isolation is [adhoc_agents]'s, which the supervisor applies at each start. Throws
 * AdHocRequestError.
 */
export async function adHocConfig(req: AdHocRequest, workspace: string): Promise<AgentConfig> {
  const bad = validateAgentId(req.agentId);
  if (bad) throw new AdHocRequestError(bad);
  // A script named agents/vscode.py would publish and call tools as the window.
  if (clientOwnId(req.agentId))
    throw new AdHocRequestError(
      `agent id "${req.agentId}" is the name of one of the runtime's own clients (the VS Code window, the dashboard, MCP clients): rename the script`,
    );
  if (!req.script)
    throw new AdHocRequestError(`agent "${req.agentId}": script is required (a .py file inside the workspace)`);
  if (!req.script.endsWith('.py'))
    throw new AdHocRequestError(
      `agent "${req.agentId}": script "${req.script}" is not a .py file: ad-hoc agents are Python files run by the configured interpreter`,
    );
  const restart = req.restart || 'on-failure';
  if (!(RESTART_POLICIES as readonly string[]).includes(restart))
    throw new AdHocRequestError(
      `agent "${req.agentId}": restart must be one of ${RESTART_POLICIES.join(', ')} (got "${req.restart}")`,
    );
  for (const name of Object.keys(req.env)) {
    if (!ENV_NAME.test(name))
      throw new AdHocRequestError(
        `agent "${req.agentId}": environment variable name "${name}" is invalid (letters, digits and "_", not starting with a digit)`,
      );
    if (RUNTIME_ENV.has(name))
      throw new AdHocRequestError(
        `agent "${req.agentId}": ${name} is set by the runtime for every agent it starts and cannot be given`,
      );
  }
  const sandbox = new Sandbox({ roots: [workspace] });
  const script = await inside(sandbox, req.agentId, 'script', req.script);
  const cwd = await inside(sandbox, req.agentId, 'cwd', req.cwd || '.');
  const [scriptStat, cwdStat] = await Promise.all([
    stat(script).catch(() => undefined),
    stat(cwd).catch(() => undefined),
  ]);
  if (!scriptStat?.isFile())
    throw new AdHocRequestError(
      `agent "${req.agentId}": script "${req.script}" does not exist in the workspace (${script})`,
    );
  if (!cwdStat?.isDirectory())
    throw new AdHocRequestError(`agent "${req.agentId}": cwd "${req.cwd}" is not a folder of the workspace (${cwd})`);
  return {
    ...defaultAgent(),
    command: 'python',
    args: [script, ...req.args],
    cwd,
    env: { ...req.env },
    restart: restart as AgentConfig['restart'],
    autostart: false,
  };
}

async function inside(sandbox: Sandbox, agentId: string, what: string, input: string): Promise<string> {
  try {
    return (await sandbox.resolve(input)).real;
  } catch (err) {
    throw new AdHocRequestError(
      `agent "${agentId}": ${what} must be inside the workspace ${sandbox.workspace}: ${messageOf(err)}`,
    );
  }
}
