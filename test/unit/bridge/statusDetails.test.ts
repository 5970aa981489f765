// statusDetails: what a gRPC status message may carry in its trailer (grpc-message, percent-encoded).
import { strict as assert } from 'node:assert';
import { MAX_STATUS_DETAILS_BYTES, statusDetails } from '../../../runtime/bridge/unary';

const wire = (s: string) => encodeURI(s).length;

describe('statusDetails', () => {
  it('leaves a message that fits as it is', () => {
    const m = 'action must be one of start, stop, restart (got "go")';
    assert.equal(statusDetails(m), m);
    const accents = 'é'.repeat(400); // 9 bytes each percent-encoded: still within the limit
    assert.equal(statusDetails(accents), accents);
  });

  it('cuts a long message to fit, keeping its start and saying how long it was', () => {
    const m = `agent id "${'x'.repeat(300_000)}" is invalid`;
    const out = statusDetails(m);
    assert.ok(wire(out) <= MAX_STATUS_DETAILS_BYTES, `${wire(out)} bytes`);
    assert.ok(out.startsWith('agent id "xxx'));
    assert.ok(out.endsWith(` … [cut: ${m.length} characters in all]`), out.slice(-60));
    assert.ok(wire(out) > MAX_STATUS_DETAILS_BYTES - 100, 'uses the room it has');
  });

  it('counts the bytes percent-encoding takes, not characters', () => {
    const out = statusDetails('日本'.repeat(5000));
    assert.ok(wire(out) <= MAX_STATUS_DETAILS_BYTES, `${wire(out)} bytes`);
    assert.match(out, /^日本/);
  });

  it('replaces lone surrogates, on which encodeURI throws, and never splits a pair when cutting', () => {
    assert.equal(statusDetails('go\ud800 and \udc00!'), 'go\uFFFD and \uFFFD!');
    assert.equal(statusDetails('ok 😀'), 'ok 😀');
    for (let pad = 0; pad < 4; pad++) {
      const out = statusDetails('a'.repeat(pad) + '😀'.repeat(5000), 200);
      assert.doesNotThrow(() => encodeURI(out), `pad ${pad}`);
      assert.ok(wire(out) <= 200, `${wire(out)} bytes`);
    }
  });
});
