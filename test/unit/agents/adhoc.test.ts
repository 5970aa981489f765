// Ad-hoc agents in the runtime: the request made into supervisor settings (real files, real
// symlinks), and the supervisor running them beside declared agents with real child processes —
// bound to a link that ends, spared by a loom.toml reload, displaced by a table of the same id.
import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { adHocConfig, AdHocRequestError, Supervisor, type AdHocRequest } from '../../../runtime/agents';
import { defaultAgent, defaultConfig, type AgentConfig, type ProcessIsolation } from '../../../runtime/config';
import { processAlive } from '../../../runtime/contract/process';
import { silentLogger } from '../../../runtime/log';
import { until } from '../../support/eventually';

const request = (over: Partial<AdHocRequest> = {}): AdHocRequest => ({
  agentId: 'solo',
  script: 'agents/solo.py',
  args: [],
  cwd: '',
  env: {},
  restart: '',
  ...over,
});
/** [adhoc_agents] as defaults leave it. */
const UNCONFINED: ProcessIsolation = defaultConfig(tmpdir()).adhocAgents;

describe('ad-hoc agents: the request', () => {
  let ws: string;
  let outside: string;
  before(() => {
    ws = realpathSync(mkdtempSync(join(tmpdir(), 'loom-adhoc-')));
    outside = realpathSync(mkdtempSync(join(tmpdir(), 'loom-adhoc-out-')));
    mkdirSync(join(ws, 'agents'));
    writeFileSync(join(ws, 'agents', 'solo.py'), 'print(1)\n');
    writeFileSync(join(outside, 'evil.py'), 'print(2)\n');
    symlinkSync(join(outside, 'evil.py'), join(ws, 'agents', 'link.py'));
  });
  after(() => {
    rmSync(ws, { recursive: true, force: true });
    rmSync(outside, { recursive: true, force: true });
  });

  it("runs the script with the configured Python, a declared agent's defaults, not autostarted", async () => {
    const config = await adHocConfig(request({ args: ['--x'], env: { OPENAI_API_KEY: 'k' }, restart: 'always' }), ws);
    assert.deepEqual(config, {
      ...defaultAgent(),
      command: 'python',
      args: [join(ws, 'agents', 'solo.py'), '--x'],
      cwd: ws,
      env: { OPENAI_API_KEY: 'k' },
      restart: 'always',
      autostart: false,
    });
    assert.equal((await adHocConfig(request(), ws)).restart, 'on-failure');
    assert.equal(
      (await adHocConfig(request({ script: join(ws, 'agents', 'solo.py'), cwd: 'agents' }), ws)).cwd,
      join(ws, 'agents'),
    );
  });

  const refusals: [string, Partial<AdHocRequest>, RegExp][] = [
    ['an id the topics cannot carry', { agentId: 'a b' }, /agent id "a b" is invalid/],
    ["the runtime's own id", { agentId: 'runtime' }, /reserved for the runtime itself/],
    ...['vscode', 'dashboard', 'mcp-client.claude'].map((agentId): [string, Partial<AdHocRequest>, RegExp] => [
      `the id of the runtime's client ${agentId}`,
      { agentId },
      new RegExp(`agent id "${agentId}" is the name of one of the runtime's own clients`),
    ]),
    ['no script', { script: '' }, /script is required/],
    ['a file that is not Python', { script: 'run.sh' }, /is not a \.py file/],
    [
      'a path out of the workspace',
      { script: '../x.py' },
      /script must be inside the workspace .*outside the workspace roots/,
    ],
    [
      'a symlink that leads out',
      { script: 'agents/link.py' },
      /script must be inside the workspace .*resolves to .*evil\.py/,
    ],
    ['a script that is not there', { script: 'agents/none.py' }, /does not exist in the workspace/],
    ['a cwd out of the workspace', { cwd: '/' }, /cwd must be inside the workspace/],
    ['a cwd that is a file', { cwd: 'agents/solo.py' }, /is not a folder of the workspace/],
    [
      'an unknown restart policy',
      { restart: 'sometimes' },
      /restart must be one of always, on-failure, never \(got "sometimes"\)/,
    ],
    ['a bad variable name', { env: { 'A=B': '1' } }, /environment variable name "A=B" is invalid/],
    ['a variable the runtime sets', { env: { LOOM_TOKEN: 'stolen' } }, /LOOM_TOKEN is set by the runtime/],
  ];
  for (const [what, over, why] of refusals) {
    it(`refuses ${what}, naming it`, async () => {
      await assert.rejects(
        adHocConfig(request(over), ws),
        (err: unknown) => err instanceof AdHocRequestError && why.test(err.message),
      );
    });
  }
});

describe('ad-hoc agents: one supervisor with the declared ones', function () {
  this.timeout(30_000);
  const events: string[] = [];
  let supervisor: Supervisor;
  const sleeper = (): AgentConfig => ({
    ...defaultAgent(),
    command: process.execPath,
    args: ['-e', 'setInterval(() => {}, 1000)'],
    stopGraceMs: 2000,
  });
  beforeEach(() => {
    events.length = 0;
    supervisor = new Supervisor({
      agents: { declared: sleeper() },
      workspace: tmpdir(),
      adHocIsolation: UNCONFINED,
      trusted: true,
      bridge: { address: '127.0.0.1:1', credentialFor: () => 'x', mark: 'test' },
      emit: (id, kind, payload) => events.push(`${id} ${kind}${payload.reason ? `: ${payload.reason}` : ''}`),
      log: silentLogger,
    });
  });
  afterEach(() => supervisor.stopAll());

  it('stops and forgets the ones bound to a link when it ends, and only those', async () => {
    supervisor.startAdHoc('bound', sleeper(), 'vscode');
    supervisor.startAdHoc('kept', sleeper());
    supervisor.startAdHoc('other', sleeper(), 'cli');
    await until('all three running', () =>
      ['bound', 'kept', 'other'].every((id) => supervisor.view(id)!.state === 'running'),
    );
    const pid = supervisor.view('bound')!.pid;
    assert.equal(supervisor.view('bound')!.adHoc, true);
    assert.equal(supervisor.view('declared')!.adHoc, false);
    assert.deepEqual(await supervisor.linkEnded('vscode'), ['bound']);
    assert.equal(supervisor.has('bound'), false);
    assert.equal(processAlive(pid), false);
    assert.ok(
      events.includes('bound stopped: stop requested: the stream of "vscode" that started it ended'),
      events.join('\n'),
    );
    assert.equal(supervisor.view('kept')!.state, 'running');
    assert.equal(supervisor.view('other')!.state, 'running');
  });

  it('refuses a declared id and a running one; a stopped one starts again with its new settings', async () => {
    assert.throws(
      () => supervisor.startAdHoc('declared', sleeper()),
      /declared in loom.toml \(\[agents\.declared\]\): start it with ControlAgent/,
    );
    supervisor.startAdHoc('solo', sleeper());
    assert.throws(() => supervisor.startAdHoc('solo', sleeper()), /already running/);
    await supervisor.stop('solo');
    supervisor.startAdHoc('solo', { ...sleeper(), restart: 'never' }, 'vscode');
    await until('solo running again', () => supervisor.view('solo')!.state === 'running');
    assert.deepEqual(await supervisor.linkEnded('vscode'), ['solo']);
  });

  it('a loom.toml reload spares ad-hoc agents, unless the file now declares the id', async () => {
    supervisor.startAdHoc('solo', sleeper());
    supervisor.startAdHoc('later', sleeper());
    await until('running', () => supervisor.view('later')!.state === 'running');
    const adHocPid = supervisor.view('later')!.pid;
    const outcome = await supervisor.reconcile({ later: { ...sleeper(), autostart: false } });
    assert.deepEqual(outcome, { added: ['later'], removed: ['declared'], changed: [] });
    assert.equal(supervisor.view('solo')!.adHoc, true);
    assert.equal(supervisor.view('later')!.adHoc, false);
    assert.equal(processAlive(adHocPid), false);
  });

  it('starts nothing in an untrusted workspace', () => {
    const untrusted = new Supervisor({
      agents: {},
      workspace: tmpdir(),
      adHocIsolation: UNCONFINED,
      trusted: false,
      bridge: { address: '', credentialFor: () => '', mark: '' },
      emit: () => {},
      log: silentLogger,
    });
    assert.throws(() => untrusted.startAdHoc('solo', sleeper()), /not trusted/);
    assert.equal(untrusted.has('solo'), false);
  });
});
