// Unary calls one caller has open at once. grpc-js reads each request whole before any handler
// sees it, and a call that waits (for an agent's tool, a shell command's place, a full batched
// subscriber) holds its request until it ends: 600 concurrent 4 MiB ForwardToolCalls from one
// credential took the runtime to 1 GB, and it kept most of it after they ended. Past the limit a
// call is refused as its metadata arrives, before its message is read. Streams are not counted:
// each holds one message at a time and bounds what it queues itself (eventStream.ts).

/** An agent's own credential: its SDK sends at most 32 calls at once on its stream and 48 unary ones. */
export const MAX_UNARY_CALLS_PER_AGENT = 64;
/** The workspace token, the window's credential, and callers without one (bridge.require_token = false): shared by many clients. */
export const MAX_UNARY_CALLS_PER_PERSON = 256;

export class CallsInFlight {
  private readonly byCaller = new Map<string, number>();

  /** Takes a place for a call of `caller` (auth.ts's callerKey); the release, or a refusal message when there is none. */
  enter(caller: string): { release: () => void } | { refused: string } {
    const open = this.byCaller.get(caller) ?? 0;
    const limit = limitFor(caller);
    if (open >= limit)
      return {
        refused: `${open} unary calls of ${describeCaller(caller)} are open, at most ${limit} at once; wait for one to end (an agent's tool calls may also go on its EventStream, call_tool)`,
      };
    this.byCaller.set(caller, open + 1);
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        const left = (this.byCaller.get(caller) ?? 1) - 1;
        if (left > 0) this.byCaller.set(caller, left);
        else this.byCaller.delete(caller);
      },
    };
  }

  open(caller: string): number {
    return this.byCaller.get(caller) ?? 0;
  }
}

function limitFor(caller: string): number {
  return caller.startsWith('agent:') ? MAX_UNARY_CALLS_PER_AGENT : MAX_UNARY_CALLS_PER_PERSON;
}

function describeCaller(caller: string): string {
  if (caller.startsWith('agent:')) return `the credential of agent ${JSON.stringify(caller.slice('agent:'.length))}`;
  if (caller === 'owner') return 'the workspace token';
  if (caller === 'window') return "the VS Code window's credential";
  return 'callers without a credential';
}
