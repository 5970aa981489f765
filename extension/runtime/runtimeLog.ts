// The "Loom Runtime" channel: the runtime's output with its levels kept, whether it arrives over
// pipes (a runtime this window started), from .loom/runtime.log (a kept-alive runtime), or not at
// all (a runtime another window started and reads itself — the channel says so).
import { readlinkSync, statSync } from 'node:fs';
import * as vscode from 'vscode';
import { parseRuntimeLine, stderrTarget, tailFile, type LogLine } from './logLines';

/** The channel's recent lines, for the test-mode command that shows what a channel holds. */
const KEPT = 2000;

/** A log output channel that remembers its recent lines (VS Code offers no way to read a channel). */
export class KeptLog implements vscode.Disposable {
  readonly channel: vscode.LogOutputChannel;
  private readonly recent: LogLine[] = [];

  constructor(readonly name: string) {
    this.channel = vscode.window.createOutputChannel(name, { log: true });
  }

  note(text: string, level: LogLine['level'] = 'info'): void {
    this.channel[level](text);
    this.recent.push({ level, text });
    if (this.recent.length > KEPT) this.recent.splice(0, this.recent.length - KEPT);
  }

  info(text: string): void {
    this.note(text, 'info');
  }

  error(text: string): void {
    this.note(text, 'error');
  }

  /** What the channel was given lately (newest last). */
  get lines(): readonly LogLine[] {
    return this.recent;
  }

  show(): void {
    this.channel.show(true);
  }

  dispose(): void {
    this.channel.dispose();
  }
}

export class RuntimeLog extends KeptLog {
  constructor() {
    super('Loom Runtime');
  }

  /** A line of the runtime's output. */
  write(line: string, stream: 'stdout' | 'stderr'): void {
    const parsed = parseRuntimeLine(line, stream);
    this.note(parsed.text, parsed.level);
  }

  /** Follows a runtime's log file from `offset` (its end when not given) until disposed. */
  follow(file: string, offset?: number): vscode.Disposable {
    const start = offset ?? sizeOf(file);
    this.note(`following ${file}`);
    const tail = tailFile(
      file,
      start,
      (line) => this.write(line, 'stderr'),
      () => this.note(`${file} was truncated: reading it from its start`, 'warn'),
    );
    return { dispose: () => tail.close() };
  }

  /**
   * For a runtime this window attached to: follows `logFile` when the runtime writes there (it was
   * kept alive), else says where its output goes.
   */
  attach(pid: number, logFile: string): vscode.Disposable {
    const target = stderrTarget(pid, readlinkSync);
    if (target === logFile || (target === undefined && sizeOf(logFile) > 0)) return this.follow(logFile);
    this.note(
      target === 'pipe'
        ? `attached to runtime pid ${pid}, started by another window: its output goes to that window's "Loom Runtime" channel and cannot be read here (set loom.runtime.keepAlive so runtimes write ${logFile})`
        : `attached to runtime pid ${pid}: its output goes to ${target ?? 'a place this platform cannot tell'}, not to this channel`,
      'warn',
    );
    return { dispose: () => undefined };
  }
}

function sizeOf(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}
