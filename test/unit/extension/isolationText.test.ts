// What the runtime status bar item says about system:shell's OS isolation (GetStats' IsolationInfo).
import * as assert from 'node:assert/strict';
import { isolationNotice, type IsolationFacts } from '../../../extension/views/isolationText';

const MISSING =
  'bubblewrap (bwrap) is not installed (looked for /nonexistent/bwrap); install it with "apt-get install bubblewrap" (Debian/Ubuntu) or "dnf install bubblewrap" (Fedora)';
const facts = (o: Partial<IsolationFacts>): IsolationFacts => ({
  mode: 'required',
  available: true,
  mechanism: 'bubblewrap',
  detail: '/usr/bin/bwrap',
  trusted: true,
  ...o,
});

describe('isolation notice of the status bar', () => {
  it('required and unavailable: a warning naming the missing piece and the setting', () => {
    const n = isolationNotice(facts({ available: false, mechanism: 'none', detail: MISSING }))!;
    assert.equal(n.warning, true);
    assert.match(
      n.text,
      /^system:shell refuses: OS isolation is required \(tools\.shell\.isolation = "required"\) and unavailable: bubblewrap \(bwrap\) is not installed/,
    );
    assert.ok(n.text.includes('apt-get install bubblewrap'), 'says how to get it');
    assert.match(n.text, /set tools\.shell\.isolation = "best-effort" or "off" in loom\.toml\.$/);
  });

  it('best-effort and unavailable: commands run unconfined, no warning look', () => {
    const n = isolationNotice(facts({ mode: 'best-effort', available: false, mechanism: 'none', detail: MISSING }))!;
    assert.equal(n.warning, false);
    assert.match(
      n.text,
      /^system:shell runs commands unconfined: OS isolation is unavailable \(tools\.shell\.isolation = "best-effort"\): bubblewrap \(bwrap\) is not installed/,
    );
  });

  it('off: says isolation is off, whether or not bubblewrap works', () => {
    for (const available of [true, false]) {
      const n = isolationNotice(facts({ mode: 'off', available }))!;
      assert.equal(n.warning, false);
      assert.match(
        n.text,
        /^OS isolation is off \(tools\.shell\.isolation = "off" in loom\.toml\): system:shell runs commands unconfined/,
      );
    }
  });

  it('available: names the mechanism and the setting', () => {
    assert.deepEqual(isolationNotice(facts({})), {
      warning: false,
      text: 'system:shell runs commands under bubblewrap (tools.shell.isolation = "required").',
    });
    assert.deepEqual(isolationNotice(facts({ mode: 'best-effort' })), {
      warning: false,
      text: 'system:shell runs commands under bubblewrap (tools.shell.isolation = "best-effort").',
    });
  });

  it('nothing for an untrusted workspace (no shell at all) or a runtime that does not say', () => {
    assert.equal(isolationNotice(facts({ trusted: false, available: false })), undefined);
    assert.equal(isolationNotice(null), undefined);
    assert.equal(isolationNotice(undefined), undefined);
    assert.equal(isolationNotice(facts({ mode: '' })), undefined);
  });

  it('a detail that ends its sentence is not given a second full stop', () => {
    const n = isolationNotice(facts({ available: false, detail: 'bwrap cannot create the sandbox here.' }))!;
    assert.ok(n.text.includes('here. To run'), n.text);
    assert.ok(!n.text.includes('..'));
  });
});
