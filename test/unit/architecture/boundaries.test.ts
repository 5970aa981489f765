// The architecture, as tests over the import graph of the TypeScript sources (DESIGN.md, "Dependencies
// point one way"). Every import counts: `import`, `import type`, `export … from`, `import()`,
// `require()` and `typeof import()` in types. The rules:
//   • extension/ imports from runtime/ only runtime/contract and runtime/proto (the generated types),
//     and nothing from webview/;
//   • webview/ imports from runtime/ only runtime/contract and runtime/proto, nothing from extension/,
//     no Node module (node:*, or a builtin by its bare name), not even through what it imports;
//   • runtime/ imports nothing from extension/ or webview/, and never 'vscode';
//   • the contract (runtime/contract, its index included) imports nothing of the runtime beyond
//     runtime/contract and runtime/proto;
//   • the runtime's parts (the folders directly under runtime/, each file directly in it on its own)
//     import one another without a cycle.
import { strict as assert } from 'node:assert';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';

const ROOT = resolve(__dirname, '../../..');

interface Edge {
  from: string;
  /** The specifier as written. */
  spec: string;
  /** The file it names (repository-relative, '/'-separated), for a relative specifier that resolves. */
  to?: string;
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory()) {
      if (entry.name !== 'node_modules') out.push(...sourceFiles(path));
    } else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

/** Every module specifier a file names, type-only ones included. */
export function importsOf(file: string, text: string): string[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const specs: string[] = [];
  const literal = (node: ts.Node | undefined) => {
    if (node && ts.isStringLiteralLike(node)) specs.push(node.text);
  };
  const visit = (node: ts.Node) => {
    if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) literal(node.moduleSpecifier);
    else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference))
      literal(node.moduleReference.expression);
    else if (
      ts.isCallExpression(node) &&
      (node.expression.kind === ts.SyntaxKind.ImportKeyword ||
        (ts.isIdentifier(node.expression) && node.expression.text === 'require'))
    )
      literal(node.arguments[0]);
    else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) literal(node.argument.literal);
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return specs;
}

function resolveRelative(from: string, spec: string): string | undefined {
  const base = resolve(ROOT, dirname(from), spec);
  for (const candidate of [base, `${base}.ts`, join(base, 'index.ts')]) {
    if (existsSync(candidate) && statSync(candidate).isFile()) return relative(ROOT, candidate).split(sep).join('/');
  }
  return undefined;
}

const FILES = ['runtime', 'extension', 'webview'].flatMap(sourceFiles);
const EDGES: Edge[] = FILES.flatMap((from) =>
  importsOf(from, readFileSync(join(ROOT, from), 'utf8')).map((spec) =>
    spec.startsWith('.') ? { from, spec, to: resolveRelative(from, spec) } : { from, spec },
  ),
);
const under = (path: string | undefined, ...dirs: string[]) =>
  path !== undefined && dirs.some((d) => path.startsWith(`${d}/`));
const show = (edges: Edge[]) => edges.map((e) => `  ${e.from} → ${e.spec}`).join('\n');
const NODE_BUILTINS = new Set(builtinModules);
const isNodeModule = (spec: string) =>
  spec.startsWith('node:') || NODE_BUILTINS.has(spec) || NODE_BUILTINS.has(spec.split('/')[0]!);

/** The runtime part a file belongs to: its folder directly under runtime/, or the file itself when it stands in runtime/. */
export function partOf(file: string): string {
  const rest = file.slice('runtime/'.length);
  const slash = rest.indexOf('/');
  return slash < 0 ? rest.replace(/\.ts$/, '') : rest.slice(0, slash);
}

/** One cycle of a directed graph (as the list of its nodes, the first repeated at the end), or undefined. */
export function findCycle(graph: Map<string, Set<string>>): string[] | undefined {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string): string[] | undefined => {
    state.set(node, 'open');
    stack.push(node);
    for (const next of [...(graph.get(node) ?? [])].sort()) {
      if (state.get(next) === 'open') return [...stack.slice(stack.indexOf(next)), next];
      if (!state.has(next)) {
        const found = visit(next);
        if (found) return found;
      }
    }
    stack.pop();
    state.set(node, 'done');
    return undefined;
  };
  for (const node of [...graph.keys()].sort()) {
    if (!state.has(node)) {
      const found = visit(node);
      if (found) return found;
    }
  }
  return undefined;
}

describe('architecture: the import graph keeps to the layout', () => {
  it('reads the graph (sanity: it sees type imports, export-from and the known edges)', () => {
    assert.deepEqual(
      importsOf(
        'x.ts',
        "import type { A } from './a';\nexport * from './b';\nconst c = require('./c');\ntype D = typeof import('./d');\nimport('./e');",
      ),
      ['./a', './b', './c', './d', './e'],
    );
    assert.ok(FILES.length > 100, `only ${FILES.length} files found`);
    assert.ok(EDGES.some((e) => e.from === 'extension/session/manager.ts' && e.to === 'runtime/contract/index.ts'));
    const unresolved = EDGES.filter((e) => e.spec.startsWith('.') && e.to === undefined);
    assert.equal(unresolved.length, 0, `relative imports that name no file:\n${show(unresolved)}`);
  });

  it('extension/ imports from runtime/ only runtime/contract and runtime/proto, and nothing from webview/', () => {
    const bad = EDGES.filter(
      (e) =>
        under(e.from, 'extension') &&
        (under(e.to, 'webview') || (under(e.to, 'runtime') && !under(e.to, 'runtime/contract', 'runtime/proto'))),
    );
    assert.equal(bad.length, 0, `extension/ reaches past the contract:\n${show(bad)}`);
  });

  it('webview/ imports from runtime/ only runtime/contract and runtime/proto, and nothing from extension/', () => {
    const bad = EDGES.filter(
      (e) =>
        under(e.from, 'webview') &&
        (under(e.to, 'extension') || (under(e.to, 'runtime') && !under(e.to, 'runtime/contract', 'runtime/proto'))),
    );
    assert.equal(bad.length, 0, `webview/ reaches past the contract:\n${show(bad)}`);
  });

  it('webview/ uses no Node module, not even through the files it imports', () => {
    const seen = new Set<string>();
    const todo = FILES.filter((f) => under(f, 'webview'));
    const bad: Edge[] = [];
    while (todo.length) {
      const file = todo.pop()!;
      if (seen.has(file)) continue;
      seen.add(file);
      for (const e of EDGES.filter((x) => x.from === file)) {
        if (isNodeModule(e.spec) || e.spec === 'vscode') bad.push(e);
        if (e.to) todo.push(e.to);
      }
    }
    assert.equal(bad.length, 0, `the dashboard's browser code reaches Node:\n${show(bad)}`);
  });

  it("runtime/ imports nothing from extension/ or webview/, and never 'vscode'", () => {
    const bad = EDGES.filter(
      (e) =>
        under(e.from, 'runtime') &&
        (under(e.to, 'extension', 'webview') || e.spec === 'vscode' || e.spec.startsWith('vscode/')),
    );
    assert.equal(bad.length, 0, `runtime/ depends on its hosts:\n${show(bad)}`);
  });

  it('the contract, its index included, imports nothing of the runtime beyond runtime/contract and runtime/proto', () => {
    const bad = EDGES.filter(
      (e) =>
        under(e.from, 'runtime/contract') &&
        under(e.to, 'runtime') &&
        !under(e.to, 'runtime/contract', 'runtime/proto'),
    );
    assert.equal(bad.length, 0, `the contract leans on runtime internals:\n${show(bad)}`);
  });

  it('the runtime parts import one another without a cycle (type imports included)', () => {
    const graph = new Map<string, Set<string>>();
    const why = new Map<string, Edge>();
    for (const e of EDGES) {
      if (!under(e.from, 'runtime') || !under(e.to, 'runtime')) continue;
      const [a, b] = [partOf(e.from), partOf(e.to!)];
      if (a === b) continue;
      if (!graph.has(a)) graph.set(a, new Set());
      graph.get(a)!.add(b);
      if (!why.has(`${a}→${b}`)) why.set(`${a}→${b}`, e);
    }
    const cycle = findCycle(graph);
    const explain = (c: string[]) =>
      c
        .slice(0, -1)
        .map(
          (p, i) =>
            `  ${p} → ${c[i + 1]}   (${why.get(`${p}→${c[i + 1]}`)!.from} imports '${why.get(`${p}→${c[i + 1]}`)!.spec}')`,
        )
        .join('\n');
    assert.equal(
      cycle,
      undefined,
      cycle && `the runtime's parts form a cycle: ${cycle.join(' → ')}\n${explain(cycle)}`,
    );
  });

  it('the cycle finder finds a cycle and says where', () => {
    const g = new Map([
      ['a', new Set(['b'])],
      ['b', new Set(['c'])],
      ['c', new Set(['a'])],
      ['d', new Set(['a'])],
    ]);
    assert.deepEqual(findCycle(g), ['a', 'b', 'c', 'a']);
    assert.equal(
      findCycle(
        new Map([
          ['a', new Set(['b'])],
          ['b', new Set<string>()],
        ]),
      ),
      undefined,
    );
  });
});
