// Small files the runtime reads on its event loop from places others can change (a .git file, a
// worktree's commondir, a venv's pyvenv.cfg): opened without blocking and looked at before they
// are read. A FIFO (or a device) swapped in for one, say by an extracted archive or an agent's
// process, would otherwise hold the whole runtime until something wrote to it.
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';

/** The first `maxBytes` of `file` as UTF-8 text, or "" when it is missing, unreadable or not a plain file. */
export function headOfPlainFile(file: string, maxBytes = 4096): string {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch {
    return '';
  }
  try {
    if (!fstatSync(fd).isFile()) return '';
    const buffer = Buffer.alloc(maxBytes);
    return buffer.toString('utf8', 0, readSync(fd, buffer, 0, maxBytes, 0));
  } catch {
    return '';
  } finally {
    closeSync(fd);
  }
}
