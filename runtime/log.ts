// Structured log lines: one JSON object per line on stderr, so a supervisor (the extension,
// systemd, CI) can parse them and a person can still read them.
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(component: string): Logger;
}

export type LogSink = (line: string) => void;

/**
 * Writes a line to stdout or stderr unless it is gone: when the process reading our pipe went away
 * (the window that launched us died), a write fails with EPIPE and the stream is destroyed; writing
 * again would fail again (and, logged, fail again: a loop that spins a core). Never throws.
 */
export function writeLine(stream: NodeJS.WriteStream, line: string): void {
  if (stream.destroyed || !stream.writable) return;
  stream.write(line + '\n');
}

export function createLogger(opts: { level?: LogLevel; component?: string; sink?: LogSink } = {}): Logger {
  const min = ORDER[opts.level ?? 'info'];
  const sink = opts.sink ?? ((line) => writeLine(process.stderr, line));
  const component = opts.component;
  const emit = (level: LogLevel, msg: string, fields?: Record<string, unknown>) => {
    if (ORDER[level] < min) return;
    const record: Record<string, unknown> = {
      ts: new Date().toISOString(),
      level,
      ...(component ? { component } : {}),
      msg,
    };
    if (fields) for (const [k, v] of Object.entries(fields)) record[k] = v instanceof Error ? v.message : v;
    sink(JSON.stringify(record));
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (c) => createLogger({ ...opts, component: component ? `${component}.${c}` : c }),
  };
}

/** A logger that drops everything, for parts used on their own in tests. */
export const silentLogger: Logger = createLogger({ sink: () => {} });
