// The same isolation for long-lived processes the runtime starts on the user's behalf: agents
// (`[agents.<id>] isolation`) and MCP stdio servers (`[mcp.<name>] isolation`). Opt-in, because
// they are the user's own programs and often need more than the workspace (an interpreter, a
// cache): `read_only_paths` names it, and a Python venv the command lives in is readable by itself.
// Absent loom.toml/.vscode/.git get their read-only placeholders for the process's whole life, as
// for a tool call: an empty folder or file in the workspace is the price of their not being made.
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { LoomConfig, ProcessIsolation } from '../../config';
import { confine, workspaceConfinement, type Launch } from './index';

/** The workspace and `[runtime] roots` that exist, as real paths (what the file tools use too). */
export function workspaceRoots(config: LoomConfig): string[] {
  const roots = [config.workspace, ...config.runtime.roots.map((r) => path.resolve(config.workspace, r))];
  return [...new Set(roots.filter((r) => existsSync(r)).map((r) => realpathSync.native(r)))];
}

/**
 * How to start `command args` in `cwd` under `iso`. Throws ToolError("unavailable") naming
 * `setting` when isolation is required and missing. `command` is run as given (bare names are
 * found on the PATH of the environment the caller passes).
 */
export function confineProcess(
  config: LoomConfig,
  iso: ProcessIsolation,
  command: string,
  args: string[],
  cwd: string,
  who: string,
  setting: string,
): Launch {
  const readOnly = [...iso.readOnlyPaths, ...installationOf(command)];
  const confinement = workspaceConfinement(config, workspaceRoots(config), {
    cwd: realOr(cwd),
    network: iso.network,
    extraReadOnly: readOnly,
    placeholders: true,
  });
  return confine(iso.isolation, confinement, command, args, who, setting);
}

/**
 * What a program given by absolute path needs to run: the installation it lives in
 * (`<prefix>/bin/prog` → `<prefix>`, by its real path: pyenv, nvm) and, for a Python venv, the
 * venv and the base installation its pyvenv.cfg names. Bare names are looked up in the system
 * folders, which are always there.
 */
function installationOf(command: string): string[] {
  if (!path.isAbsolute(command)) return [];
  const out = [path.dirname(path.dirname(realOr(command)))];
  const venv = path.dirname(path.dirname(command));
  const cfg = path.join(venv, 'pyvenv.cfg');
  if (existsSync(cfg)) {
    out.push(venv);
    const home = /^home\s*=\s*(.+)$/m.exec(readFileSync(cfg, 'utf8'))?.[1]?.trim();
    if (home) out.push(path.dirname(home));
  }
  // Never the home folder or above it by inference (~/bin/tool → ~): read_only_paths can say so.
  const home = os.homedir();
  return out.filter((p) => p !== '/' && !(home === p || home.startsWith(p + path.sep)));
}

function realOr(p: string): string {
  try {
    return realpathSync.native(p);
  } catch {
    return p;
  }
}
