// Contract: how a message names a value it refuses (a config value above all), the same in every
// process that checks one (the runtime's loader, the data-folder rule the extension applies too).

/** A short, typed description of a value found in the file. */
export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (value instanceof Date) return `date ${value.toISOString()}`;
  if (Array.isArray(value)) return 'an array';
  if (value && typeof value === 'object') return 'a table';
  return String(value);
}
