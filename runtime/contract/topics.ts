// Contract: topic names and subscription patterns, NATS rules: dot-separated segments; in a pattern `*`
// stands for exactly one segment and `>` for one or more trailing segments. Keeping to NATS
// exactly lets a bus map onto a NATS subject space one to one when runtimes federate. The bus, the
// dashboard UI and the extension all match topics by these rules.
import { BusError } from './busError';

/** Request inboxes live under this prefix: `_inbox.<uuid>`. */
export const INBOX_PREFIX = '_inbox.';

/** What the runtime says about an agent, on `agent.<id>.<kind>` (runtime/agents/types.ts). */
export const LIFECYCLE_KINDS = [
  'registered',
  'connected',
  'disconnected',
  'replaced',
  'started',
  'crashed',
  'restarting',
  'stopped',
  'failed',
  'log',
] as const;
export type LifecycleKind = (typeof LIFECYCLE_KINDS)[number];
const LIFECYCLE = new Set<string>(LIFECYCLE_KINDS);

const AGENT_TOPIC = 'agent.';

/**
 * What an `agent.<id>.<kind>` topic is about: the agent (an id may hold single dots, so it is
 * everything between the first segment and the last) and the last segment.
 */
export function agentTopic(topic: string): { agentId: string; kind: string } | undefined {
  if (!topic.startsWith(AGENT_TOPIC)) return undefined;
  const end = topic.lastIndexOf('.');
  if (end <= AGENT_TOPIC.length) return undefined;
  return { agentId: topic.slice(AGENT_TOPIC.length, end), kind: topic.slice(end + 1) };
}

/** `agent.<id>.<kind>` for one of LIFECYCLE_KINDS: the runtime's word about an agent. */
export function lifecycleTopic(topic: string): { agentId: string; kind: LifecycleKind } | undefined {
  const t = agentTopic(topic);
  return t && LIFECYCLE.has(t.kind) ? { agentId: t.agentId, kind: t.kind as LifecycleKind } : undefined;
}

/**
 * Whether only the runtime publishes on `topic`: an agent's lifecycle and output
 * (`agent.<id>.<lifecycle kind>`), the runtime's own news (`runtime.>`), MCP servers' states
 * (`mcp.<name>.state`) and the cluster's (`cluster.>`). The window and agents act on these (a
 * failure notice, a restart offer), so no client may publish there, whatever its credential.
 */
export function isRuntimeOwnTopic(topic: string): boolean {
  const s = topic.split('.');
  if (s[0] === 'runtime' || s[0] === 'cluster') return true;
  if (s[0] === 'mcp') return s.length === 3 && s[2] === 'state';
  return lifecycleTopic(topic) !== undefined;
}

/** Throws a BusError (reserved_topic) for a topic only the runtime publishes on: what a client publishes passes here. */
export function assertClientTopic(topic: string): void {
  if (isRuntimeOwnTopic(topic))
    throw new BusError(
      'reserved_topic',
      `"${topic}" is the runtime's own topic (agent lifecycle and output, runtime.*, mcp.<name>.state, cluster.*): only the runtime publishes there`,
    );
}

/**
 * Whose a topic is to read, when it is not everyone's: an agent's reply inbox and output
 * (`agent.<id>.replies`, `agent.<id>.log`) are agent <id>'s; request inboxes (`_inbox.<uuid>`)
 * belong to the runtime's own requests ('' : no agent's). undefined: anyone may read it.
 */
export function privateTopicOwner(topic: string): string | undefined {
  if (topic.startsWith(INBOX_PREFIX)) return '';
  const t = agentTopic(topic);
  return t && (t.kind === 'replies' || t.kind === 'log') ? t.agentId : undefined;
}

/** Longest topic or pattern accepted; a cap keeps a hostile client from making us split megabytes. */
export const MAX_TOPIC_LENGTH = 1024;

// A literal segment: anything but dots, whitespace and the two wildcard characters (which NATS
// treats as literals inside a longer token; we refuse them so no topic ever reads like a pattern).
const TOPIC_RE = /^[^\s.*>]+(?:\.[^\s.*>]+)*$/;
const LITERAL_RE = /^[^\s.*>]+$/;

export function isValidTopic(topic: unknown): topic is string {
  return typeof topic === 'string' && topic.length <= MAX_TOPIC_LENGTH && TOPIC_RE.test(topic);
}

/** Throws a BusError naming what is wrong with a concrete (publishable) topic. */
export function assertTopic(topic: unknown): asserts topic is string {
  if (isValidTopic(topic)) return;
  throw new BusError('invalid_topic', describeTopicProblem(topic));
}

function describeTopicProblem(topic: unknown): string {
  if (typeof topic !== 'string') return `topic must be a string, got ${typeof topic}`;
  if (topic.length === 0) return 'topic is empty';
  if (topic.length > MAX_TOPIC_LENGTH) return `topic is longer than ${MAX_TOPIC_LENGTH} characters`;
  const segments = topic.split('.');
  for (let i = 0; i < segments.length; i++) {
    const s = segments[i];
    if (s === '') return `topic "${topic}" has an empty segment at position ${i + 1}`;
    if (/[*>]/.test(s))
      return `topic "${topic}" contains a wildcard ("${s}"); wildcards belong in subscription patterns, not in published topics`;
    if (/\s/.test(s)) return `topic "${topic}" contains whitespace`;
  }
  return `topic "${topic}" is invalid`;
}

/** Throws a BusError naming what is wrong with a subscription pattern; returns its segments. */
export function parsePattern(pattern: unknown): string[] {
  if (typeof pattern !== 'string')
    throw new BusError('invalid_pattern', `pattern must be a string, got ${typeof pattern}`);
  if (pattern.length === 0) throw new BusError('invalid_pattern', 'pattern is empty');
  if (pattern.length > MAX_TOPIC_LENGTH)
    throw new BusError('invalid_pattern', `pattern is longer than ${MAX_TOPIC_LENGTH} characters`);
  const segments = pattern.split('.');
  for (let i = 0; i < segments.length; i++) {
    const s = segments[i];
    const where = `pattern "${pattern}" segment ${i + 1}`;
    if (s === '') throw new BusError('invalid_pattern', `${where} is empty`);
    if (s === '>') {
      if (i !== segments.length - 1)
        throw new BusError('invalid_pattern', `${where}: ">" may only be the last segment`);
    } else if (s !== '*' && !LITERAL_RE.test(s)) {
      throw new BusError(
        'invalid_pattern',
        /\s/.test(s)
          ? `${where} contains whitespace`
          : `${where} ("${s}"): "*" and ">" must stand alone as a whole segment`,
      );
    }
  }
  return segments;
}

/**
 * The bus pattern for a pattern written in the reference's dialect, where a trailing `.*` matches
 * any depth below its prefix ("market.*" takes "market.price.BTC"): that is NATS's `>`. Every
 * other pattern means the same in both dialects.
 */
export function fromReferencePattern(pattern: string): string {
  return pattern.endsWith('.*') ? `${pattern.slice(0, -1)}>` : pattern;
}

/** Does `pattern` match `topic`? Both assumed valid. The bus uses a trie; this is the rule in its plainest form. */
export function matchesSegments(pattern: readonly string[], topic: readonly string[]): boolean {
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i];
    if (p === '>') return topic.length > i;
    if (i >= topic.length) return false;
    if (p !== '*' && p !== topic[i]) return false;
  }
  return pattern.length === topic.length;
}

export function topicMatches(pattern: string, topic: string): boolean {
  assertTopic(topic);
  return matchesSegments(parsePattern(pattern), topic.split('.'));
}
