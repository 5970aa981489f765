// What each credential may do on the bridge. Every service asks here, so the rules live in one
// place (and SECURITY.md "Identities" describes them):
// - an id is registered (RegisterAgent, EventStream) only by the credential it belongs to:
//   `vscode` by the window's, a declared agent's id by the credential minted for its process,
//   any other id by the workspace token; `runtime`, `dashboard` and `mcp-client.*` are the
//   runtime's own and nobody registers them;
// - a live id is taken over (a reconnect) only by the credential that holds it;
// - whatever a call says about who it is (the event's sender, the tool call's caller, the
//   metadata id) must be the identity its credential proves, or it is refused;
// - an agent's credential reaches only its own subscriptions, state and memory session (plus the
//   state and memory its [agents.<id>] state_access grants), and not the owner's controls
//   (agents, MCP servers, the feed);
// - an ad-hoc agent (Runtime.StartAgent) is started only by the workspace token or the window's
//   credential, and its id, like a declared one's, is registered only by its own process.
import * as grpc from '@grpc/grpc-js';
import { clientOwnId, validateAgentId } from '../../agents';
import { privateTopicOwner } from '../../contract/topics';
import { StatusError } from '../unary';
import { describeIdentity, holderOf, WINDOW_ID, type Credentials, type Identity } from './credentials';

export interface AccessDeps {
  credentials: Credentials;
  /** bridge.require_token: when false, a call without a known credential is `open`. */
  requireToken: boolean;
  /** Is the id declared in loom.toml ([agents.<id>])? Only its own process registers it then. */
  declared(agentId: string): boolean;
  /** The holder key (holderOf) of the id while it is live, else undefined. */
  liveHolder(agentId: string): string | undefined;
  /** [agents.<id>] state_access: the other agents whose state this one may read and write. */
  stateGrants(agentId: string): readonly string[];
}

const isMcpClientName = (id: string) => id === 'mcp-client' || id.startsWith('mcp-client.');

/** Dashboards and MCP clients act through the runtime's own servers, under these names. */
function runtimeOwnName(id: string): boolean {
  return id !== WINDOW_ID && clientOwnId(id);
}

function denied(message: string): StatusError {
  return new StatusError(grpc.status.PERMISSION_DENIED, message);
}

/** Context sessions named "agent:<id>" are agent <id>'s own (Access.contextReaches). */
export const PRIVATE_CONTEXT = 'agent:';

export class Access {
  /** Ids the supervisor runs beyond loom.toml's (ad-hoc agents); the runtime service tells (see supervisedBy). */
  private adHoc: (agentId: string) => boolean = () => false;

  constructor(private readonly deps: AccessDeps) {}

  /** Which ids are ad-hoc agents of the supervisor: their processes alone register them. */
  supervisedBy(isAdHoc: (agentId: string) => boolean): void {
    this.adHoc = isAdHoc;
  }

  /** The caller's identity; the server's interceptor has already refused unknown credentials. */
  identify(metadata: grpc.Metadata): Identity {
    const who = this.deps.credentials.identifyCall(metadata);
    if (who) return who;
    if (!this.deps.requireToken) return { kind: 'open' };
    throw new StatusError(grpc.status.UNAUTHENTICATED, 'invalid or missing credential in "authorization" metadata');
  }

  /** Why `who` may not register (or open the stream of) `id` now; undefined when it may. */
  refuseRegistration(who: Identity, id: string): string | undefined {
    const bad = validateAgentId(id);
    if (bad) return bad;
    if (id === WINDOW_ID) {
      return who.kind === 'window'
        ? undefined
        : `agent id "${WINDOW_ID}" is the VS Code window's: only the window's own credential registers it (this call came with ${describeIdentity(who)})`;
    }
    if (runtimeOwnName(id))
      return `agent id "${id}" is reserved for the runtime's own dashboard and MCP server; choose another id`;
    if (who.kind === 'window') return `the VS Code window's credential registers only "${WINDOW_ID}", not "${id}"`;
    if (who.kind === 'agent' && id !== who.agentId) {
      return `this credential was handed to agent "${who.agentId}" ([agents.${who.agentId}] in loom.toml) and registers only that id, not "${id}": give the agent the id of its table`;
    }
    if (who.kind !== 'agent' && this.deps.declared(id)) {
      return `agent id "${id}" is declared in loom.toml ([agents.${id}]): only the process the runtime starts for it registers it, with the credential handed to it in LOOM_TOKEN (run it by hand under another id)`;
    }
    if (who.kind !== 'agent' && this.adHoc(id)) {
      return `agent id "${id}" is an ad-hoc agent the runtime runs (started with StartAgent): only its process registers it, with the credential handed to it in LOOM_TOKEN (run it by hand under another id)`;
    }
    const holder = this.deps.liveHolder(id);
    if (holder !== undefined && holder !== holderOf(who)) {
      return `agent id "${id}" is live and held by another credential: only the credential that registered it can reconnect as it (this call came with ${describeIdentity(who)})`;
    }
    return undefined;
  }

  /**
   * The id a call acts as, from what it states (metadata id, sender, caller): a bound credential
   * acts as its own id whatever it leaves out; the workspace token acts as the stated id when it
   * could register it, and as nobody ('') when it states none. Throws PERMISSION_DENIED otherwise.
   */
  actingAs(who: Identity, stated: string, what: string): string {
    const own = who.kind === 'agent' ? who.agentId : who.kind === 'window' ? WINDOW_ID : undefined;
    if (own !== undefined) {
      if (stated && stated !== own)
        throw denied(`${what}: ${describeIdentity(who)} acts only as "${own}", not as "${stated}"`);
      return own;
    }
    if (!stated) return '';
    const refused = this.refuseRegistration(who, stated);
    if (refused) throw denied(`${what}: cannot act as "${stated}": ${refused}`);
    return stated;
  }

  /** The caller of a tool call. MCP clients hold the workspace token and call as mcp-client[.<name>]. */
  toolCaller(who: Identity, stated: string): string {
    if ((who.kind === 'owner' || who.kind === 'open') && isMcpClientName(stated) && !validateAgentId(stated))
      return stated;
    return this.actingAs(who, stated, 'tool call') || 'anonymous';
  }

  /**
   * Whose subscriptions a run-time Subscribe/Unsubscribe changes: a bound credential's own only;
   * the workspace token is the person's and manages any agent's, but not the window's.
   */
  subscriber(who: Identity, target: string): string {
    if (who.kind === 'agent' || who.kind === 'window') return this.actingAs(who, target, 'subscription');
    const bad = target ? validateAgentId(target) : 'agent_id is required (or gRPC metadata x-loom-agent-id)';
    if (bad) throw new StatusError(grpc.status.INVALID_ARGUMENT, bad);
    if (target === WINDOW_ID)
      throw denied(`subscription: the subscriptions of "${WINDOW_ID}" are the VS Code window's own`);
    return target;
  }

  /** Whose stored state a Store call reads or writes. */
  stateOwner(who: Identity, target: string): string {
    if (!target) throw new StatusError(grpc.status.INVALID_ARGUMENT, 'agent_id is required');
    if (who.kind !== 'agent' || target === who.agentId) {
      const bad = validateAgentId(target);
      if (bad) throw new StatusError(grpc.status.INVALID_ARGUMENT, bad);
      return target;
    }
    if (this.deps.stateGrants(who.agentId).includes(target)) return target;
    throw denied(
      `agent "${who.agentId}" may not read or write the state of "${target}"; grant it with state_access = ["${target}"] in [agents.${who.agentId}] of loom.toml`,
    );
  }

  /**
   * Whose memory (MemoryService, keyed by session) a call reaches: an agent's credential its own
   * id's session (the reference SDK's session is its agent id) and those its state_access grants;
   * the other credentials any session.
   */
  memorySession(who: Identity, session: string): string {
    if (who.kind !== 'agent' || session === who.agentId || this.deps.stateGrants(who.agentId).includes(session))
      return session;
    throw denied(
      `agent "${who.agentId}" may not use the memory of session "${session}": an agent's credential reaches the session of its own id; grant it with state_access = ["${session}"] in [agents.${who.agentId}] of loom.toml`,
    );
  }

  /**
   * Whether a delivery on `topic` may reach `who`'s subscriptions: another agent's reply inbox and
   * output (contract/topics.ts privateTopicOwner) reach an agent's credential only for its own id
   * and those its state_access grants; request inboxes none. The other credentials get everything.
   */
  mayReceive(who: Identity, topic: string): boolean {
    if (who.kind !== 'agent') return true;
    const owner = privateTopicOwner(topic);
    return owner === undefined || this.reachesAgent(who.agentId, owner);
  }

  /** Whether `reader` (an agent) may read what is agent `target`'s: its own, or granted by state_access. */
  reachesAgent(reader: string, target: string): boolean {
    return target !== '' && (target === reader || this.deps.stateGrants(reader).includes(target));
  }

  /**
   * Whether `who` reaches the context items of `session` (Store.SaveContext/QueryContext). Context
   * is shared, by session, except "agent:<id>": the Python SDK keeps an agent's persisted Memory
   * and TieredMemory there, so an agent's credential reaches that session for its own id and
   * those its state_access grants only; the other credentials reach every session.
   */
  contextReaches(who: Identity, session: string): boolean {
    if (who.kind !== 'agent' || !session.startsWith(PRIVATE_CONTEXT)) return true;
    return this.reachesAgent(who.agentId, session.slice(PRIVATE_CONTEXT.length));
  }

  /** `session` when `who` reaches it (contextReaches), else PERMISSION_DENIED naming the rule. */
  contextSession(who: Identity, session: string): string {
    if (who.kind !== 'agent' || this.contextReaches(who, session)) return session;
    const owner = session.slice(PRIVATE_CONTEXT.length);
    throw denied(
      `agent "${who.agentId}" may not read or write context session "${session}": a session "${PRIVATE_CONTEXT}<id>" is agent <id>'s own (its persisted memory); grant it with state_access = ["${owner}"] in [agents.${who.agentId}] of loom.toml`,
    );
  }

  /**
   * Starting a program (Runtime.StartAgent) is the person's: the workspace token or the window's
   * credential. Not an agent's, and not an unverified caller's (bridge.require_token = false).
   */
  requireAgentStarter(who: Identity, what: string): void {
    this.requireOwner(who, what);
    if (who.kind === 'open')
      throw denied(
        `${what} needs the workspace token (the discovery file's) or the VS Code window's credential; this call came with ${describeIdentity(who)}`,
      );
  }

  /** Controls that are the person's (agents, MCP servers, the live feed): not an agent's credential. */
  requireOwner(who: Identity, what: string): void {
    if (who.kind === 'agent')
      throw denied(
        `${what} is the workspace owner's, not agent "${who.agentId}"'s: call it with the workspace token (the discovery file's) or from VS Code`,
      );
  }
}
