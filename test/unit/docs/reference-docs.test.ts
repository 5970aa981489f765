// The reference docs against what they describe: the README's settings table against the manifest's
// contributed settings, every setting name the docs write against the manifest, and the README's
// table of the headless runtime's options against the options its --help lists. A renamed setting
// or a new option that the docs miss fails here instead of misleading a reader.
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../../..');
const read = (file: string) => readFileSync(join(ROOT, file), 'utf8');

interface Manifest {
  contributes: {
    configuration: { properties: Record<string, { default?: unknown }> };
    commands: { command: string }[];
  };
}
const manifest = JSON.parse(read('package.json')) as Manifest;
const settings = manifest.contributes.configuration.properties;
const commands = manifest.contributes.commands.map((c) => c.command);
/** Context keys the manifest's `when` clauses use (loom.hasConfig, loom.runtimeState, ...). */
const contextKeys = [...read('package.json').matchAll(/\bloom\.[a-z][A-Za-z]*(?=[\s)"=!&|])/g)].map((m) => m[0]);
/** The first segment of each setting after "loom.": runtime, shell, cluster, pythonPath, ... */
const sections = new Set(Object.keys(settings).map((key) => key.split('.')[1]));

/** The README's settings table: each row's `loom.*` names and the default in its second cell. */
function readmeSettingsRows(): Map<string, string> {
  const rows = new Map<string, string>();
  for (const [, names, fallback] of read('README.md').matchAll(/^\| (`loom\.[^|]+?) \| `([^`]*)` \|/gm))
    for (const [, name] of names!.matchAll(/`(loom\.[\w.]+)`/g)) rows.set(name!, fallback!);
  return rows;
}

describe('the reference docs', () => {
  it("the README's settings table lists every contributed setting, with its default, and nothing else", () => {
    const rows = readmeSettingsRows();
    assert.deepEqual([...rows.keys()].sort(), Object.keys(settings).sort());
    for (const [key, schema] of Object.entries(settings))
      assert.equal(rows.get(key), JSON.stringify(schema.default ?? null), `the default of ${key}`);
  });

  it('every setting name the docs write is a contributed setting', () => {
    // A name with a capital letter after "loom." (loom.keepAlive) or under a settings section
    // (loom.runtime.port) is a setting, a command or a context key; lower-case ones such as
    // loom.node are event metadata, loom.runtime a Python module, loom.PermissionDenied a class.
    const known = new Set([...Object.keys(settings), ...commands, ...contextKeys]);
    const docs = ['README.md', 'SECURITY.md', 'ARCHITECTURE.md', 'runtime/config/loom.toml.md', 'sdk/python/README.md'];
    const unknown: string[] = [];
    for (const doc of docs)
      for (const [, name] of read(doc).matchAll(/`(loom\.[a-z][A-Za-z]*(?:\.[a-z][A-Za-z]*)*)`/g)) {
        const segments = name!.split('.');
        const looksLikeSetting = /[A-Z]/.test(name!) || (segments.length > 2 && sections.has(segments[1]!));
        if (looksLikeSetting && !known.has(name!)) unknown.push(`${doc}: ${name}`);
      }
    assert.deepEqual(unknown, []);
  });

  it("the README's table of the runtime's options has every option its --help lists", () => {
    const usage = /const USAGE = `([^`]*)`/.exec(read('runtime/cli.ts'))?.[1];
    assert.ok(usage, 'runtime/cli.ts keeps its --help text in USAGE');
    const options = new Set([...usage.matchAll(/^ {2}(--[a-z-]+)/gm)].map((m) => m[1]!));
    assert.ok(options.has('--workspace') && options.has('--parent-pid'), `options read from USAGE: ${[...options]}`);
    const readme = read('README.md');
    const table = readme.slice(readme.indexOf('### The headless runtime'), readme.indexOf('It stops cleanly'));
    const documented = new Set(
      [...table.matchAll(/^\| `(--[a-z-]+)/gm), ...table.matchAll(/, `(--[a-z-]+)/g)].map((m) => m[1]!),
    );
    assert.deepEqual(
      [...options].filter((o) => !documented.has(o)),
      [],
      'options --help lists that the README does not',
    );
    assert.deepEqual(
      [...documented].filter((o) => !options.has(o)),
      [],
      'options the README lists that --help does not',
    );
  });
});
