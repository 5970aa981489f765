// The same isolation for long-lived processes the runtime starts on the user's behalf: agents
// (`[agents.<id>] isolation`) and MCP stdio servers (`[mcp.<name>] isolation`). Opt-in, because
// they are the user's own programs and often need more than the workspace (an interpreter, a
// cache): `read_only_paths` names it, and a Python venv the command lives in is readable by itself.
// Absent loom.toml/.vscode/.git get their read-only placeholders for the process's whole life, as
// for a tool call: an empty folder or file in the workspace is the price of their not being made.
import { existsSync, lstatSync, readdirSync, readlinkSync, realpathSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { LoomConfig, ProcessIsolation } from '../../config';
import { headOfPlainFile } from '../../contract/plainFile';
import { realIfExists } from '../../contract/sandbox';
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
  const roots = workspaceRoots(config);
  const readOnly = [...iso.readOnlyPaths, ...installationOf(command, roots)];
  const confinement = workspaceConfinement(config, roots, {
    cwd: realIfExists(cwd),
    network: iso.network,
    extraReadOnly: readOnly,
    placeholders: true,
  });
  return confine(iso.isolation, confinement, command, args, who, setting);
}

/**
 * What a program given by absolute path needs to run: the language installation it belongs to
 * (`<prefix>/bin/python3.11` → `<prefix>`: pyenv, nvm, conda, uv), its own folder, and for a
 * Python venv the venv and the base installation its pyvenv.cfg names. Bare names are looked up
 * in the system folders, which are always there.
 *
 * A venv inside the workspace is the agent's to rewrite (its symlinks, its pyvenv.cfg), even
 * between this and the start, so what they name is bound only where it is a Python or Node
 * installation: an agent that rewrites `home = ~/.config/bin`, or points bin/python at a file in
 * ~/.ssh for a moment, must not come back with that folder in its sandbox. The program's own
 * folder is bound only where no step to it passes through the workspace.
 */
function installationOf(command: string, roots: readonly string[]): string[] {
  if (!path.isAbsolute(command)) return [];
  const out: string[] = [];
  const settled = realPathOutside(command, roots);
  if (settled) out.push(path.dirname(settled));
  const installation = installationAbove(realIfExists(command));
  if (installation) out.push(installation);
  const venv = path.dirname(path.dirname(command));
  const cfg = path.join(venv, 'pyvenv.cfg');
  if (existsSync(cfg)) {
    out.push(venv);
    const named = /^home\s*=\s*(.+)$/m.exec(headOfPlainFile(cfg))?.[1]?.trim();
    const base = named && path.isAbsolute(named) ? realIfExists(path.dirname(named)) : undefined;
    if (base && isInstallation(base)) out.push(base);
  }
  // Never the home folder or above it by inference (~/bin/tool → ~): read_only_paths can say so.
  const home = os.homedir();
  return [...new Set(out)].filter((p) => p !== '/' && !(home === p || home.startsWith(p + path.sep)));
}

/** The real path of `file` where resolving it (each symlink, each folder) never enters one of `roots`. */
function realPathOutside(file: string, roots: readonly string[]): string | undefined {
  const within = (p: string) => roots.some((r) => p === r || p.startsWith(r + path.sep));
  let p = file;
  for (let hops = 0; hops < 40; hops++) {
    const parent = realIfExists(path.dirname(p));
    const at = path.join(parent, path.basename(p));
    if (within(parent) || within(at)) return undefined;
    let target: string;
    try {
      if (!lstatSync(at).isSymbolicLink()) return at;
      target = readlinkSync(at);
    } catch {
      return undefined;
    }
    p = path.resolve(parent, target);
  }
  return undefined;
}

/** The nearest folder above `file` (nvm's npm sits five levels down) that is a language installation. */
function installationAbove(file: string): string | undefined {
  for (let dir = path.dirname(file), up = 0; up < 5 && dir !== path.dirname(dir); up++, dir = path.dirname(dir))
    if (isInstallation(dir)) return dir;
  return undefined;
}

/** A Python installation (`lib/python3.N/os.py`, free-threaded `python3.Nt`, PyPy's `pypy3.N`) or a Node one (`bin/node` beside `lib/node_modules`). */
function isInstallation(prefix: string): boolean {
  const lib = path.join(prefix, 'lib');
  try {
    if (
      readdirSync(lib).some(
        (name) => /^(?:python3\.\d+t?|pypy3\.\d+)$/.test(name) && existsSync(path.join(lib, name, 'os.py')),
      )
    )
      return true;
  } catch {
    return false;
  }
  return existsSync(path.join(prefix, 'bin', 'node')) && existsSync(path.join(lib, 'node_modules'));
}
