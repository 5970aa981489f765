// Loads proto/loom/v1 at run time for @grpc/grpc-js. The generated types in ./gen describe
// exactly what this loader produces, because generate.mjs passes the same options.
import * as grpc from '@grpc/grpc-js';
import type * as protoLoader from '@grpc/proto-loader';
import * as Protobuf from 'protobufjs';
import { existsSync, readFileSync } from 'node:fs';
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

/**
 * Options of every client of a runtime's bridge. The bridge is on loopback and every call carries a
 * credential in plain text: gRPC sends calls through a proxy named by http_proxy, https_proxy or
 * grpc_proxy, loopback addresses too (a red-team pass read the workspace token at a proxy a
 * workspace's .env named), so a client never takes one.
 */
export const BRIDGE_CLIENT_OPTIONS: grpc.ChannelOptions = { 'grpc.enable_http_proxy': 0 };

export type LoomPackage = LoomGrpc['loom']['v1'] & RuntimeGrpc['loom']['v1'] & MemoryGrpc['loom']['v1'];

/** Every .proto of proto/loom/v1: the reference's wire (loom, memory) and Loom's own services (runtime). */
export const PROTO_FILES = ['loom/v1/loom.proto', 'loom/v1/runtime.proto', 'loom/v1/memory.proto'];

let cached: LoomPackage | undefined;

export function loadLoomPackage(): LoomPackage {
  if (cached) return cached;
  const root = protoRoot();
  const definition =
    prebuilt(root) ??
    // The source tree's way only: the bundle has the JSON.
    (require('@grpc/proto-loader') as typeof protoLoader).loadSync(PROTO_FILES, {
      ...LOADER_OPTIONS,
      includeDirs: [root],
    });
  const loaded = grpc.loadPackageDefinition(definition) as unknown as LoomGrpc & RuntimeGrpc & MemoryGrpc;
  cached = loaded.loom.v1 as LoomPackage;
  return cached;
}

/**
 * The protos as esbuild.mjs parsed them at build time (proto/loom.json beside the bundle's protos):
 * parsing the .proto files costs every start tens of ms. undefined in the source tree, or when the
 * file does not cover every proto this code expects (then they are parsed as usual).
 */
function prebuilt(root: string): protoLoader.PackageDefinition | undefined {
  const file = join(root, 'loom.json');
  if (!existsSync(file)) return undefined;
  const built = JSON.parse(readFileSync(file, 'utf8')) as PrebuiltProtos;
  if (!PROTO_FILES.every((f) => built.files.includes(f))) return undefined;
  return packageDefinition(built, LOADER_OPTIONS);
}

interface PrebuiltProtos {
  files: string[];
  /** protobuf.js JSON of every proto in `files`. */
  root: Protobuf.INamespace;
  /** Each method's name as proto-loader words it (lodash's camelCase), by its full name. */
  originalNames: Record<string, string>;
}

type Reflected = Protobuf.Service | Protobuf.Type | Protobuf.Enum;

/**
 * What proto-loader's fromJSON returns (@grpc/proto-loader 0.8, createPackageDefinition), save that
 * what grpc-js never reads is computed on first read: each message's and enum's descriptor and the
 * file descriptors (only reflection uses them; encoding them was most of the load). A method's
 * requestType and responseType are not enumerable, so grpc-js's Object.assign of a method onto its
 * client does not compute them.
 */
function packageDefinition(built: PrebuiltProtos, options: protoLoader.Options): protoLoader.PackageDefinition {
  const root = Protobuf.Root.fromJSON(built.root);
  root.resolveAll();
  let files: Buffer[] | undefined;
  const fileDescriptorProtos = () => {
    const ext = descriptorExt();
    return (files ??= toDescriptor(root).file.map((f: unknown) =>
      Buffer.from(ext.FileDescriptorProto.encode(f as Protobuf.Message).finish()),
    ));
  };
  const descriptorOf = (type: Protobuf.Type | Protobuf.Enum) => {
    descriptorExt();
    const d = toDescriptor(type);
    return d.$type.toObject(d, DESCRIPTOR_OPTIONS);
  };
  const message = (type: Protobuf.Type) =>
    lazy(
      lazy(
        {
          format: 'Protocol Buffer 3 DescriptorProto' as const,
          serialize: serializer(type),
          deserialize: deserializer(type, options),
        },
        'type',
        () => descriptorOf(type),
      ),
      'fileDescriptorProtos',
      fileDescriptorProtos,
    ) as protoLoader.MessageTypeDefinition<object, object>;
  const service = (svc: Protobuf.Service, name: string): protoLoader.ServiceDefinition => {
    const def: protoLoader.ServiceDefinition = {};
    for (const method of svc.methodsArray) {
      const request = method.resolvedRequestType!;
      const response = method.resolvedResponseType!;
      const full = `${name}.${method.name}`;
      const originalName = built.originalNames[full];
      if (originalName === undefined)
        throw new Error(`proto/loom.json names no method ${full}: rebuild it (node esbuild.mjs)`);
      const m = {
        path: `/${name}/${method.name}`,
        requestStream: !!method.requestStream,
        responseStream: !!method.responseStream,
        requestSerialize: serializer(request),
        requestDeserialize: deserializer(request, options),
        responseSerialize: serializer(response),
        responseDeserialize: deserializer(response, options),
        originalName,
        options: methodOptions(method.parsedOptions as Record<string, unknown>[] | undefined),
      };
      def[method.name] = lazy(
        lazy(m, 'requestType', () => message(request), false),
        'responseType',
        () => message(response),
        false,
      ) as protoLoader.MethodDefinition<object, object>;
    }
    return def;
  };
  const def: protoLoader.PackageDefinition = {};
  for (const [name, obj] of reflectionObjects(root, '')) {
    if (obj instanceof Protobuf.Service) def[name] = service(obj, name);
    else if (obj instanceof Protobuf.Type) def[name] = message(obj);
    else
      def[name] = lazy(
        lazy({ format: 'Protocol Buffer 3 EnumDescriptorProto' as const }, 'type', () => descriptorOf(obj)),
        'fileDescriptorProtos',
        fileDescriptorProtos,
      ) as protoLoader.EnumTypeDefinition;
  }
  return def;
}

/** `key` on `target`, computed by `get` on first read. */
function lazy<T extends object>(target: T, key: string, get: () => unknown, enumerable = true): T {
  let value: unknown;
  let done = false;
  return Object.defineProperty(target, key, {
    enumerable,
    configurable: true,
    get: () => {
      if (!done) [value, done] = [get(), true];
      return value;
    },
  });
}

/** proto-loader's conversion options for a descriptor's object form. */
const DESCRIPTOR_OPTIONS: Protobuf.IConversionOptions = {
  longs: String,
  enums: String,
  bytes: String,
  defaults: true,
  oneofs: true,
  json: true,
};

interface DescriptorExt {
  FileDescriptorProto: { encode(message: Protobuf.Message): Protobuf.Writer };
}

/** protobuf.js's descriptor extension (it adds toDescriptor to the reflection types): for reflection only. */
function descriptorExt(): DescriptorExt {
  return require('protobufjs/ext/descriptor') as DescriptorExt;
}

function toDescriptor(obj: Protobuf.Root | Protobuf.Type | Protobuf.Enum): Protobuf.Message & {
  $type: Protobuf.Type;
  file: unknown[];
} {
  return (obj as unknown as { toDescriptor(syntax: string): ReturnType<typeof toDescriptor> }).toDescriptor('proto3');
}

function reflectionObjects(obj: Protobuf.ReflectionObject, parent: string): [string, Reflected][] {
  const name = parent === '' ? obj.name : `${parent}.${obj.name}`;
  if (obj instanceof Protobuf.Service || obj instanceof Protobuf.Type || obj instanceof Protobuf.Enum)
    return [[name, obj]];
  if ((obj instanceof Protobuf.Namespace || obj instanceof Protobuf.Root) && obj.nested !== undefined) {
    const nested = obj.nested;
    return Object.keys(nested).flatMap((key) => reflectionObjects(nested[key]!, name));
  }
  return [];
}

function serializer(type: Protobuf.Type): (value: object) => Buffer {
  return (value) => {
    if (Array.isArray(value))
      throw new Error(`Failed to serialize message: expected object with ${type.name} structure, got array instead`);
    return type.encode(type.fromObject(value)).finish() as Buffer;
  };
}

function deserializer(type: Protobuf.Type, options: protoLoader.Options): (bytes: Buffer) => object {
  return (bytes) => type.toObject(type.decode(bytes), options as Protobuf.IConversionOptions);
}

function methodOptions(parsed: Record<string, unknown>[] | undefined): protoLoader.MethodOptions {
  const out = {
    deprecated: false,
    idempotency_level: 'IDEMPOTENCY_UNKNOWN',
    uninterpreted_option: [],
  } as unknown as protoLoader.MethodOptions & Record<string, unknown>;
  for (const item of parsed ?? [])
    for (const [key, value] of Object.entries(item)) {
      if (key === 'uninterpreted_option') (out.uninterpreted_option as unknown[]).push(item.uninterpreted_option);
      else out[key] = value;
    }
  return out;
}

export * as pb from './types';
