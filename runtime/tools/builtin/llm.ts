// llm:generate: one completion from an OpenAI-compatible chat-completions endpoint, as the
// reference core offers it (arguments input / bundle / budget; answer text, model, provider,
// usage). Which endpoint: the call's `provider`, else [tools.llm] provider, else the one
// [llm.<name>] table of loom.toml, else "default". A name is looked up as an [llm.<name>] table
// (read the way the Python SDK reads it, sdk/python/loom/llm/config.py), then as a preset of the
// same name; "default" with neither is the reference's own configuration from the environment
// (VLLM_BASE_URL, VLLM_MODEL, VLLM_API_KEY, VLLM_TEMPERATURE, REQUEST_TIMEOUT_MS). The tables stay
// the Python agents' too: nothing here changes them, and keys the tool has no use for are ignored.
import { expandEnv } from '../../config';
import { ToolError } from '../errors';
import type { ToolContext, ToolDefinition, ToolHandler } from '../types';
import { excerpt, jsonBody, request } from './http';

type Table = Record<string, unknown>;

export interface LlmToolSettings {
  /** [tools.llm] provider: the name used when a call names none; "" = the one [llm.*] table, else "default". */
  provider: string;
  /** The [llm.<name>] tables of loom.toml, as parsed. */
  tables: Record<string, Table>;
}

/** One endpoint, resolved. */
interface Endpoint {
  name: string;
  /** Where the settings came from, for error messages. */
  source: string;
  baseUrl: string;
  model: string;
  apiKey?: string;
  temperature: number;
  maxTokens: number;
  timeoutMs: number;
  /** The setting that limits a request, named when it passes. */
  timeoutSetting: string;
  headers: Record<string, string>;
  extra: Table;
}

interface Preset {
  baseUrl: string;
  model: string;
  keyEnv?: string;
  temperature: number;
  maxTokens: number;
}

/** The Python SDK's presets (sdk/python/loom/llm/config.py PRESETS), so a name means the same endpoint to an agent and to this tool. */
const PRESETS: Record<string, Preset> = {
  deepseek: {
    baseUrl: 'https://api.deepseek.com/v1',
    model: 'deepseek-chat',
    keyEnv: 'DEEPSEEK_API_KEY',
    temperature: 0.7,
    maxTokens: 4096,
  },
  openai: {
    baseUrl: 'https://api.openai.com/v1',
    model: 'gpt-4o-mini',
    keyEnv: 'OPENAI_API_KEY',
    temperature: 0.7,
    maxTokens: 4096,
  },
  ollama: { baseUrl: 'http://127.0.0.1:11434/v1', model: 'llama3.2', temperature: 0.7, maxTokens: 4096 },
  local: { baseUrl: 'http://127.0.0.1:8000/v1', model: 'qwen2.5-0.5b-instruct', temperature: 0.8, maxTokens: 2048 },
};
const PRESET_ALIASES: Record<string, string> = { vllm: 'local' };
/** `type` values meaning "no preset: api_base and model are given". */
const GENERIC_TYPES = new Set(['http', 'openai-compatible', 'openai_compatible', 'custom']);
/** The name that falls back to the reference's environment when loom.toml has no table for it. */
export const DEFAULT_PROVIDER = 'default';
const DEFAULT_TIMEOUT_MS = 30_000;
/** The reference's token budget when a call gives none: 2048 in, 512 out. */
const REFERENCE_BUDGET = { maxInputTokens: 2048, maxOutputTokens: 512 };
/** Request fields the tool sets itself; a table's `extra` cannot replace them. */
const RESERVED_BODY = new Set(['model', 'messages', 'stream', 'tools', 'tool_choice', 'temperature', 'max_tokens']);
/** The timeout keys of a table, with their scale to milliseconds (the Python SDK's). */
const TIMEOUT_KEYS: Array<[string, number]> = [
  ['timeout', 1000],
  ['timeout_ms', 1],
  ['timeout_sec', 1000],
  ['timeout_s', 1000],
];

const message = {
  type: 'object',
  properties: { role: { type: 'string', enum: ['system', 'user', 'assistant'] }, content: { type: 'string' } },
  required: ['role', 'content'],
};

export const llmDefinition: Omit<ToolDefinition, 'provider' | 'owner'> = {
  name: 'llm:generate',
  description:
    'Generate text with an LLM (an OpenAI-compatible chat-completions endpoint from an [llm.<name>] table of loom.toml, a preset, or the VLLM_* environment). ' +
    'Give input (or a prompt bundle, or messages). Answers {text, model, provider: "chat.completions", usage, llm, finish_reason}.',
  parametersSchema: {
    type: 'object',
    properties: {
      input: { type: 'string', description: 'Input text or instructions' },
      bundle: {
        type: 'object',
        description: "A prompt bundle (the reference's): system, instructions, context_docs, history",
        properties: {
          system: { type: 'string' },
          instructions: { type: 'string' },
          context_docs: { type: 'array', items: { type: 'string' } },
          history: { type: 'array', items: { type: 'string' } },
        },
      },
      budget: {
        type: 'object',
        description: 'Token budget: max_input_tokens (the oldest history goes first), max_output_tokens',
        properties: {
          max_input_tokens: { type: 'integer', minimum: 1 },
          max_output_tokens: { type: 'integer', minimum: 1 },
        },
      },
      messages: {
        type: 'array',
        items: message,
        minItems: 1,
        description: 'Chat messages, instead of input or bundle',
      },
      system: { type: 'string', description: 'A system prompt put before input or messages' },
      provider: {
        type: 'string',
        minLength: 1,
        description: 'The [llm.<name>] table (or preset) to use; default [tools.llm] provider',
      },
      temperature: { type: 'number', minimum: 0, maximum: 2 },
      max_tokens: { type: 'integer', minimum: 1 },
    },
    additionalProperties: false,
  },
};

interface Bundle {
  system?: string;
  instructions?: string;
  context_docs?: string[];
  history?: string[];
}
interface GenerateArgs {
  input?: string;
  bundle?: Bundle;
  budget?: { max_input_tokens?: number; max_output_tokens?: number };
  messages?: Array<{ role: string; content: string }>;
  system?: string;
  provider?: string;
  temperature?: number;
  max_tokens?: number;
}
interface Completion {
  model?: string;
  usage?: unknown;
  choices?: Array<{ message?: { content?: string | null }; finish_reason?: string | null }>;
}

export function llmHandler(settings: LlmToolSettings, env: NodeJS.ProcessEnv = process.env): ToolHandler {
  return async (raw, ctx) => {
    const args = raw as GenerateArgs;
    const messages = messagesOf(args);
    const endpoint = resolveEndpoint(providerName(args.provider, settings), settings.tables, env);
    return complete(endpoint, messages, args, ctx);
  };
}

/** The provider a call uses: its own, else [tools.llm] provider, else the only [llm.*] table, else "default". */
export function providerName(asked: string | undefined, settings: LlmToolSettings): string {
  if (asked) return asked;
  if (settings.provider) return settings.provider;
  const names = Object.keys(settings.tables);
  return names.length === 1 ? names[0]! : DEFAULT_PROVIDER;
}

async function complete(e: Endpoint, messages: Message[], args: GenerateArgs, ctx: ToolContext) {
  const url = new URL(`${e.baseUrl.replace(/\/+$/, '')}/chat/completions`);
  const body = {
    ...e.extra,
    model: e.model,
    messages,
    max_tokens: args.max_tokens ?? args.budget?.max_output_tokens ?? e.maxTokens,
    temperature: args.temperature ?? e.temperature,
  };
  const headers = { ...e.headers, ...(e.apiKey ? { authorization: `Bearer ${e.apiKey}` } : {}) };
  const secrets = [e.apiKey, ...Object.values(e.headers)];
  let answer;
  try {
    answer = await request(url, ctx, {
      method: 'POST',
      headers,
      body,
      limitMs: e.timeoutMs,
      limitSetting: e.timeoutSetting,
    });
  } catch (err) {
    if (err instanceof ToolError)
      throw new ToolError(err.code, `LLM provider "${e.name}" (${e.source}, ${e.baseUrl}): ${err.message}`, {
        ...err.details,
        provider: e.name,
      });
    throw err;
  }
  const where = { provider: e.name, host: url.host, status: String(answer.status) };
  if (answer.status === 401 || answer.status === 403) {
    throw new ToolError(
      'failed',
      `LLM provider "${e.name}" (${e.source}): ${url.host} refused the request (${answer.status}); check its API key`,
      where,
    );
  }
  if (!answer.ok)
    throw new ToolError(
      'failed',
      `LLM provider "${e.name}" (${e.source}): ${url.host} answered ${answer.status}: ${excerpt(answer.text, secrets)}`,
      where,
    );
  const done = jsonBody(url, answer) as Completion;
  const choice = done.choices?.[0];
  if (!choice?.message)
    throw new ToolError(
      'failed',
      `LLM provider "${e.name}": the answer from ${url.host} has no choices[0].message (is ${e.baseUrl} an OpenAI-compatible endpoint?)`,
      where,
    );
  return {
    text: choice.message.content ?? '',
    model: done.model ?? e.model,
    provider: 'chat.completions',
    usage: done.usage ?? null,
    llm: e.name,
    finish_reason: choice.finish_reason ?? null,
  };
}

// ---- the prompt ----------------------------------------------------------------------------

interface Message {
  role: string;
  content: string;
}

function messagesOf(args: GenerateArgs): Message[] {
  const given = [args.messages && 'messages', args.bundle && 'bundle'].filter(Boolean);
  if (given.length > 1) throw new ToolError('invalid_arguments', 'give messages or bundle, not both');
  const system = args.system ? [{ role: 'system', content: args.system }] : [];
  if (args.messages) return [...system, ...args.messages];
  if (args.bundle)
    return fromBundle(
      args.bundle,
      args.input,
      args.budget?.max_input_tokens ?? REFERENCE_BUDGET.maxInputTokens,
      system,
    );
  if (args.input === undefined) throw new ToolError('invalid_arguments', 'give input (or bundle, or messages)');
  return [...system, { role: 'user', content: args.input }];
}

/**
 * A prompt bundle as chat messages, as the reference lays it out: its system prompt, the context
 * documents as a second system message, each history entry as a user message, the instructions
 * last. Over the input budget (about four characters a token) the oldest history goes first.
 */
function fromBundle(b: Bundle, input: string | undefined, maxInputTokens: number, extraSystem: Message[]): Message[] {
  const head: Message[] = [...extraSystem];
  if (b.system) head.push({ role: 'system', content: b.system });
  if (b.context_docs?.length)
    head.push({ role: 'system', content: `Context:\n${b.context_docs.map((d) => `- ${d}\n`).join('')}` });
  const instructions = b.instructions || input;
  const tail: Message[] = instructions ? [{ role: 'user', content: instructions }] : [];
  const history = [...(b.history ?? [])];
  const size = (ms: Message[]) => ms.reduce((n, m) => n + m.content.length, 0);
  const fixed = size(head) + size(tail);
  let total = fixed + history.reduce((n, h) => n + h.length, 0);
  while (history.length && total > maxInputTokens * 4) total -= history.shift()!.length;
  const out = [...head, ...history.map((content) => ({ role: 'user', content })), ...tail];
  if (!out.length) throw new ToolError('invalid_arguments', 'the bundle is empty: give instructions (or input)');
  return out;
}

// ---- which endpoint ------------------------------------------------------------------------

/** The endpoint a name stands for: its [llm.<name>] table, else the preset of that name, else (for "default") the reference's environment. */
export function resolveEndpoint(name: string, tables: Record<string, Table>, env: NodeJS.ProcessEnv): Endpoint {
  if (Object.hasOwn(tables, name)) return fromTable(name, tables[name]!, env);
  const preset = presetOf(name);
  if (preset) return fromPreset(name, preset, `the "${name}" preset`, env);
  if (name === DEFAULT_PROVIDER) return fromReferenceEnv(env);
  const known = Object.keys(tables);
  throw new ToolError(
    'unavailable',
    `no LLM provider "${name}": loom.toml has no [llm.${name}] table${known.length ? ` (it has ${known.map((k) => `[llm.${k}]`).join(', ')})` : ''} and it is not a preset (${Object.keys(PRESETS).join(', ')})`,
    { provider: name },
  );
}

function presetOf(name: string | undefined): Preset | undefined {
  if (!name) return undefined;
  const key = name.toLowerCase();
  return PRESETS[PRESET_ALIASES[key] ?? key];
}

function fromPreset(name: string, p: Preset, source: string, env: NodeJS.ProcessEnv): Endpoint {
  return {
    name,
    source,
    baseUrl: p.baseUrl,
    model: p.model,
    apiKey: (p.keyEnv && env[p.keyEnv]) || undefined,
    temperature: p.temperature,
    maxTokens: p.maxTokens,
    timeoutMs: DEFAULT_TIMEOUT_MS,
    timeoutSetting: `the default of ${DEFAULT_TIMEOUT_MS} ms; set timeout in [llm.${name}]`,
    headers: {},
    extra: {},
  };
}

/** What the reference's core reads when it registers llm:generate. */
function fromReferenceEnv(env: NodeJS.ProcessEnv): Endpoint {
  const number = (key: string) => {
    const v = env[key] ? Number(env[key]) : NaN;
    return Number.isFinite(v) && v > 0 ? v : undefined;
  };
  const timeoutMs = number('REQUEST_TIMEOUT_MS');
  return {
    name: DEFAULT_PROVIDER,
    source: "no [llm.default] table: the reference's VLLM_BASE_URL, VLLM_MODEL, VLLM_API_KEY from the environment",
    baseUrl: env.VLLM_BASE_URL || 'http://localhost:8000/v1',
    model: env.VLLM_MODEL || 'qwen2.5-0.5b-instruct',
    apiKey: env.VLLM_API_KEY || undefined,
    temperature:
      env.VLLM_TEMPERATURE && Number.isFinite(Number(env.VLLM_TEMPERATURE)) ? Number(env.VLLM_TEMPERATURE) : 0.7,
    maxTokens: REFERENCE_BUDGET.maxOutputTokens,
    timeoutMs: timeoutMs ?? DEFAULT_TIMEOUT_MS,
    timeoutSetting: timeoutMs
      ? 'REQUEST_TIMEOUT_MS'
      : `the default of ${DEFAULT_TIMEOUT_MS} ms; set REQUEST_TIMEOUT_MS or an [llm.default] table`,
    headers: {},
    extra: {},
  };
}

/** An [llm.<name>] table over its preset (by `type`, or by the table's name), with ${VAR} expanded as the Python SDK does. */
function fromTable(name: string, t: Table, env: NodeJS.ProcessEnv): Endpoint {
  const r = new TableReader(name, t, env);
  const type = r.text('type', 'provider');
  const preset = type && GENERIC_TYPES.has(type.toLowerCase()) ? undefined : presetOf(type ?? name);
  if (type && !preset && !GENERIC_TYPES.has(type.toLowerCase()))
    r.problem(
      `llm.${name}.type ${JSON.stringify(type)} is not a preset (${Object.keys(PRESETS).join(', ')}) nor one of ${[...GENERIC_TYPES].join(', ')}`,
    );
  const baseUrl = r.text('api_base', 'base_url') ?? preset?.baseUrl;
  const model = r.text('model') ?? preset?.model;
  if (!baseUrl || !model)
    r.problem(
      `[llm.${name}] needs api_base (or base_url) and model${type ? '' : `, or a type naming a preset (${Object.keys(PRESETS).join(', ')})`}`,
    );
  const key = t.api_key !== undefined ? r.text('api_key') : preset?.keyEnv ? env[preset.keyEnv] : undefined;
  const timeout = r.timeoutMs();
  const endpoint: Endpoint = {
    name,
    source: `[llm.${name}] in loom.toml`,
    baseUrl: baseUrl ?? '',
    model: model ?? '',
    apiKey: key || undefined,
    temperature: r.number('temperature') ?? preset?.temperature ?? 0.7,
    maxTokens: r.number('max_tokens') ?? preset?.maxTokens ?? 4096,
    timeoutMs: timeout?.ms ?? DEFAULT_TIMEOUT_MS,
    timeoutSetting: timeout
      ? `llm.${name}.${timeout.key}`
      : `the default of ${DEFAULT_TIMEOUT_MS} ms; set timeout in [llm.${name}]`,
    headers: r.strings('headers'),
    extra: Object.fromEntries(Object.entries(r.table('extra')).filter(([k]) => !RESERVED_BODY.has(k))),
  };
  if (endpoint.baseUrl && !/^https?:\/\/\S+$/.test(endpoint.baseUrl))
    r.problem(`llm.${name}.api_base must be an http:// or https:// URL`);
  r.done();
  return endpoint;
}

/** Reads the keys the tool uses, collecting every problem; secrets (api_key, headers) are never shown. */
class TableReader {
  private readonly problems: string[] = [];

  constructor(
    private readonly name: string,
    private readonly t: Table,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  problem(text: string): void {
    this.problems.push(text);
  }

  /** The first of `keys` that is set, as an expanded string. */
  text(...keys: string[]): string | undefined {
    const key = keys.find((k) => this.t[k] !== undefined);
    return key === undefined ? undefined : this.expand(key, this.t[key]);
  }

  number(key: string): number | undefined {
    const v = this.t[key];
    if (v === undefined) return undefined;
    if (typeof v === 'number' && Number.isFinite(v)) return v;
    this.problem(`llm.${this.name}.${key} must be a number`);
    return undefined;
  }

  timeoutMs(): { key: string; ms: number } | undefined {
    const found = TIMEOUT_KEYS.find(([k]) => this.t[k] !== undefined);
    if (!found) return undefined;
    const v = this.number(found[0]);
    if (v === undefined || v <= 0) {
      if (v !== undefined) this.problem(`llm.${this.name}.${found[0]} must be positive`);
      return undefined;
    }
    return { key: found[0], ms: Math.max(1, Math.round(v * found[1])) };
  }

  table(key: string): Table {
    const v = this.t[key];
    if (v === undefined) return {};
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Table;
    this.problem(`llm.${this.name}.${key} must be a table`);
    return {};
  }

  strings(key: string): Record<string, string> {
    return Object.fromEntries(
      Object.entries(this.table(key)).flatMap(([k, v]) => {
        const text = this.expand(`${key}.${k}`, v);
        return text === undefined ? [] : [[k, text]];
      }),
    );
  }

  done(): void {
    if (this.problems.length)
      throw new ToolError('unavailable', `LLM provider "${this.name}" is misconfigured: ${this.problems.join('; ')}`, {
        provider: this.name,
      });
  }

  private expand(key: string, value: unknown): string | undefined {
    if (typeof value !== 'string') {
      this.problem(`llm.${this.name}.${key} must be a string`);
      return undefined;
    }
    const out = expandEnv(value, this.env);
    if (typeof out === 'string') return out;
    this.problem(`llm.${this.name}.${key}: ${out.error}`);
    return undefined;
  }
}
