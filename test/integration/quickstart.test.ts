// The README's main command runs examples/quickstart; this keeps that example true: a copy of it
// runs on the real runtime with its real Python agents, and the events it promises flow.
import { strict as assert } from 'node:assert';
import { cpSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeWorkspace, removeWorkspaces, startRuntime, stopAllRuntimes, REPO } from './helpers/runtime';

describe('examples/quickstart (the README main job)', function () {
  this.timeout(60_000);
  after(async () => {
    await stopAllRuntimes();
    removeWorkspaces();
  });

  it('prints timer, watcher, tool-call and request/reply events from its two Python agents', async () => {
    const ws = makeWorkspace();
    cpSync(join(REPO, 'examples', 'quickstart'), ws, { recursive: true, filter: (src) => !src.includes('.loom') });
    const rt = await startRuntime(ws, ['--print-events'], {
      env: { LOOM_PYTHON: process.env.LOOM_PYTHON ?? join(REPO, '.venv', 'bin', 'python') },
    });
    const line = (topic: string) =>
      rt.waitFor(`a printed ${topic} event`, () => rt.stdoutLines.find((l) => l.split(/\s+/)[1] === topic), 30_000);

    await line('agent.counter.connected');
    await line('agent.greeter.connected');
    appendFileSync(join(ws, 'notes.txt'), 'a change\n');
    assert.match(await line('fs.changed'), /"path":"notes.txt"/);
    assert.match(await line('quickstart.file'), /from counter .*"kind":"changed"/);
    assert.match(await line('timer.tick'), /from timer/);
    assert.match(await line('quickstart.tool'), /"greeting":"Hello, counter!"/);
    assert.match(await line('quickstart.greeting'), /"text":"Hello, tick \d+"/);

    await rt.stop('SIGINT');
    assert.equal(rt.exitCode, 0, 'Ctrl+C stops it cleanly');
  });
});
