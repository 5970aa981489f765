// npm run gen:schema: writes loom.toml's JSON Schema, generated from the zod schema (schema.ts),
// where the extension's contract and the Python SDK read it. Run from the repository root.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { loomTomlSchemaText, SCHEMA_FILES } from './schema';

const root = resolve(__dirname, '../..');
for (const file of SCHEMA_FILES) {
  mkdirSync(dirname(resolve(root, file)), { recursive: true });
  writeFileSync(resolve(root, file), loomTomlSchemaText());
  console.log(`wrote ${file}`);
}
