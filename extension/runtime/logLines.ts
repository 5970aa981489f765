// The runtime's output, line by line, for the "Loom Runtime" channel: its structured JSON lines
// (runtime/log.ts) keep their level, and a file the runtime writes to (a kept-alive runtime's
// .loom/runtime.log) is followed as it grows. No vscode here, so the unit tests run it as is.
import { closeSync, openSync, readSync, statSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';

export type ChannelLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error';
export interface LogLine {
  level: ChannelLevel;
  text: string;
}

const LEVELS: Record<string, ChannelLevel> = {
  trace: 'trace',
  debug: 'debug',
  info: 'info',
  warn: 'warn',
  warning: 'warn',
  error: 'error',
  fatal: 'error',
};
/** Fields the channel shows by other means (its own timestamp and level) or in front of the message. */
const SHOWN = new Set(['ts', 'level', 'component', 'msg']);

/**
 * One output line as the channel shows it. A JSON line keeps its level and reads
 * "[component] msg key=value …"; anything else (a crash trace, a print) is info on stdout and a
 * warning on stderr, where only the unexpected arrives unstructured.
 */
export function parseRuntimeLine(line: string, stream: 'stdout' | 'stderr'): LogLine {
  const plain: LogLine = { level: stream === 'stderr' ? 'warn' : 'info', text: line };
  if (!line.startsWith('{')) return plain;
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return plain;
  }
  if (!record || typeof record !== 'object' || typeof record.msg !== 'string') return plain;
  const level = LEVELS[String(record.level).toLowerCase()] ?? 'info';
  const fields = Object.entries(record)
    .filter(([k]) => !SHOWN.has(k))
    .map(([k, v]) => `${oneLine(k)}=${typeof v === 'string' ? oneLine(v) : JSON.stringify(v)}`);
  const component = typeof record.component === 'string' ? `[${oneLine(record.component)}] ` : '';
  return { level, text: [`${component}${oneLine(record.msg)}`, ...fields].join(' ') };
}

/** Line breaks and other control characters in the channel would start a line of their own. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/**
 * A value as one line: quoted as JSON when it holds a control character. Fields carry what
 * clients sent (a refused registration's agent id): "x\n<time> [info] [tools] isolation verified"
 * showed as a line of the runtime's own.
 */
function oneLine(s: string): string {
  if (!CONTROL.test(s)) return s;
  // JSON escapes C0 controls but leaves DEL, C1 controls and the Unicode line separators as they are.
  return JSON.stringify(s).replace(
    /[\u007f-\u009f\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

export interface FileTail {
  close(): void;
}

/**
 * Follows `file` from byte `offset`: every complete line appended is handed to `onLine`. The
 * folder is watched (not the file), so a file made or replaced later is picked up; a file that
 * shrank was truncated or rotated, and is read again from its start.
 */
export function tailFile(
  file: string,
  offset: number,
  onLine: (line: string) => void,
  onReset: () => void = () => undefined,
): FileTail {
  let position = offset;
  let rest = '';
  let closed = false;
  const readNew = () => {
    if (closed) return;
    let size: number;
    try {
      size = statSync(file).size;
    } catch {
      return; // not there (yet)
    }
    if (size < position) {
      position = 0;
      rest = '';
      onReset();
    }
    if (size === position) return;
    const fd = openSync(file, 'r');
    try {
      const buf = Buffer.alloc(size - position);
      const n = readSync(fd, buf, 0, buf.length, position);
      position += n;
      const lines = (rest + buf.subarray(0, n).toString('utf8')).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) if (line) onLine(line);
    } finally {
      closeSync(fd);
    }
  };
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(dirname(file), (_event, name) => {
      if (!name || name.toString() === basename(file)) readNew();
    });
  } catch {
    // the folder is gone: nothing to follow
  }
  readNew();
  return {
    close: () => {
      closed = true;
      watcher?.close();
    },
  };
}

/**
 * Where a running process writes its stderr, when this platform can tell (Linux: /proc). A path
 * for a file, "pipe" for a pipe or socket (another window reads it), undefined when unknown.
 */
export function stderrTarget(pid: number, readlink: (path: string) => string): string | undefined {
  let target: string;
  try {
    target = readlink(`/proc/${pid}/fd/2`);
  } catch {
    return undefined;
  }
  return /^(pipe|socket):/.test(target) ? 'pipe' : target;
}
