import { closeSync, openSync, readSync } from 'node:fs';
import Module from 'node:module';
import { dirname } from 'node:path';
import { StringDecoder } from 'node:string_decoder';

/** Below glibc's default mmap threshold (128 KiB), so the one buffer comes from the ordinary heap. */
const PIECE_BYTES = 64 * 1024;

/** The parts of Node's CommonJS module that loading a file by hand needs (not in @types/node). */
interface CommonJsModule {
  filename: string;
  paths: string[];
  loaded: boolean;
  exports: unknown;
  _compile(source: string, filename: string): void;
}
interface CommonJsLoader {
  new (id: string, parent?: NodeJS.Module): CommonJsModule;
  _nodeModulePaths(dir: string): string[];
}

/**
 * require() for the bundle's own large files (dist/runtime-main.js, its lazy parts, loom.toml's
 * validator), reading each 64 KiB at a time. Node reads a module whole into one growing buffer
 * (2 MiB for the runtime's 1.7 MB); glibc serves that from mmap, and freeing it raises glibc's mmap
 * threshold to its size and the heap's trim threshold to twice that, so from then on up to 4 MiB
 * of freed memory stays in the process for good: 2.7 MB of an idle runtime's 61 MB, measured
 * (test/bench/start.bench.ts). Pieces this small stay under the threshold, and the text is joined
 * in V8's heap, where it lives anyway. Otherwise the file is a module like any other: in
 * require.cache, with its own require, __dirname and source map comment.
 */
export function requireInPieces(file: string): unknown {
  const cached = require.cache[file];
  if (cached) return cached.exports;
  const Loader = Module as unknown as CommonJsLoader;
  const loaded = new Loader(file, module);
  loaded.filename = file;
  loaded.paths = Loader._nodeModulePaths(dirname(file));
  const source = readInPieces(file);
  require.cache[file] = loaded as unknown as NodeJS.Module;
  try {
    loaded._compile(source, file);
  } catch (err) {
    delete require.cache[file];
    throw err;
  }
  loaded.loaded = true;
  return loaded.exports;
}

/** A UTF-8 file's text, read through one small buffer. */
export function readInPieces(file: string): string {
  const fd = openSync(file, 'r');
  try {
    const piece = Buffer.allocUnsafeSlow(PIECE_BYTES);
    const decoder = new StringDecoder('utf8');
    let text = '';
    for (let n; (n = readSync(fd, piece, 0, PIECE_BYTES, null)) > 0;) text += decoder.write(piece.subarray(0, n));
    return text + decoder.end();
  } finally {
    closeSync(fd);
  }
}
