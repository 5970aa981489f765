// The raw gRPC baseline for bridge.bench.py: a grpc-js server for loom.v1.Bridge with no Loom
// logic. EventStream answers every Publish with a Delivery of the same event (and every ping
// with a pong); ForwardToolCall answers at once (with as many bytes as fs:read answers). Same messages,
// same library and same loader options as the runtime, so the difference is Loom's own work.
// Prints "listening 127.0.0.1:PORT" on stdout; stops on SIGTERM/SIGINT.
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const definition = protoLoader.loadSync('loom/v1/loom.proto', {
  includeDirs: [join(root, 'proto')],
  keepCase: false,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
});
const loom = grpc.loadPackageDefinition(definition).loom.v1;

const server = new grpc.Server();
server.addService(loom.Bridge.service, {
  RegisterAgent: (_call, cb) => cb(null, { success: true }),
  Heartbeat: (_call, cb) => cb(null, { timestampMs: Date.now(), status: 'ok' }),
  // `reply_bytes` in the arguments: answer with that many bytes (the size of Loom's real answer),
  // so the baseline carries the same payload back; otherwise the arguments themselves.
  ForwardToolCall: (call, cb) => {
    let size;
    try {
      size = JSON.parse(call.request.arguments).reply_bytes;
    } catch {
      // not JSON: echo it
    }
    cb(null, {
      id: call.request.id,
      status: 'TOOL_OK',
      output: Number.isInteger(size) ? 'x'.repeat(size) : call.request.arguments,
    });
  },
  EventStream: (call) => {
    call.on('data', (msg) => {
      if (msg.msg === 'publish') call.write({ delivery: { topic: msg.publish.topic, event: msg.publish.event } });
      else if (msg.msg === 'ping') call.write({ pong: { timestampMs: Date.now(), status: 'ok' } });
    });
    call.on('end', () => call.end());
    call.on('error', () => {});
  },
});

server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => {
  if (err) {
    process.stderr.write(`echo server: ${err.message}\n`);
    process.exit(1);
  }
  process.stdout.write(`listening 127.0.0.1:${port}\n`);
});

const stop = () => server.tryShutdown(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
