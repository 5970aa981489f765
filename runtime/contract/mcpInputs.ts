// Contract: how the extension hands the runtime an MCP server's prompted `${input:...}` values:
// as environment variables of this name (the extension sets them, runtime/mcp/config.ts reads them).

/** `${input:github-token}` is read from LOOM_INPUT_GITHUB_TOKEN (how the extension passes prompted inputs). */
export function inputVariable(id: string): string {
  return `LOOM_INPUT_${id.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
}
