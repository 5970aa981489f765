// --print-events: nothing an event carries reaches the operator's terminal as a control character.
import { strict as assert } from 'node:assert';
import { createEvent, type Delivery } from '../../../runtime/bus';
import { escapeControls, formatEvent } from '../../../runtime/cli';

/** Every character the printer must never write raw. */
const UNSAFE: number[] = [
  ...Array.from({ length: 0x20 }, (_, i) => i),
  ...Array.from({ length: 0x21 }, (_, i) => 0x7f + i), // DEL and C1 0x80-0x9f
  0x2028,
  0x2029,
  0x202a,
  0x202b,
  0x202c,
  0x202d,
  0x202e,
  0x2066,
  0x2067,
  0x2068,
  0x2069,
  0x061c,
  0x200e,
  0x200f,
];
const RAW_UNSAFE = /[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/;

function delivery(topic: string, init: Parameters<typeof createEvent>[0]): Delivery {
  return {
    topic,
    event: createEvent({ timestampMs: Date.UTC(2025, 0, 1, 12, 0, 1, 234), ...init }),
    subscriptionId: 's',
    qos: 'realtime',
  };
}

describe('cli: --print-events escaping', () => {
  it('shows every unsafe character as a visible escape', () => {
    for (const code of UNSAFE) {
      const out = escapeControls(`a${String.fromCharCode(code)}b`);
      const expected =
        code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
      assert.equal(out, `a${expected}b`, `U+${code.toString(16)}`);
    }
  });

  it('leaves ordinary text alone, non-ASCII letters and emoji included', () => {
    const text = 'héllo wörld — 日本語 😀 {"a":"b\\n"} ~ \u00a0 \u00ff \u2027 \u202f \u2065 \u206a';
    assert.equal(escapeControls(text), text);
  });

  it('escapes terminal sequences in topic, type, source, sender and payload', () => {
    const osc = '\x1b]0;pwned\x07';
    const clear = '\x1b[2J';
    const line = formatEvent(
      delivery(`demo.${osc}`, {
        type: `t${clear}`,
        source: `src${osc}`,
        sender: `who\u202e${clear}`,
        payload: Buffer.from(`say ${osc}${clear}\x9b31m`),
      }),
    );
    assert.doesNotMatch(line, RAW_UNSAFE);
    assert.equal(
      line,
      '12:00:01.234  demo.\\x1b]0;pwned\\x07  t\\x1b[2J  from who\\u202e\\x1b[2J  say \\x1b]0;pwned\\x07\\x1b[2J\\x9b31m',
    );
  });

  it('names the source when there is no sender, escaped too', () => {
    const line = formatEvent(delivery('demo.a', { type: 'x', source: 'src\x1b[31m', payload: 'hi' }));
    assert.match(line, /  from src\\x1b\[31m  /);
  });

  it('joins lines of the payload with spaces; other separators stay visible', () => {
    const line = formatEvent(
      delivery('demo.a', { type: 'x', payload: Buffer.from('one\r\n\ttwo\u2028three\u2029four') }),
    );
    assert.match(line, /  one two\\u2028three\\u2029four$/);
  });

  it('counts a payload that is not UTF-8 text, or holds NUL, instead of printing it', () => {
    assert.match(
      formatEvent(delivery('demo.a', { type: 'x', payload: Buffer.from([0x41, 0xff, 0x1b]) })),
      /  <3 bytes of binary>$/,
    );
    assert.match(
      formatEvent(delivery('demo.a', { type: 'x', payload: Buffer.from([0, 1, 2]) })),
      /  <3 bytes of binary>$/,
    );
  });

  it('an escape a long payload is cut inside still cannot leak', () => {
    const line = formatEvent(
      delivery('demo.a', { type: 'x', payload: Buffer.from('x'.repeat(118) + '\x1b[2J' + 'y'.repeat(50)) }),
    );
    assert.doesNotMatch(line, RAW_UNSAFE);
    assert.match(line, /x{118}\\x1b\[…$/);
  });
});
