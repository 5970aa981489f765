// Adversarial protobuf for the fuzz part: messages built from the services' own descriptors with a
// small encoder of its own, so that it can also write what no protobuf library would — a field
// with the wrong wire type, an unknown oneof member, a length that runs past the end, a message
// cut short. Values lean on what hurts: empty, huge, deeply nested or invalid JSON in the fields
// that carry JSON, out-of-range numbers and enums, names that exist (tools, topics, ids).
import * as protoLoader from '@grpc/proto-loader';
import { PROTO_FILES, protoRoot } from '../../runtime/proto';

interface FieldDesc {
  name: string;
  number: number;
  label: string;
  type: string;
  typeName: string;
}
interface MessageDesc {
  name: string;
  field: FieldDesc[];
  nestedType?: MessageDesc[];
}
export interface MethodInfo {
  service: string;
  method: string;
  path: string;
  requestStream: boolean;
  responseStream: boolean;
  request: MessageDesc;
}

const definition = protoLoader.loadSync(PROTO_FILES, { includeDirs: [protoRoot()] });

function messageByName(name: string, scope?: MessageDesc): MessageDesc {
  const nested = scope?.nestedType?.find((n) => n.name === name);
  if (nested) return nested;
  const full = name.replace(/^\./, '');
  const def = (definition[full] ?? definition[`loom.v1.${full}`]) as { type?: MessageDesc } | undefined;
  if (!def?.type) throw new Error(`no message ${name}`);
  return def.type;
}

/** Every method of every service the runtime serves. */
export function allMethods(): MethodInfo[] {
  const out: MethodInfo[] = [];
  for (const [service, def] of Object.entries(definition)) {
    if ('format' in def) continue;
    for (const [method, m] of Object.entries(def as protoLoader.ServiceDefinition)) {
      out.push({
        service,
        method,
        path: m.path,
        requestStream: m.requestStream,
        responseStream: m.responseStream,
        request: (m.requestType as { type: MessageDesc }).type,
      });
    }
  }
  return out;
}

export function clientEventDesc(): MessageDesc {
  return messageByName('loom.v1.ClientEvent');
}

// ---------- random values ----------

export class Rng {
  constructor(private s: number) {}
  next(): number {
    // mulberry32: seeded, so a failing message can be made again from the printed seed
    let t = (this.s = (this.s + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  bytes(n: number): Buffer {
    const b = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) b[i] = this.int(256);
    return b;
  }
}

/** Names that reach real code paths: tools, topics, ids, actions the runtime knows. */
const WORDS = [
  '',
  ' ',
  'fs:read',
  'fs:write',
  'fs:list_dir',
  'fs:read_file',
  'system:shell',
  'agents:logs',
  'ui:confirm',
  'weather:get',
  'nope:nothing',
  'runtime',
  'vscode',
  'fuzz',
  'start',
  'stop',
  'restart',
  'nobody',
  '>',
  '*',
  '*.*',
  'a.>',
  'a..b',
  '.',
  '_inbox.x',
  'agent.fuzz.started',
  'fuzz.topic',
  'fuzz.>',
  '../../etc/passwd',
  '/etc/passwd',
  'C:\\x',
  '\u0000',
  '\uFFFF',
  '😀'.repeat(50),
  '%s%n',
  '${x}',
  '__proto__',
  'constructor',
  'loom.sender',
  'loom.ttl',
  'loom.hop',
  'traceparent',
  '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
];
const NUMBERS = [
  0,
  1,
  -1,
  2,
  255,
  256,
  65535,
  2 ** 31 - 1,
  -(2 ** 31),
  2 ** 32,
  2 ** 53,
  -(2 ** 53),
  Number.MAX_SAFE_INTEGER,
];

/** JSON (or not) of the kinds that break parsers and validators. */
export function nastyJson(r: Rng, big: boolean): string {
  switch (r.int(big ? 10 : 8)) {
    case 0:
      return '['.repeat(1000 + r.int(50_000)) + ']'.repeat(r.chance(0.5) ? 0 : 1000);
    case 1: {
      const depth = 500 + r.int(20_000);
      return '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
    }
    case 2:
      return '{"a":1,"a":2,"__proto__":{"polluted":true},"constructor":{"prototype":{"x":1}}}';
    case 3:
      return r.pick([
        '',
        'null',
        'true',
        '1e999999',
        '-0',
        '"x"',
        '{',
        '{"a":',
        '[1,2,',
        '{"a":1}}',
        'NaN',
        '\u0000',
        '{"a":"\\ud800"}',
      ]);
    case 4:
      return JSON.stringify({
        path: r.pick(WORDS),
        command: r.pick(WORDS),
        args: [r.pick(WORDS)],
        content: r.pick(WORDS),
      });
    case 5:
      return JSON.stringify(
        Object.fromEntries(Array.from({ length: 1 + r.int(50) }, (_, i) => [`k${i}`, r.pick(NUMBERS)])),
      );
    case 6:
      return JSON.stringify({
        type: r.pick(['object', 'string', 'nope', 42]),
        properties: { a: { $ref: '#' } },
        required: ['a'],
        pattern: '(a+)+$',
      });
    case 7:
      return `"${'\\u0000'.repeat(r.int(100))}"`;
    case 8:
      return JSON.stringify({ a: Array.from({ length: 50_000 + r.int(150_000) }, (_, i) => i) });
    default:
      return JSON.stringify({ s: 'x'.repeat(500_000 + r.int(2_500_000)) });
  }
}

function randomString(r: Rng, field: string, big: boolean): string {
  const jsonish = /argument|schema|payload|content|output|value|params|data|query|text|json/i.test(field);
  if (jsonish && r.chance(0.5)) return nastyJson(r, big);
  switch (r.int(big ? 6 : 5)) {
    case 0:
      return r.pick(WORDS);
    case 1:
      return r.bytes(r.int(40)).toString('latin1');
    case 2:
      return Array.from({ length: 1 + r.int(6) }, () =>
        r.pick(['a', 'fuzz', '*', '>', '', 'x'.repeat(r.int(300))]),
      ).join(r.pick(['.', ':', '/', '']));
    case 3:
      return r.bytes(r.int(400)).toString('utf8');
    case 4:
      return '';
    default:
      return 'y'.repeat(1_000_000 + r.int(3_500_000));
  }
}

// ---------- encoding ----------

function varint(n: bigint): Buffer {
  let v = BigInt.asUintN(64, n);
  const out: number[] = [];
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return Buffer.from(out);
}
const tag = (n: number, wire: number) => varint(BigInt((n << 3) | wire));
const lenDelim = (n: number, body: Buffer) => Buffer.concat([tag(n, 2), varint(BigInt(body.length)), body]);

function randomVarint(r: Rng): bigint {
  return r.chance(0.7)
    ? BigInt(r.pick(NUMBERS))
    : BigInt.asIntN(64, (BigInt(r.int(2 ** 32)) << 32n) | BigInt(r.int(2 ** 32)));
}

/** One field, usually as its type says, sometimes with the wrong wire type or bytes that are not what it says. */
function encodeField(r: Rng, msg: MessageDesc, f: FieldDesc, depth: number, big: boolean): Buffer {
  if (r.chance(0.03)) {
    // the wrong wire type for this field
    return r.pick([
      () => Buffer.concat([tag(f.number, 0), varint(randomVarint(r))]),
      () => lenDelim(f.number, r.bytes(r.int(30))),
      () => Buffer.concat([tag(f.number, 1), r.bytes(8)]),
      () => Buffer.concat([tag(f.number, 5), r.bytes(4)]),
      () => Buffer.concat([tag(f.number, 3), r.bytes(r.int(10))]), // start group, never ended
    ])();
  }
  switch (f.type) {
    case 'TYPE_STRING':
      return lenDelim(f.number, Buffer.from(randomString(r, f.name, big), r.chance(0.05) ? 'latin1' : 'utf8'));
    case 'TYPE_BYTES':
      return lenDelim(f.number, r.chance(0.6) ? Buffer.from(randomString(r, f.name, big)) : r.bytes(r.int(300)));
    case 'TYPE_INT64':
    case 'TYPE_INT32':
    case 'TYPE_UINT64':
    case 'TYPE_UINT32':
    case 'TYPE_BOOL':
    case 'TYPE_ENUM':
      return Buffer.concat([
        tag(f.number, 0),
        varint(f.type === 'TYPE_BOOL' && r.chance(0.7) ? BigInt(r.int(2)) : randomVarint(r)),
      ]);
    case 'TYPE_FLOAT':
      return Buffer.concat([
        tag(f.number, 5),
        r.chance(0.5) ? r.bytes(4) : Buffer.from(new Float32Array([r.pick([NaN, Infinity, -0, 1e38, 0.5])]).buffer),
      ]);
    case 'TYPE_DOUBLE':
      return Buffer.concat([tag(f.number, 1), r.bytes(8)]);
    case 'TYPE_MESSAGE': {
      const sub = messageByName(f.typeName, msg);
      return lenDelim(f.number, depth > 4 ? r.bytes(r.int(20)) : randomMessage(r, sub, depth + 1, big));
    }
    default:
      return lenDelim(f.number, r.bytes(r.int(20)));
  }
}

/** A message of type `msg`: a random subset of its fields (repeated ones several times), maybe an unknown field too. */
export function randomMessage(r: Rng, msg: MessageDesc, depth = 0, big = false): Buffer {
  const parts: Buffer[] = [];
  for (const f of msg.field) {
    if (!r.chance(0.6)) continue;
    const times = f.label === 'LABEL_REPEATED' ? r.int(depth === 0 ? 8 : 3) : r.chance(0.05) ? 2 : 1;
    for (let i = 0; i < times; i++) parts.push(encodeField(r, msg, f, depth, big && parts.length === 0));
  }
  if (r.chance(0.1)) parts.push(lenDelim(50 + r.int(1000), r.bytes(r.int(20)))); // unknown field (an unknown oneof member)
  return Buffer.concat(parts);
}

/** How a message can be broken after it is built. */
export function mangle(r: Rng, buf: Buffer): Buffer {
  if (buf.length === 0) return r.bytes(1 + r.int(10));
  switch (r.int(4)) {
    case 0:
      return buf.subarray(0, r.int(buf.length)); // cut short, likely inside a field
    case 1:
      return Buffer.concat([buf, tag(1 + r.int(20), 2), varint(BigInt(1000 + r.int(100_000)))]); // length past the end
    case 2: {
      const b = Buffer.from(buf);
      for (let i = 0; i < 1 + r.int(4); i++) b[r.int(b.length)] = r.int(256);
      return b;
    }
    default:
      return Buffer.concat([buf, varint(BigInt(r.int(2 ** 31))), r.bytes(r.int(8))]); // a stray tag
  }
}
