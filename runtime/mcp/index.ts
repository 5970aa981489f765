// The MCP part's public face. The composition root calls startMcpForRuntime once the registry,
// the bus and the built-in tools exist; everything else here is for tests and the extension.
import type { Bus } from '../bus';
import type { LoomConfig } from '../config';
import type { Logger } from '../log';
import { confineProcess, type ToolRegistry } from '../tools';
import type { McpServerInfo } from '../proto/gen/loom/v1/McpServerInfo';
import type { McpServerState } from './connection';
import type { SecretResolver } from './config';
import type { McpHttpHost } from './http-host';
import { startMcp, type McpManager } from './manager';
import type { ConfirmFn } from './policy';
import { serveMcpHttp } from './server';
import { messageOf } from '../contract/errors';

export { startMcp, stateTopic, STATE_EVENT_TYPE, type McpManager, type StartMcpOptions } from './manager';
export type { McpServerState, McpServerStatus } from './connection';
export {
  parseMcpConfig,
  expandValue,
  McpConfigError,
  RESERVED_NAMESPACES,
  type McpConfig,
  type McpServerConfig,
  type McpPolicy,
  type SecretResolver,
} from './config';
export { enforce, enforcePolicy, policyFor, servedToolPolicy, type ConfirmFn, type PolicyDecision } from './policy';
export { annotationMetadata } from './kinds';
export { toolKind, KIND_KEY, type ToolKind } from '../contract/toolKinds';
export {
  serveMcpHttp,
  serveMcpStdio,
  createLoomMcpServer,
  exposedName,
  type ServeOptions,
  type ServePolicyOptions,
  type ServedRegistry,
  type McpServeHandle,
} from './server';
export type { McpHttpHost } from './http-host';
export { serveAttachedMcpStdio, RemoteRegistry } from './attach';

export interface McpRuntime extends McpManager {
  /** The streamable HTTP endpoint when `[mcp.serve] http = true`. */
  serve?: McpHttpHost;
}

/**
 * Starts the configured external servers in the background (it never waits for them: state events
 * report their progress) and, when `[mcp.serve] http = true`, serves the registry over streamable
 * HTTP on loopback with the runtime's token. Throws McpConfigError only for a bad `[mcp.settings]` /
 * `[mcp.serve]` table; bad server entries become failed servers.
 */
export async function startMcpForRuntime(opts: {
  registry: ToolRegistry;
  bus: Bus;
  config: LoomConfig;
  /** The MCP part's logger: pass log.child('mcp'). */
  log: Logger;
  /** The runtime's bearer token (the bridge's); required by the HTTP MCP endpoint. */
  token: string;
  confirm?: ConfirmFn;
  resolveSecret?: SecretResolver;
  version?: string;
}): Promise<McpRuntime> {
  const manager = await startMcp({
    registry: opts.registry,
    bus: opts.bus,
    mcp: opts.config.mcp,
    workspace: opts.config.workspace,
    confine: (server) =>
      confineProcess(
        opts.config,
        server,
        server.command,
        server.args,
        server.cwd,
        `MCP server ${server.name}`,
        `mcp.${server.name}.isolation`,
      ),
    log: opts.log,
    confirm: opts.confirm,
    resolveSecret: opts.resolveSecret,
    version: opts.version,
  });
  const serveConfig = manager.config.serve;
  let serve: McpHttpHost | undefined;
  if (serveConfig.http) {
    try {
      serve = await serveMcpHttp({
        registry: opts.registry,
        log: opts.log,
        host: serveConfig.host as '127.0.0.1' | '::1',
        port: serveConfig.port,
        token: opts.token,
        include: serveConfig.include,
        exclude: serveConfig.exclude,
        policy: { serve: serveConfig, headlessAsk: manager.config.settings.headlessAsk, confirm: opts.confirm },
        version: opts.version,
      });
    } catch (err) {
      await manager.close();
      throw new Error(`mcp.serve: cannot listen on ${serveConfig.host}:${serveConfig.port}: ${messageOf(err)}`);
    }
  }
  return {
    ...manager,
    serve,
    close: async () => {
      await serve?.close();
      await manager.close();
    },
  };
}

/**
 * A server's state as loom.v1.McpServerInfo, for the gRPC views and the live feed. `audience`
 * "agent" leaves out what the server said on stderr (McpServerState.stderr); the person's views
 * get it after the error.
 */
export function mcpStateToWire(s: McpServerState, audience: 'person' | 'agent'): McpServerInfo {
  const stderr = audience === 'person' && s.stderr ? ` (stderr: ${s.stderr})` : '';
  return {
    name: s.name,
    state: s.status,
    transport: s.transport,
    tools: s.tools,
    lastError: s.lastError ? s.lastError + stderr : '',
    restarts: s.restarts,
    source: s.source,
    nextRestartAtMs: s.nextRestartAtMs ?? 0,
    sinceMs: s.sinceMs,
  };
}
