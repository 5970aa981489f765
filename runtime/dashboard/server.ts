// The dashboard for a runtime with no VS Code: the same UI as the panel, served over HTTP on
// loopback. Every request must carry the runtime's token (the page and its assets in the query
// string, since a browser cannot set headers on them; API calls as `authorization: Bearer`), and
// the Host header must name the loopback address, so a web page elsewhere cannot reach it by
// DNS rebinding.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import { bearerMatches, isLoopbackHost, sameToken } from '../localAuth';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../log';
import { FeedOptionError, resolveFeedOptions, skipWhileBlocked, type Feed } from '../feed';
import { feedUpdateToWire, type ActionResult, type DashboardAction } from '../contract/dashboard';
import type { DashboardActions } from './actions';
import { messageOf } from '../contract/errors';

export interface DashboardServerOptions {
  feed: Feed;
  actions: DashboardActions;
  token: string;
  /** Folder holding webview.js and webview.css (dist/). */
  assetsDir: string;
  host?: string;
  port?: number;
  log: Logger;
}

export interface DashboardServer {
  /** The page's URL, token included. */
  url: string;
  port: number;
  close(): Promise<void>;
}

const MAX_BODY = 1 << 20;
/** What a browser loads by URL, token in the query string. */
const PAGE_PATHS = new Set(['/', '/webview.js', '/webview.css']);

export async function startDashboardServer(o: DashboardServerOptions): Promise<DashboardServer> {
  const host = o.host ?? '127.0.0.1';
  const open = new Set<ServerResponse>();

  // The page and its assets carry the token in the query string: a browser cannot set headers on
  // them. The API takes it in the header only, as the page sends it: a token in a URL ends up in
  // logs and histories, and a form another site posts carries no header.
  const authorized = (req: IncomingMessage, url: URL): boolean =>
    req.headers.authorization !== undefined
      ? bearerMatches(req.headers.authorization, o.token)
      : req.method === 'GET' && PAGE_PATHS.has(url.pathname) && sameToken(url.searchParams.get('token') ?? '', o.token);

  const server = createServer(async (req, res) => {
    try {
      const port = (server.address() as AddressInfo).port;
      const url = new URL(req.url ?? '/', `http://${host}:${port}`);
      if (!isLoopbackHost(req.headers.host) || !req.headers.host?.endsWith(`:${port}`))
        return send(res, 403, 'text/plain', 'Forbidden: the dashboard answers only on its loopback address.');
      if (!authorized(req, url))
        return send(
          res,
          401,
          'text/plain',
          'Unauthorized: the runtime token is missing or wrong (see .loom/runtime.json, "dashboard").',
        );
      if (req.method === 'GET' && url.pathname === '/') {
        const { html, csp } = page(url.searchParams.get('token')!);
        return send(res, 200, 'text/html; charset=utf-8', html, csp);
      }
      if (req.method === 'GET' && url.pathname === '/webview.js')
        return send(res, 200, 'text/javascript; charset=utf-8', await readFile(join(o.assetsDir, 'webview.js')));
      if (req.method === 'GET' && url.pathname === '/webview.css')
        return send(res, 200, 'text/css; charset=utf-8', await readFile(join(o.assetsDir, 'webview.css')));
      if (req.method === 'GET' && url.pathname === '/api/feed') return streamFeed(url, res);
      if (req.method === 'POST' && url.pathname === '/api/action')
        return send(res, 200, 'application/json', JSON.stringify(await act(await readBody(req))));
      return send(res, 404, 'text/plain', `Not found: ${req.method} ${url.pathname}`);
    } catch (e) {
      o.log.warn('dashboard request failed', { error: e as Error });
      if (!res.headersSent) send(res, 500, 'text/plain', messageOf(e));
      else res.end();
    }
  });

  function streamFeed(url: URL, res: ServerResponse): void {
    // Decimal digits only: Number() would read "NaN", "1e3", "0x10" and "" (0) as numbers.
    const num = (k: string) => {
      const v = url.searchParams.get(k);
      return v === null ? undefined : /^-?\d{1,16}$/.test(v) ? Number(v) : NaN;
    };
    const options = {
      intervalMs: num('interval_ms'),
      maxEvents: num('max_events'),
      topicFilter: url.searchParams.get('topic') || undefined,
      backlog: num('backlog'),
      afterSeq: num('after_seq'),
    };
    try {
      resolveFeedOptions(options, {
        intervalMs: 'interval_ms',
        maxEvents: 'max_events',
        topicFilter: 'topic',
        backlog: 'backlog',
        afterSeq: 'after_seq',
      });
    } catch (e) {
      if (e instanceof FeedOptionError) return send(res, 400, 'text/plain', `Bad request: ${e.message}`);
      throw e;
    }
    res.writeHead(200, {
      'content-type': 'application/x-ndjson',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
    });
    open.add(res);
    const sub = o.feed.listen(
      skipWhileBlocked(
        (update) => res.write(JSON.stringify(feedUpdateToWire(update)) + '\n'),
        (resume) => res.once('drain', resume),
      ),
      options,
    );
    res.on('close', () => {
      sub.dispose();
      open.delete(res);
    });
  }

  async function act(body: string): Promise<ActionResult> {
    let action: DashboardAction;
    try {
      action = JSON.parse(body) as DashboardAction;
    } catch (e) {
      return { ok: false, error: `the action is not valid JSON: ${messageOf(e)}` };
    }
    return o.actions.run(action);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}/?token=${encodeURIComponent(o.token)}`;
  o.log.info('dashboard listening', { url: url.replace(/token=[^&]+/, 'token=…') });
  return {
    url,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of open) res.end();
        server.close(() => resolve());
        server.closeAllConnections?.();
      }),
  };
}

function send(res: ServerResponse, status: number, type: string, body: string | Buffer, csp?: string): void {
  res.writeHead(status, {
    'content-type': type,
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    ...(csp ? { 'content-security-policy': csp } : {}),
  });
  res.end(body);
}

/** The page and its policy: scripts only with this response's nonce, styles and fetches only from here. */
function page(token: string): { html: string; csp: string } {
  const nonce = randomBytes(16).toString('base64');
  const t = encodeURIComponent(token);
  const csp = `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`;
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Loom dashboard</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<link rel="stylesheet" href="webview.css?token=${t}">
</head><body><script nonce="${nonce}" src="webview.js?token=${t}"></script></body></html>`;
  return { html, csp };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new Error(`request body larger than ${MAX_BODY} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
