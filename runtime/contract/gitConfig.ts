// Contract: what a repository's git config makes git run from the work tree. The config itself is
// protected with .git, but it can name files and folders elsewhere, where a tool could write them:
// the files `include.path` and `includeIf.<cond>.path` pull in (whose `core.fsmonitor` or pager git
// runs as if it were in .git/config), and the hooks folder `core.hooksPath` names (husky's
// `.husky/_`, whose wrappers run `.husky/<hook>`). Read as git reads them, without running git.
import { statSync, type Stats } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { headOfPlainFile } from './plainFile';

export interface GitConfigEntry {
  /** Lower case, as git compares it. */
  section: string;
  /** As written (git compares it case-sensitively); undefined without one. */
  subsection?: string;
  /** Lower case. */
  key: string;
  value: string;
}

/** The entries of a git config text in order: sections (`[a "b"]`, `[a.b]`), quotes, escapes, # and ; comments. */
export function gitConfigEntries(text: string): GitConfigEntry[] {
  const out: GitConfigEntry[] = [];
  let section: string | undefined;
  let subsection: string | undefined;
  // A backslash at the end of a line continues the value on the next, as git reads it.
  for (const raw of text.replace(/\\\r?\n/g, '').split('\n')) {
    let line = raw.trim();
    // git takes "[core] hooksPath = x", and "[user][core] hooksPath = x", on one line.
    for (let header; (header = /^\[\s*([A-Za-z0-9.-]+)(?:\s+"((?:[^"\\]|\\.)*)")?\s*\]/.exec(line));) {
      const [name, dotted] = header[1]!.split(/\.(.*)/s);
      section = name!.toLowerCase();
      subsection = header[2] !== undefined ? header[2].replace(/\\(.)/g, '$1') : dotted || undefined;
      line = line.slice(header[0].length).trim();
    }
    const entry = section === undefined ? null : /^([A-Za-z][A-Za-z0-9-]*)\s*(?:=\s*(.*))?$/.exec(line);
    if (entry) out.push({ section: section!, subsection, key: entry[1]!.toLowerCase(), value: value(entry[2] ?? '') });
  }
  return out;
}

function value(text: string): string {
  let out = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\\' && i + 1 < text.length) {
      const e = text[++i]!;
      out += e === 't' ? '\t' : e === 'n' ? '\n' : e;
    } else if (c === '"') quoted = !quoted;
    else if ((c === '#' || c === ';') && !quoted) break;
    else out += c;
  }
  return out.trim();
}

/** `~/x` from the home folder, else from `base`. */
function gitPath(p: string, base: string): string {
  return p.startsWith('~/') ? path.join(homedir(), p.slice(2)) : path.resolve(base, p);
}

const CONFIG_BYTES = 256 * 1024;
/** git's own limit on nested includes. */
const MAX_INCLUDE_DEPTH = 10;

export interface GitPlaces {
  /** Files git reads config from besides the repository's own: what the configs include (absolute; they may not exist). */
  includes: string[];
  /** The hooks folder core.hooksPath names (absolute), or husky's folder holding it; undefined for git's own. */
  hooks?: string;
}

/**
 * What the configs in `configs` (a repository's config, for a linked worktree its shared
 * repository's) include and where they put the hooks, for a work tree at `root`. Cached by each
 * file's identity, size and time: the file tools ask on every call.
 */
export function gitPlaces(root: string, configs: string[]): GitPlaces {
  const includes: string[] = [];
  let hooksPath: string | undefined;
  const read = (file: string, depth: number) => {
    for (const e of parsedConfig(file)) {
      if ((e.section === 'include' || e.section === 'includeif') && e.key === 'path' && e.value) {
        const target = gitPath(e.value, path.dirname(file));
        includes.push(target);
        if (depth < MAX_INCLUDE_DEPTH && !includes.slice(0, -1).includes(target)) read(target, depth + 1);
      } else if (e.section === 'core' && e.subsection === undefined && e.key === 'hookspath')
        hooksPath = e.value || undefined;
    }
  };
  for (const config of configs) read(config, 0);
  if (!hooksPath) return { includes };
  const hooks = gitPath(hooksPath, root);
  // husky 9 sets core.hooksPath to .husky/_, whose wrappers run the scripts of .husky/ itself.
  const husky = path.basename(hooks) === '_' && path.dirname(hooks) !== root;
  return { includes, hooks: husky ? path.dirname(hooks) : hooks };
}

/**
 * The configs git reads before a repository's, in git's order: the system's, then the person's
 * ($GIT_CONFIG_GLOBAL, else XDG's and ~/.gitconfig). Outside the roots no tool reaches them, but
 * a workspace can hold them: the home folder opened as one, a dotfiles repository that
 * ~/.gitconfig links into or includes. Their core.fsmonitor and hooks run in every repository.
 */
export function outerGitConfigs(env: NodeJS.ProcessEnv = process.env): string[] {
  const home = env.HOME || homedir();
  const off = (v: string | undefined) => !v || /^(0|false|no|off)$/i.test(v);
  const system = off(env.GIT_CONFIG_NOSYSTEM) ? [env.GIT_CONFIG_SYSTEM || '/etc/gitconfig'] : [];
  const global = env.GIT_CONFIG_GLOBAL
    ? [path.resolve(env.GIT_CONFIG_GLOBAL)]
    : [path.join(env.XDG_CONFIG_HOME || path.join(home, '.config'), 'git', 'config'), path.join(home, '.gitconfig')];
  return [...system, ...global];
}

/** A path through a file (ENOTDIR) or a loop is as missing as one that is not there. */
export function statOrUndefined(p: string): Stats | undefined {
  try {
    // A missing file answers undefined without an exception (thrown and caught, one costs more than the stat).
    return statSync(p, { throwIfNoEntry: false });
  } catch {
    return undefined;
  }
}

const parsed = new Map<string, { stamp: string; entries: GitConfigEntry[] }>();

function parsedConfig(file: string): GitConfigEntry[] {
  const st = statOrUndefined(file);
  if (!st?.isFile()) return [];
  const stamp = `${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
  const known = parsed.get(file);
  if (known?.stamp === stamp) return known.entries;
  const entries = gitConfigEntries(headOfPlainFile(file, CONFIG_BYTES));
  if (parsed.size > 256) parsed.clear();
  parsed.set(file, { stamp, entries });
  return entries;
}
