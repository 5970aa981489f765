// fs:read / fs:write / fs:list / fs:delete. Every path goes through the sandbox first; files are
// opened with O_NOFOLLOW and the open descriptor is checked again, so nothing swapped in between
// the check and the open gets through.
import { constants, promises as fsp, type Stats } from 'node:fs';
import path from 'node:path';
import { ToolError } from '../errors';
import type { Sandbox } from '../sandbox';
import type { ToolDefinition, ToolHandler } from '../types';

export interface FsToolOptions {
  maxReadBytes: number;
}

const MAX_LIST_ENTRIES = 100_000;
const DEFAULT_LIST_ENTRIES = 1_000;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

const pathProp = { type: 'string', minLength: 1, description: 'Relative to the workspace, or absolute inside a workspace root.' };
const encodingProp = { type: 'string', enum: ['utf8', 'base64'], default: 'utf8' };

export function fsTools(sandbox: Sandbox, options: FsToolOptions): Array<{ definition: Omit<ToolDefinition, 'provider' | 'owner'>; handler: ToolHandler }> {
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
      handler: (args) => readFile(sandbox, args as unknown as ReadArgs, options),
    },
    {
      definition: {
        name: 'fs:write',
        description: 'Write (or append to) a file inside the workspace.',
        parametersSchema: {
          type: 'object',
          properties: { path: pathProp, content: { type: 'string' }, encoding: encodingProp, create_dirs: { type: 'boolean', default: false }, append: { type: 'boolean', default: false } },
          required: ['path', 'content'],
          additionalProperties: false,
        },
      },
      handler: (args) => writeFile(sandbox, args as unknown as WriteArgs),
    },
    {
      definition: {
        name: 'fs:list',
        description: 'List a directory inside the workspace (symlinks are listed, not followed).',
        parametersSchema: {
          type: 'object',
          properties: { path: { ...pathProp, default: '.' }, recursive: { type: 'boolean', default: false }, max_entries: { type: 'integer', minimum: 1, maximum: MAX_LIST_ENTRIES, default: DEFAULT_LIST_ENTRIES } },
          additionalProperties: false,
        },
      },
      handler: (args) => listDir(sandbox, args as unknown as ListArgs),
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
      handler: (args) => deletePath(sandbox, args as unknown as DeleteArgs),
    },
  ];
}

interface ReadArgs { path: string; encoding: 'utf8' | 'base64'; max_bytes?: number }
interface WriteArgs { path: string; content: string; encoding: 'utf8' | 'base64'; create_dirs: boolean; append: boolean }
interface ListArgs { path: string; recursive: boolean; max_entries: number }
interface DeleteArgs { path: string; recursive: boolean }

async function readFile(sandbox: Sandbox, args: ReadArgs, options: FsToolOptions) {
  const target = await sandbox.resolve(args.path);
  if (!target.exists) throw noSuchFile(args.path);
  const limit = Math.min(args.max_bytes ?? options.maxReadBytes, options.maxReadBytes);
  // O_NONBLOCK: a FIFO planted in the workspace must not hang the call.
  const fh = await open(args.path, target.real, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  try {
    await sandbox.verifyOpened(fh.fd, args.path);
    const stat = await fh.stat();
    requireFile(args.path, stat);
    const buffer = Buffer.alloc(Math.min(stat.size, limit));
    let filled = 0;
    while (filled < buffer.length) {
      const { bytesRead } = await fh.read(buffer, filled, buffer.length - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    const data = buffer.subarray(0, filled);
    return {
      path: sandbox.display(target.real),
      encoding: args.encoding,
      content: data.toString(args.encoding === 'base64' ? 'base64' : 'utf8'),
      size: stat.size,
      bytes_read: filled,
      truncated: stat.size > filled,
    };
  } finally {
    await fh.close();
  }
}

async function writeFile(sandbox: Sandbox, args: WriteArgs) {
  let data: Buffer;
  if (args.encoding === 'base64') {
    const compact = args.content.replace(/\s+/g, '');
    if (!BASE64.test(compact)) throw new ToolError('invalid_arguments', 'content is not valid base64 (encoding is "base64")');
    data = Buffer.from(compact, 'base64');
  } else data = Buffer.from(args.content, 'utf8');

  let target = await sandbox.resolveForWrite(args.path);
  if (!target.exists) {
    const parent = path.dirname(target.real);
    if (args.create_dirs) {
      await fsp.mkdir(parent, { recursive: true }).catch((err) => rethrow(args.path, err));
      target = await sandbox.resolveForWrite(args.path); // the folders now exist; judge them again
    } else if (!(await isDirectory(parent))) {
      throw new ToolError('failed', `cannot write ${JSON.stringify(args.path)}: its folder does not exist (pass create_dirs: true)`, { path: args.path, errno: 'ENOENT' });
    }
  }
  const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_NOFOLLOW | constants.O_NONBLOCK | (args.append ? constants.O_APPEND : 0);
  const fh = await open(args.path, target.real, flags);
  try {
    await sandbox.verifyOpened(fh.fd, args.path);
    requireFile(args.path, await fh.stat());
    // Truncate only after the descriptor is known to be inside (no O_TRUNC at open).
    if (!args.append) await fh.truncate(0);
    let written = 0;
    while (written < data.length) written += (await fh.write(data, written, data.length - written, args.append ? null : written)).bytesWritten;
    return { path: sandbox.display(target.real), bytes_written: written, appended: args.append };
  } finally {
    await fh.close();
  }
}

interface ListEntry { path: string; type: 'file' | 'dir' | 'symlink' | 'other'; size: number }

async function listDir(sandbox: Sandbox, args: ListArgs) {
  const target = await sandbox.resolve(args.path);
  if (!target.exists) throw noSuchFile(args.path);
  if (!(await isDirectory(target.real))) throw new ToolError('failed', `${JSON.stringify(args.path)} is not a directory`, { path: args.path, errno: 'ENOTDIR' });
  const entries: ListEntry[] = [];
  const pending = [''];
  let truncated = false;
  walk: while (pending.length) {
    const rel = pending.shift()!;
    const dir = path.join(target.real, rel);
    // A directory swapped for a symlink after it was listed must not be descended into.
    if (rel && (await fsp.realpath(dir).catch(() => '')) !== dir) continue;
    const names = (await fsp.readdir(dir).catch((err) => rethrow(args.path, err))).sort();
    for (const name of names) {
      if (entries.length >= args.max_entries) {
        truncated = true;
        break walk;
      }
      const stat = await fsp.lstat(path.join(dir, name)).catch(() => null);
      if (!stat) continue;
      const entry: ListEntry = { path: rel ? `${rel}/${name}` : name, type: kindOf(stat), size: stat.size };
      entries.push(entry);
      if (args.recursive && entry.type === 'dir') pending.push(entry.path);
    }
  }
  return { path: sandbox.display(target.real), entries, truncated };
}

async function deletePath(sandbox: Sandbox, args: DeleteArgs) {
  const target = await sandbox.resolveEntry(args.path);
  const stat = target.exists ? await fsp.lstat(target.real).catch(() => null) : null;
  if (!stat) throw noSuchFile(args.path);
  const type = kindOf(stat);
  if (type === 'dir') {
    if (args.recursive) await fsp.rm(target.real, { recursive: true }).catch((err) => rethrow(args.path, err));
    else
      await fsp.rmdir(target.real).catch((err) => {
        if ((err as NodeJS.ErrnoException).code === 'ENOTEMPTY') throw new ToolError('failed', `directory ${JSON.stringify(args.path)} is not empty (pass recursive: true)`, { path: args.path, errno: 'ENOTEMPTY' });
        rethrow(args.path, err);
      });
  } else await fsp.unlink(target.real).catch((err) => rethrow(args.path, err));
  return { path: sandbox.display(target.real), deleted: true, type };
}

function kindOf(stat: Stats): ListEntry['type'] {
  if (stat.isSymbolicLink()) return 'symlink';
  if (stat.isDirectory()) return 'dir';
  if (stat.isFile()) return 'file';
  return 'other';
}

async function open(input: string, real: string, flags: number) {
  return fsp.open(real, flags, 0o666).catch((err) => rethrow(input, err));
}

async function isDirectory(p: string): Promise<boolean> {
  return (await fsp.stat(p).catch(() => null))?.isDirectory() ?? false;
}

function requireFile(input: string, stat: Stats): void {
  if (stat.isDirectory()) throw new ToolError('failed', `${JSON.stringify(input)} is a directory (use fs:list)`, { path: input, errno: 'EISDIR' });
  if (!stat.isFile()) throw new ToolError('denied', `${JSON.stringify(input)} is not a regular file`, { path: input });
}

function noSuchFile(input: string): ToolError {
  return new ToolError('failed', `no such file or directory: ${JSON.stringify(input)}`, { path: input, errno: 'ENOENT' });
}

/** OS errors as typed tool errors that name the path the caller gave. */
function rethrow(input: string, err: unknown): never {
  const e = err as NodeJS.ErrnoException;
  const name = JSON.stringify(input);
  switch (e.code) {
    case 'ENOENT':
      throw noSuchFile(input);
    case 'ELOOP':
      throw new ToolError('denied', `${name} is a symbolic link where none is allowed (it changed while being opened)`, { path: input, errno: 'ELOOP' });
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
      throw new ToolError('failed', `${name}: ${e.message ?? String(err)}`, { path: input, ...(e.code ? { errno: e.code } : {}) });
  }
}
