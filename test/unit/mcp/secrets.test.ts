// Which values of an MCP server's expanded configuration a failure's message must not quote.
import { strict as assert } from 'node:assert';
import { expandServer, type McpServerConfig } from '../../../runtime/mcp/config';
import { secretsOf } from '../../../runtime/mcp/connection';

describe('MCP server secrets', () => {
  const common = { name: 's', policy: 'allow' } as unknown as McpServerConfig;

  it("an HTTP server's header values and their words, and the URL's user, password and query values", () => {
    const secrets = secretsOf({
      ...common,
      transport: 'http',
      url: 'https://bob:pa%24%24word@mcp.example/x?api_key=k3y-value&v=1',
      headers: { Authorization: 'Bearer tok-123456', 'X-Id': 'ab' },
    } as McpServerConfig);
    for (const s of [
      'Bearer tok-123456',
      'tok-123456',
      'pa$$word',
      'pa%24%24word',
      'k3y-value',
      'api_key=k3y-value&v=1',
    ])
      assert.ok(secrets.includes(s), s);
    assert.ok(!secrets.includes('ab') && !secrets.includes('1') && !secrets.includes('bob'), secrets.join());
    assert.ok(!secrets.includes('Bearer'), 'the scheme is no secret: "Bearer" in a message stays readable');
    assert.deepEqual(
      secrets,
      [...secrets].sort((a, b) => b.length - a.length),
      'longest first',
    );
  });

  it('a raw % in the password loses none of the others', () => {
    const secrets = secretsOf({
      ...common,
      transport: 'http',
      url: 'https://u:100%sure@mcp.example/x?api_key=k3y-value',
      headers: {},
    } as McpServerConfig);
    assert.ok(secrets.includes('100%sure') && secrets.includes('k3y-value'), secrets.join());
  });

  it('every value a ${...} reference stood for, an argument too', async () => {
    const server = {
      ...common,
      transport: 'stdio',
      command: 'srv',
      args: ['--api-key=${KEY}', '--root', '${workspaceFolder}', '${input:pat}', '--debug=${DEBUG:-true}'],
      env: {},
    } as unknown as McpServerConfig;
    const substituted = new Set<string>();
    const expanded = await expandServer(server, {
      workspace: '/ws/folder',
      env: { KEY: 'k3y-from-env', LOOM_INPUT_PAT: 'pat-from-input' },
      substituted,
    });
    const secrets = secretsOf(expanded, substituted);
    assert.ok(secrets.includes('k3y-from-env') && secrets.includes('pat-from-input'), secrets.join());
    assert.ok(!secrets.includes('/ws/folder'), 'the workspace folder is no secret');
    assert.ok(!secrets.includes('true'), 'a default written in the file (${DEBUG:-true}) is no secret');
    assert.ok(!secrets.some((s) => s.includes('--root')), secrets.join());
  });

  it("a stdio server's env values", () => {
    assert.deepEqual(
      secretsOf({ ...common, transport: 'stdio', env: { GITHUB_TOKEN: 'ghp_abc123', N: '1' } } as McpServerConfig),
      ['ghp_abc123'],
    );
  });
});
