// dist/runtime.js, the runtime's entry: loads the bundle (dist/runtime-main.js, built from
// runtime/cli.ts) through requireInPieces, as Node's own loader would but without the one large
// read that would keep megabytes of freed memory in the process for its whole life, and runs it.
import { join } from 'node:path';
import { requireInPieces } from './contract/requireInPieces';

(requireInPieces(join(__dirname, 'runtime-main.js')) as typeof import('./cli')).run();
