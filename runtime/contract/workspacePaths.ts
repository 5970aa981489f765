// Contract: how a path named by an agent is confined to the workspace. The extension's editor tools
// use the runtime's own file sandbox (runtime/tools/sandbox.ts) and its error, so both processes
// confine paths by one rule: real paths with every symlink followed, the workspace folders as
// roots, no writes into .git or the data folder. This module is the extension's one door to it.
export { Sandbox } from '../tools/sandbox';
export { ToolError } from '../tools/errors';
