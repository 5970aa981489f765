// Hosts an MCP server over streamable HTTP on loopback: one SDK transport (and one server instance)
// per session, optional bearer-token check, and a Host/Origin check against DNS rebinding (a web
// page in a browser could otherwise reach a loopback port).
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { bearerMatches, isLoopbackHost } from '../localAuth';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { Logger } from '../log';

export interface McpHttpHostOptions {
  host: '127.0.0.1' | '::1';
  /** 0 = pick a free port. */
  port: number;
  /** Default "/mcp". */
  path?: string;
  /** When set, every request must carry `Authorization: Bearer <token>`. */
  token?: string;
  /**
   * Connects a fresh server instance to a session's transport; returns how to close it, and what to
   * do once the session's stream for server-initiated messages (the GET) is open.
   */
  connect: (transport: Transport) => Promise<SessionServer>;
  log?: Logger;
}

export interface SessionServer {
  close(): Promise<void>;
  onStreamOpen?(): void;
}

export interface McpHttpHost {
  port: number;
  url: string;
  sessionCount(): number;
  close(): Promise<void>;
}

function refuse(res: http.ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32001, message }, id: null }));
}

/** Returns why the request is refused, or undefined. */
function checkRequest(
  req: http.IncomingMessage,
  opts: McpHttpHostOptions,
): { status: number; message: string } | undefined {
  const hostHeader = req.headers.host ?? '';
  if (!isLoopbackHost(hostHeader)) return { status: 403, message: `Host "${hostHeader}" is not a loopback address` };
  const origin = req.headers.origin;
  if (origin !== undefined) {
    let originHost = '';
    try {
      originHost = new URL(origin).hostname;
    } catch {
      // an unparsable origin is refused below
    }
    if (!isLoopbackHost(originHost)) {
      return { status: 403, message: `Origin "${origin}" is not allowed` };
    }
  }
  if (opts.token !== undefined) {
    if (!bearerMatches(req.headers.authorization, opts.token)) {
      return { status: 401, message: 'Unauthorized: send "Authorization: Bearer <token>" (the Loom runtime token)' };
    }
  }
  return undefined;
}

/**
 * The SDK answers the GET (the stream for server-initiated messages) with a response that stays
 * open, so its handler settles only when the stream ends; its headers going out mark it open.
 */
function callWhenStreamOpens(res: http.ServerResponse, server: SessionServer): void {
  if (!server.onStreamOpen) return;
  const writeHead = res.writeHead;
  res.writeHead = function (this: http.ServerResponse, ...args: unknown[]) {
    const result = (writeHead as (...a: unknown[]) => http.ServerResponse).apply(this, args);
    if (this.statusCode === 200) setImmediate(() => server.onStreamOpen?.());
    return result;
  } as typeof res.writeHead;
}

/**
 * Sessions kept at once. A client that crashes or reconnects never ends its session, and each
 * holds a transport and a server instance (about 42 KB): 37 661 initializes took the runtime to
 * 1.6 GB. Past the limit the session used least recently is closed; its client, told 404 on its
 * next request, initializes again, as the protocol says it must.
 */
export const MAX_MCP_SESSIONS = 64;

interface Session {
  transport: StreamableHTTPServerTransport;
  server: SessionServer;
}

export async function hostMcpOverHttp(opts: McpHttpHostOptions): Promise<McpHttpHost> {
  const mountPath = opts.path ?? '/mcp';
  // In order of use, least recent first (a Map keeps insertion order; a used session is moved to the end).
  const sessions = new Map<string, Session>();
  const keep = (id: string, session: Session) => {
    sessions.delete(id);
    sessions.set(id, session);
    for (const [oldest, old] of sessions) {
      if (sessions.size <= MAX_MCP_SESSIONS) break;
      sessions.delete(oldest);
      opts.log?.debug('mcp http: session closed, the least recently used of too many', {
        session: oldest,
        limit: MAX_MCP_SESSIONS,
      });
      void old.server.close().catch(() => undefined);
    }
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://loopback');
    if (url.pathname !== mountPath) return refuse(res, 404, `Not found: MCP is served at ${mountPath}`);
    const problem = checkRequest(req, opts);
    if (problem) {
      opts.log?.warn('mcp http: request refused', { status: problem.status, reason: problem.message });
      return refuse(
        res,
        problem.status,
        problem.message,
        problem.status === 401 ? { 'www-authenticate': 'Bearer' } : {},
      );
    }
    const sessionId = req.headers['mcp-session-id'];
    if (typeof sessionId === 'string') {
      const session = sessions.get(sessionId);
      if (!session) return refuse(res, 404, `Unknown MCP session ${sessionId}; initialize again`);
      keep(sessionId, session);
      if (req.method === 'GET') callWhenStreamOpens(res, session.server);
      return session.transport.handleRequest(req, res);
    }
    if (req.method !== 'POST') return refuse(res, 400, 'Bad request: no mcp-session-id; start with an initialize POST');
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: () => randomUUID() });
    const server = await opts.connect(transport);
    transport.onclose = () => {
      if (transport.sessionId) sessions.delete(transport.sessionId);
    };
    await transport.handleRequest(req, res);
    // Anything but a successful initialize leaves no session behind.
    if (transport.sessionId) keep(transport.sessionId, { transport, server });
    else await server.close();
  };

  const httpServer = http.createServer((req, res) => {
    handle(req, res).catch((err: Error) => {
      opts.log?.error('mcp http: request failed', { error: err.message });
      if (!res.headersSent) refuse(res, 500, `Internal error: ${err.message}`);
      else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(opts.port, opts.host, () => {
      httpServer.off('error', reject);
      resolve();
    });
  });
  const port = (httpServer.address() as AddressInfo).port;
  const hostInUrl = opts.host === '::1' ? '[::1]' : opts.host;
  return {
    port,
    url: `http://${hostInUrl}:${port}${mountPath}`,
    sessionCount: () => sessions.size,
    close: async () => {
      const open = [...sessions.values()];
      sessions.clear();
      await Promise.allSettled(open.map((s) => s.server.close()));
      httpServer.closeAllConnections();
      await new Promise<void>((resolve) => httpServer.close(() => resolve()));
    },
  };
}
