// What a changed setting needs (a runtime restart, or nothing: the extension applies it), and how
// many crashes of an owned runtime the window restarts.
import * as assert from 'node:assert/strict';
import { CRASH_WINDOW_MS, CrashCounter, MAX_CRASH_RESTARTS } from '../../../extension/runtime/crashes';
import { SETTING_APPLIES, classifySettingChange } from '../../../extension/settingsApply';

describe('settings: restart or live', () => {
  it('the settings handed to the runtime at launch need a restart; debounces and UI apply at once', () => {
    const changed = new Set(['loom.shell.allow', 'loom.bus.queueSizes', 'loom.editor.changeDebounceMs']);
    assert.deepEqual(
      classifySettingChange((s) => changed.has(s)),
      { restart: ['loom.shell.allow', 'loom.bus.queueSizes'], live: ['loom.editor.changeDebounceMs'] },
    );
  });

  it('a change of the whole section affects every setting', () => {
    const all = classifySettingChange((s) => 'loom'.startsWith(s) || s.startsWith('loom.'));
    assert.deepEqual(all.restart, [
      'loom.runtime.port',
      'loom.runtime.keepAlive',
      'loom.pythonPath',
      'loom.shell.allow',
      'loom.watcher.include',
      'loom.bus.queueSizes',
      'loom.cluster.servers',
      'loom.cluster.node',
      'loom.cluster.namespace',
      'loom.cluster.share',
      'loom.cluster.shareRealtime',
      'loom.cluster.offerTools',
      'loom.cluster.credsFile',
      'loom.cluster.tokenSecret',
    ]);
    assert.deepEqual(all.live, [
      'loom.runtime.autoStart',
      'loom.editor.changeDebounceMs',
      'loom.editor.selectionDebounceMs',
      'loom.editor.sendFullText',
    ]);
    assert.equal(all.restart.length + all.live.length, Object.keys(SETTING_APPLIES).length);
  });

  it("another extension's setting is none of these", () => {
    assert.deepEqual(
      classifySettingChange((s) => s === 'editor.fontSize'),
      { restart: [], live: [] },
    );
  });
});

describe('crash counter', () => {
  it(`restarts ${MAX_CRASH_RESTARTS} crashes within ${CRASH_WINDOW_MS / 60_000} minutes, not the next`, () => {
    const c = new CrashCounter();
    for (let i = 0; i < MAX_CRASH_RESTARTS; i++) assert.equal(c.record(1000 + i * 10_000), true, `crash ${i + 1}`);
    assert.equal(c.record(1000 + MAX_CRASH_RESTARTS * 10_000), false);
    assert.equal(c.count, MAX_CRASH_RESTARTS + 1);
  });

  it('crashes older than the window no longer count', () => {
    const c = new CrashCounter(2, 60_000);
    assert.equal(c.record(0), true);
    assert.equal(c.record(30_000), true);
    assert.equal(c.record(70_000), true, 'the first is more than a minute old');
    assert.equal(c.count, 2);
    assert.equal(c.record(80_000), false, 'three within a minute');
  });

  it('reset forgets them (the person restarted it)', () => {
    const c = new CrashCounter(1, 60_000);
    c.record(0);
    assert.equal(c.record(1), false);
    c.reset();
    assert.equal(c.record(2), true);
  });
});
