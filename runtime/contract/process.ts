// Contract: process helpers every process of Loom relies on the same way (the runtime's orphan
// reaper, the extension's launcher deciding whether a discovery file's runtime still lives).
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** Is a process with this pid alive (one we may not signal counts as alive)? */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Is `pid` a live process this user may signal, and not init? */
export function ownProcessAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 1) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** How /proc/net/tcp{,6} write the loopback addresses a runtime listens on. */
const PROC_ADDRESS: Record<string, string> = {
  '127.0.0.1': '0100007F',
  '::1': '00000000000000000000000001000000',
};

/**
 * Whether process `pid` holds the socket listening on `host`:`port` (127.0.0.1 or ::1), read from
 * /proc on Linux; undefined where that cannot be told. A discovery file names both: a runtime that
 * died leaves a pid another process may take, and a planted file may name any pid beside someone's
 * port (on the other loopback address, too).
 */
export function listensOn(pid: number, host: string, port: number): boolean | undefined {
  if (process.platform !== 'linux') return undefined;
  const address = PROC_ADDRESS[host];
  if (address === undefined) return false;
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    // sl local_address rem_address st ... inode: state 0A is LISTEN, the port is hex after the colon.
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10 || f[3] !== '0A') continue;
      const [ip, hexPort] = f[1]!.split(':');
      if (ip === address && parseInt(hexPort!, 16) === port) inodes.add(f[9]!);
    }
  }
  if (inodes.size === 0) return false;
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return false;
  }
  return fds.some((fd) => {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      return m !== null && inodes.has(m[1]!);
    } catch {
      return false;
    }
  });
}
