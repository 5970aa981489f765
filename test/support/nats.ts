// Real nats-server processes for the cluster tests and benchmarks: a cluster of N JetStream nodes
// (and optionally a leaf server) on random free loopback ports, their config files and stores in
// a temp dir named loom-it-nats-* (so .ci/test.sh's leftover check sees any process left behind:
// each command line names its config file there). stop() kills them all and removes the dir.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { createServer, connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const NATS_SERVER = process.env.NATS_SERVER ?? '/usr/sbin/nats-server';

export function natsServerAvailable(): boolean {
  return existsSync(NATS_SERVER);
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = tcpConnect(port, '127.0.0.1');
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
  });
}

export interface NatsNode {
  name: string;
  port: number;
  url: string;
  config: string;
  proc?: ChildProcess;
  output: string[];
}

export interface ClusterOptions {
  nodes?: number;
  /** Client token every server requires. */
  token?: string;
  /** Also start a leaf server (no JetStream of its own) connected to the cluster; its clients use JetStream domain "hub". */
  leaf?: boolean;
}

export class NatsCluster {
  readonly dir = mkdtempSync(join(tmpdir(), 'loom-it-nats-'));
  readonly nodes: NatsNode[] = [];
  leaf?: NatsNode;

  static async start(opts: ClusterOptions = {}): Promise<NatsCluster> {
    const c = new NatsCluster();
    try {
      await c.init(opts);
    } catch (err) {
      await c.stop();
      throw err;
    }
    return c;
  }

  get urls(): string[] {
    return this.nodes.map((n) => n.url);
  }

  private async init(opts: ClusterOptions): Promise<void> {
    const count = opts.nodes ?? 3;
    const ports = await Promise.all(Array.from({ length: count }, () => freePort()));
    const routes = await Promise.all(Array.from({ length: count }, () => freePort()));
    const leafPorts = await Promise.all(Array.from({ length: count }, () => freePort()));
    for (let i = 0; i < count; i++) {
      const name = `n${i + 1}`;
      const lines = [
        `server_name: ${name}`,
        `listen: "127.0.0.1:${ports[i]}"`,
        // A domain, so a leaf server's clients reach this JetStream as "hub" (a leaf does not extend it).
        `jetstream { store_dir: ${JSON.stringify(join(this.dir, name))}, max_memory_store: 64MB, max_file_store: 2GB, domain: hub }`,
        ...(opts.token ? [`authorization { token: ${JSON.stringify(opts.token)} }`] : []),
      ];
      if (count > 1) {
        const others = routes.filter((_, j) => j !== i).map((p) => `"nats-route://127.0.0.1:${p}"`);
        lines.push(`cluster { name: loomit, listen: "127.0.0.1:${routes[i]}", routes: [${others.join(', ')}] }`);
      }
      if (opts.leaf) lines.push(`leafnodes { listen: "127.0.0.1:${leafPorts[i]}" }`);
      const config = join(this.dir, `${name}.conf`);
      writeFileSync(config, lines.join('\n') + '\n');
      this.nodes.push({ name, port: ports[i]!, url: `nats://127.0.0.1:${ports[i]}`, config, output: [] });
    }
    await Promise.all(this.nodes.map((n) => this.launch(n)));
    await this.jetStreamReady(opts.token);
    if (opts.leaf) {
      const port = await freePort();
      const config = join(this.dir, 'leaf.conf');
      // Every hub node as a remote: the leaf moves to another when one dies.
      const remotes = leafPorts.map((p) => `"nats-leaf://127.0.0.1:${p}"`).join(', ');
      writeFileSync(
        config,
        [`server_name: leaf1`, `listen: "127.0.0.1:${port}"`, `leafnodes { remotes: [ { urls: [${remotes}] } ] }`].join(
          '\n',
        ) + '\n',
      );
      this.leaf = { name: 'leaf1', port, url: `nats://127.0.0.1:${port}`, config, output: [] };
      await this.launch(this.leaf);
    }
  }

  /** Starts (or restarts) one server and waits for its client port. */
  async launch(node: NatsNode): Promise<void> {
    const proc = spawn(NATS_SERVER, ['-c', node.config], { stdio: ['ignore', 'pipe', 'pipe'] });
    node.proc = proc;
    const keep = (b: Buffer) => {
      node.output.push(b.toString('utf8'));
      if (node.output.length > 200) node.output.shift();
    };
    proc.stdout!.on('data', keep);
    proc.stderr!.on('data', keep);
    const deadline = Date.now() + 15_000;
    while (!(await portOpen(node.port))) {
      if (proc.exitCode !== null) throw new Error(`nats-server ${node.name} exited:\n${node.output.join('')}`);
      if (Date.now() > deadline)
        throw new Error(`nats-server ${node.name} did not listen on ${node.port}:\n${node.output.join('')}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Waits until the JetStream cluster has elected its leader and answers (it does not, for a moment, after a start). */
  async jetStreamReady(token?: string): Promise<void> {
    const { connect } = await import('@nats-io/transport-node');
    const { jetstreamManager } = await import('@nats-io/jetstream');
    const nc = await connect({ servers: this.urls, ...(token ? { token } : {}) });
    try {
      const deadline = Date.now() + 30_000;
      for (;;) {
        try {
          await (await jetstreamManager(nc, { timeout: 2000 })).getAccountInfo();
          return;
        } catch (err) {
          if (Date.now() > deadline) throw new Error(`JetStream did not become ready: ${(err as Error).message}`);
          await new Promise((r) => setTimeout(r, 250));
        }
      }
    } finally {
      await nc.close();
    }
  }

  /** Kills one server at once (SIGKILL), as a crashed machine would go. */
  async kill(node: NatsNode): Promise<void> {
    const proc = node.proc;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGKILL');
    await exited;
  }

  async stop(): Promise<void> {
    await Promise.all([...this.nodes, ...(this.leaf ? [this.leaf] : [])].map((n) => this.kill(n)));
    rmSync(this.dir, { recursive: true, force: true });
  }
}
