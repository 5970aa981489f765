// fs:read / fs:write / fs:list / fs:delete. Every path is walked from held directories
// (runtime/tools/fsat): each component opened relative to the folder before it with O_NOFOLLOW,
// symlinks followed by hand, the final entry opened or removed by its name in the held folder. So
// a path that resolved inside the roots cannot lead outside when it is used, whatever is swapped
// meanwhile. On top of that: writes to files with more than one hard link are refused, the data
// folder is invisible, and loom.toml, .git/ and .vscode/ change only if a person agrees.
// Answers carry the reference's keys beside Loom's (core/src/tools/native/filesystem.rs): content;
// success, path, bytes_written; path, entries [{name, is_dir, size}]; success, path, was_directory.
import { closeSync, constants, fstatSync, openSync, promises as fsp, read, readSync, type BigIntStats } from 'node:fs';
import { ToolError } from '../errors';
import type { ConfirmFn } from '../types';
import {
  changed,
  type ConfinedFs,
  FINAL_FLAGS,
  identityOf,
  kindOf,
  listTree,
  type Located,
  missingPlaceAt,
  protectedPlaceOf,
  type ProtectedPlace,
  removeEntry,
  surveyTree,
  type TreeGuard,
  type Want,
} from '../fsat';
import type { ToolContext, ToolDefinition, ToolHandler } from '../types';

// ConfirmFn's `undefined` (nobody can be asked: no window) refuses a protected write.
export type { ConfirmFn };

export interface FsToolOptions {
  maxReadBytes: number;
  /** `tools.fs.protected_writes`: writes and deletes under loom.toml, .git/ and .vscode/. Default "deny". */
  protectedWrites?: 'deny' | 'ask';
  /** Asks a person, for protectedWrites "ask". */
  confirm?: ConfirmFn;
}

const MAX_LIST_ENTRIES = 100_000;
const DEFAULT_LIST_ENTRIES = 1_000;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

const pathProp = {
  type: 'string',
  minLength: 1,
  description: 'Relative to the workspace, or absolute inside a workspace root.',
};
const encodingProp = { type: 'string', enum: ['utf8', 'base64'], default: 'utf8' };

export function fsTools(
  files: ConfinedFs,
  options: FsToolOptions,
): Array<{ definition: Omit<ToolDefinition, 'provider' | 'owner'>; handler: ToolHandler }> {
  return [
    {
      definition: {
        name: 'fs:read',
        description: 'Read a file inside the workspace.',
        parametersSchema: {
          type: 'object',
          properties: { path: pathProp, encoding: encodingProp, max_bytes: { type: 'integer', minimum: 0 } },
          required: ['path'],
          additionalProperties: false,
        },
      },
      handler: (args) => readFile(files, args as unknown as ReadArgs, options),
    },
    {
      definition: {
        name: 'fs:write',
        description:
          'Write (or append to) a file inside the workspace. Files with more than one hard link, loom.toml, .git/ and .vscode/ are refused (see tools.fs.protected_writes).',
        parametersSchema: {
          type: 'object',
          properties: {
            path: pathProp,
            content: { type: 'string' },
            encoding: encodingProp,
            create_dirs: { type: 'boolean', default: false },
            append: { type: 'boolean', default: false },
          },
          required: ['path', 'content'],
          additionalProperties: false,
        },
      },
      handler: (args, ctx) => writeFile(files, args as unknown as WriteArgs, options, ctx),
    },
    {
      definition: {
        name: 'fs:list',
        description: 'List a directory inside the workspace (symlinks are listed, not followed).',
        parametersSchema: {
          type: 'object',
          properties: {
            path: { ...pathProp, default: '.' },
            recursive: { type: 'boolean', default: false },
            max_entries: { type: 'integer', minimum: 1, maximum: MAX_LIST_ENTRIES, default: DEFAULT_LIST_ENTRIES },
          },
          additionalProperties: false,
        },
      },
      handler: (args, ctx) => listDir(files, args as unknown as ListArgs, ctx),
    },
    {
      definition: {
        name: 'fs:delete',
        description: 'Delete a file, a symlink (not its target) or a directory inside the workspace; never a root.',
        parametersSchema: {
          type: 'object',
          properties: { path: pathProp, recursive: { type: 'boolean', default: false } },
          required: ['path'],
          additionalProperties: false,
        },
      },
      handler: (args, ctx) => deletePath(files, args as unknown as DeleteArgs, options, ctx),
    },
  ];
}

interface ReadArgs {
  path: string;
  encoding: 'utf8' | 'base64';
  max_bytes?: number;
}
interface WriteArgs {
  path: string;
  content: string;
  encoding: 'utf8' | 'base64';
  create_dirs: boolean;
  append: boolean;
}
interface ListArgs {
  path: string;
  recursive: boolean;
  max_entries: number;
}
interface DeleteArgs {
  path: string;
  recursive: boolean;
}

/** Runs `use` on where `input` leads, and closes every descriptor the walk holds, whatever happens. */
async function at<T>(files: ConfinedFs, input: string, want: Want, use: (loc: Located) => Promise<T>): Promise<T> {
  const loc = files.locate(input, want);
  try {
    if (loc.notDir)
      throw new ToolError('failed', `a component of ${JSON.stringify(input)} is not a directory`, {
        path: input,
        errno: 'ENOTDIR',
      });
    return await use(loc);
  } finally {
    if (loc.fd !== undefined) closeSync(loc.fd);
    loc.chain.close();
  }
}

function readFile(files: ConfinedFs, args: ReadArgs, options: FsToolOptions) {
  return at(files, args.path, { follow: true, dir: false, read: true }, async (loc) => {
    if (loc.missing.length) throw noSuchFile(args.path);
    if (loc.name === undefined || loc.stat?.isDirectory()) throw isADirectory(args.path);
    if (!loc.stat) throw noSuchFile(args.path);
    requireFile(args.path, loc.stat);
    const limit = Math.min(args.max_bytes ?? options.maxReadBytes, options.maxReadBytes);
    // The walk opened the file by its name in the held folder and loc.stat is the fstat of what
    // it opened (fsat/walk.ts openFinal), checked above. Only where that open failed for another
    // reason than a missing entry or a symlink is it opened here, to report that error.
    // O_NONBLOCK: a FIFO swapped in at the last moment must not hang the call (fstat refuses it).
    // Reading a file with several hard links is fine: pnpm's node_modules are made of them.
    // open, fstat and close are synchronous, as the walk's steps are (fsat/chain.ts says why).
    let fd: number;
    if (loc.fd !== undefined) fd = loc.fd;
    else
      try {
        fd = openSync(loc.chain.at(loc.name), constants.O_RDONLY | FINAL_FLAGS);
      } catch (err) {
        rethrow(args.path, err);
      }
    try {
      const stat = loc.fd === fd ? loc.stat : fstatSync(fd, { bigint: true });
      if (stat.isDirectory()) throw isADirectory(args.path);
      requireFile(args.path, stat);
      const size = Number(stat.size);
      // Unzeroed: only the bytes read (data below) are ever used.
      const buffer = Buffer.allocUnsafe(Math.min(size, limit));
      let filled = 0;
      while (filled < buffer.length) {
        const want = buffer.length - filled;
        // A small file is read at once; a large one in the thread pool, so the event loop goes on.
        const bytesRead =
          want <= SYNC_READ_BYTES ? readSync(fd, buffer, filled, want, filled) : await readAt(fd, buffer, filled, want);
        if (bytesRead === 0) break;
        filled += bytesRead;
      }
      const data = buffer.subarray(0, filled);
      return {
        path: files.display(loc.real),
        encoding: args.encoding,
        content: data.toString(args.encoding === 'base64' ? 'base64' : 'utf8'),
        size,
        bytes_read: filled,
        truncated: size > filled,
      };
    } finally {
      if (fd !== loc.fd) closeSync(fd); // the walk's descriptor is closed by at()
    }
  });
}

/** Up to this many bytes are read synchronously (microseconds from the page cache). */
const SYNC_READ_BYTES = 64 * 1024;

function readAt(fd: number, buffer: Buffer, offset: number, length: number): Promise<number> {
  return new Promise((resolve, reject) =>
    read(fd, buffer, offset, length, offset, (err, n) => (err ? reject(err) : resolve(n))),
  );
}

function writeFile(files: ConfinedFs, args: WriteArgs, options: FsToolOptions, ctx: ToolContext) {
  let data: Buffer;
  if (args.encoding === 'base64') {
    const compact = args.content.replace(/\s+/g, '');
    if (!BASE64.test(compact))
      throw new ToolError('invalid_arguments', 'content is not valid base64 (encoding is "base64")');
    data = Buffer.from(compact, 'base64');
  } else data = Buffer.from(args.content, 'utf8');

  return at(files, args.path, { follow: true, dir: false }, async (loc) => {
    if (loc.name === undefined || loc.stat?.isDirectory()) throw isADirectory(args.path);
    if (loc.missing.length && !args.create_dirs)
      throw new ToolError(
        'failed',
        `cannot write ${JSON.stringify(args.path)}: its folder does not exist (pass create_dirs: true)`,
        { path: args.path, errno: 'ENOENT' },
      );
    if (loc.stat) requireFile(args.path, loc.stat);
    const ids = [...loc.chain.ids(), ...(loc.stat ? [identityOf(loc.stat)] : [])];
    const place =
      protectedPlaceOf(
        [...loc.chain.names(), ...loc.missing, loc.name],
        !loc.missing.length && files.isRoot(loc.chain),
        ids,
        files.protectedIds(),
      ) ?? missingPlaceAt(loc.real, files.missingGitPlaces());
    if (place) await askForProtected('fs:write', args, place, 'write', options, ctx);
    for (const name of loc.missing) await makeFolder(loc, name, args.path);

    const flags = constants.O_WRONLY | constants.O_CREAT | FINAL_FLAGS | (args.append ? constants.O_APPEND : 0);
    const fh = await fsp.open(loc.chain.at(loc.name), flags, 0o666).catch((err) => rethrow(args.path, err));
    try {
      const stat = await fh.stat({ bigint: true });
      requireFile(args.path, stat);
      refuseHardLinked(args.path, stat);
      // Truncate only now that the file is known to be a plain file with one name (no O_TRUNC at open).
      if (!args.append) await fh.truncate(0);
      let written = 0;
      while (written < data.length)
        written += (await fh.write(data, written, data.length - written, args.append ? null : written)).bytesWritten;
      return { success: true, path: files.display(loc.real), bytes_written: written, appended: args.append };
    } finally {
      await fh.close();
    }
  });
}

/** create_dirs: makes `name` in the held top folder and enters it, never through a symlink that appeared there. */
async function makeFolder(loc: Located, name: string, input: string): Promise<void> {
  await fsp.mkdir(loc.chain.at(name)).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'EEXIST') rethrow(input, err);
  });
  if (typeof loc.chain.enter(name) === 'string') throw changed(input);
}

/**
 * A second name for a file may live outside the workspace (a hard link made before the agent ran,
 * or by someone else): writing through it would change that outside file. Reading stays allowed.
 * A sandboxed process cannot make such a link itself: link(2) across mounts fails with EXDEV, and
 * in the isolated namespace the workspace is its own mount.
 */
function refuseHardLinked(input: string, stat: BigIntStats): void {
  if (stat.nlink > 1n)
    throw new ToolError(
      'denied',
      `refusing to write ${JSON.stringify(input)}: it has ${stat.nlink} hard links and might be a link to a file outside the workspace`,
      { path: input, nlink: String(stat.nlink) },
    );
}

function listDir(files: ConfinedFs, args: ListArgs, ctx: ToolContext) {
  return at(files, args.path, { follow: true, dir: true }, async (loc) => {
    if (loc.missing.length) throw noSuchFile(args.path);
    const { entries, truncated } = await listTree(loc.chain, loc.data, {
      recursive: args.recursive,
      max: args.max_entries,
      signal: ctx.signal,
    }).catch((err) => rethrow(args.path, err));
    // name and is_dir are the reference's keys (is_dir false for a symlink, as its lstat says).
    return {
      path: files.display(loc.real),
      entries: entries.map((e) => ({
        ...e,
        name: e.path.slice(e.path.lastIndexOf('/') + 1),
        is_dir: e.type === 'dir',
      })),
      truncated,
    };
  }).catch((err) => {
    if (err instanceof ToolError && err.details?.errno === 'ENOTDIR')
      throw new ToolError('failed', `${JSON.stringify(args.path)} is not a directory`, {
        path: args.path,
        errno: 'ENOTDIR',
      });
    throw err;
  });
}

function deletePath(files: ConfinedFs, args: DeleteArgs, options: FsToolOptions, ctx: ToolContext) {
  return at(files, args.path, { follow: false, dir: false }, async (loc) => {
    if (loc.missing.length) throw noSuchFile(args.path);
    const chain = loc.chain;
    let { name, stat } = loc;
    if (name === undefined) {
      // The path names a folder itself ("sub/", "sub/.", "a/b/.."): delete it by its name in the folder above.
      if (files.isRoot(chain))
        throw new ToolError('denied', `refusing to delete ${JSON.stringify(args.path)}: it is a workspace root`, {
          path: args.path,
        });
      const held = chain.pop();
      name = held.name;
      stat = chain.lstat(name);
      if (!stat || identityOf(stat) !== held.id) throw changed(args.path);
    }
    if (!stat) throw noSuchFile(args.path);
    const type = kindOf(stat);
    if (type === 'dir' && files.rootWithId(identityOf(stat)))
      throw new ToolError('denied', `refusing to delete ${JSON.stringify(args.path)}: it is a workspace root`, {
        path: args.path,
      });

    const protectedIds = files.protectedIds();
    const guard: TreeGuard = {
      input: args.path,
      data: loc.data,
      rootWithId: (id) => files.rootWithId(id),
      protectedIds,
      protectedAllowed: false,
      signal: ctx.signal,
    };
    const place =
      protectedPlaceOf(
        [...chain.names(), name],
        files.isRoot(chain),
        [...chain.ids(), identityOf(stat)],
        protectedIds,
      ) ?? (type === 'dir' && args.recursive ? await protectedInside(chain, name, guard) : undefined);
    if (place) {
      await askForProtected('fs:delete', args, place, 'delete', options, ctx);
      guard.protectedAllowed = true;
    }
    try {
      if (type === 'dir' && args.recursive) await removeEntry(chain, name, guard);
      else if (type === 'dir') await fsp.rmdir(chain.at(name));
      else await fsp.unlink(chain.at(name)); // the entry itself: a symlink goes, its target stays
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOTEMPTY')
        throw new ToolError('failed', `directory ${JSON.stringify(args.path)} is not empty (pass recursive: true)`, {
          path: args.path,
          errno: 'ENOTEMPTY',
        });
      rethrow(args.path, err);
    }
    return { success: true, path: files.display(chain.path(name)), deleted: true, type, was_directory: type === 'dir' };
  });
}

/** A recursive delete looks through the tree first: it is refused (or asked about) whole, before anything goes. */
async function protectedInside(
  chain: Located['chain'],
  name: string,
  guard: TreeGuard,
): Promise<ProtectedPlace | undefined> {
  const entered = chain.enter(name);
  if (typeof entered === 'string') throw changed(guard.input);
  try {
    const found = await surveyTree(chain, guard);
    if (!found.length) return undefined;
    const shown = found.slice(0, 5).map((f) => `${guard.input.replace(/\/+$/, '')}/${f.path}`);
    return { ...found[0].place, inside: shown.join(', ') + (found.length > 5 ? ', …' : '') };
  } finally {
    chain.pop();
  }
}

const SETTING = 'tools.fs.protected_writes';

/** loom.toml, .git/ and .vscode/: refused, unless the setting says "ask" and a person agrees. */
async function askForProtected(
  tool: string,
  args: object,
  place: ProtectedPlace,
  verb: string,
  options: FsToolOptions,
  ctx: ToolContext,
): Promise<void> {
  const path = (args as { path: string }).path;
  const what = place.inside
    ? `it holds ${place.place} (${place.inside})`
    : place.place === 'loom.toml'
      ? "it is the workspace's loom.toml"
      : `it is inside ${place.place}`;
  const refusal = (why: string) =>
    new ToolError('denied', `refusing to ${verb} ${JSON.stringify(path)}: ${what}, and ${place.why}; ${why}`, {
      path,
      place: place.place,
      setting: SETTING,
    });
  if (options.protectedWrites !== 'ask') throw refusal(`tools may not change it while ${SETTING} = "deny"`);
  const answer = options.confirm
    ? await options.confirm(
        tool,
        args as Record<string, unknown>,
        `${tool} wants to ${verb} ${JSON.stringify(path)}: ${what}, and ${place.why} (${SETTING} = "ask")`,
        ctx.caller,
      )
    : undefined;
  if (answer === undefined)
    throw refusal(`${SETTING} = "ask", but nobody could be asked (no VS Code window is connected)`);
  if (!answer) throw refusal(`a person was asked (${SETTING} = "ask") and declined`);
  ctx.signal.throwIfAborted(); // the call ended while the person was thinking: do nothing
}

function isADirectory(input: string): ToolError {
  return new ToolError('failed', `${JSON.stringify(input)} is a directory (use fs:list)`, {
    path: input,
    errno: 'EISDIR',
  });
}

function requireFile(input: string, stat: BigIntStats): void {
  if (stat.isDirectory()) throw isADirectory(input);
  if (!stat.isFile()) throw new ToolError('denied', `${JSON.stringify(input)} is not a regular file`, { path: input });
}

function noSuchFile(input: string): ToolError {
  return new ToolError('failed', `no such file or directory: ${JSON.stringify(input)}`, {
    path: input,
    errno: 'ENOENT',
  });
}

/** OS errors as typed tool errors that name the path the caller gave. */
function rethrow(input: string, err: unknown): never {
  const e = err as NodeJS.ErrnoException;
  const name = JSON.stringify(input);
  switch (e.code) {
    case 'ENOENT':
      throw noSuchFile(input);
    case 'ELOOP':
      throw new ToolError(
        'denied',
        `${name} is a symbolic link where none is allowed (it changed while being opened)`,
        { path: input, errno: 'ELOOP' },
      );
    case 'EACCES':
    case 'EPERM':
      throw new ToolError('denied', `the operating system denied access to ${name}`, { path: input, errno: e.code });
    case 'EISDIR':
      throw new ToolError('failed', `${name} is a directory`, { path: input, errno: 'EISDIR' });
    case 'ENOTDIR':
      throw new ToolError('failed', `a component of ${name} is not a directory`, { path: input, errno: 'ENOTDIR' });
    case 'ENXIO':
      throw new ToolError('denied', `${name} is not a regular file`, { path: input, errno: 'ENXIO' });
    default:
      throw new ToolError('failed', `${name}: ${e.message ?? String(err)}`, {
        path: input,
        ...(e.code ? { errno: e.code } : {}),
      });
  }
}
