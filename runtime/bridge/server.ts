// The gRPC server: every loom.v1 service on one loopback port, behind the token check, with
// message size limits from the config.
import * as grpc from '@grpc/grpc-js';
import type { AgentDirectory, Supervisor } from '../agents';
import type { Bus } from '../bus';
import type { LoomConfig } from '../config';
import type { Logger } from '../log';
import { loadLoomPackage } from '../proto';
import type { Store } from '../store';
import type { Feed } from '../feed';
import type { ToolRegistry } from '../tools';
import { callerInterceptor } from './auth';
import { RefusalBudget } from './refusalBudget';
import { endHalfOpenCalls } from './halfOpen';
import { withLenientDecoding } from './lenientDecoding';
import { capUnaryAnswers } from './answerCap';
import { Access, type Credentials } from './identity';
import { bridgeService } from './bridgeService';
import { Memory } from '../memory';
import { memoryService } from './memoryService';
import { runtimeService, type RuntimeServiceDeps } from './runtimeService';
import { storeService } from './storeService';
import { toolsService } from './toolsService';

export interface BridgeServerOptions {
  settings: LoomConfig['bridge'];
  credentials: Credentials;
  /** [agents] of loom.toml: declared ids belong to their processes; state_access grants. */
  agents: LoomConfig['agents'];
  bus: Bus;
  tools: ToolRegistry;
  store: Store;
  directory: AgentDirectory;
  supervisor: () => Supervisor | undefined;
  feed: Feed;
  log: Logger;
  /** MCP servers' states for Runtime.ListMcpServers / ControlMcpServer (absent until MCP has started). */
  mcp?: RuntimeServiceDeps['mcp'];
  reloadConfig?: RuntimeServiceDeps['reloadConfig'];
  listAgents?: RuntimeServiceDeps['listAgents'];
}

export interface BridgeServer {
  /** "127.0.0.1:PORT" (or "[::1]:PORT"). */
  readonly address: string;
  readonly port: number;
  stop(): Promise<void>;
}

const TOKEN_OFF_WARNING_EVERY_MS = 60_000;
const SHUTDOWN_GRACE_MS = 2000;
/**
 * A connection with no call open for this long is closed (GOAWAY; a gRPC client reconnects on its
 * next call, and a call that meets the GOAWAY is retried by the client library). grpc-js checks
 * every IDLE_CONNECTION_MS, and a check that finds the connection a millisecond short of idle
 * enough leaves it to the next: closed after one to two times this long. Without it, a client that
 * sent a partial HTTP/2 frame and half-closed its socket held the connection until the runtime
 * exited (found by the fuzz: a SETTINGS frame header claiming megabytes). Short, because such a
 * socket costs the runtime a descriptor and a session for the whole wait, and a quiet client pays
 * only a loopback reconnect; agents, the window and dashboards keep a stream open, so they are
 * never idle.
 */
const IDLE_CONNECTION_MS = 10_000;
const LOOPBACK = new Set(['127.0.0.1', '::1']);
/** Where the reference's clients look for the bridge by default. */
const REFERENCE_PORT = 50051;

export async function startBridgeServer(opts: BridgeServerOptions): Promise<BridgeServer> {
  const { log } = opts;
  let { settings } = opts;
  // endHalfOpenCalls first: only the first interceptor sees grpc-js's own call (halfOpen.ts).
  const interceptors: grpc.ServerInterceptor[] = [endHalfOpenCalls()];
  let warnTimer: NodeJS.Timeout | undefined;
  // Reference compatibility: its clients send no credential and look for the bridge on 50051.
  const compat = settings.compat === 'reference';
  if (compat) settings = { ...settings, requireToken: false };
  if (!settings.requireToken) {
    const warn = () =>
      log.warn(
        compat
          ? 'reference compatibility is ON (bridge.compat = "reference"): calls without a credential are accepted from any local process, as unverified identities'
          : 'bridge token check is OFF (bridge.require_token = false): any local process can drive this runtime',
      );
    warn();
    warnTimer = setInterval(warn, TOKEN_OFF_WARNING_EVERY_MS);
    warnTimer.unref();
  }
  const budget = new RefusalBudget();
  interceptors.push(
    callerInterceptor({
      credentials: opts.credentials,
      requireToken: settings.requireToken,
      budget,
      onRefused: (method, peer) => log.warn('call refused: bad or missing token', { method, peer }),
    }),
  );
  const server = new grpc.Server({
    'grpc.max_receive_message_length': settings.maxMessageBytes,
    'grpc.max_send_message_length': settings.maxMessageBytes,
    'grpc.max_connection_idle_ms': IDLE_CONNECTION_MS,
    'grpc.enable_channelz': 0,
    interceptors,
  });
  const access = new Access({
    credentials: opts.credentials,
    requireToken: settings.requireToken,
    declared: (id) => Object.hasOwn(opts.agents, id),
    liveHolder: (id) => opts.directory.liveHolder(id),
    stateGrants: (id) => (Object.hasOwn(opts.agents, id) ? opts.agents[id]!.stateAccess : []),
  });
  const pkg = loadLoomPackage();
  // Every service's requests decoded leniently and its unary answers held to max_message_bytes.
  const serve = (definition: grpc.ServiceDefinition, handlers: grpc.UntypedServiceImplementation) =>
    server.addService(...capUnaryAnswers(withLenientDecoding(definition), handlers, settings.maxMessageBytes, log));
  serve(
    pkg.Bridge.service,
    bridgeService({ ...opts, access, budget, maxBatch: settings.maxBatch, maxMessageBytes: settings.maxMessageBytes }),
  );
  serve(pkg.Tools.service, toolsService(opts.tools, access, log, settings.maxMessageBytes));
  serve(pkg.Store.service, storeService(opts.store, access, log, settings.maxMessageBytes));
  serve(pkg.Runtime.service, runtimeService({ ...opts, access }));
  serve(pkg.MemoryService.service, memoryService(new Memory(opts.store), access, log));

  // The config already allows only loopback; checked again here because this is the door.
  if (!LOOPBACK.has(settings.host))
    throw new Error(`bridge.host must be a loopback address (127.0.0.1 or ::1), got "${settings.host}"`);
  const host = settings.host.includes(':') ? `[${settings.host}]` : settings.host;
  const bind = (port: number) =>
    new Promise<number>((resolve, reject) =>
      server.bindAsync(`${host}:${port}`, grpc.ServerCredentials.createInsecure(), (err, bound) =>
        err ? reject(err) : resolve(bound),
      ),
    );
  let port: number;
  if (compat && settings.port === 0) {
    port = await bind(REFERENCE_PORT).catch((err: Error) => {
      log.warn(
        `reference compatibility: port ${REFERENCE_PORT} is taken, listening on another (set LOOM_BRIDGE_ADDR for the reference's clients)`,
        { error: err.message },
      );
      return bind(0);
    });
  } else port = await bind(settings.port);
  const address = `${host}:${port}`;
  log.info('bridge listening', { address, tokenRequired: settings.requireToken });

  return {
    address,
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        clearInterval(warnTimer);
        const force = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, SHUTDOWN_GRACE_MS);
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      }),
  };
}
