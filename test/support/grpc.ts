// gRPC clients for the runtime built from the same protos, with the bearer token attached.
import * as grpc from '@grpc/grpc-js';
import { loadLoomPackage } from '../../runtime/proto';
import type {
  BridgeClient,
  MemoryServiceClient,
  RuntimeClient,
  StoreClient,
  ToolsClient,
  ContextItem__Output,
  ClientEvent,
  ServerEvent__Output,
} from '../../runtime/proto/types';
import type { ListStateRequest } from '../../runtime/proto/gen/loom/v1/ListStateRequest';
import type { QueryContextRequest } from '../../runtime/proto/gen/loom/v1/QueryContextRequest';
import type { StateEntry__Output } from '../../runtime/proto/gen/loom/v1/StateEntry';

export interface Clients {
  bridge: BridgeClient;
  tools: ToolsClient;
  store: StoreClient;
  runtime: RuntimeClient;
  memory: MemoryServiceClient;
  close(): void;
}

export interface ClientOptions {
  /** undefined = no authorization header at all. */
  token?: string;
  agentId?: string;
  /** Loom's clients declare their dialect on every call; "reference" sends nothing, as loom-py does. */
  dialect?: 'loom' | 'reference';
  /** A connection of its own: grpc-js otherwise shares one among clients with the same target and options. */
  ownConnection?: boolean;
}

export function authMetadata(opts: ClientOptions): grpc.Metadata {
  const md = new grpc.Metadata();
  if (opts.token !== undefined) md.set('authorization', `Bearer ${opts.token}`);
  if (opts.agentId) md.set('x-loom-agent-id', opts.agentId);
  if (opts.dialect !== 'reference') md.set('loom-dialect', 'loom');
  return md;
}

export function connect(address: string, opts: ClientOptions = {}): Clients {
  const pkg = loadLoomPackage();
  const interceptor: grpc.Interceptor = (options, next) =>
    new grpc.InterceptingCall(next(options), {
      start: (metadata, listener, nextStart) => {
        metadata.merge(authMetadata(opts));
        nextStart(metadata, listener);
      },
    });
  const channelOpts: grpc.ClientOptions = {
    interceptors: [interceptor],
    'grpc.max_receive_message_length': 64 << 20,
    'grpc.max_send_message_length': 64 << 20,
    ...(opts.ownConnection ? { 'grpc.use_local_subchannel_pool': 1 } : {}),
  };
  const creds = grpc.credentials.createInsecure();
  const bridge = new pkg.Bridge(address, creds, channelOpts);
  // One channel for all the services, so closing it closes them all.
  const channel = bridge.getChannel();
  const shared = { ...channelOpts, channelOverride: channel };
  const clients = {
    bridge,
    tools: new pkg.Tools(address, creds, shared),
    store: new pkg.Store(address, creds, shared),
    runtime: new pkg.Runtime(address, creds, shared),
    memory: new pkg.MemoryService(address, creds, shared),
  };
  return { ...clients, close: () => bridge.close() };
}

type UnaryFn<Req, Res> = (req: Req, cb: (err: grpc.ServiceError | null, res?: Res) => void) => grpc.ClientUnaryCall;

/** Promisified unary call: `await call(c.bridge, 'RegisterAgent', {...})`. */
export function call<C extends object, M extends keyof C>(
  client: C,
  method: M,
  req: C[M] extends UnaryFn<infer Req, unknown> ? Req : never,
): Promise<C[M] extends UnaryFn<never, infer Res> ? NonNullable<Res> : never> {
  return new Promise((resolve, reject) => {
    (client[method] as unknown as UnaryFn<unknown, unknown>).call(client, req, (err, res) =>
      err ? reject(err) : resolve(res as never),
    );
  });
}

/** Rejects unless the call fails; resolves with its ServiceError. */
export async function callFails<C extends object, M extends keyof C>(
  client: C,
  method: M,
  req: C[M] extends UnaryFn<infer Req, unknown> ? Req : never,
): Promise<grpc.ServiceError> {
  try {
    await call(client, method, req);
  } catch (err) {
    return err as grpc.ServiceError;
  }
  throw new Error(`${String(method)} succeeded but was expected to fail`);
}

/** Every entry of a paged call, following next_page_token (each page is cut to fit one message). */
async function followPages<T>(
  page: (pageToken: string) => Promise<{ entries: T[]; nextPageToken: string }>,
): Promise<T[]> {
  const entries: T[] = [];
  let pageToken = '';
  do {
    const next = await page(pageToken);
    entries.push(...next.entries);
    pageToken = next.nextPageToken;
  } while (pageToken);
  return entries;
}

/** Every item a QueryContext matches. */
export function queryAll(
  store: StoreClient,
  req: Omit<QueryContextRequest, 'pageToken'>,
): Promise<ContextItem__Output[]> {
  return followPages(async (pageToken) => {
    const { items, nextPageToken } = await call(store, 'QueryContext', { ...req, pageToken });
    return { entries: items, nextPageToken };
  });
}

/** Every entry a ListState lists. */
export function listAll(store: StoreClient, req: Omit<ListStateRequest, 'pageToken'>): Promise<StateEntry__Output[]> {
  return followPages((pageToken) => call(store, 'ListState', { ...req, pageToken }));
}

/** An EventStream with a queue of what the server sent, for awaiting specific messages. */
export class StreamClient {
  /** Not yet taken by next(). */
  readonly received: ServerEvent__Output[] = [];
  /** Everything the server sent, in order. */
  readonly history: ServerEvent__Output[] = [];
  readonly stream: grpc.ClientDuplexStream<ClientEvent, ServerEvent__Output>;
  status: grpc.StatusObject | undefined;
  error: grpc.ServiceError | undefined;
  ended = false;
  private waiters: (() => void)[] = [];

  constructor(clients: Clients, metadata?: grpc.Metadata) {
    this.stream = metadata ? clients.bridge.EventStream(metadata) : clients.bridge.EventStream();
    this.stream.on('data', (msg: ServerEvent__Output) => {
      this.received.push(msg);
      this.history.push(msg);
      this.wake();
    });
    this.stream.on('status', (s) => {
      this.status = s;
      this.wake();
    });
    this.stream.on('error', (e: grpc.ServiceError) => {
      this.error = e;
      this.wake();
    });
    this.stream.on('end', () => {
      this.ended = true;
      this.wake();
    });
  }

  /** Opens `agentId`'s stream the reference way (Ack{message_id = agent id} first), bound once a ping is answered. */
  static async open(clients: Clients, agentId: string): Promise<StreamClient> {
    const s = new StreamClient(clients);
    s.send({ ack: { messageId: agentId } });
    s.send({ ping: { timestampMs: 1 } });
    await s.next((m) => m.msg === 'pong', 'pong after ack');
    return s;
  }

  send(msg: ClientEvent): void {
    this.stream.write(msg);
  }

  /** The first received message (not yet taken) matching `pred`; removes it from the queue. */
  async next(
    pred: (m: ServerEvent__Output) => boolean = () => true,
    what = 'a server message',
    timeoutMs = 15_000,
  ): Promise<ServerEvent__Output> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.received.findIndex(pred);
      if (i >= 0) return this.received.splice(i, 1)[0]!;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; ${this.summary()}`);
      if (this.ended || this.error)
        throw new Error(`stream ended while waiting for ${what}: ${this.error?.message ?? 'end'}`);
      await new Promise<void>((res) => {
        const t = setTimeout(res, 100);
        this.waiters.push(() => {
          clearTimeout(t);
          res();
        });
      });
    }
  }

  /** Waits for a delivery (single or inside a batch) on exactly `topic`. */
  async delivery(
    topic: string,
    what = `a delivery on ${topic}`,
  ): Promise<{ topic: string; payload: string; metadata: Record<string, string>; type: string }> {
    const m = await this.next(
      (m) => m.delivery?.topic === topic || !!m.deliveryBatch?.deliveries.some((d) => d.topic === topic),
      what,
    );
    const d = m.delivery ?? m.deliveryBatch!.deliveries.find((x) => x.topic === topic)!;
    return {
      topic: d.topic,
      payload: d.event!.payload.toString('utf8'),
      metadata: d.event!.metadata,
      type: d.event!.type,
    };
  }

  async closed(timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.ended && !this.error && !this.status) {
      if (Date.now() > deadline) throw new Error('timed out waiting for the stream to end');
      await new Promise<void>((res) => {
        const t = setTimeout(res, 100);
        this.waiters.push(() => {
          clearTimeout(t);
          res();
        });
      });
    }
  }

  /** "received 3 delivery, 1 pong" — what is still queued, counted by kind. */
  summary(): string {
    const counts = new Map<string, number>();
    for (const m of this.received) counts.set(m.msg ?? '?', (counts.get(m.msg ?? '?') ?? 0) + 1);
    return `untaken: ${[...counts].map(([k, n]) => `${n} ${k}`).join(', ') || 'nothing'}`;
  }

  end(): void {
    this.stream.end();
  }

  cancel(): void {
    this.stream.cancel();
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}

export function event(type: string, payload: unknown, metadata: Record<string, string> = {}) {
  return { id: '', type, timestampMs: Date.now(), source: '', metadata, payload: Buffer.from(JSON.stringify(payload)) };
}
