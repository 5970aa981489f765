// The runtime's output as the "Loom Runtime" channel shows it, and following a log file on disk
// (real files, real fs.watch).
import * as assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readlinkSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../../runtime/log';
import { parseRuntimeLine, stderrTarget, tailFile } from '../../../extension/runtime/logLines';
import { eventually } from '../../support/eventually';

function until<T>(what: string, check: () => T | undefined, timeoutMs = 10_000): Promise<T> {
  return eventually(what, check, { timeoutMs, intervalMs: 20 });
}

describe('runtime output lines', () => {
  it("keeps the level of each line the runtime's logger writes", () => {
    const lines: string[] = [];
    const log = createLogger({ level: 'debug', component: 'bus', sink: (l) => lines.push(l) });
    log.debug('queued', { topic: 'a.b' });
    log.info('started');
    log.warn('slow consumer', { agent: 'x', lag: 3 });
    log.error('failed', { err: new Error('boom') });
    const parsed = lines.map((l) => parseRuntimeLine(l, 'stderr'));
    assert.deepEqual(
      parsed.map((p) => p.level),
      ['debug', 'info', 'warn', 'error'],
    );
    assert.equal(parsed[0]!.text, '[bus] queued topic=a.b');
    assert.equal(parsed[2]!.text, '[bus] slow consumer agent=x lag=3');
    assert.equal(parsed[3]!.text, '[bus] failed err=boom');
  });

  it('shows what a client sent on one line: a line break in a field is quoted, not a new line', () => {
    const lines: string[] = [];
    const log = createLogger({ level: 'debug', component: 'bridge', sink: (l) => lines.push(l) });
    const forged = 'x\n2026-12-05 04:49:58.727 [info] [tools] system:shell isolation verified';
    log.warn('registration refused', { agent: forged, why: 'a\u2028b' });
    const { text } = parseRuntimeLine(lines[0]!, 'stderr');
    assert.equal(text.split(/[\n\r\u2028\u2029]/).length, 1, text);
    assert.equal(text, `[bridge] registration refused agent=${JSON.stringify(forged)} why="a\\u2028b"`);
    assert.equal(parseRuntimeLine('{"msg":"two\\nlines"}', 'stdout').text, '"two\\nlines"');
  });

  it('maps trace and unknown levels, and shows lines that are not JSON as they are', () => {
    assert.equal(parseRuntimeLine('{"level":"trace","msg":"t"}', 'stderr').level, 'trace');
    assert.equal(parseRuntimeLine('{"level":"loud","msg":"t"}', 'stderr').level, 'info');
    assert.deepEqual(parseRuntimeLine('Error: crashed', 'stderr'), { level: 'warn', text: 'Error: crashed' });
    assert.deepEqual(parseRuntimeLine('hello', 'stdout'), { level: 'info', text: 'hello' });
    assert.deepEqual(parseRuntimeLine('{not json', 'stdout'), { level: 'info', text: '{not json' });
    assert.deepEqual(
      parseRuntimeLine('{"level":"error"}', 'stderr'),
      { level: 'warn', text: '{"level":"error"}' },
      'no msg: not a log record',
    );
  });

  it("tells where a process's stderr goes: a file, or a pipe another process reads", () => {
    assert.equal(
      stderrTarget(1, () => '/w/.loom/runtime.log'),
      '/w/.loom/runtime.log',
    );
    assert.equal(
      stderrTarget(1, () => 'pipe:[1234]'),
      'pipe',
    );
    assert.equal(
      stderrTarget(1, () => 'socket:[99]'),
      'pipe',
    );
    assert.equal(
      stderrTarget(1, () => {
        throw new Error('ENOENT');
      }),
      undefined,
    );
    if (process.platform === 'linux') assert.ok(stderrTarget(process.pid, readlinkSync));
  });
});

describe('tailFile', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'loom-tail-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('hands over lines appended after the offset, whole lines only, and starts over after truncation', async () => {
    const file = join(dir, 'runtime.log');
    writeFileSync(file, 'old line\n');
    const seen: string[] = [];
    let resets = 0;
    const tail = tailFile(
      file,
      9,
      (l) => seen.push(l),
      () => resets++,
    );
    try {
      appendFileSync(file, 'first\nsec');
      await until('the first line', () => (seen.length === 1 ? true : undefined));
      appendFileSync(file, 'ond\n');
      await until('the second line', () => (seen.length === 2 ? true : undefined));
      assert.deepEqual(seen, ['first', 'second']);
      truncateSync(file, 0);
      appendFileSync(file, 'after\n');
      await until('the line after truncation', () => (seen.includes('after') ? true : undefined));
      assert.equal(resets, 1);
      assert.deepEqual(seen, ['first', 'second', 'after']);
    } finally {
      tail.close();
    }
  });

  it('picks up a file created after it started following', async () => {
    const file = join(dir, 'later.log');
    const seen: string[] = [];
    const tail = tailFile(file, 0, (l) => seen.push(l));
    try {
      writeFileSync(file, 'hello\n');
      await until('the line of the new file', () => (seen.length ? true : undefined));
      assert.deepEqual(seen, ['hello']);
    } finally {
      tail.close();
    }
  });
});
