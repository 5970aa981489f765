// The fetch an HTTP MCP server's transport uses (the SDK's `fetch` option). The SDK reads a response
// body to its end whatever its size and sends every POST with the transport's one AbortSignal, so a
// hostile server took the runtime to 3 GB with an endless body, and each call that timed out left
// its request (and its socket) open until the whole transport closed.
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import { LoomError } from '../contract/errors';

/** The most one response body (application/json), or one event of an SSE stream, may hold. */
export const MAX_HTTP_MESSAGE_BYTES = 16 * 1024 * 1024;

type RequestId = string | number;

/** The body of a request that was ended because the call no longer waits for it: not the server's failure. */
export class RequestSettledError extends LoomError {
  override name = 'RequestSettledError';
  constructor(message: string) {
    super('request_settled', message);
  }
}

/** A response body, or one SSE event, over MAX_HTTP_MESSAGE_BYTES. */
export class ResponseTooLargeError extends LoomError {
  override name = 'ResponseTooLargeError';
  constructor(message: string) {
    super('response_too_large', message);
  }
}

export interface BoundedFetchOptions {
  /** The server's name, for the errors. */
  server: string;
  maxBytes?: number;
  /**
   * A body went over the limit. `requestId`: the request it answers (a POST), which is then
   * answered with this error; undefined for a stream not tied to one request (the background GET).
   */
  onTooLarge: (err: ResponseTooLargeError, requestId: RequestId | undefined) => void;
}

export interface BoundedFetch {
  fetch: FetchLike;
  /** Request `id` got its answer or was given up: its HTTP request, if still open, ends now. */
  settle(id: RequestId): void;
  /** Every request so far got its answer: those still open end now. */
  settleAll(): void;
}

export function boundedFetch(opts: BoundedFetchOptions): BoundedFetch {
  const maxBytes = opts.maxBytes ?? MAX_HTTP_MESSAGE_BYTES;
  const open = new Map<RequestId, AbortController>();

  const settle = (id: RequestId): void => {
    const controller = open.get(id);
    if (!controller) return;
    open.delete(id);
    controller.abort(new RequestSettledError(`mcp.${opts.server}: request ${id} settled`));
  };

  const fetchFn: FetchLike = async (url, init) => {
    const sent = outgoing(init?.body);
    // The SDK tells the server with notifications/cancelled when a call times out or is cancelled.
    if (sent.cancels !== undefined) settle(sent.cancels);
    if (sent.requestId === undefined) return capped(await fetch(url, init), undefined, () => {});
    const { requestId } = sent;
    const controller = new AbortController();
    open.set(requestId, controller);
    const outer = init?.signal;
    const onOuterAbort = () => controller.abort(outer?.reason);
    outer?.addEventListener('abort', onOuterAbort, { once: true });
    const done = () => {
      outer?.removeEventListener('abort', onOuterAbort);
      if (open.get(requestId) === controller) open.delete(requestId);
    };
    if (outer?.aborted) onOuterAbort();
    try {
      return capped(await fetch(url, { ...init, signal: controller.signal }), requestId, done, controller.signal);
    } catch (err) {
      done();
      throw err;
    }
  };

  /** The response with its body counted as it is read; `done` once the body is finished with. */
  function capped(response: Response, requestId: RequestId | undefined, done: () => void, signal?: AbortSignal) {
    if (!response.body || NULL_BODY_STATUSES.has(response.status)) {
      done();
      return response;
    }
    const eventStream = mediaType(response) === 'text/event-stream';
    const count = eventStream ? eventBytes() : totalBytes();
    const reader = response.body.getReader();
    const what = eventStream ? 'one event of its SSE stream' : 'a response body';
    const body = new ReadableStream<Uint8Array>({
      async pull(stream) {
        let chunk: Awaited<ReturnType<typeof reader.read>>;
        try {
          chunk = await reader.read();
        } catch (err) {
          done();
          // Ended because the call is over: a stream just ends (the SDK would try to resume one that errs).
          if (signal?.reason instanceof RequestSettledError && eventStream) stream.close();
          else stream.error(signal?.reason instanceof RequestSettledError ? signal.reason : err);
          return;
        }
        if (chunk.done) {
          done();
          stream.close();
          return;
        }
        if (count(chunk.value) > maxBytes) {
          done();
          void reader.cancel().catch(() => {});
          const err = new ResponseTooLargeError(
            `mcp.${opts.server}: ${what} is over ${maxBytes} bytes (the limit on one MCP message over HTTP); it was cut off`,
          );
          opts.onTooLarge(err, requestId);
          stream.error(err);
          return;
        }
        stream.enqueue(chunk.value);
      },
      cancel(reason) {
        done();
        return reader.cancel(reason);
      },
    });
    return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
  }

  return { fetch: fetchFn, settle, settleAll: () => [...open.keys()].forEach(settle) };
}

/** Statuses whose Response cannot be made with a body. */
const NULL_BODY_STATUSES = new Set([101, 204, 205, 304]);

function mediaType(response: Response): string {
  return (response.headers.get('content-type') ?? '').split(';')[0].trim().toLowerCase();
}

/** Counts every byte: a JSON body is one message. */
function totalBytes(): (chunk: Uint8Array) => number {
  let total = 0;
  return (chunk) => (total += chunk.length);
}

/**
 * The most bytes of one event in the chunk (counted since the last blank line): an SSE stream lives
 * as long as the session, and what the SDK holds is the event being read (its data lines are kept
 * until the blank line that ends it). Lines end with CRLF, LF or CR, as the SSE format allows.
 */
function eventBytes(): (chunk: Uint8Array) => number {
  let inEvent = 0;
  let lineLength = 0;
  let afterCr = false;
  return (chunk) => {
    let peak = inEvent;
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i];
      inEvent++;
      if (byte === 0x0d || (byte === 0x0a && !afterCr)) {
        if (lineLength === 0) inEvent = 0;
        lineLength = 0;
      } else if (byte !== 0x0a) lineLength++;
      afterCr = byte === 0x0d;
      if (inEvent > peak) peak = inEvent;
    }
    return peak;
  };
}

/** The request id a POST carries, or the request a notifications/cancelled gives up. */
function outgoing(body: unknown): { requestId?: RequestId; cancels?: RequestId } {
  if (typeof body !== 'string') return {};
  let message: unknown;
  try {
    message = JSON.parse(body);
  } catch {
    return {};
  }
  if (typeof message !== 'object' || message === null || Array.isArray(message)) return {};
  const { id, method, params } = message as { id?: unknown; method?: unknown; params?: { requestId?: unknown } };
  if (method === 'notifications/cancelled') return { cancels: asRequestId(params?.requestId) };
  return typeof method === 'string' ? { requestId: asRequestId(id) } : {};
}

function asRequestId(id: unknown): RequestId | undefined {
  return typeof id === 'string' || typeof id === 'number' ? id : undefined;
}
