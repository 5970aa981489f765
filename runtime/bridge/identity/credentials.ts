// Who is calling: every bridge call carries `authorization: Bearer <credential>`, and the
// credential says who it is. There are three kinds:
//   owner  — the workspace token of the discovery file: the person's tools (extension admin
//            calls, CLI, dashboard, MCP clients, agents started by hand);
//   window — the extension window's link, the only one that may be `vscode` (and so answer
//            ui:confirm); minted per runtime, kept in its own private file;
//   agent  — minted for one supervised agent at each spawn, handed over in its environment,
//            bound to its id.
// With bridge.require_token = false a call without a known credential is `open` (the
// reference's unauthenticated clients): treated like the owner, but never as a reserved id.
import { createHash } from 'node:crypto';
import { bearerToken, generateToken } from '../../localAuth';

/** What identifyCall reads of a call's metadata (grpc.Metadata's get). */
export interface CallMetadata {
  get(key: string): unknown[];
}

export type Identity = { kind: 'owner' } | { kind: 'window' } | { kind: 'agent'; agentId: string } | { kind: 'open' };

/** Ids only the runtime itself or one credential may take (see access.ts). */
export const WINDOW_ID = 'vscode';

/**
 * The key under which a live agent id is held: a reconnect must come with the same key. Agent
 * credentials are keyed by id, not by token, so a restarted process (new token) takes its id back.
 */
export function holderOf(who: Identity): string {
  return who.kind === 'agent' ? `agent:${who.agentId}` : who.kind;
}

export function describeIdentity(who: Identity): string {
  switch (who.kind) {
    case 'owner':
      return 'the workspace token';
    case 'window':
      return "the VS Code window's credential";
    case 'agent':
      return `the credential of agent "${who.agentId}"`;
    case 'open':
      return 'no credential (bridge.require_token = false)';
  }
}

// Tokens are looked up by their SHA-256: a Map lookup on the secret itself could leak it by timing.
const digest = (token: string) => createHash('sha256').update(token, 'utf8').digest('hex');

export class Credentials {
  private readonly known = new Map<string, Identity>();
  private readonly agentTokens = new Map<string, string>();
  private readonly byCall = new WeakMap<CallMetadata, Identity | undefined>();
  readonly window: string;

  constructor(
    readonly owner: string,
    window = generateToken(),
  ) {
    this.window = window;
    this.known.set(digest(owner), { kind: 'owner' });
    this.known.set(digest(window), { kind: 'window' });
  }

  /** A fresh credential for the agent's next process; the one before it stops working. */
  mintAgent(agentId: string): string {
    this.revokeAgent(agentId);
    const token = generateToken();
    this.agentTokens.set(agentId, token);
    this.known.set(digest(token), { kind: 'agent', agentId });
    return token;
  }

  revokeAgent(agentId: string): void {
    const old = this.agentTokens.get(agentId);
    if (old === undefined) return;
    this.known.delete(digest(old));
    this.agentTokens.delete(agentId);
  }

  /** The identity an `authorization` value proves, or undefined for none or an unknown one. */
  identify(authorization: unknown): Identity | undefined {
    const token = bearerToken(authorization);
    return token === undefined ? undefined : this.known.get(digest(token));
  }

  /**
   * The identity a call's metadata proves, worked out once per call: the server's interceptor and
   * then the handler ask with the same metadata object, and hashing the token is most of the cost.
   */
  identifyCall(metadata: CallMetadata): Identity | undefined {
    if (this.byCall.has(metadata)) return this.byCall.get(metadata);
    const who = this.identify(metadata.get('authorization')[0]);
    this.byCall.set(metadata, who);
    return who;
  }
}
