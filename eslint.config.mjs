// ESLint over the TypeScript of every target (runtime/, extension/, webview/, test/) and the build
// scripts: `npm run lint`, a suite of `npm test` that must report zero findings. The rules are few
// and type-aware: a promise nobody awaits or catches loses its rejection (no-floating-promises);
// type-only imports stay `import type`, so esbuild drops them and the import graph shows what runs
// (consistent-type-imports); and the layers of ARCHITECTURE.md, as no-restricted-imports, so an
// editor flags a wrong import as it is typed. test/unit/architecture/boundaries.test.ts remains the
// authority on the layers: it resolves every import (require(), import() and cycles included); the
// patterns here see only the specifier as written, so they are generated per folder depth.
import { builtinModules } from 'node:module';
import js from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import tseslint from 'typescript-eslint';

/** How deep a target's files sit below it: 0 for runtime/x.ts, 1 for runtime/bus/x.ts, and so on. */
const DEPTHS = [0, 1, 2, 3, 4, 5];
const up = (depth) => `(\\./)?(\\.\\./){${depth + 1}}`;

const BUILTINS = builtinModules.filter((m) => !m.startsWith('_'));
const NODE = {
  regex: `^(node:.*|(${BUILTINS.join('|')})(/.*)?)$`,
  message: "webview/ is browser code: no Node module and no 'vscode' (test/unit/architecture/boundaries.test.ts).",
};
/** The scripts (esbuild.mjs, the proto generator, test fixtures) run on Node: its globals, as this Node has them. */
const NODE_GLOBALS = Object.fromEntries(Object.getOwnPropertyNames(globalThis).map((name) => [name, 'readonly']));
const VSCODE = { name: 'vscode', message: "runtime/ never imports 'vscode': it runs headless (ARCHITECTURE.md)." };

/** The specifiers a file of `target` at `depth` must not name. */
function restricted(target, depth) {
  const root = up(depth);
  const pastContract = {
    regex: `^${root}runtime(/(?!(contract|proto)(/|$)).*)?$`,
    message: `${target}/ reaches the runtime only through runtime/contract and runtime/proto (ARCHITECTURE.md).`,
  };
  if (target === 'runtime') {
    return {
      paths: [VSCODE],
      patterns: [
        { regex: '^vscode/', message: VSCODE.message },
        {
          regex: `^${root}(extension|webview)(/|$)`,
          message: 'runtime/ imports nothing of its hosts (extension/, webview/).',
        },
      ],
    };
  }
  if (target === 'extension') {
    return {
      patterns: [pastContract, { regex: `^${root}webview(/|$)`, message: 'extension/ imports nothing of webview/.' }],
    };
  }
  return {
    paths: [{ name: 'vscode', message: NODE.message }],
    patterns: [
      pastContract,
      { regex: `^${root}extension(/|$)`, message: 'webview/ imports nothing of extension/.' },
      NODE,
    ],
  };
}

const boundaries = ['runtime', 'extension', 'webview'].flatMap((target) =>
  DEPTHS.map((depth) => ({
    files: [`${target}/${'*/'.repeat(depth)}*.ts`],
    rules: { '@typescript-eslint/no-restricted-imports': ['error', restricted(target, depth)] },
  })),
);

export default defineConfig(
  globalIgnores([
    '**/node_modules/',
    'dist/',
    'out/',
    '.venv/',
    'sdk/',
    'examples/',
    'runtime/proto/gen/',
    'test/output/',
    '.vscode-test/',
    '.vscode-test.mjs',
  ]),
  { linterOptions: { reportUnusedDisableDirectives: 'error' } },
  {
    files: ['**/*.mjs'],
    ...js.configs.recommended,
    languageOptions: { globals: NODE_GLOBALS },
  },
  {
    files: ['**/*.ts'],
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { '@typescript-eslint': tseslint.plugin },
    rules: {
      // vscode's API answers with Thenables, not Promises: they lose a rejection just the same.
      '@typescript-eslint/no-floating-promises': ['error', { checkThenables: true }],
      // A mixed import marks its type-only names inline; an import of types only becomes `import type`
      // (no-import-type-side-effects), which the bundle drops whole. `require(...) as typeof import(...)`
      // stays allowed: it types a load that must stay lazy or cross into ESM.
      '@typescript-eslint/consistent-type-imports': [
        'error',
        { fixStyle: 'inline-type-imports', disallowTypeAnnotations: false },
      ],
      '@typescript-eslint/no-import-type-side-effects': 'error',
    },
  },
  ...boundaries,
  {
    // What the window shows may come from agents: extension/notify.ts makes it plain text first.
    // (A selector, not no-restricted-properties: that rule sees `window`, not `vscode.window`.)
    files: ['extension/**/*.ts'],
    ignores: ['extension/notify.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector:
            'MemberExpression[property.name=/^(showInformationMessage|showWarningMessage|showErrorMessage|showInputBox|createInputBox)$/]',
          message: 'use extension/notify.ts: VS Code turns [label](command:...) in such text into a link that runs',
        },
      ],
    },
  },
);
