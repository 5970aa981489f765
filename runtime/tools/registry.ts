// The one tool registry: every provider registers here, every caller calls here. A call never
// throws and never outlives its timeout; the handler is told through its AbortSignal to stop.
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import type { Logger } from '../log';
import {
  type Context,
  context,
  contextFrom,
  counters,
  injectInto,
  SpanKind,
  SpanStatusCode,
  trace,
  tracer,
  tracingActive,
} from '../telemetry';
import { ToolError } from './errors';
import { closestNames } from '../suggest';
import type {
  Disposable,
  ToolCallRequest,
  ToolContext,
  ToolDefinition,
  ToolHandler,
  ToolOutcome,
  ToolRegistry,
} from './types';
import { messageOf } from '../contract/errors';
import { checkWithin } from './boundedCheck';

const MAX_TIMER_MS = 2 ** 31 - 1;
/**
 * How long checking one call's arguments may take against a schema from outside the runtime (an
 * agent's, an MCP server's, another runtime's). ajv checks megabytes in a few milliseconds; a check
 * this slow is a schema built to stall the runtime, which serves everyone on one thread.
 */
export const UNTRUSTED_CHECK_MS = 250;
/** How long compiling such a schema may take (ajv generates code in proportion to its size). */
const UNTRUSTED_COMPILE_MS = 1000;
/** The largest such schema, as JSON: tool schemas are a few kilobytes; megabytes take seconds to compile. */
export const MAX_UNTRUSTED_SCHEMA_BYTES = 256 * 1024;
/** After a schema of a provider ran out of time, how long its other schemas are refused too. */
const STALLED_OWNER_MS = 60_000;
/** Schemas from outside compiled by one ajv instance before a new one takes over (see ajv07). */
const UNTRUSTED_PER_AJV = 128;
/**
 * The abort reason once a call is over: one instance, made once. A new error per call (its stack
 * captured each time) was the largest single cost of a fast tool call; this one says nothing a
 * stack would add.
 */
const CALL_FINISHED = new ToolError('failed', 'call finished');

/**
 * "namespace:name" (letters, digits, "_", "-", "." on each side of one colon), or a name without
 * a namespace as the reference lets agents name their tools ("web.search", "add").
 */
const TOOL_NAME = /^(?:[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}:)?[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

interface Entry {
  definition: ToolDefinition;
  handler: ToolHandler;
  /** Compiled at registration, or at the first call for a trusted schema (then kept). */
  validate?: ValidateFunction;
  /** The schema is the runtime's own: checked without a time limit. */
  trusted: boolean;
  /** Set once a check ran out of time: every later call is refused with it, without a check. */
  stalled?: ToolError;
}

export interface RegisterOptions {
  /**
   * The schema is the runtime's own (a built-in tool's: fixed in the source, covered by tests):
   * it is compiled at the first call instead of at registration, and not checked against the
   * JSON Schema meta-schema. Start-up then compiles nothing for tools nobody calls (the
   * meta-schema alone took most of the registry's start-up). Never for schemas from agents or MCP.
   */
  trustedSchema?: boolean;
}

type AjvInstance = Ajv | Ajv2020;

export interface ToolRegistryOptions {
  defaultTimeoutMs: number;
  log: Logger;
}

/** The owner of the tools that other runtimes offer (runtime/cluster registers them). */
export const CLUSTER_TOOL_OWNER = 'cluster';

export class DefaultToolRegistry implements ToolRegistry {
  private readonly tools = new Map<string, Entry>();
  private readonly listeners = new Set<(request: ToolCallRequest, outcome: ToolOutcome) => void>();
  private readonly changeListeners = new Set<() => void>();
  // Schemas come from agents and MCP servers too, so unknown keywords are tolerated (strict off).
  // Each instance (and its formats) is made when a schema first needs it. An instance keeps every
  // function it compiled (about 3 KB each) for as long as it lives, and each of them keeps the
  // instance alive: the one for schemas from outside is replaced after UNTRUSTED_PER_AJV compiles,
  // so what tools long gone hold stays bounded (agents register their tools at every reconnect,
  // MCP servers whenever their list changes).
  private ajv07?: AjvInstance;
  private ajv2020?: AjvInstance;
  private untrustedCompiles = 0;
  /** Providers one of whose schemas ran out of time, until when their schemas are refused. */
  private readonly stalledOwners = new Map<string, number>();
  private trustedAjv07?: AjvInstance;
  private trustedAjv2020?: AjvInstance;
  private readonly defaultTimeoutMs: number;
  private readonly log: Logger;
  private changePending = false;

  constructor(options: ToolRegistryOptions) {
    this.defaultTimeoutMs = options.defaultTimeoutMs;
    this.log = options.log;
  }

  register(definition: ToolDefinition, handler: ToolHandler, options: RegisterOptions = {}): Disposable {
    const { name } = definition;
    if (typeof name !== 'string' || !TOOL_NAME.test(name)) {
      throw new ToolError(
        'invalid_arguments',
        `invalid tool name ${JSON.stringify(name)}: expected "namespace:name" or a name without a namespace (letters, digits, "_", "-", ".")`,
      );
    }
    // A tool known only from another runtime ([cluster]) yields its name to one of this runtime.
    if (this.tools.get(name)?.definition.owner === CLUSTER_TOOL_OWNER && definition.owner !== CLUSTER_TOOL_OWNER)
      this.tools.delete(name);
    if (this.tools.has(name))
      throw new ToolError(
        'invalid_arguments',
        `tool ${name} is already registered (owner ${this.tools.get(name)!.definition.owner ?? 'unknown'})`,
      );
    const validate = options.trustedSchema
      ? (checkSchemaShape(name, definition.parametersSchema), undefined)
      : this.compileUntrusted(definition);
    const entry: Entry = { definition: { ...definition }, handler, validate, trusted: options.trustedSchema === true };
    this.tools.set(name, entry);
    this.log.debug('tool registered', { tool: name, owner: definition.owner });
    this.changed();
    return { dispose: () => void (this.tools.get(name) === entry && this.unregister(name)) };
  }

  unregister(name: string): boolean {
    const removed = this.tools.delete(name);
    if (removed) this.changed();
    return removed;
  }

  unregisterOwner(owner: string): number {
    let removed = 0;
    for (const [name, entry] of this.tools) {
      if (entry.definition.owner === owner) {
        this.tools.delete(name);
        removed++;
      }
    }
    if (removed) {
      this.log.info('tools withdrawn', { owner, count: removed });
      this.changed();
    }
    return removed;
  }

  get(name: string): ToolDefinition | undefined {
    const entry = this.tools.get(name);
    return entry ? { ...entry.definition } : undefined;
  }

  list(prefix?: string): ToolDefinition[] {
    const out: ToolDefinition[] = [];
    for (const [name, entry] of this.tools) if (!prefix || name.startsWith(prefix)) out.push({ ...entry.definition });
    return out.sort((a, b) => a.name.localeCompare(b.name));
  }

  onDidChangeTools(listener: () => void): Disposable {
    this.changeListeners.add(listener);
    return { dispose: () => void this.changeListeners.delete(listener) };
  }

  /**
   * Listeners hear once per burst of changes, after the code that made them: each rebuilds what
   * it derives from the whole list (the cluster's offer, the MCP endpoint's table), so a sync of
   * 8000 remote tools, told 8000 times, held the runtime 40 s.
   */
  private changed(): void {
    if (this.changePending) return;
    this.changePending = true;
    queueMicrotask(() => {
      this.changePending = false;
      for (const listener of this.changeListeners) {
        try {
          listener();
        } catch (err) {
          this.log.warn('onDidChangeTools listener threw', { error: err as Error });
        }
      }
    });
  }

  onDidCall(listener: (request: ToolCallRequest, outcome: ToolOutcome) => void): Disposable {
    this.listeners.add(listener);
    return { dispose: () => void this.listeners.delete(listener) };
  }

  async call(request: ToolCallRequest): Promise<ToolOutcome> {
    const id = request.id || randomUUID();
    const started = performance.now();
    const parent = contextFrom(request.headers);
    // Without an SDK the span would be a non-recording copy of the parent's context: the parent
    // itself then carries the same trace into the handler and its headers, for less work.
    const span = tracingActive()
      ? tracer.startSpan(
          `tool ${request.name}`,
          {
            kind: SpanKind.INTERNAL,
            attributes: {
              'loom.tool.name': request.name,
              'loom.tool.call_id': id,
              'loom.tool.caller': request.caller ?? 'runtime',
            },
          },
          parent,
        )
      : undefined;
    let result: { ok: true; output: unknown } | { ok: false; error: ToolError };
    try {
      const spanContext = span ? trace.setSpan(parent, span) : parent;
      const output = await context.with(spanContext, () => this.run(id, request, spanContext));
      result = { ok: true, output };
    } catch (err) {
      result = { ok: false, error: asToolError(err) };
    }
    const durationMs = performance.now() - started;
    const outcome: ToolOutcome = result.ok
      ? { id, status: 'ok', output: result.output, durationMs }
      : {
          id,
          status: 'error',
          error: {
            code: result.error.code,
            message: result.error.message,
            ...(result.error.details ? { details: result.error.details } : {}),
          },
          durationMs,
        };
    this.record(request, outcome, span);
    return outcome;
  }

  private async run(id: string, request: ToolCallRequest, spanContext: Context): Promise<unknown> {
    const entry = this.tools.get(request.name);
    if (!entry) throw this.notFound(request.name);
    const args = parseArguments(request.name, request.arguments);
    const validate = (entry.validate ??= this.compile(request.name, entry.definition.parametersSchema));
    if (entry.stalled) throw entry.stalled;
    if (!entry.trusted) this.refuseStalledOwner(entry.definition);
    const valid = entry.trusted ? validate(args) : checkWithin(validate, args, UNTRUSTED_CHECK_MS);
    if (valid === undefined) throw this.stalled(entry);
    if (!valid) throw invalidArguments(request.name, validate.errors ?? []);

    // int64 on the wire may arrive as a string; setTimeout turns anything past 2^31-1 into 1 ms.
    const asked = Number(request.timeoutMs);
    const timeoutMs = Math.min(Number.isFinite(asked) && asked > 0 ? asked : this.defaultTimeoutMs, MAX_TIMER_MS);
    const stop = new CallStop();
    const headers: Record<string, string> = { ...(request.headers ?? {}) };
    injectInto(headers, spanContext); // explicit: without a context manager the active context is not carried
    const ctx: ToolContext = {
      callId: id,
      caller: request.caller ?? 'runtime',
      timeoutMs,
      get signal() {
        return stop.signal;
      },
      headers,
    };

    let timer: NodeJS.Timeout | undefined;
    let onCancel: (() => void) | undefined;
    try {
      // One promise settled by whichever comes first: the handler, the timeout or a caller's
      // cancel. The latter two settle the call at once; a handler that ignores its signal is left
      // to finish on its own and its late answer is dropped.
      return await new Promise<unknown>((resolve, reject) => {
        timer = setTimeout(() => {
          const err = new ToolError('timeout', `${request.name} timed out after ${timeoutMs} ms`, {
            timeout_ms: String(timeoutMs),
          });
          stop.abort(err);
          reject(err);
        }, timeoutMs);
        if (request.signal) {
          onCancel = () => {
            const err = new ToolError('failed', `${request.name} was cancelled by the caller`, {
              reason: 'cancelled',
            });
            stop.abort(err);
            reject(err);
          };
          if (request.signal.aborted) onCancel();
          else request.signal.addEventListener('abort', onCancel, { once: true });
        }
        Promise.resolve()
          // Not started at all when already cancelled (a call cancelled before it ran).
          .then(() => (stop.aborted ? undefined : entry.handler(args, ctx)))
          .then(resolve, (err: unknown) => {
            if (stop.aborted)
              this.log.debug('tool finished after its call was settled', {
                tool: request.name,
                callId: id,
                error: String(err),
              });
            reject(err);
          });
      });
    } finally {
      clearTimeout(timer);
      if (onCancel) request.signal?.removeEventListener('abort', onCancel);
      // Whatever the handler started must stop once the call is over, even on success.
      stop.abort(CALL_FINISHED);
    }
  }

  /** The check ran out of time: the tool is refused from now on (its provider can register it again). */
  private stalled(entry: Entry): ToolError {
    const { name, owner } = entry.definition;
    entry.stalled = new ToolError(
      'unavailable',
      `tool ${name}: checking a call's arguments against its parameters schema (from ${owner ?? 'its provider'}) took over ${UNTRUSTED_CHECK_MS} ms and was stopped; the schema is too costly to check (a pattern that backtracks, or structure that multiplies the work), so calls to ${name} are refused until it is registered again`,
      { reason: 'schema_too_slow' },
    );
    this.log.warn('tool refused: its schema took too long to check arguments', { tool: name, owner });
    this.stallOwner(owner);
    return entry.stalled;
  }

  /**
   * One slow schema per provider, not one per tool: otherwise a provider with a thousand tools
   * (or one that registers again) would spend 250 ms of the thread on each, one after another.
   */
  private stallOwner(owner: string | undefined): void {
    this.stalledOwners.set(owner ?? '', Date.now() + STALLED_OWNER_MS);
  }

  private refuseStalledOwner({ name, owner }: ToolDefinition): void {
    const until = this.stalledOwners.get(owner ?? '');
    if (until === undefined) return;
    if (until <= Date.now()) return void this.stalledOwners.delete(owner ?? '');
    throw new ToolError(
      'unavailable',
      `tool ${name}: the tools of ${owner ?? 'its provider'} are refused for ${Math.ceil((until - Date.now()) / 1000)} s more: a parameters schema of theirs took too long to compile or to check`,
      { reason: 'schema_too_slow' },
    );
  }

  /**
   * A schema from an agent, an MCP server or another runtime: bounded in size, compiled under the
   * watchdog, and kept out of the ajv instance once compiled. Kept in the instance, its $id would
   * refuse another tool's schema of the same $id and answer another's $ref, and the instance would
   * hold it after the tool is gone (an agent registers its tools again at each reconnect).
   */
  private compileUntrusted(definition: ToolDefinition): ValidateFunction {
    const { name, parametersSchema: schema } = definition;
    checkSchemaShape(name, schema);
    this.refuseStalledOwner(definition);
    const bytes = Buffer.byteLength(JSON.stringify(schema));
    if (bytes > MAX_UNTRUSTED_SCHEMA_BYTES)
      throw new ToolError(
        'invalid_arguments',
        `tool ${name}: its parameters schema is ${bytes} bytes of JSON, over the ${MAX_UNTRUSTED_SCHEMA_BYTES} a tool from outside the runtime may have`,
      );
    const ajv = this.ajvFor(typeof schema.$schema === 'string' && schema.$schema.includes('2020-12'), false);
    let validate: ValidateFunction | undefined;
    try {
      const done = checkWithin(() => ((validate = ajv.compile(schema)), true), undefined, UNTRUSTED_COMPILE_MS);
      if (done === undefined) {
        // Stopped inside ajv: the instance may hold half of it.
        this.ajv07 = this.ajv2020 = undefined;
        this.stallOwner(definition.owner);
        throw new ToolError(
          'invalid_arguments',
          `tool ${name}: its parameters schema took over ${UNTRUSTED_COMPILE_MS} ms to compile and was refused`,
          { reason: 'schema_too_slow' },
        );
      }
    } catch (err) {
      if (err instanceof ToolError) throw err;
      throw new ToolError('invalid_arguments', `tool ${name}: invalid parameters schema: ${messageOf(err)}`);
    } finally {
      forget(ajv, schema);
    }
    return validate!;
  }

  private notFound(name: string): ToolError {
    const suggestions = closestNames(String(name), [...this.tools.keys()]);
    const hint = suggestions.length ? `; did you mean ${suggestions.map((s) => JSON.stringify(s)).join(' or ')}?` : '';
    // A name no tool can have (it may be megabytes) is quoted only in part.
    const shown =
      name.length > 200 ? `${JSON.stringify(name.slice(0, 200))}… (${name.length} characters)` : JSON.stringify(name);
    // "not found" in so many words: the reference's agents and tests look for it in the message.
    return new ToolError(
      'not_found',
      `tool ${shown} not found${hint}`,
      suggestions.length ? { suggestions: suggestions.join(',') } : undefined,
    );
  }

  /** The runtime's own schema, compiled at its tool's first call and kept. */
  private compile(name: string, schema: Record<string, unknown>): ValidateFunction {
    checkSchemaShape(name, schema);
    const draft = typeof schema.$schema === 'string' ? schema.$schema : '';
    try {
      return this.ajvFor(draft.includes('2020-12'), true).compile(schema);
    } catch (err) {
      throw new ToolError('invalid_arguments', `tool ${name}: invalid parameters schema: ${messageOf(err)}`);
    }
  }

  private ajvFor(draft2020: boolean, trusted: boolean): AjvInstance {
    const options = { allErrors: true, strict: false, useDefaults: true, validateSchema: !trusted };
    if (!trusted && ++this.untrustedCompiles > UNTRUSTED_PER_AJV) {
      this.untrustedCompiles = 1;
      this.ajv07 = this.ajv2020 = undefined;
    }
    if (draft2020) {
      if (trusted) return (this.trustedAjv2020 ??= addFormats(new Ajv2020(options)));
      return (this.ajv2020 ??= addFormats(new Ajv2020(options)));
    }
    if (trusted) return (this.trustedAjv07 ??= addFormats(new Ajv(options)));
    return (this.ajv07 ??= addFormats(new Ajv(options)));
  }

  private record(
    request: ToolCallRequest,
    outcome: ToolOutcome,
    span: ReturnType<typeof tracer.startSpan> | undefined,
  ): void {
    const status = outcome.status === 'ok' ? 'ok' : outcome.error.code;
    counters.toolCalls.add(1, { tool: request.name, status });
    counters.toolDuration.record(outcome.durationMs, { tool: request.name, status });
    if (span) {
      span.setAttribute('loom.tool.status', status);
      if (outcome.status === 'error') span.setStatus({ code: SpanStatusCode.ERROR, message: outcome.error.message });
      span.end();
    }
    if (outcome.status === 'error')
      this.log.debug('tool call failed', {
        tool: request.name,
        callId: outcome.id,
        code: outcome.error.code,
        error: outcome.error.message,
      });
    for (const listener of this.listeners) {
      try {
        listener(request, outcome);
      } catch (err) {
        this.log.warn('onDidCall listener threw', { error: err as Error });
      }
    }
  }
}

/**
 * A call's AbortSignal, made when a handler first asks for it: an AbortController and its signal
 * were a tenth of a fast call's cost, and most handlers (fs:read) never look. Once the call is
 * over, a first look still finds the signal aborted with the reason the call ended for.
 */
class CallStop {
  private controller?: AbortController;
  private reason?: unknown;

  get signal(): AbortSignal {
    if (this.controller) return this.controller.signal;
    if (this.reason !== undefined) return AbortSignal.abort(this.reason);
    this.controller = new AbortController();
    return this.controller.signal;
  }

  get aborted(): boolean {
    return this.reason !== undefined;
  }

  /** The first reason wins, as with AbortController. */
  abort(reason: unknown): void {
    if (this.reason !== undefined) return;
    this.reason = reason;
    this.controller?.abort(reason);
  }
}

function checkSchemaShape(name: string, schema: Record<string, unknown>): void {
  if (!schema || typeof schema !== 'object' || Array.isArray(schema)) {
    throw new ToolError('invalid_arguments', `tool ${name}: parameters schema must be a JSON Schema object`);
  }
}

function asToolError(err: unknown): ToolError {
  if (err instanceof ToolError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new ToolError('failed', message || 'tool failed without a message');
}

/**
 * Takes out of `ajv` what compiling `schema` put in it, whether or not the compile succeeded: its
 * cache entry, and the ids that name it. Not ajv.removeSchema, which removes whatever has the
 * schema's $id: for a schema refused because its $id was taken (the meta-schema's), that is the
 * other one.
 */
function forget(ajv: AjvInstance, schema: Record<string, unknown>): void {
  (ajv as unknown as { _cache: Map<unknown, unknown> })._cache.delete(schema);
  for (const table of [ajv.schemas, ajv.refs] as Record<string, unknown>[])
    for (const [id, env] of Object.entries(table))
      if ((env as { schema?: unknown } | undefined)?.schema === schema) delete table[id];
}

function parseArguments(name: string, raw: ToolCallRequest['arguments'] | undefined | null): Record<string, unknown> {
  let value: unknown = raw;
  if (typeof raw === 'string') {
    if (raw.trim() === '') value = {};
    else {
      try {
        value = JSON.parse(raw);
      } catch (err) {
        throw new ToolError('invalid_arguments', `invalid arguments for ${name}: not valid JSON (${messageOf(err)})`);
      }
    }
  } else if (raw === undefined || raw === null) value = {};
  else value = structuredClone(raw); // validation fills defaults; the caller's object stays untouched
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ToolError(
      'invalid_arguments',
      `invalid arguments for ${name}: expected a JSON object, got ${Array.isArray(value) ? 'an array' : value === null ? 'null' : typeof value}`,
    );
  }
  return value as Record<string, unknown>;
}

/** One line per problem, each naming where it is as a JSON pointer into the arguments. */
function describeError(e: ErrorObject): string {
  const at = e.instancePath || '';
  if (e.keyword === 'required') return `${at}/${(e.params as { missingProperty: string }).missingProperty} is required`;
  if (e.keyword === 'additionalProperties')
    return `${at}/${(e.params as { additionalProperty: string }).additionalProperty} is not an allowed property`;
  if (e.keyword === 'enum')
    return `${at || '/'} ${e.message} (${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')})`;
  return `${at || '/'} ${e.message}`;
}

function invalidArguments(name: string, errors: ErrorObject[]): ToolError {
  const problems = [...new Set(errors.map(describeError))];
  return new ToolError('invalid_arguments', `invalid arguments for ${name}: ${problems.join('; ')}`, {
    errors: JSON.stringify(problems),
  });
}
