// Generates TypeScript types for proto/loom/v1 with the generator that ships with
// @grpc/proto-loader. The options here must match LOADER_OPTIONS in ./index.ts.
import { execFileSync } from 'node:child_process';
import { readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const protoDir = join(root, 'proto');
const outDir = join(root, 'runtime', 'proto', 'gen');
const files = readdirSync(join(protoDir, 'loom', 'v1'))
  .filter((f) => f.endsWith('.proto'))
  .map((f) => `loom/v1/${f}`);
rmSync(outDir, { recursive: true, force: true });
const bin = join(root, 'node_modules', '@grpc', 'proto-loader', 'build', 'bin', 'proto-loader-gen-types.js');
execFileSync(
  process.execPath,
  [
    bin,
    '--grpcLib=@grpc/grpc-js',
    '--outDir',
    outDir,
    '--includeDirs',
    protoDir,
    '--longs=Number',
    '--enums=String',
    '--defaults',
    '--oneofs',
    '--bytes=Buffer',
    '--keepCase=false',
    ...files,
  ],
  { stdio: 'inherit', cwd: root },
);
