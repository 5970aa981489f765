// One HTTP request for the built-in tools that ask a web service (weather:get, web:search,
// llm:generate). It stops when the call ends (its timeout or a cancel) or when its own limit
// passes, and says plainly what went wrong: "fetch failed" tells an agent nothing.
import { ToolError } from '../errors';
import type { ToolContext } from '../types';

export interface HttpRequest {
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  /** Sent as JSON. */
  body?: unknown;
  /** A limit of the request's own, besides the call's timeout; `limitSetting` names where it comes from in the error. */
  limitMs?: number;
  limitSetting?: string;
}

export interface HttpAnswer {
  status: number;
  ok: boolean;
  text: string;
  /** The body parsed as JSON; undefined when it is not JSON. */
  json: unknown;
}

/**
 * Sends the request and reads the whole answer. Failures to get one become ToolErrors naming the
 * host: "timeout" when the call ended or the limit passed (the request is aborted either way),
 * "unavailable" when the host cannot be reached. The answer's status is the caller's to judge.
 */
export async function request(url: URL, ctx: ToolContext, r: HttpRequest = {}): Promise<HttpAnswer> {
  const limit = r.limitMs !== undefined ? AbortSignal.timeout(r.limitMs) : undefined;
  const signal = limit ? AbortSignal.any([ctx.signal, limit]) : ctx.signal;
  const headers: Record<string, string> = {
    accept: 'application/json',
    ...(r.body !== undefined ? { 'content-type': 'application/json' } : {}),
    ...r.headers,
  };
  const stopped = () => {
    if (ctx.signal.aborted)
      return new ToolError('timeout', `request to ${url.host} was stopped (the call timed out or was cancelled)`, {
        host: url.host,
      });
    return new ToolError(
      'timeout',
      `${url.host} did not answer within ${r.limitMs} ms${r.limitSetting ? ` (${r.limitSetting})` : ''}`,
      { host: url.host },
    );
  };
  try {
    const response = await fetch(url, {
      method: r.method ?? 'GET',
      headers,
      body: r.body !== undefined ? JSON.stringify(r.body) : undefined,
      signal,
    });
    const text = await bodyWithin(response, url);
    return { status: response.status, ok: response.ok, text, json: parseJson(text) };
  } catch (err) {
    if (err instanceof ToolError) throw err;
    if (signal.aborted) throw stopped();
    const code = errnoOf(err);
    throw new ToolError('unavailable', `cannot reach ${url.host}: no network?${code ? ` (${code})` : ''}`, {
      host: url.host,
      ...(code ? { errno: code } : {}),
    });
  }
}

/** The most of an answer's body read: a service (or whatever answers at its address) may send without end. */
export const MAX_ANSWER_BYTES = 16 * 1024 * 1024;

async function bodyWithin(response: Response, url: URL): Promise<string> {
  if (!response.body) return '';
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  // Leaving the loop early cancels the body (the iterator's return), which ends the download.
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    bytes += chunk.length;
    if (bytes > MAX_ANSWER_BYTES) break;
    chunks.push(chunk);
  }
  if (bytes > MAX_ANSWER_BYTES)
    throw new ToolError(
      'failed',
      `${url.host} answered with more than ${MAX_ANSWER_BYTES} bytes; the answer was not read`,
      {
        host: url.host,
      },
    );
  return Buffer.concat(chunks).toString('utf8');
}

/** The JSON body of a 2xx answer; otherwise a ToolError "failed" naming the host and status (and `reason`, what the service said, when known). */
export function jsonBody(url: URL, answer: HttpAnswer, reason?: (body: unknown) => string | undefined): unknown {
  if (answer.json === undefined) {
    throw new ToolError('failed', `${url.host} answered ${answer.status} with something that is not JSON`, {
      host: url.host,
      status: String(answer.status),
    });
  }
  if (!answer.ok) {
    const why = reason?.(answer.json);
    throw new ToolError('failed', `${url.host} answered ${answer.status}${why ? `: ${why}` : ''}`, {
      host: url.host,
      status: String(answer.status),
    });
  }
  return answer.json;
}

/** The start of a body for an error message, with `secrets` blanked out (a service may echo a key back). */
export function excerpt(text: string, secrets: Array<string | undefined> = [], max = 300): string {
  let out = text;
  for (const s of secrets) if (s && s.length >= 4) out = out.split(s).join('[redacted]');
  out = out.replace(/\s+/g, ' ').trim();
  return out.length > max ? `${out.slice(0, max)}…` : out;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function errnoOf(err: unknown): string | undefined {
  const cause = (err as { cause?: { code?: string; errors?: Array<{ code?: string }> } }).cause;
  return cause?.code ?? cause?.errors?.[0]?.code;
}
