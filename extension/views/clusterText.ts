// What the runtime status bar item says about the runtime's NATS cluster (GetStats' ClusterInfo,
// then each cluster.health event): no vscode here, so it is unit-tested.

export interface ClusterFacts {
  /** This runtime's node name. */
  node: string;
  /** connecting, connected, reconnecting or disconnected. */
  state: string;
  /** The NATS server it is (or was last) connected to. */
  server: string;
  /** The last connection problem, in words (never a credential). */
  error: string;
  /** The live runtimes of the cluster, this one included (GetStats only; events do not carry it). */
  nodes?: string[];
}

export interface ClusterNotice {
  /** Appended to the item's text. */
  suffix: string;
  /** The item takes the warning look: this runtime is cut off from the cluster. */
  warning: boolean;
  /** A line for the tooltip. */
  text: string;
}

/** The item's words for the cluster; undefined for a runtime without [cluster]. */
export function clusterNotice(facts: ClusterFacts | null | undefined): ClusterNotice | undefined {
  if (!facts?.state) return undefined;
  const node = `node "${facts.node}"`;
  if (facts.state === 'connected') {
    const others = facts.nodes ? facts.nodes.filter((n) => n !== facts.node).length : undefined;
    const peers = others === undefined ? '' : ` with ${others} other runtime${others === 1 ? '' : 's'}`;
    return {
      suffix: ' $(cloud)',
      warning: false,
      text: `Cluster: ${node} connected to ${facts.server || 'NATS'}${peers}.`,
    };
  }
  const problem = facts.error ? ` Last problem: ${facts.error.replace(/\.$/, '')}.` : '';
  return {
    suffix: ' $(cloud-offline)',
    warning: facts.state !== 'connecting',
    text:
      `Cluster: ${node} ${facts.state}${facts.server ? ` (${facts.server})` : ''}.${problem} ` +
      'Agents keep working locally; shared batched events wait in a buffer.',
  };
}

/** A cluster.health event's JSON payload as facts, keeping what the event does not carry (the node list). */
export function clusterFactsOf(payload: Uint8Array, previous: ClusterFacts | null): ClusterFacts | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(payload).toString('utf8'));
  } catch {
    return previous; // not ours to judge: the runtime writes these, an unreadable one changes nothing
  }
  if (typeof parsed !== 'object' || parsed === null) return previous;
  const p = parsed as Record<string, unknown>;
  const text = (v: unknown) => (typeof v === 'string' ? v : '');
  if (!text(p.state)) return previous;
  return {
    node: text(p.node) || previous?.node || '',
    state: text(p.state),
    server: text(p.server),
    error: text(p.error),
    ...(previous?.nodes ? { nodes: previous.nodes } : {}),
  };
}
