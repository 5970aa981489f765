// An agent's output, line by line, each line cut to a bounded length (a red-team finding: 8 MiB
// lines, kept whole by readline, ran the runtime out of memory within half a minute).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { PassThrough } from 'node:stream';
import { forEachLine, MAX_LINE_BYTES } from '../../../runtime/agents/lines';

function linesOf(chunks: Array<string | Buffer>, maxBytes?: number): string[] {
  const input = new PassThrough();
  const out: string[] = [];
  forEachLine(input, (l) => out.push(l), maxBytes);
  for (const c of chunks) input.write(c);
  input.end();
  return out;
}

const flushed = () => new Promise((r) => setImmediate(r));

describe('agents: output lines', () => {
  it('splits on newlines across chunks, drops a CR before one, and keeps a last line with none', async () => {
    const out = linesOf(['one\r\ntw', 'o\n\nthr', 'ee']);
    await flushed();
    assert.deepEqual(out, ['one', 'two', '', 'three']);
  });

  it('cuts a long line, saying how long it was, and goes on with the next', async () => {
    const out = linesOf(['abcdef', 'ghij\nnext\n'], 4);
    await flushed();
    assert.deepEqual(out, ['abcd… [cut: 10 bytes in all]', 'next']);
  });

  it('keeps multi-byte characters whole inside the limit, replacing one it cuts through', async () => {
    const out = linesOf([Buffer.from('é'.repeat(3) + '\n')], 5);
    await flushed();
    assert.deepEqual(out, ['éé\uFFFD… [cut: 6 bytes in all]']);
  });

  it("holds at most MAX_LINE_BYTES of a real process's 3 MB line without a newline", async () => {
    const child = spawn(process.execPath, [
      '-e',
      "process.stdout.write('x'.repeat(3e6)); process.stdout.write('\\nshort')",
    ]);
    const out: string[] = [];
    forEachLine(child.stdout, (l) => out.push(l));
    await new Promise((r) => child.on('close', r));
    assert.equal(out.length, 2);
    assert.equal(out[0], `${'x'.repeat(MAX_LINE_BYTES)}… [cut: 3000000 bytes in all]`);
    assert.equal(out[1], 'short');
  });
});
