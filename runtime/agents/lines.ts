// An agent's stdout and stderr, line by line, each line cut to a bounded length. readline keeps a
// line whole however long it grows: an agent printing 8 MiB lines (or one line with no newline)
// ran the runtime out of memory within half a minute, the log ring keeping a thousand of them.
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';

/** The longest line kept, in bytes; the rest of a longer one is dropped, and the line says so. */
export const MAX_LINE_BYTES = 16 * 1024;

/** Calls `onLine` with each line of `input` (without its newline), cut to `maxBytes`. */
export function forEachLine(input: Readable, onLine: (line: string) => void, maxBytes = MAX_LINE_BYTES): void {
  let kept: Buffer[] = [];
  let keptBytes = 0;
  /** Bytes of the current line past maxBytes, dropped. */
  let dropped = 0;
  const emit = () => {
    const text = new StringDecoder('utf8').end(Buffer.concat(kept, keptBytes));
    onLine(dropped ? `${text}… [cut: ${keptBytes + dropped} bytes in all]` : text);
    kept = [];
    keptBytes = 0;
    dropped = 0;
  };
  const take = (part: Buffer) => {
    const room = maxBytes - keptBytes;
    if (part.length <= room) {
      kept.push(part);
      keptBytes += part.length;
    } else {
      if (room > 0) kept.push(part.subarray(0, room));
      keptBytes += Math.max(0, room);
      dropped += part.length - Math.max(0, room);
    }
  };
  input.on('data', (chunk: Buffer | string) => {
    let buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    for (let nl = buf.indexOf(0x0a); nl >= 0; nl = buf.indexOf(0x0a)) {
      take(buf.subarray(0, nl > 0 && buf[nl - 1] === 0x0d ? nl - 1 : nl));
      emit();
      buf = buf.subarray(nl + 1);
    }
    if (buf.length) take(buf);
  });
  input.on('end', () => {
    if (keptBytes || dropped) emit();
  });
}
