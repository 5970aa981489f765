// Every NATS name the cluster uses, in one place: each carries the namespace, so several Loom
// deployments share one NATS without seeing one another.
import type { LoomConfig } from '../config';

/** [cluster] as the loader mapped it (runtime/config/cluster.ts). */
export type ClusterConfig = NonNullable<LoomConfig['cluster']>;

export interface Names {
  /** Core NATS subject of a realtime event: loom.<ns>.rt.<topic>. */
  realtime(topic: string): string;
  realtimeAll: string;
  /** JetStream subject of a batched/background event: loom.<ns>.ev.<topic>. */
  durable(topic: string): string;
  durableAll: string;
  /** The bus topic a subject carries (undefined for a subject of another kind). */
  topicOf(subject: string): string | undefined;
  /** Replies to a runtime's request inboxes: loom.<ns>.reply.<node>. */
  replies(node: string): string;
  /** A tool's service subject (and its queue group): loom.<ns>.tool.<base64url name>. */
  tool(name: string): string;
  stream: string;
  presenceBucket: string;
}

export function names(namespace: string): Names {
  const base = `loom.${namespace}`;
  const rt = `${base}.rt.`;
  const ev = `${base}.ev.`;
  return {
    realtime: (topic) => rt + topic,
    realtimeAll: `${rt}>`,
    durable: (topic) => ev + topic,
    durableAll: `${ev}>`,
    topicOf: (subject) =>
      subject.startsWith(rt) ? subject.slice(rt.length) : subject.startsWith(ev) ? subject.slice(ev.length) : undefined,
    replies: (node) => `${base}.reply.${node}`,
    tool: (name) => `${base}.tool.${Buffer.from(name, 'utf8').toString('base64url')}`,
    stream: `LOOM_${namespace}_EVENTS`,
    presenceBucket: `loom_${namespace}_presence`,
  };
}
