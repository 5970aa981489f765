// The runtime never imports 'vscode' (DESIGN.md, Layout): runtime/tsconfig.json maps the name to this
// file, which is not a module, so `import … from 'vscode'` in runtime/ fails to typecheck.
declare const __loomRuntimeMustNotImportVscode: never;
