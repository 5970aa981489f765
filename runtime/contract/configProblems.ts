// Contract: what went wrong in loom.toml, as lines a person can act on. Each names the file, the key
// by its TOML path, what was expected and what was found, in the same words wherever the file is
// checked: the runtime's loader, the extension's Problems panel (both through ./loomToml), and the
// Python SDK, whose port (sdk/python/loom/config) test/fixtures/config-errors holds to these lines.
import type { ErrorObject } from 'ajv';
import { LoomError } from './errors';
import { closestNames } from './suggest';
import { describe } from './describe';

export interface ConfigProblem {
  /** TOML path of the key ("agents.worker.restart"); empty for a problem with the whole file. */
  key: string;
  message: string;
  line?: number;
  column?: number;
}

export class ConfigError extends LoomError {
  override readonly name = 'ConfigError';
  constructor(
    /** The file (absolute path) or "overrides" for values passed in code. */
    readonly file: string,
    /** How the file is named in messages ("loom.toml"). */
    readonly displayName: string,
    readonly problems: ConfigProblem[],
  ) {
    super('config_error', problems.map((p) => formatProblem(displayName, p)).join('\n'));
  }
}

function formatProblem(file: string, p: ConfigProblem): string {
  const where = p.line !== undefined ? `${file}:${p.line}:${p.column ?? 1}` : file;
  return p.key ? `${where}: ${p.key}: ${p.message}` : `${where}: ${p.message}`;
}

/** TOML path of a list of segments: bare keys joined by dots, other keys quoted, array items as [i]. */
export function tomlPath(segments: (string | number)[]): string {
  let out = '';
  for (const s of segments) {
    if (typeof s === 'number') out += `[${s}]`;
    else out += (out ? '.' : '') + (/^[A-Za-z0-9_-]+$/.test(s) ? s : JSON.stringify(s));
  }
  return out;
}

function pointerSegments(instancePath: string, data: unknown): (string | number)[] {
  if (!instancePath) return [];
  const out: (string | number)[] = [];
  let node: unknown = data;
  for (const raw of instancePath.slice(1).split('/')) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    const index = Array.isArray(node) ? Number(seg) : undefined;
    out.push(index !== undefined ? index : seg);
    node = (node as Record<string, unknown> | undefined)?.[seg];
  }
  return out;
}

const TYPE_WORDS: Record<string, string> = {
  integer: 'an integer',
  number: 'a number',
  string: 'a string',
  boolean: 'true or false',
  object: 'a table',
  array: 'an array',
};

/** One problem per key from ajv's errors (ajv may report several keywords for the same key). */
export function problemsFromAjv(errors: ErrorObject[], root: unknown): ConfigProblem[] {
  const byKey = new Map<string, ConfigProblem>();
  for (const e of errors) {
    const segments = pointerSegments(e.instancePath, root);
    const params = e.params as Record<string, unknown>;
    const schema = (e.parentSchema ?? {}) as Record<string, unknown>;
    let message: string;
    if (e.keyword === 'additionalProperties') {
      const unknownKey = String(params.additionalProperty);
      segments.push(unknownKey);
      message = `unknown key${suggestion(unknownKey, Object.keys((schema.properties as object) ?? {}))}`;
    } else if (e.keyword === 'required') {
      segments.push(String(params.missingProperty));
      message = 'is required';
    } else if (e.propertyName !== undefined || e.keyword === 'propertyNames') {
      segments.push(String(e.propertyName ?? params.propertyName));
      if (e.keyword === 'propertyNames') continue; // the nested error says why
      message = `is not a valid name: must be ${String(schema.description ?? 'a valid name')}`;
    } else {
      message = valueMessage(e, schema);
    }
    const key = tomlPath(segments);
    if (!byKey.has(key)) byKey.set(key, { key, message });
  }
  return [...byKey.values()];
}

function valueMessage(e: ErrorObject, schema: Record<string, unknown>): string {
  const got = ` (got ${describe(e.data)})`;
  const params = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'type':
      return `must be ${TYPE_WORDS[String(params.type)] ?? String(params.type)}${got}`;
    case 'enum':
      return `must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}${got}`;
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return `must be ${String(params.comparison)} ${String(params.limit)}${got}`;
    case 'minLength':
      return Number(params.limit) === 1
        ? 'must not be empty'
        : `must be at least ${String(params.limit)} characters${got}`;
    case 'maxLength':
      return `must be at most ${String(params.limit)} characters${got}`;
    case 'minItems':
      return `must have at least ${count(Number(params.limit), 'item')}${got}`;
    case 'maxItems':
      return `must have at most ${count(Number(params.limit), 'item')}${got}`;
    case 'pattern':
      return `must be ${String(schema.description ?? `a string matching ${String(params.pattern)}`)}${got}`;
    default:
      return `${e.message ?? 'is invalid'}${got}`;
  }
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

/** ' (did you mean "x"?)' for a close known key (its snake_case spelling counts as exact), else the known keys. */
export function suggestion(unknownKey: string, known: string[]): string {
  if (known.length === 0) return '';
  const snake = unknownKey.replace(/[A-Z]/g, (c) => '_' + c.toLowerCase()).replace(/-/g, '_');
  const [best] = closestNames(snake, known, 1);
  return best !== undefined ? ` (did you mean "${best}"?)` : ` (known keys: ${known.join(', ')})`;
}
