// Other runtimes' tools registered here (runtime/cluster/tools.ts sync), with the real registry:
// presence changes with every agent that starts or stops, and a sync that walks every remote
// tool each time costs as much as the tools a peer lists. No NATS: sync() reads presence entries
// only (test/integration/cluster/ runs the tools over a real server).
import { strict as assert } from 'node:assert';
import { ClusterTools } from '../../../runtime/cluster/tools';
import { names } from '../../../runtime/cluster/subjects';
import type { PresenceEntry } from '../../../runtime/cluster/presence';
import { DefaultToolRegistry } from '../../../runtime/tools/registry';
import type { ToolRegistry } from '../../../runtime/tools';
import { silentLogger } from '../../../runtime/log';

const entry = (node: string, tools: string[], agents: PresenceEntry['agents'] = []): PresenceEntry => ({
  node,
  atMs: Date.now(),
  agents,
  tools: tools.map((name) => ({ name, description: '', parametersSchema: { type: 'object' } })),
});
const tick = () => new Promise((r) => setImmediate(r));

describe('cluster tools: syncing the tools other runtimes offer', () => {
  let registry: DefaultToolRegistry;
  let lookups: number;
  let cluster: ClusterTools;

  beforeEach(() => {
    registry = new DefaultToolRegistry({ defaultTimeoutMs: 1000, log: silentLogger });
    lookups = 0;
    // The real registry, with its lookups counted: what a sync does per remote tool.
    const counted: ToolRegistry = {
      register: (d, h, o) => registry.register(d, h, o),
      unregister: (name) => registry.unregister(name),
      unregisterOwner: (owner) => registry.unregisterOwner(owner),
      get: (name) => {
        lookups++;
        return registry.get(name);
      },
      list: (prefix) => registry.list(prefix),
      call: (r) => registry.call(r),
      onDidChangeTools: (l) => registry.onDidChangeTools(l),
      onDidCall: (l) => registry.onDidCall(l),
    };
    cluster = new ClusterTools(counted, 'A', [], names('unit'), 1000, silentLogger, () => undefined);
  });
  afterEach(() => cluster.close());

  const tools = Array.from({ length: 500 }, (_, i) => `p:t${i}`);

  it("a presence change that leaves every runtime's tool names alone costs no sync", async () => {
    cluster.sync([entry('P', tools)]);
    await tick();
    assert.equal(registry.list('p:').length, 500);
    lookups = 0;
    // P's agent started: its entry changed, its tools did not.
    cluster.sync([entry('P', tools, [{ agentId: 'a', state: 'connected', supervised: true }])]);
    await tick();
    assert.equal(lookups, 0, 'the registry was asked about every remote tool again');
    // One tool more: synced.
    cluster.sync([entry('P', [...tools, 'p:new'])]);
    await tick();
    assert.ok(registry.get('p:new'));
    // P gone: its tools with it.
    cluster.sync([]);
    await tick();
    assert.equal(registry.list('p:').length, 0);
  });

  it("a local tool that took a remote one's name, and left again: the remote one comes back (no presence change)", async () => {
    cluster.sync([entry('P', ['p:shared'])]);
    await tick();
    const local = registry.register(
      {
        name: 'p:shared',
        description: 'here',
        parametersSchema: { type: 'object' },
        provider: 'native',
        owner: 'runtime',
      },
      () => Promise.resolve('local'),
    );
    await tick();
    assert.equal(registry.get('p:shared')?.owner, 'runtime');
    local.dispose();
    await tick();
    assert.equal(registry.get('p:shared')?.owner, 'cluster');
  });
});
