import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { silentLogger } from '../../../runtime/log';
import { protoStatusFor, ToolError, toolResultFromOutcome, unwrapToolResult } from '../../../runtime/tools/errors';
import { DefaultToolRegistry } from '../../../runtime/tools/registry';
import { CallCancel } from '../../../runtime/tools/callCancel';
import type {
  ToolCallRequest,
  ToolContext,
  ToolDefinition,
  ToolHandler,
  ToolOutcome,
} from '../../../runtime/tools/types';
import { expectError, expectOk } from './helpers';

const schema = {
  type: 'object',
  properties: {
    path: { type: 'string' },
    mode: { type: 'string', enum: ['fast', 'slow'], default: 'fast' },
    opts: { type: 'object', properties: { depth: { type: 'integer', minimum: 0 } }, additionalProperties: false },
  },
  required: ['path'],
  additionalProperties: false,
};

function def(name: string, owner = 'test', parametersSchema: Record<string, unknown> = schema): ToolDefinition {
  return { name, description: `test tool ${name}`, parametersSchema, provider: 'native', owner };
}

const echo: ToolHandler = async (args, ctx) => ({ args, callId: ctx.callId, caller: ctx.caller });

describe('tools: registry', () => {
  let registry: DefaultToolRegistry;
  beforeEach(() => {
    registry = new DefaultToolRegistry({ defaultTimeoutMs: 10_000, log: silentLogger });
    registry.register(def('demo:echo'), echo);
  });

  describe('registration', () => {
    for (const bad of ['a:b:c', ':x', 'fs:', 'with space:x', 'fs:read file', '', 'fs:../x', '.hidden', 'a b']) {
      it(`refuses the tool name ${JSON.stringify(bad)}`, () => {
        assert.throws(
          () => registry.register(def(bad), echo),
          (err: unknown) =>
            err instanceof ToolError && err.code === 'invalid_arguments' && /invalid tool name/.test(err.message),
        );
      });
    }

    it('takes a name without a namespace, as the reference names agent tools ("web.search", "add")', () => {
      for (const name of ['web.search', 'add', 'test.add']) registry.register(def(name), echo);
      assert.deepEqual(
        ['web.search', 'add', 'test.add'].map((n) => registry.get(n)?.name),
        ['web.search', 'add', 'test.add'],
      );
    });

    it('refuses a name that is taken, naming the owner', () => {
      assert.throws(() => registry.register(def('demo:echo', 'other'), echo), /already registered \(owner test\)/);
    });

    it('refuses a schema ajv cannot compile, at register time', () => {
      assert.throws(
        () => registry.register(def('demo:bad', 'test', { type: 'no-such-type' }), echo),
        (err: unknown) => err instanceof ToolError && /invalid parameters schema/.test(err.message),
      );
      assert.equal(registry.get('demo:bad'), undefined);
    });

    it('a trusted (built-in) schema is compiled at the first call: arguments checked and defaults filled as at register time', async () => {
      registry.register(def('demo:lazy'), echo, { trustedSchema: true });
      expectError(
        await registry.call({ name: 'demo:lazy', arguments: { mode: 'fast' } }),
        'invalid_arguments',
        '/path is required',
      );
      expectError(
        await registry.call({ name: 'demo:lazy', arguments: { path: 'x', extra: 1 } }),
        'invalid_arguments',
        '/extra is not an allowed property',
      );
      const out = expectOk(await registry.call({ name: 'demo:lazy', arguments: { path: 'x' } })) as {
        args: Record<string, unknown>;
      };
      assert.deepEqual(out.args, { path: 'x', mode: 'fast' });
    });

    it('a trusted schema that cannot compile fails its calls with a clear error (never passes arguments unchecked)', async () => {
      registry.register(def('demo:lazybad', 'test', { type: 'no-such-type' }), echo, { trustedSchema: true });
      expectError(
        await registry.call({ name: 'demo:lazybad', arguments: {} }),
        'invalid_arguments',
        'invalid parameters schema',
      );
      assert.throws(
        () =>
          registry.register(def('demo:notobj', 'test', [] as unknown as Record<string, unknown>), echo, {
            trustedSchema: true,
          }),
        /parameters schema must be a JSON Schema object/,
      );
    });

    it('accepts JSON Schema 2020-12 schemas', async () => {
      registry.register(
        def('demo:tuple', 'test', {
          $schema: 'https://json-schema.org/draft/2020-12/schema',
          type: 'object',
          properties: { pair: { type: 'array', prefixItems: [{ type: 'string' }, { type: 'number' }] } },
        }),
        echo,
      );
      expectOk(await registry.call({ name: 'demo:tuple', arguments: { pair: ['a', 1] } }));
      expectError(
        await registry.call({ name: 'demo:tuple', arguments: { pair: [1, 'a'] } }),
        'invalid_arguments',
        '/pair/0 must be string',
      );
    });

    it('tells listeners when the set of tools changes, and only then, once per burst', async () => {
      let changes = 0;
      const sub = registry.onDidChangeTools(() => changes++);
      const told = () => new Promise<void>((resolve) => setImmediate(resolve));
      const handle = registry.register(def('demo:a', 'agent-1'), echo);
      registry.register(def('demo:b', 'agent-1'), echo);
      assert.equal(changes, 0, 'after the code that made the changes');
      await told();
      assert.equal(changes, 1, 'two registrations in one go are one change');
      handle.dispose();
      await told();
      assert.equal(changes, 2, 'dispose withdraws and tells');
      assert.equal(registry.unregister('demo:nope'), false);
      await told();
      assert.equal(changes, 2, 'nothing removed, nothing told');
      assert.equal(registry.unregisterOwner('agent-1'), 1);
      await told();
      assert.equal(changes, 3, 'an owner withdrawn at once is one change');
      assert.throws(() => registry.register(def('demo:echo'), echo));
      await told();
      assert.equal(changes, 3, 'a refused registration is no change');
      for (let i = 0; i < 500; i++) registry.register(def(`many:t${i}`), echo);
      await told();
      assert.equal(changes, 4, '500 registrations in one go are one change');
      sub.dispose();
      registry.register(def('demo:c'), echo);
      await told();
      assert.equal(changes, 4, 'a disposed listener hears nothing');
    });

    it('lists by prefix and returns copies', () => {
      registry.register(def('demo:other'), echo);
      registry.register(def('fs:x'), echo);
      assert.deepEqual(
        registry.list('demo:').map((d) => d.name),
        ['demo:echo', 'demo:other'],
      );
      assert.equal(registry.list().length, 3);
      registry.get('demo:echo')!.description = 'mutated';
      assert.equal(registry.get('demo:echo')!.description, 'test tool demo:echo');
    });

    it('dispose of an old registration does not remove a newer one under the same name', async () => {
      const first = registry.register(def('demo:re'), echo);
      first.dispose();
      registry.register(def('demo:re'), async () => 'second');
      first.dispose();
      assert.equal(expectOk(await registry.call({ name: 'demo:re', arguments: { path: 'p' } })), 'second');
    });

    it('withdraws every tool of an owner at once, and only those', async () => {
      registry.register(def('agent:a', 'agent-1'), echo);
      registry.register(def('agent:b', 'agent-1'), echo);
      registry.register(def('agent:c', 'agent-2'), echo);
      assert.equal(registry.unregisterOwner('agent-1'), 2);
      assert.deepEqual(
        registry.list('agent:').map((d) => d.name),
        ['agent:c'],
      );
      expectError(await registry.call({ name: 'agent:a', arguments: { path: 'p' } }), 'not_found');
      expectOk(await registry.call({ name: 'agent:c', arguments: { path: 'p' } }));
      assert.equal(registry.unregisterOwner('agent-1'), 0);
      assert.equal(registry.unregister('agent:c'), true);
      assert.equal(registry.unregister('agent:c'), false);
    });
  });

  describe('arguments', () => {
    it('lists every schema violation with its JSON path', async () => {
      const msg = expectError(
        await registry.call({
          name: 'demo:echo',
          arguments: { opts: { depth: -1, color: 'red' }, extra: 1, mode: 'turbo' },
        }),
        'invalid_arguments',
      );
      for (const part of [
        '/path is required',
        '/opts/depth must be >= 0',
        '/opts/color is not an allowed property',
        '/extra is not an allowed property',
        '/mode must be equal to one of the allowed values ("fast", "slow")',
      ]) {
        assert.ok(msg.includes(part), `${JSON.stringify(msg)} should include ${JSON.stringify(part)}`);
      }
      assert.match(msg, /^invalid arguments for demo:echo: /);
    });

    it('puts the problems in details as a JSON list too', async () => {
      const outcome = await registry.call({ name: 'demo:echo', arguments: { path: 3 } });
      assert.equal(outcome.status, 'error');
      assert.deepEqual(JSON.parse((outcome as Extract<ToolOutcome, { status: 'error' }>).error.details!.errors), [
        '/path must be string',
      ]);
    });

    it('accepts arguments as a JSON string, as they arrive on the wire', async () => {
      const out = expectOk(
        await registry.call({ name: 'demo:echo', arguments: '{"path":"a.txt","opts":{"depth":2}}' }),
      );
      assert.deepEqual(out.args, { path: 'a.txt', opts: { depth: 2 }, mode: 'fast' });
    });

    it('names a JSON parse error', async () => {
      expectError(
        await registry.call({ name: 'demo:echo', arguments: '{"path": "a.txt",' }),
        'invalid_arguments',
        /not valid JSON \(.+\)/,
      );
    });

    for (const [raw, what] of [
      ['[1,2]', 'an array'],
      ['null', 'null'],
      ['"text"', 'string'],
      ['42', 'number'],
    ] as const) {
      it(`refuses arguments that are ${what}`, async () => {
        expectError(
          await registry.call({ name: 'demo:echo', arguments: raw }),
          'invalid_arguments',
          `expected a JSON object, got ${what}`,
        );
      });
    }

    it('treats an empty argument string as {} (then validates it)', async () => {
      expectError(await registry.call({ name: 'demo:echo', arguments: '' }), 'invalid_arguments', '/path is required');
    });

    it("fills schema defaults for the handler without touching the caller's object", async () => {
      const args = { path: 'x' };
      const out = expectOk(await registry.call({ name: 'demo:echo', arguments: args }));
      assert.equal(out.args.mode, 'fast');
      assert.deepEqual(args, { path: 'x' });
    });

    it('keeps working after a run of bad calls', async () => {
      const bad: ToolCallRequest[] = [
        { name: 'demo:echo', arguments: '{{{' },
        { name: 'demo:echo', arguments: { path: null } as never },
        { name: 'nope:nope', arguments: {} },
        { name: 'demo:echo', arguments: '[]' },
        { name: '', arguments: {} },
      ];
      for (const request of bad) assert.equal((await registry.call(request)).status, 'error');
      assert.equal(expectOk(await registry.call({ name: 'demo:echo', arguments: { path: 'ok' } })).args.path, 'ok');
    });
  });

  // A schema from an agent, an MCP server or another runtime is its author's code run on the
  // runtime's one thread (a red-team pass froze the runtime with "^(a+)+$"). Without the time limit
  // each case below runs for hours, past the test's timeout.
  describe('schemas from outside the runtime: a check that would stall the thread', function () {
    this.timeout(20_000);
    const backtracking = { type: 'object', properties: { s: { type: 'string', pattern: '^(a+)+$' } } };
    // anyOf through a recursive $ref: each level of the input doubles the work.
    const doubling = {
      $defs: {
        n: {
          anyOf: [
            { type: 'object', properties: { a: { $ref: '#/$defs/n' } }, minProperties: 2 },
            { type: 'object', properties: { a: { $ref: '#/$defs/n' } } },
          ],
        },
      },
      $ref: '#/$defs/n',
    };
    let nested: Record<string, unknown> = {};
    for (let i = 0; i < 60; i++) nested = { a: nested };
    const cases: [string, Record<string, unknown>, Record<string, unknown>, Record<string, unknown>][] = [
      ['a backtracking pattern', backtracking, { s: 'aaaa' }, { s: `${'a'.repeat(60)}!` }],
      ['anyOf through a recursive $ref', doubling, { a: { a: {} } }, nested],
    ];
    for (const [what, parametersSchema, fine, costly] of cases)
      it(`${what}: stopped, the tool and its provider's others refused, other providers unaffected`, async () => {
        registry.register(def('evil:tool', 'mallory', parametersSchema), echo);
        registry.register(def('evil:other', 'mallory', { type: 'object' }), echo);
        registry.register(def('alice:tool', 'alice', parametersSchema), echo);
        expectOk(await registry.call({ name: 'evil:tool', arguments: fine }));
        const stopped = expectError(await registry.call({ name: 'evil:tool', arguments: costly }), 'unavailable');
        assert.match(stopped, /took over 250 ms and was stopped/);
        assert.match(stopped, /\(from mallory\)/);
        // Refused at once from now on, even for arguments that were fine.
        const again = expectError(await registry.call({ name: 'evil:tool', arguments: fine }), 'unavailable');
        assert.equal(again, stopped);
        expectOk(await registry.call({ name: 'demo:echo', arguments: { path: 'still here' } }));
        expectOk(await registry.call({ name: 'alice:tool', arguments: fine }));
        // Not one 250 ms stall per tool of the provider, nor per registration: its others are
        // refused at once for a while, and so is registering the slow one again.
        expectError(
          await registry.call({ name: 'evil:other', arguments: {} }),
          'unavailable',
          /tools of mallory are refused/,
        );
        registry.unregister('evil:tool');
        assert.throws(
          () => registry.register(def('evil:tool', 'mallory', parametersSchema), echo),
          /tools of mallory are refused for \d+ s more/,
        );
      });

    it("one tool's $id is its own: it neither blocks another tool's schema of the same $id nor answers another's $ref", async () => {
      const args = (maximum: number) => ({
        $id: 'https://example.com/args',
        type: 'object',
        properties: { n: { type: 'integer', maximum } },
      });
      registry.register(def('mallory:a', 'mallory', args(1)), echo);
      registry.register(def('alice:b', 'alice', args(10)), echo);
      expectOk(await registry.call({ name: 'alice:b', arguments: { n: 5 } }));
      expectError(await registry.call({ name: 'mallory:a', arguments: { n: 5 } }), 'invalid_arguments', 'must be <= 1');
      const ref = { type: 'object', properties: { x: { $ref: 'https://example.com/args' } } };
      assert.throws(
        () => registry.register(def('bob:c', 'bob', ref), echo),
        /can't resolve reference https:\/\/example\.com\/args/,
      );
    });

    it('a schema too large or too slow to compile is refused at registration, naming why', () => {
      const wide = {
        type: 'object',
        properties: Object.fromEntries(Array.from({ length: 20_000 }, (_, i) => [`p${i}`, { type: 'string' }])),
      };
      assert.throws(() => registry.register(def('big:tool', 'bob', wide), echo), /bytes of JSON, over the 262144/);
      // Under the size cap, a schema that is slow to compile: thousands of patternProperties (each
      // a regular expression ajv builds and tries per key) take seconds on this machine.
      const patterns = {
        type: 'object',
        patternProperties: Object.fromEntries(Array.from({ length: 6000 }, (_, i) => [`^k${i}_`, { type: 'string' }])),
      };
      assert.throws(() => registry.register(def('slow:tool', 'carol', patterns), echo), /took over 1000 ms to compile/);
      // A schema refused for the meta-schema's $id takes nothing from the instance the others use.
      assert.throws(
        () =>
          registry.register(
            def('m:tool', 'mallory', { $id: 'http://json-schema.org/draft-07/schema', type: 'object' }),
            echo,
          ),
        /already exists/,
      );
      registry.register(
        def('mcp:x', 'dave', { $schema: 'http://json-schema.org/draft-07/schema#', type: 'object' }),
        echo,
      );
    });

    it('tools registered and withdrawn again and again leave no compiled schema behind', () => {
      // What an agent reconnecting, or an MCP server whose list changes, does for hours. Each
      // compiled schema an ajv instance keeps is about 3 KB: 10 000 kept would be some 30 MB.
      setFlagsFromString('--expose-gc');
      const gc = runInNewContext('gc') as () => void;
      const churn = (n: number) => {
        for (let i = 0; i < n; i++) {
          const name = `churn:t${i}`;
          registry.register(
            def(name, 'agent', { type: 'object', properties: { a: { type: 'string' }, b: { type: 'integer' } } }),
            echo,
          );
          registry.unregister(name);
        }
      };
      churn(500);
      gc();
      const before = process.memoryUsage().heapUsed;
      churn(10_000);
      gc();
      const grownMb = (process.memoryUsage().heapUsed - before) / 1e6;
      assert.ok(grownMb < 10, `the heap grew by ${grownMb.toFixed(1)} MB over 10 000 registrations withdrawn`);
    });

    it('a trusted schema is checked without the watchdog, an untrusted one with it, to the same verdicts', async () => {
      registry.register(def('own:tool'), echo, { trustedSchema: true });
      registry.register(def('agent:tool', 'agent'), echo);
      for (const name of ['own:tool', 'agent:tool']) {
        expectOk(await registry.call({ name, arguments: { path: 'x' } }));
        expectError(await registry.call({ name, arguments: { path: 1 } }), 'invalid_arguments', '/path must be string');
        const deep = expectError(
          await registry.call({ name, arguments: { opts: { depth: -1 }, path: 'x' } }),
          'invalid_arguments',
        );
        assert.match(deep, /\/opts\/depth must be >= 0/);
      }
    });
  });

  describe('unknown tools', () => {
    beforeEach(() => {
      registry.register(def('demo:echoes'), echo);
      registry.register(def('fs:read_file'), echo);
    });

    it('suggests the closest names', async () => {
      expectError(
        await registry.call({ name: 'demo:ecko', arguments: {} }),
        'not_found',
        'tool "demo:ecko" not found; did you mean "demo:echo" or "demo:echoes"?',
      );
    });

    it('suggests the same tool under another namespace', async () => {
      expectError(
        await registry.call({ name: 'file:read_file', arguments: {} }),
        'not_found',
        'did you mean "fs:read_file"',
      );
    });

    it('suggests nothing when nothing is close', async () => {
      const msg = expectError(await registry.call({ name: 'zzz:qqqqqq', arguments: {} }), 'not_found');
      assert.equal(msg, 'tool "zzz:qqqqqq" not found');
    });

    // A red-team finding: the edit distance against each tool, for a name of megabytes, held the
    // runtime's thread for two minutes (100 tools of 193 characters, a 1 MiB name).
    it('looks for no suggestion for a name no tool can have, and quotes it only in part', async () => {
      for (let i = 0; i < 100; i++)
        registry.register(def(`${'n'.repeat(60)}:${'t'.repeat(125)}${String(i).padStart(3, '0')}`), echo);
      const huge = 'n'.repeat(1 << 20);
      const msg = expectError(await registry.call({ name: huge, arguments: {} }), 'not_found');
      assert.equal(msg, `tool ${JSON.stringify('n'.repeat(200))}… (${1 << 20} characters) not found`);
    });

    it('still suggests for a long name a tool could have, counting only names of about its length', async () => {
      const long = `${'n'.repeat(60)}:${'t'.repeat(125)}`;
      registry.register(def(`${long}x`), echo);
      registry.register(def('demo:short'), echo);
      const msg = expectError(await registry.call({ name: `${long}y`, arguments: {} }), 'not_found');
      assert.match(msg, new RegExp(`did you mean "${long}x"\\?$`));
    });
  });

  describe('timeouts and cancellation', () => {
    it('settles with "timeout" without waiting for a handler that ignores its signal', async () => {
      let seen: ToolContext | undefined;
      registry.register(def('demo:hang'), (_args, ctx) => {
        seen = ctx;
        return new Promise(() => {}); // never settles: waiting for it would hang this test
      });
      const outcome = await registry.call({ name: 'demo:hang', arguments: { path: 'p' }, timeoutMs: 150 });
      expectError(outcome, 'timeout', 'demo:hang timed out after 150 ms');
      assert.equal(seen!.timeoutMs, 150);
      assert.equal(seen!.signal.aborted, true);
      assert.ok(seen!.signal.reason instanceof ToolError && seen!.signal.reason.code === 'timeout');
    });

    it('uses the default timeout when the call names none', async () => {
      const quick = new DefaultToolRegistry({ defaultTimeoutMs: 120, log: silentLogger });
      quick.register(def('demo:hang'), () => new Promise(() => {}));
      expectError(await quick.call({ name: 'demo:hang', arguments: { path: 'p' } }), 'timeout', 'after 120 ms');
    });

    it('a timeout beyond what a timer holds is clamped, not turned into 1 ms', async () => {
      registry.register(def('demo:slowish'), () => new Promise((resolve) => setTimeout(() => resolve('done'), 50)));
      assert.equal(
        expectOk(await registry.call({ name: 'demo:slowish', arguments: { path: 'p' }, timeoutMs: 2 ** 40 })),
        'done',
      );
      assert.equal(
        expectOk(
          await registry.call({
            name: 'demo:slowish',
            arguments: { path: 'p' },
            timeoutMs: '60000' as unknown as number,
          }),
        ),
        'done',
      );
    });

    it('drops a late answer from a handler that finished after its timeout', async () => {
      let finishLate!: (v: unknown) => void;
      const calls: ToolOutcome[] = [];
      registry.onDidCall((_r, o) => calls.push(o));
      registry.register(def('demo:late'), () => new Promise((resolve) => (finishLate = resolve)));
      expectError(await registry.call({ name: 'demo:late', arguments: { path: 'p' }, timeoutMs: 100 }), 'timeout');
      finishLate('too late');
      await new Promise((r) => setImmediate(r));
      assert.deepEqual(
        calls.map((o) => o.status),
        ['error'],
      );
    });

    it('a caller can cancel a call through request.signal', async () => {
      let seen: AbortSignal | undefined;
      registry.register(def('demo:wait'), (_a, ctx) => {
        seen = ctx.signal;
        return new Promise(() => {});
      });
      const controller = new AbortController();
      const pending = registry.call({
        name: 'demo:wait',
        arguments: { path: 'p' },
        signal: controller.signal,
        timeoutMs: 60_000,
      });
      await new Promise((r) => setImmediate(r));
      controller.abort();
      const outcome = await pending;
      expectError(outcome, 'failed', 'cancelled by the caller');
      assert.equal((outcome as Extract<ToolOutcome, { status: 'error' }>).error.details?.reason, 'cancelled');
      assert.equal(seen!.aborted, true);
    });

    it("a CallCancel (the bridge's, per call) cancels as an AbortSignal does; one cancelled before the call starts no handler", async () => {
      let started = 0;
      let seen: AbortSignal | undefined;
      registry.register(def('demo:wait'), (_a, ctx) => {
        started++;
        seen = ctx.signal;
        return new Promise(() => {});
      });
      const cancel = new CallCancel();
      const pending = registry.call({ name: 'demo:wait', arguments: { path: 'p' }, signal: cancel, timeoutMs: 60_000 });
      await new Promise((r) => setImmediate(r));
      cancel.cancel();
      expectError(await pending, 'failed', 'cancelled by the caller');
      assert.equal(seen!.aborted, true);
      assert.equal(started, 1);

      const early = new CallCancel();
      early.cancel();
      const outcome = await registry.call({ name: 'demo:wait', arguments: { path: 'p' }, signal: early });
      expectError(outcome, 'failed', 'cancelled by the caller');
      await new Promise((r) => setImmediate(r));
      assert.equal(started, 1, 'the handler of a call cancelled before it ran never started');
    });
  });

  describe('errors from handlers', () => {
    for (const code of ['not_found', 'invalid_arguments', 'denied', 'timeout', 'failed', 'unavailable'] as const) {
      it(`a ToolError("${code}") becomes outcome code ${code} with its details`, async () => {
        registry.register(def('demo:throw'), async () => {
          throw new ToolError(code, `because ${code}`, { why: code });
        });
        const outcome = await registry.call({ name: 'demo:throw', arguments: { path: 'p' } });
        expectError(outcome, code, `because ${code}`);
        assert.deepEqual((outcome as Extract<ToolOutcome, { status: 'error' }>).error.details, { why: code });
      });
    }

    it('any other throw becomes "failed" with its message', async () => {
      registry.register(def('demo:boom'), async () => {
        throw new RangeError('boom at step 3');
      });
      expectError(await registry.call({ name: 'demo:boom', arguments: { path: 'p' } }), 'failed', 'boom at step 3');
    });

    it('a synchronous throw and a thrown string are caught too', async () => {
      registry.register(def('demo:sync'), (() => {
        throw 'plain string';
      }) as unknown as ToolHandler);
      expectError(await registry.call({ name: 'demo:sync', arguments: { path: 'p' } }), 'failed', 'plain string');
    });
  });

  describe('call context and listeners', () => {
    it('passes the call id, caller, timeout and headers to the handler', async () => {
      let seen: ToolContext | undefined;
      registry.register(def('demo:ctx'), async (_a, ctx) => {
        seen = ctx;
        return null;
      });
      const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
      const outcome = await registry.call({
        name: 'demo:ctx',
        arguments: { path: 'p' },
        id: 'call-7',
        caller: 'agent-9',
        timeoutMs: 5000,
        headers: { traceparent, 'x-k': 'v' },
      });
      assert.equal(outcome.id, 'call-7');
      assert.equal(seen!.callId, 'call-7');
      assert.equal(seen!.caller, 'agent-9');
      assert.equal(seen!.timeoutMs, 5000);
      assert.equal(seen!.headers['x-k'], 'v');
      assert.ok(seen!.headers.traceparent, 'the trace context travels on to the handler');
    });

    it('onDidCall sees every outcome; a throwing listener does not break calls; dispose stops it', async () => {
      const seen: Array<[string, string]> = [];
      const sub = registry.onDidCall((req, out) => seen.push([req.name, out.status === 'ok' ? 'ok' : out.error.code]));
      registry.onDidCall(() => {
        throw new Error('listener bug');
      });
      expectOk(await registry.call({ name: 'demo:echo', arguments: { path: 'p' } }));
      expectError(await registry.call({ name: 'demo:nope', arguments: {} }), 'not_found');
      expectError(await registry.call({ name: 'demo:echo', arguments: {} }), 'invalid_arguments');
      sub.dispose();
      expectOk(await registry.call({ name: 'demo:echo', arguments: { path: 'p' } }));
      assert.deepEqual(seen, [
        ['demo:echo', 'ok'],
        ['demo:nope', 'not_found'],
        ['demo:echo', 'invalid_arguments'],
      ]);
    });
  });

  describe('wire mapping', () => {
    it('maps codes to loom.v1 ToolStatus', () => {
      assert.equal(protoStatusFor('not_found'), 'TOOL_NOT_FOUND');
      assert.equal(protoStatusFor('invalid_arguments'), 'TOOL_INVALID_ARGUMENTS');
      assert.equal(protoStatusFor('timeout'), 'TOOL_TIMEOUT');
      for (const code of ['denied', 'failed', 'unavailable'] as const) assert.equal(protoStatusFor(code), 'TOOL_ERROR');
    });

    it('renders outcomes as ToolResult and reads them back', async () => {
      const ok = toolResultFromOutcome(await registry.call({ name: 'demo:echo', arguments: { path: 'p' }, id: 'r1' }));
      assert.equal(ok.status, 'TOOL_OK');
      assert.equal((unwrapToolResult(ok) as { args: { path: string } }).args.path, 'p');

      registry.register(def('demo:deny'), async () => {
        throw new ToolError('denied', 'not here', { path: '/etc' });
      });
      const denied = toolResultFromOutcome(await registry.call({ name: 'demo:deny', arguments: { path: 'p' } }));
      assert.equal(denied.status, 'TOOL_ERROR');
      assert.deepEqual(denied.error, { code: 'denied', message: 'not here', details: { path: '/etc' } });
      assert.throws(
        () => unwrapToolResult(denied),
        (e: unknown) => e instanceof ToolError && e.code === 'denied' && e.message === 'not here',
      );
      assert.throws(
        () => unwrapToolResult({ status: 'TOOL_TIMEOUT', error: { message: 'slow' } }),
        (e: unknown) => e instanceof ToolError && e.code === 'timeout',
      );
      assert.throws(
        () => unwrapToolResult({ status: 'TOOL_ERROR', error: { code: 'weird', message: 'x' } }),
        (e: unknown) => e instanceof ToolError && e.code === 'failed',
      );
    });
  });
});
