// Translation between loom.v1 wire messages and the runtime's own types.
import { randomUUID } from 'node:crypto';
import { readField, writeField, type LoomEvent, type QoS } from '../bus';
import type { Event__Output, ToolDescriptor, ToolDescriptor__Output } from '../proto/types';
import type { ToolDefinition } from '../tools';
import { LoomError, messageOf } from '../contract/errors';
import { privateTopicOwner } from '../contract/topics';

/** An event that names a sender other than the identity it came with. */
export class SenderMismatch extends LoomError {
  constructor(message: string) {
    super('sender_mismatch', message);
  }
}

/** Marks events whose sender no credential proved (bridge.require_token = false). */
export const UNVERIFIED_SENDER_KEY = 'loom.sender_unverified';

/**
 * An event from a client whose credential proved `sender`: the runtime states the sender, so an
 * event that names another one is refused (SenderMismatch). `unverified`: no credential proved
 * it, which the event then says (and a client cannot say otherwise). Envelope keys pass through
 * as sent: the bus reads both the "loom."-prefixed and the bare spelling.
 */
export function eventFromWire(event: Event__Output | null | undefined, sender: string, unverified = false): LoomEvent {
  const metadata: Record<string, string> = { ...(event?.metadata ?? {}) };
  const named = readField({ metadata }, 'sender');
  if (named && named !== sender) {
    throw new SenderMismatch(
      `the event names sender "${named}" but its credential is "${sender}"'s: the runtime sets the sender, so leave it empty (or "${sender}")`,
    );
  }
  writeField(metadata, 'sender', sender);
  // A reply goes where the request says. Naming another's private inbox let an agent have a
  // trusted responder answer its question into a victim's pending request, under the
  // responder's name (same correlation id): the victim's request took it as its answer.
  const replyTopic = readField({ metadata }, 'replyTo');
  const inboxOwner = replyTopic === undefined ? undefined : privateTopicOwner(replyTopic);
  if (inboxOwner !== undefined && replyTopic !== `agent.${sender}.replies`)
    throw new SenderMismatch(
      `the event's reply-to "${replyTopic}" is ${inboxOwner ? `agent ${inboxOwner}'s` : "the runtime's"}: a request names its own sender's reply inbox ("agent.${sender}.replies"), or a topic everyone may read`,
    );
  if (unverified) metadata[UNVERIFIED_SENDER_KEY] = 'true';
  else delete metadata[UNVERIFIED_SENDER_KEY];
  return {
    id: event?.id || randomUUID(),
    type: event?.type ?? '',
    timestampMs: Number(event?.timestampMs) || Date.now(),
    source: event?.source || sender,
    metadata,
    payload: event?.payload ?? Buffer.alloc(0),
    confidence: event?.confidence ?? 0,
    tags: event?.tags ?? [],
    priority: event?.priority ?? 0,
  };
}

const QOS_FROM_WIRE: Record<string, QoS> = {
  QOS_REALTIME: 'realtime',
  QOS_BATCHED: 'batched',
  QOS_BACKGROUND: 'background',
};

export function qosFromWire(qos: string | number | undefined | null): QoS {
  if (typeof qos === 'number') return (['realtime', 'batched', 'background'] as const)[qos] ?? 'realtime';
  return QOS_FROM_WIRE[qos ?? ''] ?? 'realtime';
}

/** Throws with a message naming the tool when its schema is not a JSON object. */
export function toolFromWire(desc: ToolDescriptor__Output): Omit<ToolDefinition, 'owner' | 'provider'> {
  let schema: Record<string, unknown> = { type: 'object' };
  if (desc.parametersSchema.trim()) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(desc.parametersSchema);
    } catch (err) {
      throw new Error(`tool "${desc.name}": parameters_schema is not valid JSON (${messageOf(err)})`);
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
      throw new Error(`tool "${desc.name}": parameters_schema must be a JSON object`);
    schema = parsed as Record<string, unknown>;
  }
  return { name: desc.name, description: desc.description, parametersSchema: schema, metadata: desc.metadata };
}

const PROVIDER_TO_WIRE = {
  native: 'PROVIDER_NATIVE',
  wasm: 'PROVIDER_WASM',
  grpc: 'PROVIDER_GRPC',
  mcp: 'PROVIDER_MCP',
} as const;

export function toolToWire(def: ToolDefinition): ToolDescriptor {
  return {
    name: def.name,
    description: def.description,
    parametersSchema: JSON.stringify(def.parametersSchema),
    provider: PROVIDER_TO_WIRE[def.provider],
    metadata: { ...(def.metadata ?? {}), ...(def.owner ? { 'loom.owner': def.owner } : {}) },
  };
}

/** Why the bus refused a whole event (nothing was delivered). */
export function refusalMessage(topic: string, eventId: string, reason: 'ttl_expired' | 'hop_limit'): string {
  const why =
    reason === 'hop_limit' ? 'it reached the hop limit (loom.hop; bus.max_hops)' : 'its ttl (loom.ttl_ms) had expired';
  return `event ${eventId} on "${topic}" was not delivered: ${why}`;
}
