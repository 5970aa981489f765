// The built-in tools doing their ordinary work, on real files, real programs and a real HTTP
// server on 127.0.0.1 standing in for Open-Meteo.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { silentLogger } from '../../../runtime/log';
import { registerBuiltinTools } from '../../../runtime/tools/builtin';
import { geocodingUrl } from '../../../runtime/tools/builtin/weather';
import { CallCancel } from '../../../runtime/tools/callCancel';
import { DefaultToolRegistry } from '../../../runtime/tools/registry';
import { until } from '../../support/eventually';
import { expectError, expectOk, type Fixture, makeFixture } from './helpers';

describe('tools: built-ins', () => {
  let f: Fixture;
  afterEach(() => f?.cleanup());

  describe('registration', () => {
    beforeEach(() => {
      f = makeFixture();
    });

    it('registers every built-in and the reference aliases, owned by the runtime', () => {
      const names = f.registry.list().map((d) => d.name);
      assert.deepEqual(names, [
        'fs:delete',
        'fs:list',
        'fs:list_dir',
        'fs:read',
        'fs:read_file',
        'fs:write',
        'fs:write_file',
        'llm:generate',
        'system:shell',
        'weather:get',
        'web:search',
      ]);
      for (const d of f.registry.list()) {
        assert.equal(d.owner, 'runtime');
        assert.equal(d.provider, 'native');
      }
    });

    it('the aliases share the implementation', async () => {
      expectOk(await f.call('fs:write_file', { path: 'alias.txt', content: 'via alias' }));
      assert.equal(expectOk(await f.call('fs:read_file', { path: 'alias.txt' })).content, 'via alias');
      assert.ok(
        expectOk(await f.call('fs:list_dir', { path: '.' })).entries.some(
          (e: { path: string }) => e.path === 'alias.txt',
        ),
      );
      assert.deepEqual(f.registry.get('fs:read_file')!.parametersSchema, f.registry.get('fs:read')!.parametersSchema);
    });

    it('dispose withdraws them all', () => {
      const second = new DefaultToolRegistry({ defaultTimeoutMs: 1000, log: silentLogger });
      const reg = registerBuiltinTools(second, f.config, silentLogger);
      assert.equal(second.list().length, 11);
      reg.dispose();
      assert.equal(second.list().length, 0);
    });
  });

  describe('fs', () => {
    beforeEach(() => {
      f = makeFixture((c) => {
        c.tools.fs.maxReadBytes = 1000;
      });
    });

    it('reads utf8 and base64', async () => {
      fs.writeFileSync(path.join(f.ws, 'bin.dat'), Buffer.from([0, 1, 2, 255]));
      assert.deepEqual(expectOk(await f.call('fs:read', { path: 'hello.txt' })), {
        path: 'hello.txt',
        encoding: 'utf8',
        content: 'hello\n',
        size: 6,
        bytes_read: 6,
        truncated: false,
      });
      assert.equal(expectOk(await f.call('fs:read', { path: 'bin.dat', encoding: 'base64' })).content, 'AAEC/w==');
    });

    it('cuts a read at max_bytes and at tools.fs.maxReadBytes, flagged truncated', async () => {
      fs.writeFileSync(path.join(f.ws, 'long.txt'), 'x'.repeat(5000));
      const short = expectOk(await f.call('fs:read', { path: 'long.txt', max_bytes: 10 }));
      assert.deepEqual([short.content, short.size, short.truncated], ['x'.repeat(10), 5000, true]);
      const capped = expectOk(await f.call('fs:read', { path: 'long.txt', max_bytes: 1_000_000 }));
      assert.deepEqual([capped.bytes_read, capped.truncated], [1000, true]);
    });

    it('names the problem for a missing file, a directory and a FIFO (without hanging on it)', async () => {
      expectError(
        await f.call('fs:read', { path: 'missing.txt' }),
        'failed',
        'no such file or directory: "missing.txt"',
      );
      fs.mkdirSync(path.join(f.ws, 'dir'));
      expectError(await f.call('fs:read', { path: 'dir' }), 'failed', '"dir" is a directory');
      execFileSync('mkfifo', [path.join(f.ws, 'pipe')]);
      expectError(await f.call('fs:read', { path: 'pipe' }), 'denied', 'not a regular file');
      expectError(await f.call('fs:write', { path: 'pipe', content: 'x' }), 'denied', 'not a regular file');
    });

    it('writes, overwrites (shorter content leaves no tail) and appends', async () => {
      expectOk(await f.call('fs:write', { path: 'w.txt', content: 'long first version' }));
      assert.deepEqual(expectOk(await f.call('fs:write', { path: 'w.txt', content: 'short' })), {
        success: true,
        path: 'w.txt',
        bytes_written: 5,
        appended: false,
      });
      expectOk(await f.call('fs:write', { path: 'w.txt', content: '+more', append: true }));
      assert.equal(fs.readFileSync(path.join(f.ws, 'w.txt'), 'utf8'), 'short+more');
    });

    it('writes base64 and refuses content that is not base64', async () => {
      expectOk(await f.call('fs:write', { path: 'b.dat', content: 'AAEC/w==', encoding: 'base64' }));
      assert.deepEqual([...fs.readFileSync(path.join(f.ws, 'b.dat'))], [0, 1, 2, 255]);
      expectError(
        await f.call('fs:write', { path: 'b.dat', content: 'not base64!', encoding: 'base64' }),
        'invalid_arguments',
        'not valid base64',
      );
    });

    it('needs create_dirs for a missing folder, and makes it when asked', async () => {
      expectError(await f.call('fs:write', { path: 'a/b/c.txt', content: 'x' }), 'failed', 'create_dirs');
      expectOk(await f.call('fs:write', { path: 'a/b/c.txt', content: 'x', create_dirs: true }));
      assert.equal(fs.readFileSync(path.join(f.ws, 'a/b/c.txt'), 'utf8'), 'x');
    });

    it('writes through a symlink that stays inside', async () => {
      fs.symlinkSync('target.txt', path.join(f.ws, 'inside-link'));
      expectOk(await f.call('fs:write', { path: 'inside-link', content: 'through' }));
      assert.equal(fs.readFileSync(path.join(f.ws, 'target.txt'), 'utf8'), 'through');
    });

    it('lists flat and recursively with types and sizes, and cuts at max_entries', async () => {
      fs.mkdirSync(path.join(f.ws, 'd/e'), { recursive: true });
      fs.writeFileSync(path.join(f.ws, 'd/e/f.txt'), 'abc');
      fs.symlinkSync('hello.txt', path.join(f.ws, 'ln'));
      const flat = expectOk(await f.call('fs:list', {}));
      assert.deepEqual(
        flat.entries.map((e: { path: string; type: string }) => `${e.path}:${e.type}`),
        ['d:dir', 'hello.txt:file', 'ln:symlink'],
      );
      const deep = expectOk(await f.call('fs:list', { path: 'd', recursive: true }));
      assert.deepEqual(
        deep.entries.map((e: { path: string; size: number; type: string }) => [
          e.path,
          e.type,
          e.type === 'file' ? e.size : -1,
        ]),
        [
          ['e', 'dir', -1],
          ['e/f.txt', 'file', 3],
        ],
      );
      const cut = expectOk(await f.call('fs:list', { path: '.', recursive: true, max_entries: 2 }));
      assert.deepEqual([cut.entries.length, cut.truncated], [2, true]);
      expectError(await f.call('fs:list', { path: 'hello.txt' }), 'failed', 'not a directory');
    });

    it('deletes files and folders; a non-empty folder needs recursive', async () => {
      fs.mkdirSync(path.join(f.ws, 'empty'));
      fs.mkdirSync(path.join(f.ws, 'full'));
      fs.writeFileSync(path.join(f.ws, 'full/x'), 'x');
      assert.equal(expectOk(await f.call('fs:delete', { path: 'hello.txt' })).type, 'file');
      assert.equal(expectOk(await f.call('fs:delete', { path: 'empty' })).type, 'dir');
      expectError(await f.call('fs:delete', { path: 'full' }), 'failed', 'not empty (pass recursive: true)');
      expectOk(await f.call('fs:delete', { path: 'full', recursive: true }));
      assert.deepEqual(fs.readdirSync(f.ws), []);
      expectError(await f.call('fs:delete', { path: 'full' }), 'failed', 'no such file');
    });

    it('names the bad argument for a malformed call', async () => {
      expectError(await f.call('fs:read', { path: 7 }), 'invalid_arguments', '/path must be string');
      expectError(
        await f.call('fs:read', { path: '' }),
        'invalid_arguments',
        '/path must NOT have fewer than 1 characters',
      );
      expectError(
        await f.call('fs:read', { path: 'x', encoding: 'latin1' }),
        'invalid_arguments',
        '/encoding must be equal to one of the allowed values',
      );
      expectError(await f.call('fs:write', '{"path":"x"}'), 'invalid_arguments', '/content is required');
    });
  });

  describe('system:shell', () => {
    beforeEach(() => {
      f = makeFixture((c) => {
        c.tools.shell.allow = [...c.tools.shell.allow, 'no-such-program-xyz'];
      });
    });
    const shell = (command: string, args: string[], more: Record<string, unknown> = {}) =>
      f.call('system:shell', { command, args, ...more });

    it('returns exit code, stdout and stderr', async () => {
      assert.deepEqual(expectOk(await shell('echo', ['hi', 'there'])), {
        exit_code: 0,
        signal: null,
        stdout: 'hi there\n',
        stderr: '',
        truncated: false,
        isolated: true,
      });
      const failed = expectOk(await shell('ls', ['missing-file']));
      assert.notEqual(failed.exit_code, 0);
      assert.match(failed.stderr, /missing-file/);
    });

    it('feeds stdin and runs in cwd', async () => {
      assert.equal(expectOk(await shell('cat', [], { stdin: 'from stdin' })).stdout, 'from stdin');
      fs.mkdirSync(path.join(f.ws, 'sub'));
      assert.equal(expectOk(await shell('pwd', [], { cwd: 'sub' })).stdout.trim(), path.join(f.ws, 'sub'));
      expectError(await shell('pwd', [], { cwd: 'hello.txt' }), 'failed', 'not a directory');
    });

    it('runs git in the workspace repository', async () => {
      execFileSync('git', ['init', '-q'], { cwd: f.ws });
      execFileSync(
        'git',
        ['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '--allow-empty', '-m', 'first commit'],
        { cwd: f.ws },
      );
      assert.equal(expectOk(await shell('git', ['log', '--format=%s'])).stdout, 'first commit\n');
    });

    it('says so when an allowlisted program is not installed', async () => {
      expectError(await shell('no-such-program-xyz', []), 'unavailable', 'not installed');
    });

    // A red-team finding: 2 000 concurrent calls of one agent stalled the runtime for seconds
    // and left the user 6 000 processes. Past 8 of one caller, calls wait for a place.
    it('runs at most 8 commands of one caller at once; the rest wait in order, a cancelled one leaves the line, another caller still runs', async () => {
      const calls = Array.from({ length: 10 }, (_, i) => {
        fs.writeFileSync(path.join(f.ws, `slot-${i}.txt`), 'x\n');
        const cancel = new CallCancel();
        // `tail -f` runs until it is cancelled.
        const outcome = f.registry.call({
          name: 'system:shell',
          arguments: { command: 'tail', args: ['-f', `slot-${i}.txt`], timeout_ms: 120_000 },
          caller: 'greedy',
          timeoutMs: 120_000,
          signal: cancel,
        });
        return { cancel, outcome };
      });
      const seen = new Set<number>();
      const tails = () => {
        const now = runningTails(f.ws);
        for (const i of now) seen.add(i);
        return now;
      };
      try {
        await until('the first 8 running', () => tails().join() === '0,1,2,3,4,5,6,7', { intervalMs: 20 });
        const other = await f.registry.call({
          name: 'system:shell',
          arguments: { command: 'echo', args: ['hi'] },
          caller: 'other',
        });
        assert.equal(expectOk(other).stdout, 'hi\n', "another caller's call runs while greedy's wait");

        calls[9]!.cancel.cancel(); // waiting: answered at once, never started
        expectError(await calls[9]!.outcome, 'failed', 'was cancelled by the caller');
        calls[0]!.cancel.cancel(); // running: its place goes to the next in line, 8
        expectError(await calls[0]!.outcome, 'failed', 'was cancelled by the caller');
        await until('8 started in the place 0 left', () => tails().join() === '1,2,3,4,5,6,7,8', { intervalMs: 20 });
        assert.deepEqual(tails(), [1, 2, 3, 4, 5, 6, 7, 8]);
      } finally {
        for (const c of calls) c.cancel.cancel();
        await Promise.all(calls.map((c) => c.outcome));
      }
      assert.equal(seen.has(9), false, 'the call cancelled while it waited never ran');
      await until('every tail gone', () => tails().length === 0, { intervalMs: 20 });
    });

    it('is never given a shell: the schema has no place for one', async () => {
      expectError(
        await f.call('system:shell', { command: 'echo', args: ['x'], shell: true }),
        'invalid_arguments',
        '/shell is not an allowed property',
      );
      expectError(
        await f.call('system:shell', { command: 'echo', args: 'x; id' }),
        'invalid_arguments',
        '/args must be array',
      );
    });
  });

  describe('weather:get', () => {
    let server: http.Server;
    let requests: URL[];
    let answer: (url: URL, res: http.ServerResponse) => void;

    beforeEach(async () => {
      requests = [];
      answer = (url, res) => {
        if (url.pathname === '/v1/search')
          return json(res, 200, { results: [{ name: 'Lyon', country: 'France', latitude: 45.75, longitude: 4.85 }] });
        json(res, 200, {
          latitude: Number(url.searchParams.get('latitude')),
          longitude: Number(url.searchParams.get('longitude')),
          timezone: 'Europe/Paris',
          current_units: { temperature_2m: '°C' },
          current: { time: '2025-01-01T12:00', temperature_2m: 7.5, weather_code: 3 },
        });
      };
      server = http.createServer((req, res) => {
        const url = new URL(req.url!, 'http://127.0.0.1');
        requests.push(url);
        answer(url, res);
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const { port } = server.address() as AddressInfo;
      f = makeFixture((c) => {
        c.tools.weather.baseUrl = `http://127.0.0.1:${port}/v1/forecast`;
      });
    });
    afterEach(async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    });

    it('reads no more than 16 MiB of an answer: a service that sends without end is refused, naming it', async () => {
      let sent = 0;
      answer = (_url, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        const chunk = Buffer.alloc(1 << 20, 0x20);
        const more = () => {
          while (sent < 64 << 20 && res.write(chunk)) sent += chunk.length;
          if (sent < 64 << 20) res.once('drain', more);
          else res.end();
        };
        res.on('error', () => {});
        more();
      };
      expectError(
        await f.call('weather:get', { latitude: 1, longitude: 2 }),
        'failed',
        /^127\.0\.0\.1:\d+ answered with more than 16777216 bytes; the answer was not read$/,
      );
      assert.ok(sent < 64 << 20, `the download was stopped (${sent >> 20} MiB sent)`);
    });

    it('gets the current weather for coordinates', async () => {
      const out = expectOk(await f.call('weather:get', { latitude: 48.85, longitude: 2.35 }));
      assert.deepEqual(out.place, { latitude: 48.85, longitude: 2.35, timezone: 'Europe/Paris' });
      assert.equal(out.current.temperature_2m, 7.5);
      assert.equal(out.description, 'overcast');
      assert.equal(requests[0].pathname, '/v1/forecast');
      assert.match(requests[0].searchParams.get('current')!, /temperature_2m/);
    });

    it('looks a city up first', async () => {
      const out = expectOk(await f.call('weather:get', { city: 'Lyon' }));
      assert.deepEqual(
        requests.map((r) => r.pathname),
        ['/v1/search', '/v1/forecast'],
      );
      assert.equal(requests[0].searchParams.get('name'), 'Lyon');
      assert.deepEqual([out.place.name, out.place.latitude, out.location], ['Lyon', 45.75, 'Lyon']);
    });

    it('says when the city is unknown and passes on the API reason for an error', async () => {
      answer = (url, res) =>
        url.pathname === '/v1/search'
          ? json(res, 200, {})
          : json(res, 400, { error: true, reason: 'Latitude must be in range' });
      expectError(await f.call('weather:get', { city: 'Atlantis' }), 'failed', 'no place named "Atlantis"');
      expectError(
        await f.call('weather:get', { latitude: 1, longitude: 1 }),
        'failed',
        /answered 400: Latitude must be in range/,
      );
    });

    it('refuses incomplete or impossible coordinates', async () => {
      expectError(await f.call('weather:get', {}), 'invalid_arguments', 'give latitude and longitude, or a city');
      expectError(await f.call('weather:get', { latitude: 10 }), 'invalid_arguments', 'both latitude and longitude');
      expectError(
        await f.call('weather:get', { latitude: 91, longitude: 0 }),
        'invalid_arguments',
        '/latitude must be <= 90',
      );
    });

    it('says plainly when the host cannot be reached', async () => {
      const closed = http.createServer();
      await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
      const { port } = closed.address() as AddressInfo;
      await new Promise((r) => closed.close(r));
      const offline = makeFixture((c) => {
        c.tools.weather.baseUrl = `http://127.0.0.1:${port}/v1/forecast`;
      });
      try {
        expectError(
          await offline.call('weather:get', { latitude: 1, longitude: 2 }),
          'unavailable',
          `cannot reach 127.0.0.1:${port}: no network? (ECONNREFUSED)`,
        );
      } finally {
        offline.cleanup();
      }
    });

    it('stops the request when the call times out', async () => {
      let closedByClient!: () => void;
      const aborted = new Promise<void>((r) => (closedByClient = r));
      answer = (_url, res) => res.on('close', closedByClient); // never answers
      expectError(await f.call('weather:get', { latitude: 1, longitude: 2 }, 300), 'timeout');
      await aborted; // the server saw the client hang up: the fetch was aborted, not left running
    });

    it('uses the official geocoding API for the official forecast host, else the same server', () => {
      assert.equal(
        geocodingUrl('https://api.open-meteo.com/v1/forecast'),
        'https://geocoding-api.open-meteo.com/v1/search',
      );
      assert.equal(geocodingUrl('http://127.0.0.1:9/v1/forecast'), 'http://127.0.0.1:9/v1/search');
    });
  });
});

function json(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

/** Which `tail -f slot-<i>.txt` of this workspace run now (their i, sorted), read from /proc. */
function runningTails(ws: string): number[] {
  const found: number[] = [];
  for (const pid of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    let argv: string[];
    let cwd: string;
    try {
      argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      cwd = fs.readlinkSync(`/proc/${pid}/cwd`);
    } catch {
      continue; // gone, or not ours to read
    }
    const m = /^slot-(\d+)\.txt$/.exec(argv[2] ?? '');
    if (path.basename(argv[0] ?? '') === 'tail' && argv[1] === '-f' && m && cwd === ws) found.push(Number(m[1]));
  }
  return found.sort((a, b) => a - b);
}
