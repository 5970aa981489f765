// A bounded ring of an agent's output lines: the newest `capacity` lines are kept.
export interface LogLine {
  timestampMs: number;
  stream: 'stdout' | 'stderr';
  line: string;
}

export class LogRing {
  private readonly lines: LogLine[] = [];
  private start = 0;
  /** Lines pushed out of the ring since it was made. */
  discarded = 0;

  constructor(readonly capacity: number) {}

  push(entry: LogLine): void {
    if (this.capacity <= 0) {
      this.discarded++;
      return;
    }
    if (this.lines.length < this.capacity) {
      this.lines.push(entry);
      return;
    }
    this.lines[this.start] = entry;
    this.start = (this.start + 1) % this.capacity;
    this.discarded++;
  }

  /** Oldest first. */
  snapshot(): LogLine[] {
    return [...this.lines.slice(this.start), ...this.lines.slice(0, this.start)];
  }
}
