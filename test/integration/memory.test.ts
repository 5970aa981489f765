// loom.v1.MemoryService (the reference's wire) on the real runtime over real gRPC: every method
// with the reference's semantics, its dedupe window and stats, the limits, bad input, memory that
// outlives a restart of the runtime on the same data folder, and who may reach which session.
import * as grpc from '@grpc/grpc-js';
import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { call, callFails, connect, type Clients } from '../support/grpc';
import {
  makeWorkspace,
  removeWorkspaces,
  REPO,
  startRuntime,
  stopAllRuntimes,
  type RuntimeProcess,
  PYTHON,
} from './helpers/runtime';

const HOLDER = join(REPO, 'test', 'integration', 'fixtures', 'credential_holder.py');

const plan = (over: Record<string, unknown> = {}) => ({
  timestampMs: 1000,
  symbol: 'BTC',
  action: 'BUY',
  confidence: 0.85,
  reasoning: 'Strong bullish trend',
  planHash: 'hash-1',
  method: 'llm',
  metadata: {},
  ...over,
});
const execution = (over: Record<string, unknown> = {}) => ({
  timestampMs: 1000,
  planHash: 'hash-1',
  symbol: 'BTC',
  action: 'BUY',
  confidence: 0.8,
  status: 'success',
  executed: true,
  orderId: 'order-1',
  orderSizeUsdt: 100,
  errorMessage: '',
  ...over,
});
const ev = (type: string, source: string, timestampMs: number) => ({
  id: '',
  type,
  timestampMs,
  source,
  metadata: {},
  payload: Buffer.from('{}'),
});

async function failsWith(p: Promise<grpc.ServiceError>, code: grpc.status, details: RegExp): Promise<void> {
  const err = await p;
  assert.equal(err.code, code, `expected ${grpc.status[code]}, got ${grpc.status[err.code]}: ${err.details}`);
  assert.match(err.details, details);
}

describe('memory service', function () {
  this.timeout(120_000);
  let rt: RuntimeProcess;
  let ws: string;
  let c: Clients;
  const opened: Clients[] = [];
  const clientFor = (token: string | undefined) => {
    const client = connect(rt.discovery().address, { token });
    opened.push(client);
    return client;
  };

  before(async () => {
    ws = makeWorkspace();
    rt = await startRuntime(ws);
    c = clientFor(rt.discovery().token);
  });
  after(async () => {
    for (const client of opened.splice(0)) client.close();
    await stopAllRuntimes();
    removeWorkspaces();
  });

  describe('plans', () => {
    it('saves a plan and answers it with GetRecentPlans, newest first, only for the symbol asked', async () => {
      const saved = await call(c.memory, 'SavePlan', { sessionId: 'plans', plan: plan() });
      assert.deepEqual([saved.success, saved.planHash], [true, 'hash-1']);
      await call(c.memory, 'SavePlan', {
        sessionId: 'plans',
        plan: plan({ timestampMs: 2000, action: 'HOLD', planHash: 'hash-2' }),
      });
      await call(c.memory, 'SavePlan', {
        sessionId: 'plans',
        plan: plan({ timestampMs: 3000, symbol: 'ETH', planHash: 'hash-3' }),
      });
      const recent = await call(c.memory, 'GetRecentPlans', { sessionId: 'plans', symbol: 'BTC', limit: 10 });
      assert.equal(recent.success, true);
      assert.deepEqual(
        recent.plans.map((p) => p.planHash),
        ['hash-2', 'hash-1'],
      );
      const first = recent.plans[1]!;
      assert.deepEqual(
        [first.symbol, first.action, first.reasoning, first.method, Number(first.timestampMs)],
        ['BTC', 'BUY', 'Strong bullish trend', 'llm', 1000],
      );
      assert.ok(Math.abs(first.confidence - 0.85) < 1e-6);
      // limit is clamped to 1..100: 0 answers one plan, the newest.
      const one = await call(c.memory, 'GetRecentPlans', { sessionId: 'plans', symbol: 'BTC', limit: 0 });
      assert.deepEqual(
        one.plans.map((p) => p.planHash),
        ['hash-2'],
      );
      assert.deepEqual(
        (await call(c.memory, 'GetRecentPlans', { sessionId: 'nobody', symbol: 'BTC', limit: 5 })).plans,
        [],
      );
    });

    it('fills in a missing plan_hash the way the reference SDK computes it, and a missing timestamp', async () => {
      const before = Date.now();
      const saved = await call(c.memory, 'SavePlan', {
        sessionId: 'fill',
        plan: plan({ planHash: '', timestampMs: 0, metadata: { source: 'test' } }),
      });
      assert.equal(saved.planHash, createHash('md5').update('BTC|BUY|Strong bullish trend').digest('hex').slice(0, 8));
      const [stored] = (await call(c.memory, 'GetRecentPlans', { sessionId: 'fill', symbol: 'BTC', limit: 1 })).plans;
      assert.equal(stored!.planHash, saved.planHash);
      assert.ok(Number(stored!.timestampMs) >= before);
      assert.deepEqual(stored!.metadata, { source: 'test' });
    });

    it('keeps the newest 100 plans of a session', async () => {
      for (let i = 0; i < 105; i++)
        await call(c.memory, 'SavePlan', {
          sessionId: 'many',
          plan: plan({ timestampMs: 1000 + i, planHash: `p${i}` }),
        });
      const kept = await call(c.memory, 'GetRecentPlans', { sessionId: 'many', symbol: 'BTC', limit: 1000 });
      assert.equal(kept.plans.length, 100);
      assert.equal(kept.plans[0]!.planHash, 'p104');
      assert.equal(kept.plans[99]!.planHash, 'p5');
    });

    it('keeps sessions apart', async () => {
      await call(c.memory, 'SavePlan', { sessionId: 'session-1', plan: plan({ reasoning: 'Session 1' }) });
      await call(c.memory, 'SavePlan', {
        sessionId: 'session-2',
        plan: plan({ timestampMs: 2000, action: 'SELL', reasoning: 'Session 2' }),
      });
      for (const n of [1, 2]) {
        const got = await call(c.memory, 'GetRecentPlans', { sessionId: `session-${n}`, symbol: 'BTC', limit: 10 });
        assert.deepEqual(
          got.plans.map((p) => p.reasoning),
          [`Session ${n}`],
        );
      }
      // A session name with the key separator in it reaches only its own records.
      await call(c.memory, 'SavePlan', { sessionId: 'session-1!x', plan: plan({ reasoning: 'bang' }) });
      assert.deepEqual(
        (await call(c.memory, 'GetRecentPlans', { sessionId: 'session-1', symbol: 'BTC', limit: 10 })).plans.map(
          (p) => p.reasoning,
        ),
        ['Session 1'],
      );
    });
  });

  describe('duplicates', () => {
    before(async () => {
      await call(c.memory, 'SavePlan', { sessionId: 'dup', plan: plan({ timestampMs: 1000, planHash: 'first' }) });
      await call(c.memory, 'SavePlan', { sessionId: 'dup', plan: plan({ timestampMs: 1500, planHash: 'second' }) });
    });

    it('finds the oldest plan with the same symbol and action within the window, and how long before', async () => {
      const dup = await call(c.memory, 'CheckDuplicate', {
        sessionId: 'dup',
        plan: plan({ timestampMs: 2000, planHash: 'new' }),
        timeWindowSec: 300,
      });
      assert.equal(dup.isDuplicate, true);
      assert.equal(dup.duplicatePlan?.planHash, 'first');
      assert.equal(Number(dup.timeSinceDuplicateMs), 1000);
    });

    it('is not a duplicate with another action, another symbol, or outside the window', async () => {
      for (const other of [
        plan({ timestampMs: 2000, action: 'SELL' }),
        plan({ timestampMs: 2000, symbol: 'ETH' }),
        plan({ timestampMs: 1500 + 300_000 }),
      ]) {
        const res = await call(c.memory, 'CheckDuplicate', { sessionId: 'dup', plan: other, timeWindowSec: 300 });
        assert.equal(res.isDuplicate, false, JSON.stringify(other));
        assert.equal(res.duplicatePlan, null);
      }
    });

    it('counts a window under 60 s as 60 s', async () => {
      // 60.2 s after the first plan, 59.7 s after the second.
      const at59 = await call(c.memory, 'CheckDuplicate', {
        sessionId: 'dup',
        plan: plan({ timestampMs: 61_200 }),
        timeWindowSec: 1,
      });
      assert.equal(at59.isDuplicate, true);
      assert.equal(at59.duplicatePlan?.planHash, 'second');
      const at61 = await call(c.memory, 'CheckDuplicate', {
        sessionId: 'dup',
        plan: plan({ timestampMs: 1500 + 61_000 }),
        timeWindowSec: 0,
      });
      assert.equal(at61.isDuplicate, false);
    });
  });

  describe('executions', () => {
    it('says whether a plan was executed, and with what record', async () => {
      const before = await call(c.memory, 'CheckExecuted', { sessionId: 'exec', planHash: 'exec-hash' });
      assert.equal(before.isExecuted, false);
      assert.equal(before.execution, null);
      const marked = await call(c.memory, 'MarkExecuted', {
        sessionId: 'exec',
        planHash: 'exec-hash',
        execution: execution({ planHash: 'exec-hash', orderId: 'order-123' }),
      });
      assert.equal(marked.success, true);
      const after = await call(c.memory, 'CheckExecuted', { sessionId: 'exec', planHash: 'exec-hash' });
      assert.equal(after.isExecuted, true);
      assert.equal(after.execution?.orderId, 'order-123');
      assert.ok(Math.abs(after.execution!.orderSizeUsdt - 100) < 1e-6);
    });

    it('records a bare execution when none is given, and the request plan_hash when the record has none', async () => {
      await call(c.memory, 'MarkExecuted', { sessionId: 'exec', planHash: 'bare' });
      const bare = await call(c.memory, 'CheckExecuted', { sessionId: 'exec', planHash: 'bare' });
      assert.deepEqual([bare.isExecuted, bare.execution?.status, bare.execution?.executed], [true, 'executed', true]);
      assert.ok(Number(bare.execution?.timestampMs) > 0);
      await call(c.memory, 'MarkExecuted', {
        sessionId: 'exec',
        planHash: 'from-request',
        execution: execution({ planHash: '' }),
      });
      assert.equal(
        (await call(c.memory, 'CheckExecuted', { sessionId: 'exec', planHash: 'from-request' })).isExecuted,
        true,
      );
    });

    it('answers statistics per symbol: totals, win rate, the last 10 newest first, duplicates prevented', async () => {
      const statuses = ['success', 'success', 'error', 'success', 'hold'];
      for (const [i, status] of statuses.entries()) {
        await call(c.memory, 'MarkExecuted', {
          sessionId: 'stats',
          planHash: `s${i}`,
          execution: execution({ planHash: `s${i}`, timestampMs: 1000 * (i + 1), status }),
        });
      }
      await call(c.memory, 'MarkExecuted', {
        sessionId: 'stats',
        planHash: 'eth',
        execution: execution({ planHash: 'eth', symbol: 'ETH' }),
      });
      const btc = await call(c.memory, 'GetExecutionStats', { sessionId: 'stats', symbol: 'BTC' });
      assert.deepEqual([btc.totalExecutions, btc.successfulExecutions, btc.failedExecutions], [5, 3, 1]);
      assert.ok(Math.abs(btc.winRate - 0.6) < 1e-6);
      assert.deepEqual(
        btc.recentExecutions.map((e) => e.planHash),
        ['s4', 's3', 's2', 's1', 's0'],
      );
      assert.equal(btc.duplicatePrevented, 0);
      const all = await call(c.memory, 'GetExecutionStats', { sessionId: 'stats', symbol: '' });
      assert.equal(all.totalExecutions, 6);
      assert.deepEqual((await call(c.memory, 'GetExecutionStats', { sessionId: 'none', symbol: 'BTC' })).winRate, 0);

      // An executor asking whether a plan ran, and a planner told of a duplicate: both prevented a repeat.
      assert.equal((await call(c.memory, 'CheckExecuted', { sessionId: 'stats', planHash: 's0' })).isExecuted, true);
      await call(c.memory, 'SavePlan', { sessionId: 'stats', plan: plan({ timestampMs: 1000 }) });
      assert.equal(
        (
          await call(c.memory, 'CheckDuplicate', {
            sessionId: 'stats',
            plan: plan({ timestampMs: 2000 }),
            timeWindowSec: 300,
          })
        ).isDuplicate,
        true,
      );
      assert.equal(
        (await call(c.memory, 'CheckExecuted', { sessionId: 'stats', planHash: 'never-ran' })).isExecuted,
        false,
      );
      assert.equal(
        (await call(c.memory, 'GetExecutionStats', { sessionId: 'stats', symbol: 'BTC' })).duplicatePrevented,
        2,
      );
      assert.equal(
        (await call(c.memory, 'GetExecutionStats', { sessionId: 'stats', symbol: 'ETH' })).duplicatePrevented,
        0,
      );
    });
  });

  describe('episodes', () => {
    before(async () => {
      await call(c.memory, 'AppendEvent', { sessionId: 'ep-a', event: ev('market.tick', 'feed', 1), metadata: {} });
      await call(c.memory, 'AppendEvent', {
        sessionId: 'ep-a',
        event: ev('Plan.Created', 'planner', 2),
        metadata: { k: 'v' },
      });
      await call(c.memory, 'AppendEvent', {
        sessionId: 'ep-a',
        event: ev('order.filled', 'executor', 3),
        metadata: {},
      });
      await call(c.memory, 'AppendEvent', { sessionId: 'ep-b', event: ev('plan.created', 'other', 4), metadata: {} });
    });

    it('summarizes an episode as one line per event, oldest first, max_events of them', async () => {
      const all = await call(c.memory, 'SummarizeEpisode', { sessionId: 'ep-a', maxEvents: 0 });
      assert.equal(all.success, true);
      assert.equal(
        all.summary,
        '[1] market.tick from feed\n[2] Plan.Created from planner\n[3] order.filled from executor',
      );
      assert.equal(all.eventCount, 3);
      const two = await call(c.memory, 'SummarizeEpisode', { sessionId: 'ep-a', maxEvents: 2 });
      assert.deepEqual([two.summary.split('\n').length, two.eventCount], [2, 2]);
      const none = await call(c.memory, 'SummarizeEpisode', { sessionId: 'ep-none', maxEvents: 10 });
      assert.deepEqual([none.summary, none.eventCount, none.success], ['', 0, true]);
    });

    it('retrieves matching lines case-insensitively from the session named, or from every session', async () => {
      const inA = await call(c.memory, 'Retrieve', { sessionId: 'ep-a', query: 'PLAN', k: 10, filters: {} });
      assert.deepEqual(inA.results, ['[2] Plan.Created from planner']);
      const everywhere = await call(c.memory, 'Retrieve', { sessionId: '', query: 'plan.created', k: 10, filters: {} });
      assert.deepEqual(everywhere.results, ['[2] Plan.Created from planner', '[4] plan.created from other']);
      const k1 = await call(c.memory, 'Retrieve', { sessionId: 'ep-a', query: '', k: 1, filters: {} });
      assert.deepEqual(k1.results, ['[1] market.tick from feed']);
    });
  });

  describe('bad input', () => {
    const cases: [string, () => Promise<grpc.ServiceError>, RegExp][] = [
      ['no session', () => callFails(c.memory, 'SavePlan', { sessionId: '', plan: plan() }), /session_id is required/],
      ['no plan', () => callFails(c.memory, 'SavePlan', { sessionId: 's' }), /plan is required/],
      [
        'no plan to check',
        () => callFails(c.memory, 'CheckDuplicate', { sessionId: 's', timeWindowSec: 300 }),
        /plan is required/,
      ],
      ['no event', () => callFails(c.memory, 'AppendEvent', { sessionId: 's' }), /event is required/],
      [
        'no plan_hash',
        () => callFails(c.memory, 'MarkExecuted', { sessionId: 's', planHash: '' }),
        /plan_hash is required/,
      ],
      [
        'no plan_hash to check',
        () => callFails(c.memory, 'CheckExecuted', { sessionId: 's', planHash: '' }),
        /plan_hash is required/,
      ],
      [
        'two plan hashes',
        () =>
          callFails(c.memory, 'MarkExecuted', {
            sessionId: 's',
            planHash: 'a',
            execution: execution({ planHash: 'b' }),
          }),
        /execution.plan_hash "b" differs from plan_hash "a"/,
      ],
      [
        'a huge reasoning',
        () => callFails(c.memory, 'SavePlan', { sessionId: 's', plan: plan({ reasoning: 'x'.repeat(16 * 1024 + 1) }) }),
        /plan.reasoning is too long \(16385 bytes; at most 16384\)/,
      ],
      [
        'a long session id',
        () => callFails(c.memory, 'GetRecentPlans', { sessionId: 's'.repeat(257), symbol: 'BTC', limit: 1 }),
        /session_id is too long/,
      ],
      [
        'a long symbol',
        () => callFails(c.memory, 'SavePlan', { sessionId: 's', plan: plan({ symbol: 'B'.repeat(300) }) }),
        /plan.symbol is too long/,
      ],
      [
        'too much metadata',
        () =>
          callFails(c.memory, 'SavePlan', {
            sessionId: 's',
            plan: plan({ metadata: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, 'v'])) }),
          }),
        /plan.metadata has too many entries/,
      ],
      [
        'a NaN confidence',
        () => callFails(c.memory, 'SavePlan', { sessionId: 's', plan: plan({ confidence: NaN }) }),
        /plan.confidence must be a finite number/,
      ],
      [
        'a negative timestamp',
        () =>
          callFails(c.memory, 'MarkExecuted', {
            sessionId: 's',
            planHash: 'h',
            execution: execution({ planHash: 'h', timestampMs: -5 }),
          }),
        /execution.timestamp_ms must be a non-negative/,
      ],
      [
        'a negative limit',
        () => callFails(c.memory, 'GetRecentPlans', { sessionId: 's', symbol: 'BTC', limit: -1 }),
        /limit must be a non-negative integer/,
      ],
      [
        'a negative k',
        () => callFails(c.memory, 'Retrieve', { sessionId: 's', query: 'x', k: -3 }),
        /k must be a non-negative integer/,
      ],
      [
        'a huge query',
        () => callFails(c.memory, 'Retrieve', { sessionId: 's', query: 'q'.repeat(20_000), k: 1 }),
        /query is too long/,
      ],
      [
        'a long event type',
        () => callFails(c.memory, 'AppendEvent', { sessionId: 's', event: ev('t'.repeat(257), 'x', 1) }),
        /event.type is too long/,
      ],
    ];
    for (const [what, attempt, details] of cases) {
      it(`refuses ${what} with INVALID_ARGUMENT naming it`, () =>
        failsWith(attempt(), grpc.status.INVALID_ARGUMENT, details));
    }

    it('keeps serving after bad input, and stored nothing for it', async () => {
      assert.equal(
        (await call(c.memory, 'GetRecentPlans', { sessionId: 's', symbol: 'BTC', limit: 10 })).plans.length,
        0,
      );
      assert.equal(rt.exitCode, null);
      assert.ok(!rt.logs.some((l) => l.level === 'error'), 'no INTERNAL error was logged');
    });

    it('refuses a call without a credential (UNAUTHENTICATED) or with a wrong one', async () => {
      await failsWith(
        callFails(clientFor(undefined).memory, 'SavePlan', { sessionId: 's', plan: plan() }),
        grpc.status.UNAUTHENTICATED,
        /missing "authorization: Bearer <token>"/,
      );
      await failsWith(
        callFails(clientFor('0'.repeat(64)).memory, 'GetRecentPlans', { sessionId: 'plans', symbol: 'BTC', limit: 1 }),
        grpc.status.UNAUTHENTICATED,
        /invalid token/,
      );
    });
  });

  describe('persistence', () =>
    it('keeps memory across a restart of the runtime on the same data folder, and goes on appending', async () => {
      await call(c.memory, 'SavePlan', { sessionId: 'durable', plan: plan({ planHash: 'before-restart' }) });
      await call(c.memory, 'MarkExecuted', {
        sessionId: 'durable',
        planHash: 'before-restart',
        execution: execution({ planHash: 'before-restart' }),
      });
      await call(c.memory, 'AppendEvent', { sessionId: 'durable', event: ev('kept', 'test', 7) });
      await rt.stop();
      assert.equal(rt.exitCode, 0);

      rt = await startRuntime(ws);
      c = clientFor(rt.discovery().token);
      const plans = await call(c.memory, 'GetRecentPlans', { sessionId: 'durable', symbol: 'BTC', limit: 10 });
      assert.deepEqual(
        plans.plans.map((p) => p.planHash),
        ['before-restart'],
      );
      const executed = await call(c.memory, 'CheckExecuted', { sessionId: 'durable', planHash: 'before-restart' });
      assert.equal(executed.execution?.orderId, 'order-1');
      assert.equal(
        (await call(c.memory, 'SummarizeEpisode', { sessionId: 'durable', maxEvents: 0 })).summary,
        '[7] kept from test',
      );
      const dup = await call(c.memory, 'CheckDuplicate', {
        sessionId: 'durable',
        plan: plan({ timestampMs: 5000 }),
        timeWindowSec: 300,
      });
      assert.equal(dup.duplicatePlan?.planHash, 'before-restart');

      // Appends after the restart follow the earlier records, and the 100-plan bound still holds.
      for (let i = 0; i < 100; i++)
        await call(c.memory, 'SavePlan', { sessionId: 'many', plan: plan({ planHash: `after${i}` }) });
      const many = await call(c.memory, 'GetRecentPlans', { sessionId: 'many', symbol: 'BTC', limit: 100 });
      assert.deepEqual(
        [many.plans.length, many.plans[0]!.planHash, many.plans[99]!.planHash],
        [100, 'after99', 'after0'],
      );
    }));

  describe('credentials', () => {
    let agents: RuntimeProcess;
    let owner: string;
    const stolen = (dir: string, id: string) =>
      agents.waitFor(
        `agent ${id} to hand over its credential`,
        () => existsSync(join(dir, `${id}.token`)) && readFileSync(join(dir, `${id}.token`), 'utf8'),
        60_000,
      );
    const table = (id: string, extra = '') =>
      `\n[agents.${id}]\ncommand = ${JSON.stringify(PYTHON)}\nargs = [${JSON.stringify(HOLDER)}]\nrestart = "never"\n${extra}\n`;
    let alpha: Clients;
    let beta: Clients;
    let ownerClient: Clients;

    before(async () => {
      const dir = makeWorkspace(table('alpha') + table('beta', 'state_access = ["alpha"]'));
      agents = await startRuntime(dir, [], { env: { LOOM_PYTHON: PYTHON } });
      owner = agents.discovery().token;
      const connectAs = (token: string) => {
        const client = connect(agents.discovery().address, { token });
        opened.push(client);
        return client;
      };
      alpha = connectAs(await stolen(dir, 'alpha'));
      beta = connectAs(await stolen(dir, 'beta'));
      ownerClient = connectAs(owner);
      await call(ownerClient.memory, 'AppendEvent', {
        sessionId: 'someone-else',
        event: ev('secret.plan', 'owner', 1),
      });
    });
    after(() => agents.stop());

    it("lets an agent's credential use its own session, and state_access grant another's", async () => {
      await call(alpha.memory, 'SavePlan', { sessionId: 'alpha', plan: plan({ planHash: 'alpha-plan' }) });
      await call(alpha.memory, 'AppendEvent', { sessionId: 'alpha', event: ev('alpha.thought', 'alpha', 2) });
      const granted = await call(beta.memory, 'GetRecentPlans', { sessionId: 'alpha', symbol: 'BTC', limit: 5 });
      assert.deepEqual(
        granted.plans.map((p) => p.planHash),
        ['alpha-plan'],
      );
    });

    it("refuses an agent's credential another session (PERMISSION_DENIED naming the rule)", async () => {
      const why =
        /agent "alpha" may not use the memory of session "beta".*state_access = \["beta"\] in \[agents.alpha\]/;
      await failsWith(
        callFails(alpha.memory, 'SavePlan', { sessionId: 'beta', plan: plan() }),
        grpc.status.PERMISSION_DENIED,
        why,
      );
      await failsWith(
        callFails(alpha.memory, 'GetExecutionStats', { sessionId: 'beta', symbol: '' }),
        grpc.status.PERMISSION_DENIED,
        why,
      );
      await failsWith(
        callFails(alpha.memory, 'Retrieve', { sessionId: 'beta', query: '', k: 5 }),
        grpc.status.PERMISSION_DENIED,
        why,
      );
    });

    it("searches only the agent's own session when it names none; the owner's token searches them all", async () => {
      const own = await call(alpha.memory, 'Retrieve', { sessionId: '', query: '', k: 10 });
      assert.deepEqual(own.results, ['[2] alpha.thought from alpha']);
      const all = await call(ownerClient.memory, 'Retrieve', { sessionId: '', query: '', k: 10 });
      assert.deepEqual(all.results.sort(), ['[1] secret.plan from owner', '[2] alpha.thought from alpha']);
    });
  });
});
