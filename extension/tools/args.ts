// Argument checking for the extension's tools: each tool's JSON Schema is the single statement of
// what it accepts; ajv applies it, and a refusal names the argument and the problem.
import Ajv, { type ValidateFunction } from 'ajv';
import { ToolFailure } from '../bridge/client';

const ajv = new Ajv({ allErrors: true, strict: false });
const cache = new WeakMap<object, ValidateFunction>();

export function checkArgs<T>(tool: string, schema: Record<string, unknown>, args: Record<string, unknown>): T {
  let validate = cache.get(schema);
  if (!validate) {
    validate = ajv.compile(schema);
    cache.set(schema, validate);
  }
  if (!validate(args)) {
    const problems = (validate.errors ?? []).map(
      (e) =>
        `${e.instancePath || '(arguments)'} ${e.message}${e.params && 'additionalProperty' in e.params ? ` "${e.params.additionalProperty}"` : ''}`,
    );
    throw new ToolFailure('TOOL_INVALID_ARGUMENTS', 'invalid_arguments', `${tool}: ${problems.join('; ')}`);
  }
  return args as T;
}
