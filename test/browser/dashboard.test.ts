// The dashboard in real Chromium against a real runtime (`node dist/runtime.js --dashboard`) with a
// real supervised Python agent publishing: what a person would see must be there.
import { strict as assert } from 'node:assert';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { call, connect, StreamClient, authMetadata, type Clients } from '../support/grpc';
import {
  makeWorkspace,
  removeWorkspaces,
  startRuntime,
  stopAllRuntimes,
  REPO,
  type RuntimeProcess,
  PYTHON,
} from '../integration/helpers/runtime';
import { FIXTURE as MCP_FIXTURE } from '../integration/mcp/helpers';

const CHROMIUM = process.env.LOOM_CHROMIUM ?? '/usr/bin/chromium';
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
const OUTPUT = join(REPO, 'test', 'output', 'browser');

describe('dashboard in Chromium (headless runtime)', function () {
  this.timeout(120_000);
  let rt: RuntimeProcess;
  let browser: Browser;
  let page: Page;
  let clients: Clients;
  let url: string;
  const pageErrors: string[] = [];

  before(async () => {
    mkdirSync(OUTPUT, { recursive: true });
    const ws = makeWorkspace(`
[agents.publisher]
command = "${PYTHON}"
args = ["${join(__dirname, 'fixtures', 'publisher.py')}"]
restart = "on-failure"

[mcp.fixture]
command = ${JSON.stringify(process.execPath)}
args = ["--import", "tsx", ${JSON.stringify(MCP_FIXTURE)}, "stdio"]
cwd = ${JSON.stringify(REPO)}
`);
    rt = await startRuntime(ws, ['--dashboard']);
    const discovery = rt.discovery() as ReturnType<RuntimeProcess['discovery']> & { dashboard?: string };
    assert.ok(discovery.dashboard, 'the discovery file names the dashboard URL');
    url = discovery.dashboard;
    assert.ok(
      rt.stdoutLines.some((l) => l.includes(url)) || rt.logs.some((l) => JSON.stringify(l).includes('dashboard')),
      'the URL is printed',
    );
    clients = connect(discovery.address, { token: discovery.token });
    // Published before any page opens: the dashboard's backlog shows it.
    await call(clients.runtime, 'Publish', {
      topic: 'browser.test.before',
      event: { id: 'e-before', type: 'early', payload: Buffer.from('{}') },
    });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') pageErrors.push(m.text());
    });
    await page.goto(url);
    await page.getByTestId('connection').filter({ hasText: 'connected' }).waitFor();
  });

  after(async () => {
    await browser?.close();
    clients?.close();
    await stopAllRuntimes();
    removeWorkspaces();
  });

  it('shows what was published before it opened (the runtime keeps a backlog)', async () => {
    await page.locator('.row[data-topic="browser.test.before"]').first().waitFor({ timeout: 10_000 });
  });

  it('refuses the page without the token', async () => {
    const res = await page.request.get(url.replace(/\?token=.*/, ''));
    assert.equal(res.status(), 401);
  });

  it('shows an event published by the test, with its topic, and its payload on click', async () => {
    await call(clients.runtime, 'Publish', {
      topic: 'browser.test.hello',
      event: {
        id: 'e-browser-1',
        type: 'greeting',
        payload: Buffer.from('{"from":"the test"}'),
        metadata: { 'loom.sender': 'mocha' },
      },
    });
    const row = page.locator('.row[data-topic="browser.test.hello"]').first();
    await row.waitFor();
    assert.match(await row.innerText(), /greeting/);
    await row.click();
    const detail = await page.getByTestId('event-detail').innerText();
    assert.match(detail, /"from": "the test"/);
    assert.match(detail, /loom\.sender: mocha/);
    await page.screenshot({ path: join(OUTPUT, 'events.png') });
  });

  it('filters events by topic pattern', async () => {
    await page.getByTestId('filter-topic').fill('demo.*');
    await page.locator('.row[data-topic="demo.beat"]').first().waitFor();
    assert.equal(await page.locator('.row[data-topic="browser.test.hello"]').count(), 0);
    await page.getByTestId('filter-topic').fill('');
  });

  it('publishes a test event from the page, which a subscriber receives', async () => {
    const stream = new StreamClient(clients, authMetadata({ agentId: 'browser-sub' }));
    await call(clients.bridge, 'RegisterAgent', { agentId: 'browser-sub', subscribedTopics: ['dashboard.test'] });
    stream.send({ ack: { messageId: 'browser-sub' } });
    await new Promise((r) => setTimeout(r, 300));
    await page.getByTestId('publish').click();
    const d = await stream.delivery('dashboard.test');
    assert.equal(d.payload, '{"hello":"from the dashboard"}');
    stream.end();
  });

  it('shows the Python agent, and its state changes when it is stopped from the page', async () => {
    await page.getByTestId('tab-agents').click();
    const state = page.getByTestId('state-publisher');
    await state.filter({ hasText: 'connected' }).waitFor();
    await page.screenshot({ path: join(OUTPUT, 'agents.png') });
    await page.getByTestId('stop-publisher').click();
    await state.filter({ hasText: 'stopped' }).waitFor();
    await page.getByTestId('start-publisher').click();
    await state.filter({ hasText: 'connected' }).waitFor({ timeout: 30_000 });
  });

  it('shows a tool call with its duration, and calls a tool from the page', async () => {
    const out = await call(clients.tools, 'CallTool', {
      id: 'c1',
      name: 'demo:slow',
      arguments: '{"ms":40}',
      timeoutMs: 5000,
    });
    assert.equal(out.status, 'TOOL_OK', out.error?.message);
    await page.getByTestId('tab-tools').click();
    const row = page.locator('tr[data-tool="demo:slow"]');
    await row.waitFor();
    const cells = await row.locator('td').allInnerTexts();
    assert.equal(cells[1], '1', 'one call');
    assert.match(cells[3], /^\d+(\.\d+)? ms$/, 'p50 shown in ms');
    assert.ok(parseFloat(cells[3]) >= 40, `the call slept 40 ms, p50 shows ${cells[3]}`);
    await row.click();
    await page.getByTestId('tool-recent').locator('td', { hasText: 'ok' }).first().waitFor();

    await page.getByTestId('call-tool-name').selectOption('fs:list');
    await page.getByTestId('call-tool-args').fill('{"path":"."}');
    await page.getByTestId('call-tool').click();
    await page.getByTestId('call-tool-result').filter({ hasText: 'entries' }).waitFor();
    await page.screenshot({ path: join(OUTPUT, 'tools.png') });
  });

  it('shows the MCP servers the runtime hosts, with their state and tools', async () => {
    await page.getByTestId('tab-tools').click();
    await page.getByTestId('mcp-state-fixture').filter({ hasText: 'ready' }).waitFor({ timeout: 30_000 });
    const cells = await page.locator('tr[data-mcp="fixture"] td').allInnerTexts();
    assert.equal(cells[2], 'stdio');
    assert.ok(Number(cells[3]) >= 3, `the fixture's tools are counted (${cells[3]})`);
    const stats = await call(clients.runtime, 'GetStats', {});
    assert.deepEqual(
      stats.mcpServers.map((m) => [m.name, m.state]),
      [['fixture', 'ready']],
    );
  });

  it("draws metrics from the runtime's counters", async () => {
    await page.getByTestId('tab-metrics').click();
    await page
      .locator('.legend-item', { hasText: /published \d/ })
      .first()
      .waitFor();
    // Hovering a chart reads the values of the sample under the pointer, with its time.
    const chart = page.getByTestId('chart-realtime');
    const box = (await chart.boundingBox())!;
    await page.mouse.move(box.x + box.width - 10, box.y + box.height / 2);
    const readout = page.locator('.readout').first();
    await readout
      .filter({ hasText: /^\d\d:\d\d:\d\d: realtime [\d.]+(k)?\/(s|min), batched / })
      .waitFor({ timeout: 10_000 });
    await page.screenshot({ path: join(OUTPUT, 'metrics.png') });
  });

  it("follows one trace on the timeline: a command published with no trace id, the agent's tool call and its answer", async () => {
    // The agent was stopped and started by an earlier test: wait until it is linked again.
    for (;;) {
      const agents = (await call(clients.runtime, 'ListAgents', {})).agents;
      if (agents.find((a) => a.agentId === 'publisher')?.state === 'connected') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    // No traceparent here: the runtime starts the trace, the Python agent continues it.
    await call(clients.runtime, 'Publish', {
      topic: 'demo.cmd',
      event: { id: 'e-cmd', type: 'cmd', metadata: { 'loom.sender': 'mocha' } },
    });
    await page.getByTestId('tab-timeline').click();
    await page
      .locator('.tl-label', { hasText: 'publish demo.done' })
      .waitFor({ timeout: 30_000 })
      .catch(async (e) => {
        const events = await call(clients.runtime, 'GetStats', {});
        throw new Error(
          `${(e as Error).message}\ntimeline: ${(await page.locator('.tl-row').allInnerTexts()).join(' / ')}\ntopics: ${events.topics.map((t) => t.topic).join(', ')}\nagent log: ${rt.stderrText
            .filter((l) => l.includes('publisher'))
            .slice(-8)
            .join('\n')}`,
        );
      });
    const rows = await page.locator('.tl-row').allInnerTexts();
    const text = rows.join('\n');
    assert.match(text, /mocha[\s\S]*publish demo\.cmd/, text);
    assert.match(text, /publisher[\s\S]*tool fs:list/, text);
    assert.match(text, /publisher[\s\S]*publish demo\.done/, text);
    // The trace is named by its root, and every bar is wide enough to see.
    const options = await page.getByTestId('trace-picker').locator('option').allInnerTexts();
    assert.ok(
      options.some((o) => o.startsWith('publish demo.cmd (mocha) · ')),
      options.join(' | '),
    );
    for (const box of await Promise.all((await page.locator('.tl-bar').all()).map((b) => b.boundingBox())))
      assert.ok(box && box.width >= 8, `bar width ${box?.width}`);
    await page.screenshot({ path: join(OUTPUT, 'timeline.png') });
  });

  it('keeps answering input with bounded memory under a sustained feed of tens of thousands of events/s', async () => {
    await page.getByTestId('tab-events').click();
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Performance.enable');
    const heap = async () => {
      await cdp.send('HeapProfiler.collectGarbage');
      const { metrics } = await cdp.send('Performance.getMetrics');
      return metrics.find((m) => m.name === 'JSHeapUsedSize')!.value;
    };

    // A raw gRPC publisher, 500 events per message, as fast as the runtime takes them: a fixed
    // count, so the test's length does not depend on the machine; the rate is printed, not asserted.
    const TOTAL = 400_000;
    const stream = new StreamClient(clients, authMetadata({ agentId: 'flood' }));
    await call(clients.bridge, 'RegisterAgent', {
      agentId: 'flood',
      subscribedTopics: [],
      metadata: { 'loom.batch': '1' },
    });
    stream.send({ ack: { messageId: 'flood' } });
    const payload = Buffer.from(JSON.stringify({ data: 'x'.repeat(100) }));
    let sent = 0;
    const started = Date.now();
    const flood = (async () => {
      while (sent < TOTAL) {
        const publishes = Array.from({ length: 500 }, (_, i) => ({
          topic: `flood.t${i % 20}`,
          event: { id: `f${sent + i}`, type: i % 2 ? 'flood' : 'wave', payload },
        }));
        sent += 500;
        if (!stream.stream.write({ publishBatch: { publishes } }))
          await new Promise((r) => stream.stream.once('drain', r));
      }
      return (sent / (Date.now() - started)) * 1000;
    })();

    // While the flood runs the page must take input: each typed filter must show on the list.
    const shownTypes = () => page.locator('.row .c-type').allInnerTexts();
    const inputLatencies: number[] = [];
    let midHeap = 0;
    for (let i = 0; sent < TOTAL || i < 4; i++) {
      const want = i % 2 ? 'wave' : 'flood';
      const t0 = Date.now();
      await page.getByTestId('filter-type').fill(want);
      for (;;) {
        const types = await shownTypes();
        if (types.length > 0 && types.every((t) => t === want)) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      inputLatencies.push(Date.now() - t0);
      await page.getByTestId('tab-metrics').click();
      await page.locator('#view-metrics:visible').waitFor();
      await page.getByTestId('tab-events').click();
      await page.locator('#view-events:visible').waitFor();
      if (i === 1) midHeap = await heap();
    }
    const rate = await flood;
    stream.end();
    const endHeap = await heap();
    const rows = await page.locator('.row').count();
    const kept = Number(/^(\d+)/.exec(await page.getByTestId('event-count').innerText())?.[1]);
    await page.getByTestId('filter-type').fill('');
    await page.screenshot({ path: join(OUTPUT, 'events-under-flood.png') });
    console.log(
      `      flood: ${TOTAL} events at ${Math.round(rate)} events/s; ${inputLatencies.length} inputs answered in ${inputLatencies.join(', ')} ms; JS heap ${(midHeap / 1e6).toFixed(1)} MB mid-flood → ${(endHeap / 1e6).toFixed(1)} MB at the end; ${rows} rows in the DOM`,
    );
    assert.ok(rows < 100, `the list is virtualised (${rows} rows in the DOM)`);
    assert.ok(kept <= 5000, `the page keeps a bounded window of events (${kept} kept)`);
    assert.ok(
      endHeap - midHeap < 16e6,
      `memory does not grow with the flood (${((endHeap - midHeap) / 1e6).toFixed(1)} MB more)`,
    );
  });

  it('raised no script errors and no CSP violations in the page', () => {
    assert.deepEqual(pageErrors, []);
  });

  it('wrote a screenshot of each view, each different', async () => {
    const { readFileSync } = await import('node:fs');
    const shots = ['events', 'agents', 'tools', 'metrics', 'timeline'].map((v) =>
      readFileSync(join(OUTPUT, `${v}.png`)),
    );
    for (const s of shots) assert.ok(s.length > 10_000, 'a screenshot with content');
    assert.equal(new Set(shots.map((s) => s.toString('base64'))).size, shots.length);
    writeFileSync(join(OUTPUT, 'README.txt'), 'Screenshots written by test/browser/dashboard.test.ts\n');
  });
});
