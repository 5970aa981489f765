// Loads proto/loom/v1 at run time for @grpc/grpc-js. The generated types in ./gen describe
// exactly what this loader produces, because generate.mjs passes the same options.
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ProtoGrpcType as LoomGrpc } from './gen/loom';
import type { ProtoGrpcType as RuntimeGrpc } from './gen/runtime';
import type { ProtoGrpcType as MemoryGrpc } from './gen/memory';

export const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: false,
  longs: Number,
  enums: String,
  bytes: Buffer,
  defaults: true,
  oneofs: true,
};

/** proto/ sits beside the bundle in dist/, or two levels up from this file in the source tree. */
export function protoRoot(): string {
  const candidates = [join(__dirname, 'proto'), join(__dirname, '..', 'proto'), join(__dirname, '..', '..', 'proto')];
  const found = candidates.find((dir) => existsSync(join(dir, 'loom', 'v1', 'loom.proto')));
  if (!found) throw new Error(`Loom protos not found (looked in ${candidates.join(', ')})`);
  return found;
}

export type LoomPackage = LoomGrpc['loom']['v1'] & RuntimeGrpc['loom']['v1'] & MemoryGrpc['loom']['v1'];

/** Every .proto of proto/loom/v1: the reference's wire (loom, memory) and Loom's own services (runtime). */
export const PROTO_FILES = ['loom/v1/loom.proto', 'loom/v1/runtime.proto', 'loom/v1/memory.proto'];

let cached: LoomPackage | undefined;

export function loadLoomPackage(): LoomPackage {
  if (cached) return cached;
  const root = protoRoot();
  const definition = protoLoader.loadSync(PROTO_FILES, { ...LOADER_OPTIONS, includeDirs: [root] });
  const loaded = grpc.loadPackageDefinition(definition) as unknown as LoomGrpc & RuntimeGrpc & MemoryGrpc;
  cached = loaded.loom.v1 as LoomPackage;
  return cached;
}

export * as pb from './types';
