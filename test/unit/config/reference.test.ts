// The reference's loom.toml read as it is: each of its keys mapped or noted, its agents'
// settings set aside, LOOM_MCP_SERVERS added, and typos still caught.
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ConfigError, loadConfig } from '../../../runtime/config';

const TARBALL = path.resolve(__dirname, '../../../../shared/reference/loom-os-loom-c34e1de.tar.gz');

describe("config: the reference's loom.toml", () => {
  let ws: string;
  beforeEach(async () => {
    ws = await fs.mkdtemp(path.join(os.tmpdir(), 'loom-refconfig-'));
  });
  afterEach(async () => {
    await fs.rm(ws, { recursive: true, force: true });
  });
  const load = async (text: string, env: Record<string, string> = {}) => {
    await fs.writeFile(path.join(ws, 'loom.toml'), text);
    return loadConfig(ws, undefined, { env });
  };
  async function problems(text: string, env: Record<string, string> = {}): Promise<string> {
    try {
      await load(text, env);
    } catch (err) {
      assert.ok(err instanceof ConfigError, String(err));
      return err.message;
    }
    return assert.fail('the file was accepted');
  }
  const noted = (config: { notes: { key: string }[] }) => config.notes.map((n) => n.key).sort();

  it("maps bridge.address onto host and port, notes mode and version, and the app's name, description and version", async () => {
    const config = await load(
      `name = "app"\ndescription = "d"\nversion = "0.1.0"\n[bridge]\naddress = "127.0.0.1:50051"\nmode = "full"\nversion = "latest"\n`,
    );
    assert.equal(config.bridge.host, '127.0.0.1');
    assert.equal(config.bridge.port, 50051);
    assert.deepEqual(noted(config), ['bridge.mode', 'bridge.version', 'description', 'name', 'version']);
  });

  it('refuses an address off loopback, a malformed one, and one given beside host or port', async () => {
    assert.match(await problems('[bridge]\naddress = "0.0.0.0:50051"\n'), /bridge\.address: .*loopback/);
    assert.match(await problems('[bridge]\naddress = "127.0.0.1:99999"\n'), /bridge\.address: must be host:port/);
    assert.match(await problems('[bridge]\naddress = "localhost"\n'), /bridge\.address/);
    assert.match(
      await problems('[bridge]\naddress = "127.0.0.1:1"\nport = 2\n'),
      /bridge\.address: give either address or host and port/,
    );
  });

  it('serves the dashboard from [dashboard], on loopback only', async () => {
    const config = await load('[dashboard]\nenabled = true\nhost = "127.0.0.1"\nport = 3030\n');
    assert.deepEqual(config.dashboard, { enabled: true, port: 3030 });
    assert.match(await problems('[dashboard]\nenabled = true\nhost = "0.0.0.0"\n'), /dashboard\.host/);
  });

  it('takes [workspace] root inside the workspace as it is, and adds one outside to the roots', async () => {
    const inside = await load('[workspace]\nroot = "./workspace"\nreports_dir = "./workspace/reports"\n');
    assert.deepEqual(inside.runtime.roots, []);
    assert.deepEqual(noted(inside), ['workspace.reports_dir', 'workspace.root']);
    const elsewhere = path.join(os.tmpdir(), 'elsewhere');
    const outside = await load(`[workspace]\nroot = ${JSON.stringify(elsewhere)}\n`);
    assert.deepEqual(outside.runtime.roots, [elsewhere]);
  });

  it("sets aside command-less [agents.<id>] tables as the agents' own settings, and starts nothing for them", async () => {
    const config = await load(
      '[agents.trend-agent]\ntopics = ["market.price.*"]\nwindow_size = 20\nindicators = ["SMA"]\n[agents.worker]\ncommand = "python3"\n',
    );
    assert.deepEqual(Object.keys(config.agents), ['worker']);
    const note = config.notes.find((n) => n.key === 'agents.trend-agent');
    assert.match(note!.message, /starts nothing for "trend-agent".*topics, window_size, indicators/);
  });

  it("still refuses a table that is a broken Loom agent: Loom's keys without command, or command misspelled", async () => {
    assert.match(
      await problems('[agents.worker]\nargs = ["a.py"]\nrestart = "always"\n'),
      /agents\.worker\.command: is required/,
    );
    const misspelled = await problems('[agents.worker]\ncomand = "python3"\n');
    assert.match(misspelled, /agents\.worker\.command: is required/);
    assert.match(misspelled, /agents\.worker\.comand: .*did you mean "?command/i);
    assert.match(
      await problems('[agents.worker]\ncommand = "python3"\ntopics = ["x"]\n'),
      /agents\.worker.*topics/,
      'a Loom agent table stays strict',
    );
  });

  it('adds the MCP servers of LOOM_MCP_SERVERS, as an array or by name, beside [mcp.*]', async () => {
    const asArray = await load('[mcp.files]\ncommand = "node"\n', {
      LOOM_MCP_SERVERS: JSON.stringify([
        { name: 'brave', command: 'npx', args: ['-y', 'x'], env: { K: 'v' }, protocol_version: '2024-11-05' },
      ]),
    });
    assert.deepEqual(asArray.mcp.brave, { command: 'npx', args: ['-y', 'x'], env: { K: 'v' } });
    assert.ok(asArray.mcp.files);
    assert.deepEqual(noted(asArray), ['LOOM_MCP_SERVERS', 'LOOM_MCP_SERVERS.brave.protocol_version']);
    assert.match(
      asArray.notes.find((n) => n.key === 'LOOM_MCP_SERVERS')!.message,
      /^Loading MCP servers from LOOM_MCP_SERVERS: brave$/,
    );
    const byName = await load('', { LOOM_MCP_SERVERS: JSON.stringify({ echo: { command: 'node', args: ['e.js'] } }) });
    assert.deepEqual(byName.mcp.echo, { command: 'node', args: ['e.js'] });
  });

  it('names what is wrong in LOOM_MCP_SERVERS: not JSON, no command, no name, a name loom.toml has', async () => {
    assert.match(await problems('', { LOOM_MCP_SERVERS: '[{' }), /LOOM_MCP_SERVERS: is not JSON/);
    assert.match(await problems('', { LOOM_MCP_SERVERS: '"x"' }), /LOOM_MCP_SERVERS: must be a JSON array/);
    assert.match(await problems('', { LOOM_MCP_SERVERS: '{"a":{"args":[]}}' }), /LOOM_MCP_SERVERS\.a: needs command/);
    assert.match(await problems('', { LOOM_MCP_SERVERS: '[{"command":"node"}]' }), /LOOM_MCP_SERVERS\.#0: needs name/);
    assert.match(
      await problems('[mcp.a]\ncommand = "node"\n', { LOOM_MCP_SERVERS: '{"a":{"command":"node"}}' }),
      /LOOM_MCP_SERVERS\.a: names a server loom\.toml also defines/,
    );
  });

  // The reference's published apps, from ../shared/reference (test data; nothing of it is in this repo).
  describe("the reference's own apps", () => {
    let unpacked: string;
    before(function () {
      if (!existsSync(TARBALL)) this.skip(); // the reference sources are beside the repo in CI; a bare clone has none to read
      unpacked = execFileSync('mktemp', ['-d']).toString().trim();
      execFileSync('tar', ['-xzf', TARBALL, '-C', unpacked, '--wildcards', '*/apps/*/loom.toml']);
    });
    after(() => unpacked && execFileSync('rm', ['-rf', unpacked]));

    for (const app of ['chat-assistant', 'deep-research', 'market-analyst']) {
      it(`loads apps/${app}/loom.toml, setting aside every agent and noting what has no effect`, async () => {
        const [top] = await fs.readdir(unpacked);
        const config = await loadConfig(path.join(unpacked, top, 'apps', app), undefined, {
          env: { DEEPSEEK_API_KEY: 'k', BRAVE_API_KEY: 'k' },
        });
        assert.equal(config.bridge.port, 50051);
        assert.deepEqual(config.agents, {}, 'none of its agents has a command: the runtime starts none');
        assert.ok(config.notes.some((n) => n.key === 'bridge.mode'));
        assert.ok(Object.keys(config.llm).includes('deepseek'));
      });
    }
  });
});
