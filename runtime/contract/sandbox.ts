// Contract: file confinement by REAL path, judged on a path STRING. A path is judged by where the
// operating system would take it: every symlink followed (dangling ones too, for writes), `..`
// applied after the symlink before it, as the kernel does. Anything that lands outside the
// workspace roots is refused, naming the path. Lexical checks alone are what let the reference escape.
//
// A string judged now may lead elsewhere when it is used (a folder swapped for a symlink in
// between), so the runtime's file tools do not rely on this: they walk from held directories
// (runtime/tools/fsat). This stays for what must be judged as a string: system:shell's arguments
// and working directory (runtime/tools/sandbox.ts builds it from the config), and the extension's
// editor tools, as defence in depth under the OS isolation: both confine paths by this one rule.
import { otherLiveDataFolders } from './liveRuntimes';
import { lstatSync, readlinkSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { ToolError } from './toolError';
import { messageOf } from './errors';
import { DEFAULT_DATA_DIR, dataDirOf } from './dataDir';
import { PROTECTED_ENTRIES, protectedRealPaths, protectedRootFile } from './protectedPlaces';

/** Where a path really leads. `exists` is false for a file a write would create. */
export interface ResolvedPath {
  input: string;
  real: string;
  exists: boolean;
}

export interface SandboxOptions {
  /** Workspace roots; the first is the base for relative paths. Each must exist. */
  roots: string[];
  /** Folders tools may read but never change, absolute. */
  readOnly?: string[];
  /** Folders tools may not even see (the runtime's data folder: it holds the bridge token), absolute; need not exist yet. */
  hidden?: string[];
}

/**
 * Path components no tool may write into: git runs commands named in its config and hooks, VS
 * Code the tasks in .vscode. The file tools may ask a person instead (tools.fs.protected_writes).
 */
const WRITE_PROTECTED_NAMES = new Set(PROTECTED_ENTRIES.filter((e) => e.dir).map((e) => e.name));
const MAX_SYMLINK_HOPS = 40;

export class Sandbox {
  readonly roots: readonly string[];
  private readonly readOnly: readonly string[];
  private readonly hidden: readonly string[];

  constructor(options: SandboxOptions) {
    if (!options.roots.length) throw new Error('sandbox needs at least one root');
    this.roots = dedupe(options.roots.map((r) => realpathSync.native(r)));
    this.readOnly = (options.readOnly ?? []).map((p) => realIfExists(p));
    this.hidden = (options.hidden ?? []).map((p) => path.resolve(p));
  }

  /**
   * Roots = the workspace + extra roots (relative ones against the workspace), the data folder
   * (relative to the workspace) hidden; an extra root that does not exist is skipped, and passed to
   * `skipped`.
   */
  static optionsFor(
    workspace: string,
    extraRoots: readonly string[],
    dataDir: string,
    skipped?: (root: string) => void,
  ): SandboxOptions {
    const extra: string[] = [];
    for (const root of extraRoots) {
      const abs = path.resolve(workspace, root);
      try {
        realpathSync.native(abs);
        extra.push(abs);
      } catch {
        skipped?.(abs);
      }
    }
    const real = realpathSync.native(workspace);
    return { roots: [real, ...extra], hidden: [path.resolve(real, dataDir)] };
  }

  /**
   * optionsFor a client that finds the data folder as the runtime does, from loom.toml (the
   * window's editor tools): the folder `[runtime] data_dir` names hidden, and the default one too,
   * where a runtime started before the setting changed keeps it.
   */
  static optionsForClient(workspace: string, extraRoots: readonly string[]): SandboxOptions {
    const options = Sandbox.optionsFor(workspace, extraRoots, dataDirOf(workspace));
    const fallback = path.resolve(options.roots[0], DEFAULT_DATA_DIR);
    // And the data folders of the other runtimes running now (one serving a subfolder), as the runtime's tools hide them.
    return {
      ...options,
      hidden: [...new Set([...(options.hidden ?? []), fallback, ...otherLiveDataFolders()])],
    };
  }

  get workspace(): string {
    return this.roots[0];
  }

  contains(real: string): boolean {
    return this.roots.some((root) => isWithin(root, real));
  }

  /** For reading, listing and as a working directory: follows every symlink. */
  async resolve(input: string, base?: string): Promise<ResolvedPath> {
    const real = this.realTarget(checkInput(input), base ?? this.workspace);
    this.confine(input, real.path);
    return { input, real: real.path, exists: real.exists };
  }

  /** For writing: as resolve(), and refuses the protected places. */
  async resolveForWrite(input: string, base?: string): Promise<ResolvedPath> {
    const resolved = await this.resolve(input, base);
    this.refuseProtected(input, resolved);
    return resolved;
  }

  private confine(input: string, real: string): void {
    if (!this.contains(real))
      throw new ToolError(
        'denied',
        `path ${JSON.stringify(input)} is outside the workspace roots (it resolves to ${real})`,
        { path: input, resolved: real },
      );
    // Resolved now, not at construction: the data folder is made when the runtime starts.
    if (this.hidden.some((p) => isWithin(realIfExists(p), real)))
      throw new ToolError(
        'denied',
        `path ${JSON.stringify(input)} is inside the runtime's data folder, which tools cannot see or change`,
        { path: input },
      );
  }

  /**
   * This sandbox for judging the paths of one command, its working folder and each argument: a
   * root's protected places are looked up at the first write judged and kept for the others (a
   * lookup reads git's configs, about 75 µs). A view per command: the places change between two.
   */
  forOneCommand(): this {
    const view = Object.create(this) as this;
    const kept = new Map<string, ReturnType<typeof protectedRealPaths>>();
    view.protectedPlacesOf = (root) => {
      let places = kept.get(root);
      if (!places) kept.set(root, (places = protectedRealPaths(root)));
      return places;
    };
    return view;
  }

  protected protectedPlacesOf(root: string): ReturnType<typeof protectedRealPaths> {
    return protectedRealPaths(root);
  }

  private refuseProtected(input: string, { real, exists }: ResolvedPath): void {
    const root = this.roots.find((r) => isWithin(r, real))!;
    const parts = path.relative(root, real).split(path.sep);
    const folder = parts.find((p) => WRITE_PROTECTED_NAMES.has(p.toLowerCase()));
    if (folder)
      throw new ToolError(
        'denied',
        `path ${JSON.stringify(input)} is inside a ${folder.toLowerCase()} folder, which tools may not change`,
        { path: input },
      );
    if (parts.length === 1 && protectedRootFile(parts[0]))
      throw new ToolError(
        'denied',
        `path ${JSON.stringify(input)} is the workspace's ${parts[0].toLowerCase()}, which tools may not change`,
        { path: input },
      );
    // The same places under other names: a symlinked loom.toml, a .git file naming ".bare".
    for (const r of this.roots)
      for (const { place, real: at, missing } of this.protectedPlacesOf(r)) {
        // One not there yet: a write at it, in it, or making a folder on the way to it makes it.
        if (missing && (isWithin(at, real) || (!exists && isWithin(real, at))))
          throw new ToolError(
            'denied',
            `path ${JSON.stringify(input)} would make ${at}, which the workspace's git config names (an included config or the hooks folder, not there yet): git would run what it names, so tools may not make it`,
            { path: input },
          );
        if (!missing && isWithin(at, real))
          throw new ToolError(
            'denied',
            `path ${JSON.stringify(input)} is the workspace's ${place}${protectedRootFile(place) ? '' : ' folder'} under another name (${at}), which tools may not change`,
            { path: input },
          );
      }
    const ro = this.readOnly.find((p) => isWithin(p, real));
    if (ro)
      throw new ToolError(
        'denied',
        `path ${JSON.stringify(input)} is inside the runtime's data folder ${ro}, which tools may not change`,
        { path: input },
      );
  }

  /**
   * The real path the OS would reach. The longest existing prefix is resolved by realpath(3)
   * on the raw string (so "link/.." means the link target's parent, as in the kernel); a
   * dangling symlink right after it is followed by hand; the rest does not exist yet.
   * Synchronous, as the file tools' walk is: each lookup takes microseconds, a trip through the
   * thread pool tens (system:shell checks its working folder and every argument this way).
   */
  private realTarget(input: string, base: string, hops = 0): { path: string; exists: boolean } {
    if (hops > MAX_SYMLINK_HOPS)
      throw new ToolError('denied', `path ${JSON.stringify(input)} has too many levels of symbolic links`, {
        path: input,
      });
    const absolute = path.isAbsolute(input) ? input : `${base}/${input}`;
    const parts = absolute.split('/').filter((p, i) => i === 0 || p !== '');
    for (let n = parts.length; n >= 1; n--) {
      const prefix = parts.slice(0, n).join('/') || '/';
      let realPrefix: string;
      try {
        // A missing name answers the stat with undefined, where realpath would throw (costlier).
        if (!statSync(prefix, { throwIfNoEntry: false })) continue;
        realPrefix = realpathSync.native(prefix);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' || code === 'ENOTDIR') continue;
        if (code === 'ELOOP')
          throw new ToolError('denied', `path ${JSON.stringify(input)} has too many levels of symbolic links`, {
            path: input,
          });
        throw new ToolError('failed', `cannot resolve ${JSON.stringify(input)}: ${messageOf(err)}`, { path: input });
      }
      const rest = parts.slice(n);
      if (!rest.length) return { path: realPrefix, exists: true };
      if (rest.some((p) => p === '..' || p === '.')) {
        // Past the last existing component the kernel would stop with ENOENT; collapsing
        // lexically and resolving again keeps any symlink the collapse lands on in view.
        return this.realTarget(path.resolve(realPrefix, ...rest), '/', hops + 1);
      }
      const next = path.join(realPrefix, rest[0]);
      const stat = lstatOrNull(next);
      if (stat?.isSymbolicLink()) {
        const target = readlinkSync(next);
        const followed = path.isAbsolute(target) ? target : `${realPrefix}/${target}`;
        return this.realTarget([followed, ...rest.slice(1)].join('/'), '/', hops + 1);
      }
      return { path: path.join(realPrefix, ...rest), exists: false };
    }
    return { path: path.resolve(absolute), exists: false };
  }
}

/**
 * The longest path a tool takes, in characters: PATH_MAX, the most the kernel resolves. Walking a
 * path costs per component, and one of 600 000 slashes held the runtime's thread for 45 s.
 */
export const MAX_PATH_LENGTH = 4096;

/** A path argument as the file tools and the sandbox take it: a string, not empty, no NUL, at most MAX_PATH_LENGTH. */
export function checkInput(input: string): string {
  if (typeof input !== 'string' || input === '')
    throw new ToolError('invalid_arguments', 'path must be a non-empty string');
  if (input.length > MAX_PATH_LENGTH)
    throw new ToolError(
      'invalid_arguments',
      `path is ${input.length} characters long; at most ${MAX_PATH_LENGTH} (PATH_MAX) are taken`,
      { path: `${input.slice(0, 200)}…` },
    );
  if (input.includes('\0'))
    throw new ToolError('denied', `path ${JSON.stringify(input)} contains a NUL byte`, { path: input });
  return input;
}

/** `candidate` is `root` or below it (both absolute, normalized). */
export function isWithin(root: string, candidate: string): boolean {
  if (candidate === root) return true;
  const prefix = root.endsWith(path.sep) ? root : root + path.sep;
  return candidate.startsWith(prefix);
}

function lstatOrNull(p: string) {
  try {
    return lstatSync(p, { throwIfNoEntry: false }) ?? null;
  } catch {
    return null;
  }
}

/** The real path of `p`, or `p` resolved where it does not exist (or cannot be followed). */
export function realIfExists(p: string): string {
  try {
    return realpathSync.native(p);
  } catch {
    return path.resolve(p);
  }
}

function dedupe(xs: string[]): string[] {
  return [...new Set(xs)];
}
