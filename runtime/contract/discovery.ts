// Contract: the discovery file tells clients on this machine where the runtime listens and which token
// to send. It holds a secret, so it is created 0600 and replaced atomically (write a private
// temp file, then rename) so a reader never sees half a file.
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  constants,
  fstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { loopbackHost, splitAddress } from './loomToml';

export interface DiscoveryInfo {
  address: string;
  token: string;
  pid: number;
  version: string;
  /** The headless dashboard's URL, token included, when the runtime serves one (--dashboard). */
  dashboard?: string;
  /** Loom's own MCP endpoint, when [mcp.serve] http is on (bearer token: the runtime's). */
  mcp?: string;
  /** [bridge] heartbeat_timeout_ms: a client silent for longer is dropped, so clients ping well within it. */
  heartbeatTimeoutMs?: number;
}

export const DISCOVERY_FILE = 'runtime.json';
/**
 * The VS Code window's credential (the only one that may register `vscode`), beside the
 * discovery file but apart from it: clients given the workspace token do not get it with it.
 */
export const WINDOW_CREDENTIAL_FILE = 'window.json';

export interface WindowCredential {
  /** The runtime's pid: the credential is that runtime's. */
  pid: number;
  token: string;
}

export function discoveryPath(workspace: string, dataDir: string): string {
  return join(workspace, dataDir, DISCOVERY_FILE);
}

export function writeDiscoveryFile(path: string, info: DiscoveryInfo): void {
  writePrivateJson(path, info);
}

export function writeWindowCredential(path: string, credential: WindowCredential): void {
  writePrivateJson(path, credential);
}

/** The window credential; `startedPid`: see readDiscoveryFile. */
export function readWindowCredential(
  path: string,
  onRefused?: (why: string) => void,
  startedPid?: number,
): WindowCredential | undefined {
  return readStamp(path, onRefused, startedPid);
}

/**
 * Why the file open as `fd` is not one a runtime of this user wrote, or undefined. A workspace may
 * ship a `.loom/runtime.json` of its own: a window that read it connected to the address it named
 * and gave its tools (clipboard, editor, questions) to whoever listened there.
 */
function notOurs(fd: number): { why: string; modeOnly: boolean } | undefined {
  const st = fstatSync(fd);
  if (!st.isFile()) return { why: 'it is not a regular file', modeOnly: false };
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid)
    return { why: `it is owned by uid ${st.uid}, not by this user (uid ${uid})`, modeOnly: false };
  if (process.platform !== 'win32' && (st.mode & 0o077) !== 0)
    return {
      why: `its mode is ${(st.mode & 0o777).toString(8).padStart(4, '0')}, not 0600 (the runtime writes it 0600)`,
      modeOnly: true,
    };
  return undefined;
}

/**
 * The JSON of a file a runtime of this user wrote: not through a symbolic link, not a FIFO that
 * would hold the read, owned by this user and readable by no one else. undefined when absent,
 * unreadable or not such a file (`onRefused` says why, for one that is there).
 */
function readOwnJson(path: string, onRefused?: (why: string) => void, startedPid?: number): unknown {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ELOOP') onRefused?.(`${path} is a symbolic link`);
    return undefined;
  }
  try {
    const problem = notOurs(fd);
    const parsed = problem && !problem.modeOnly ? undefined : (JSON.parse(readFileSync(fd, 'utf8')) as unknown);
    // A file system without POSIX modes (FAT, exFAT, CIFS, WSL's /mnt/c) shows 0777: the file of
    // the process this caller started is still taken (its pid says so); any other is not.
    const started =
      startedPid !== undefined && (parsed as { pid?: unknown } | undefined)?.pid === startedPid && problem?.modeOnly;
    if (problem && !started) {
      onRefused?.(`${path}: ${problem.why}`);
      return undefined;
    }
    return parsed;
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/** The pid and token of a file this module writes (both kinds have them). */
function readStamp(
  path: string,
  onRefused?: (why: string) => void,
  startedPid?: number,
): { pid: number; token: string } | undefined {
  try {
    const parsed = (readOwnJson(path, onRefused, startedPid) ?? {}) as Partial<WindowCredential>;
    return typeof parsed.pid === 'number' && typeof parsed.token === 'string'
      ? { pid: parsed.pid, token: parsed.token }
      : undefined;
  } catch {
    return undefined;
  }
}

function writePrivateJson(path: string, value: object): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    writeFileSync(tmp, JSON.stringify(value, null, 2) + '\n', { mode: 0o600, flag: 'wx' });
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

/**
 * The discovery file, when a runtime of this user wrote it (see readOwnJson) and it names a
 * loopback address; `onRefused` says why one that is there is not used. `startedPid`: the runtime
 * the caller itself started (or is), whose file is taken on a file system without modes too.
 */
export function readDiscoveryFile(
  path: string,
  onRefused?: (why: string) => void,
  startedPid?: number,
): DiscoveryInfo | undefined {
  try {
    const parsed = (readOwnJson(path, onRefused, startedPid) ?? {}) as Partial<DiscoveryInfo>;
    if (typeof parsed.address !== 'string' || typeof parsed.token !== 'string' || typeof parsed.pid !== 'number')
      return undefined;
    // 127.0.0.1 or ::1, as the runtime writes it ("localhost" may resolve to the other one).
    const host = splitAddress(parsed.address)?.host;
    if (host === undefined || host === 'localhost' || loopbackHost(host) === undefined) {
      onRefused?.(`${path} names ${JSON.stringify(parsed.address)}, not a loopback address`);
      return undefined;
    }
    return {
      address: parsed.address,
      token: parsed.token,
      pid: parsed.pid,
      version: String(parsed.version ?? ''),
      ...(typeof parsed.dashboard === 'string' ? { dashboard: parsed.dashboard } : {}),
      ...(typeof parsed.mcp === 'string' ? { mcp: parsed.mcp } : {}),
      ...(typeof parsed.heartbeatTimeoutMs === 'number' ? { heartbeatTimeoutMs: parsed.heartbeatTimeoutMs } : {}),
    };
  } catch {
    return undefined;
  }
}

/**
 * Removes the discovery file (or the window credential's) only while it still describes this
 * runtime: a newer runtime may have replaced it.
 */
export function removeDiscoveryFile(path: string, ours: Pick<DiscoveryInfo, 'pid' | 'token'>): boolean {
  const current = readStamp(path, undefined, ours.pid);
  if (!current || current.pid !== ours.pid || current.token !== ours.token) return false;
  rmSync(path, { force: true });
  return true;
}
