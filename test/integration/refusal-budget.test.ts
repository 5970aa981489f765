// A caller that floods the runtime with what it must refuse is answered late once its budget of
// refusals is spent (runtime/bridge/refusalBudget.ts), and nobody else is: real runtime, real
// gRPC. Every refusal is still answered, with its message; what succeeds is never held. The
// assertions are about order (whose answer came first), not about how long anything took.
import * as grpc from '@grpc/grpc-js';
import { strict as assert } from 'node:assert';
import { REFUSAL_BURST } from '../../runtime/bridge/refusalBudget';
import { call, callFails, connect, StreamClient, type Clients } from '../support/grpc';
import { makeWorkspace, removeWorkspaces, startRuntime, stopAllRuntimes, type RuntimeProcess } from './helpers/runtime';

/** Enough past the burst that the last refusals wait the longest the budget makes anyone wait (a second). */
const FLOOD = REFUSAL_BURST + 400;

describe('refusal budget: a caller flooding the runtime with bad requests is slowed, nobody else', function () {
  this.timeout(120_000);
  let rt: RuntimeProcess;
  const opened: Clients[] = [];
  const as = (token: string | undefined) => {
    const c = connect(rt.discovery().address, { token, ownConnection: true });
    opened.push(c);
    return c;
  };
  /** When each settled call was answered, in the order answers came. */
  let answered: string[] = [];
  const noting = async <T>(label: string, p: Promise<T>): Promise<T> => {
    try {
      return await p;
    } finally {
      answered.push(label);
    }
  };

  before(async () => {
    rt = await startRuntime(makeWorkspace());
  });
  beforeEach(() => (answered = []));
  after(async () => {
    for (const c of opened) c.close();
    await stopAllRuntimes();
    removeWorkspaces();
  });

  /** `n` calls made by `make`, at most `open` of them at once (each starts as one ends); their outcomes in order. */
  const inTurn = <T>(n: number, open: number, make: (i: number) => Promise<T>): Promise<T>[] => {
    const go: (() => void)[] = [];
    const outcomes = Array.from({ length: n }, (_, i) => new Promise<void>((r) => (go[i] = r)).then(() => make(i)));
    outcomes.forEach((p, i) => void p.finally(() => go[i + open]?.()).catch(() => undefined));
    for (let i = 0; i < Math.min(open, n); i++) go[i]!();
    return outcomes;
  };
  /** A request the runtime refuses with INVALID_ARGUMENT: GetState names no agent. */
  const badCall = (c: Clients) => callFails(c.store, 'GetState', { key: 'k' });
  /** Resolves once `n` answers have come: the others are sent then, once the flood's burst is answered and the rest is held (or, without the budget, long answered). */
  const afterAnswers = async (n: number) => {
    while (answered.length < n) await new Promise((r) => setTimeout(r, 1));
  };

  it("holds the flooding credential's refusals; another credential's answers, and the flooder's own successes, come first", async () => {
    const flooder = as(rt.discovery().token);
    const neighbour = as(rt.windowToken());
    // At most 200 open at once: past 256 a credential's calls are refused for that (callsInFlight.ts).
    const flood = inTurn(FLOOD, 200, (i) => noting(`flood ${i}`, badCall(flooder)));
    const last = `flood ${FLOOD - 1}`;
    await afterAnswers(REFUSAL_BURST);
    const others = [
      noting('neighbour ok', call(neighbour.runtime, 'GetStats', {})),
      noting('neighbour refused', badCall(neighbour)),
      noting('flooder ok', call(flooder.runtime, 'GetStats', {})),
    ];
    const errors = await Promise.all(flood);
    await Promise.all(others);
    for (const e of errors) {
      assert.equal(e.code, grpc.status.INVALID_ARGUMENT, e.message);
      assert.match(e.details, /agent_id/);
    }
    for (const label of ['neighbour ok', 'neighbour refused', 'flooder ok'])
      assert.ok(
        answered.indexOf(label) < answered.indexOf(last),
        `${label} was answered after the flood's last refusal (at ${answered.indexOf(label)} of ${answered.length})`,
      );
  });

  it("holds calls without a credential together, and not the owner's", async () => {
    const stranger = as(undefined);
    const owner = as(rt.discovery().token);
    const flood = Array.from({ length: FLOOD }, (_, i) =>
      noting(`stranger ${i}`, callFails(stranger.runtime, 'GetStats', {})),
    );
    await afterAnswers(REFUSAL_BURST);
    const ownerCall = noting('owner ok', call(owner.runtime, 'GetStats', {}));
    const errors = await Promise.all(flood);
    await ownerCall;
    for (const e of errors) assert.equal(e.code, grpc.status.UNAUTHENTICATED, e.message);
    assert.ok(
      answered.indexOf('owner ok') < answered.indexOf(`stranger ${FLOOD - 1}`),
      'the owner waited for the flood',
    );
  });

  it('on EventStream, holds the reading of a stream whose messages are refused: every one answered in order, another stream not held', async () => {
    const flooder = await StreamClient.open(as(rt.discovery().token), 'flooder');
    const neighbour = await StreamClient.open(as(rt.windowToken()), 'vscode');
    for (let i = 0; i < FLOOD; i++) flooder.send({}); // an empty ClientEvent: invalid_message
    flooder.send({ ping: { timestampMs: 2 } });
    while (flooder.history.length < REFUSAL_BURST) await new Promise((r) => setTimeout(r, 1));
    neighbour.send({ ping: { timestampMs: 3 } });
    const order: string[] = [];
    await Promise.all([
      flooder.next((m) => m.msg === 'pong', "the flooder's pong", 30_000).then(() => order.push('flooder pong')),
      neighbour.next((m) => m.msg === 'pong', "the neighbour's pong", 30_000).then(() => order.push('neighbour pong')),
    ]);
    assert.deepEqual(order, ['neighbour pong', 'flooder pong']);
    const errors = flooder.history.filter((m) => m.msg === 'err');
    assert.equal(errors.length, FLOOD, 'one error per refused message');
    assert.ok(errors.every((m) => m.err!.code === 'invalid_message'));
    assert.equal(flooder.history.at(-1)!.msg, 'pong', 'the ping was read after every refused message');
  });
});
