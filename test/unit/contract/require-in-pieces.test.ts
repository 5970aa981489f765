// requireInPieces loads the runtime's own bundle files (runtime/entry.ts, the lazy parts, loom.toml's
// validator) through one 64 KiB buffer instead of Node's single read of the whole file (why:
// runtime/contract/requireInPieces.ts). It must load them exactly as require() would.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readInPieces, requireInPieces } from '../../../runtime/contract/requireInPieces';

describe('contract: requireInPieces, require() for large bundle files', () => {
  let dir: string;
  beforeEach(() => (dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'loom-pieces-')))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('decodes characters split across pieces: a 300 KB text of 2-, 3- and 4-byte characters', () => {
    // 1 + 2 + 3 + 4 bytes a round: the pieces' 64 KiB boundaries fall inside characters of every width.
    const text = 'aé€😀'.repeat(30_000);
    const file = path.join(dir, 'text.txt');
    fs.writeFileSync(file, text);
    assert.ok(fs.statSync(file).size > 4 * 64 * 1024);
    assert.equal(readInPieces(file), text);
  });

  it('loads a module of many pieces as require() would: exports, its own __dirname, its own require', () => {
    fs.writeFileSync(path.join(dir, 'sibling.js'), 'module.exports = "from the sibling";\n');
    const padding = `// ${'pad '.repeat(50)}\n`.repeat(2_000); // about 400 KB
    const file = path.join(dir, 'big.js');
    fs.writeFileSync(
      file,
      `${padding}globalThis.__loomPiecesRuns = (globalThis.__loomPiecesRuns ?? 0) + 1;\n` +
        `module.exports = { dir: __dirname, file: __filename, sibling: require('./sibling'), text: '€😀' };\n`,
    );
    const loaded = requireInPieces(file) as Record<string, string>;
    assert.deepEqual(loaded, { dir, file, sibling: 'from the sibling', text: '€😀' });
    assert.equal(require.cache[file]?.exports, loaded, 'in require.cache, as any module');
    assert.equal(requireInPieces(file), loaded, 'a second call returns the same exports');
    assert.equal(require(file), loaded, 'and so does require()');
    assert.equal((globalThis as { __loomPiecesRuns?: number }).__loomPiecesRuns, 1, 'the module ran once');
    delete require.cache[file];
  });

  it('a module that throws names its file, and a later call loads it afresh', () => {
    const file = path.join(dir, 'broken.js');
    fs.writeFileSync(file, 'module.exports = ;\n');
    assert.throws(
      () => requireInPieces(file),
      (err: Error) => err instanceof SyntaxError && (err.stack ?? '').includes(file),
    );
    assert.equal(require.cache[file], undefined, 'no half-loaded module stays cached');
    fs.writeFileSync(file, 'module.exports = 42;\n');
    assert.equal(requireInPieces(file), 42);
    delete require.cache[file];
  });

  it('a file that is not there: the error names it', () => {
    const file = path.join(dir, 'missing.js');
    assert.throws(
      () => requireInPieces(file),
      (err: NodeJS.ErrnoException) => err.code === 'ENOENT' && err.message.includes(file),
    );
  });
});
