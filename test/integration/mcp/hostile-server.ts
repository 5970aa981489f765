// A hostile MCP server over stdio, speaking raw JSON-RPC (the SDK's server would not misbehave),
// after the red team's evil.js. Run it with
//   node --import tsx test/integration/mcp/hostile-server.ts MODE [N]
// Modes:
//   pages            tools/list always has a next page (one tool each)
//   slow-pages N     the same, each page answered after N ms
//   many-tools N     tools/list gives N tools in one page
//   list-flood N     once initialized, N notifications/tools/list_changed in one burst
//   ask-unread N     once its tools are listed, stops reading its input and sends pings (ids of N characters) answered into it
//   long-id N        once initialized, a ping whose id has N characters, then one whose id is "short"
// With HOSTILE_RECORD=<file> it appends one JSON line per notable event.
import * as fs from 'node:fs';

const [mode = 'pages', nArg = '0'] = process.argv.slice(2);
const n = Number(nArg);
const recordFile = process.env.HOSTILE_RECORD;

function record(event: string, fields: Record<string, unknown> = {}): void {
  if (recordFile) fs.appendFileSync(recordFile, JSON.stringify({ event, ...fields }) + '\n');
}

function send(message: Record<string, unknown>): boolean {
  return process.stdout.write(JSON.stringify({ jsonrpc: '2.0', ...message }) + '\n');
}

const tool = (name: string) => ({ name, description: name, inputSchema: { type: 'object' } });
let pages = 0;

function listTools(id: unknown): void {
  record('tools_list');
  if (mode === 'many-tools') {
    send({ id, result: { tools: Array.from({ length: n }, (_, i) => tool(`t${i}`)) } });
    return;
  }
  if (mode === 'pages' || mode === 'slow-pages') {
    pages++;
    const page = { id, result: { tools: [tool(`p${pages}`)], nextCursor: `after-${pages}` } };
    if (mode === 'slow-pages') setTimeout(() => send(page), n);
    else send(page);
    return;
  }
  send({ id, result: { tools: [tool('echo')] } });
  if (mode === 'ask-unread') setTimeout(askWithoutReading, 100);
}

/** Writes `line` `times` times as fast as stdout takes it. */
function flood(line: () => Record<string, unknown>, times: number, then?: () => void): void {
  let sent = 0;
  const go = () => {
    while (sent < times) {
      sent++;
      if (!send(line())) return void process.stdout.once('drain', go);
    }
    then?.();
  };
  go();
}

function onInitialized(): void {
  if (mode === 'list-flood') {
    flood(
      () => ({ method: 'notifications/tools/list_changed' }),
      n,
      () => record('flooded'),
    );
  } else if (mode === 'long-id') {
    send({ id: 'L'.repeat(n), method: 'ping' });
    send({ id: 'short', method: 'ping' });
  }
}

function askWithoutReading(): void {
  process.stdin.pause();
  process.stdin.removeAllListeners('data');
  setInterval(() => undefined, 1 << 30); // a paused stdin no longer keeps the process alive
  record('deaf');
  const prefix = 'i'.repeat(Math.max(0, n - 8));
  let k = 0;
  // Bounded, so that a client without the limit is not taken to gigabytes by the test itself.
  flood(
    () => ({ id: `${prefix}${String(k++).padStart(8, '0')}`, method: 'ping' }),
    200_000,
    () => record('asked'),
  );
}

function handle(message: { id?: unknown; method?: string; params?: { protocolVersion?: string } }): void {
  if (message.method === undefined) {
    const id = String(message.id);
    record('answer', { idLength: id.length, id: id.length > 64 ? `${id.slice(0, 16)}…` : id });
    return;
  }
  switch (message.method) {
    case 'initialize':
      send({
        id: message.id,
        result: {
          protocolVersion: message.params?.protocolVersion,
          capabilities: { tools: { listChanged: true } },
          serverInfo: { name: 'hostile', version: '1' },
        },
      });
      return;
    case 'notifications/initialized':
      return onInitialized();
    case 'tools/list':
      return listTools(message.id);
    case 'tools/call':
      send({ id: message.id, result: { content: [{ type: 'text', text: 'ok' }] } });
      return;
  }
  if (message.id !== undefined) send({ id: message.id, result: {} });
}

let buffered = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk: string) => {
  buffered += chunk;
  for (let i = buffered.indexOf('\n'); i >= 0; i = buffered.indexOf('\n')) {
    const line = buffered.slice(0, i);
    buffered = buffered.slice(i + 1);
    if (line.trim()) handle(JSON.parse(line) as Parameters<typeof handle>[0]);
  }
});
record('started', { mode });
