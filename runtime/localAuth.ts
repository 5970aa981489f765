// What keeps Loom's servers (the gRPC bridge, the headless dashboard, the MCP HTTP endpoint) to
// this machine's own clients: a per-runtime token, compared in constant time, and a Host header
// that names the loopback address (so a web page elsewhere cannot reach them by DNS rebinding).
import { randomBytes, timingSafeEqual } from 'node:crypto';

/** 32 random bytes, hex. */
export function generateToken(): string {
  return randomBytes(32).toString('hex');
}

/** The token of an `Authorization: Bearer <token>` value, or undefined for anything else. */
export function bearerToken(authorization: unknown): string | undefined {
  if (typeof authorization !== 'string') return undefined;
  return /^Bearer\s+(\S+)\s*$/i.exec(authorization)?.[1];
}

/** Does an `Authorization` value carry exactly this token as `Bearer <token>`? */
export function bearerMatches(authorization: string | undefined, token: string): boolean {
  const given = bearerToken(authorization);
  return given !== undefined && sameToken(given, token);
}

export function sameToken(given: string, token: string): boolean {
  const a = Buffer.from(given, 'utf8');
  const b = Buffer.from(token, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}

const LOOPBACK_HOSTNAMES = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

/** Is `host` (a Host header, or a URL's host, with or without a port) a loopback name? */
export function isLoopbackHost(host: string | undefined): boolean {
  if (!host) return false;
  const h = host.toLowerCase();
  // "[::1]:8080" → "[::1]"; "127.0.0.1:8080" → "127.0.0.1"; a bare "::1" has no port to strip.
  const name = h.startsWith('[') ? h.slice(0, h.indexOf(']') + 1) : h.split(':').length === 2 ? h.split(':')[0]! : h;
  return LOOPBACK_HOSTNAMES.has(name);
}
