// Contract: what more than one of Loom's processes relies on — the runtime, the VS Code extension,
// the dashboard UI. extension/ imports runtime/ only through this folder and the generated proto
// types (runtime/proto); webview/ only through this folder's browser-safe modules (dashboard.ts,
// topics.ts, busError.ts, errors.ts), imported directly since this index also re-exports Node modules.
// test/unit/architecture/boundaries.test.ts enforces it.
export * from './busError';
export * from './configOverrides';
export * from './configProblems';
export * from './dashboard';
export * from './dashboardActions';
export * from './dataDir';
export * from './describe';
export * from './discovery';
export * from './errors';
export * from './locateKey';
export * from './loomToml';
export * from './mcpInputs';
export * from './process';
export * from './sandbox';
export * from './protectedPlaces';
export * from './suggest';
export * from './toolCancel';
export * from './toolError';
export * from './toolKinds';
export * from './toolNames';
export * from './topics';
