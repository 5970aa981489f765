export type * from './types';
export { ToolError, protoStatusFor, toolResultFromOutcome, unwrapToolResult, type ProtoToolStatus } from './errors';
export { CallCancel } from './callCancel';
export { DefaultToolRegistry, CLUSTER_TOOL_OWNER, type ToolRegistryOptions } from './registry';
export { Sandbox, type ResolvedPath, type SandboxOptions } from './sandbox';
export { registerBuiltinTools, BUILTIN_OWNER } from './builtin';
export { confineProcess, isolationStatus, type IsolationStatus, type Launch } from './isolation';
export { LOOM_NAMESPACES, loomNamespaceOf, namespacesOf, refuseAgentToolName } from './namespaces';
