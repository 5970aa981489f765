// A FIFO that grows by doubling and never shifts an array: queues of 65 536 entries would make
// Array#shift quadratic, and preallocating full capacity for every subscription would waste memory.
export class Ring<T> {
  private buf: (T | undefined)[] = new Array(8);
  private head = 0;
  private len = 0;

  get length(): number {
    return this.len;
  }

  push(value: T): void {
    if (this.len === this.buf.length) this.grow();
    this.buf[(this.head + this.len) & (this.buf.length - 1)] = value;
    this.len++;
  }

  /** The oldest value, left in place. */
  peek(): T | undefined {
    return this.len === 0 ? undefined : this.buf[this.head];
  }

  shift(): T | undefined {
    if (this.len === 0) return undefined;
    const v = this.buf[this.head];
    this.buf[this.head] = undefined;
    this.head = (this.head + 1) & (this.buf.length - 1);
    this.len--;
    return v;
  }

  /** What is in it, oldest first, left in place. */
  toArray(): T[] {
    const out: T[] = new Array(this.len);
    for (let i = 0; i < this.len; i++) out[i] = this.buf[(this.head + i) & (this.buf.length - 1)] as T;
    return out;
  }

  /** Empties the ring and hands back what was in it, oldest first. */
  drain(): T[] {
    const out: T[] = [];
    while (this.len > 0) out.push(this.shift() as T);
    this.buf = new Array(8);
    this.head = 0;
    return out;
  }

  private grow(): void {
    const next: (T | undefined)[] = new Array(this.buf.length * 2);
    for (let i = 0; i < this.len; i++) next[i] = this.buf[(this.head + i) & (this.buf.length - 1)];
    this.buf = next;
    this.head = 0;
  }
}
