// `node dist/runtime.js`: the headless runtime. Structured JSON log lines go to stderr;
// --print-events writes one readable line per event to stdout.
import { LoomError } from './contract/errors';
import { ConfigError, loadConfig, type ConfigOverrides } from './config';
import { discoveryPath, readDiscoveryFile } from './contract/discovery';
import { sender, type Delivery } from './bus';
import { createLogger, writeLine, type LogLevel } from './log';
import { McpConfigError, serveAttachedMcpStdio, serveMcpStdio, type McpServeHandle } from './mcp';
import { listensOn, ownProcessAlive, processAlive } from './contract/process';
import { splitAddress } from './contract/loomToml';
import { startRuntime, VERSION, type RuntimeHandle } from './main';
import { messageOf } from './contract/errors';
import { giveBackStartupGarbage } from './contract/startupGarbage';

const USAGE = `Usage: node dist/runtime.js [--workspace DIR] [options]

Runs the Loom runtime for a workspace: event bus, tools, store, agents and the gRPC bridge
(address and token in <workspace>/.loom/runtime.json).

Options:
  --workspace DIR          workspace root holding loom.toml (default: the current directory)
  --port N                 bridge port on 127.0.0.1 (default: bridge.port, 0 = any free port)
  --log-level LEVEL        debug | info | warn | error (default: runtime.log_level)
  --print-events [PATTERN] print each event on stdout; PATTERN filters topics (default ">", all)
  --no-token               accept calls without the bridge token (legacy clients; warned)
  --compat reference       serve the reference's agents as they are: port 50051 when free, calls
                           without a credential accepted as unverified identities (warned)
  --untrusted              the workspace is not trusted (VS Code Workspace Trust): no agent is
                           spawned and the shell tool refuses every call
  --overrides JSON         settings that win over loom.toml, as a JSON object in loom.toml's
                           shape with camelCase keys, e.g. '{"tools":{"shell":{"allow":["ls"]}}}'
  --parent-pid PID         shut down cleanly when that process ends (the window that launched us)
  --dashboard [PORT]       serve the dashboard on http://127.0.0.1:PORT (default any free port);
                           the URL, token included, is printed and written to the discovery file
  --mcp-stdio              serve the runtime's tools to an MCP client over stdin/stdout (for
                           Claude Desktop and the like); stdout then carries only MCP. When a
                           runtime already runs for the workspace, serves that one's tools
  --help                   show this help
  --version                print the version

Exit status: 0 after a clean shutdown (SIGINT, SIGTERM, or SIGHUP when the terminal closes; a
second signal exits at once, 1), 2 for bad arguments or configuration, 1 otherwise.`;

export interface CliOptions {
  workspace: string;
  port?: number;
  logLevel?: LogLevel;
  printEvents?: string;
  noToken: boolean;
  /** undefined = no dashboard; a number = its port (0 = any). */
  dashboard?: number;
  mcpStdio: boolean;
  untrusted: boolean;
  overrides?: ConfigOverrides;
  parentPid?: number;
  compat?: 'reference' | 'none';
  help: boolean;
  version: boolean;
}

export class UsageError extends LoomError {
  constructor(message: string) {
    super('usage_error', message);
  }
}

const LEVELS: LogLevel[] = ['debug', 'info', 'warn', 'error'];

export function parseArgs(argv: string[]): CliOptions {
  const opts: CliOptions = {
    workspace: process.cwd(),
    noToken: false,
    mcpStdio: false,
    untrusted: false,
    help: false,
    version: false,
  };
  const value = (i: number, flag: string): string => {
    const v = argv[i + 1];
    if (v === undefined || v.startsWith('--')) throw new UsageError(`${flag} needs a value`);
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] =
      arg.startsWith('--') && arg.includes('=')
        ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)]
        : [arg, undefined];
    const take = () => inline ?? value(i++, flag);
    switch (flag) {
      case '--workspace':
        opts.workspace = take();
        break;
      case '--port': {
        const raw = take();
        const port = Number(raw);
        if (!Number.isInteger(port) || port < 0 || port > 65535)
          throw new UsageError(`--port must be an integer 0..65535 (got "${raw}")`);
        opts.port = port;
        break;
      }
      case '--log-level': {
        const level = take() as LogLevel;
        if (!LEVELS.includes(level))
          throw new UsageError(`--log-level must be one of ${LEVELS.join(', ')} (got "${level}")`);
        opts.logLevel = level;
        break;
      }
      case '--print-events': {
        const next = argv[i + 1];
        opts.printEvents = inline ?? (next !== undefined && !next.startsWith('--') ? (i++, next) : '>');
        break;
      }
      case '--compat': {
        const mode = take();
        if (mode !== 'reference' && mode !== 'none')
          throw new UsageError(`--compat must be "reference" or "none" (got "${mode}")`);
        opts.compat = mode;
        break;
      }
      case '--no-token':
        opts.noToken = true;
        break;
      case '--dashboard': {
        const next = inline ?? (argv[i + 1] !== undefined && /^\d+$/.test(argv[i + 1]!) ? argv[++i] : undefined);
        const port = next === undefined ? 0 : Number(next);
        if (!Number.isInteger(port) || port < 0 || port > 65535)
          throw new UsageError(`--dashboard port must be an integer 0..65535 (got "${next}")`);
        opts.dashboard = port;
        break;
      }
      case '--mcp-stdio':
        opts.mcpStdio = true;
        break;
      case '--untrusted':
        opts.untrusted = true;
        break;
      case '--overrides': {
        const raw = take();
        let parsed: unknown;
        try {
          parsed = JSON.parse(raw);
        } catch (err) {
          throw new UsageError(`--overrides must be a JSON object: ${messageOf(err)}`);
        }
        if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
          throw new UsageError('--overrides must be a JSON object');
        opts.overrides = parsed as ConfigOverrides;
        break;
      }
      case '--parent-pid': {
        const raw = take();
        const pid = Number(raw);
        if (!Number.isInteger(pid) || pid <= 0)
          throw new UsageError(`--parent-pid must be a process id (got "${raw}")`);
        opts.parentPid = pid;
        break;
      }
      case '--help':
      case '-h':
        opts.help = true;
        break;
      case '--version':
        opts.version = true;
        break;
      default:
        throw new UsageError(`unknown argument "${arg}"`);
    }
  }
  if (opts.mcpStdio && opts.printEvents)
    throw new UsageError('--print-events and --mcp-stdio both want stdout: choose one');
  return opts;
}

/** --overrides first, then the single-purpose flags on top (they are the more specific ask). */
function overridesFrom(opts: CliOptions): ConfigOverrides {
  const o = structuredClone(opts.overrides ?? {}) as ConfigOverrides & Record<string, unknown>;
  if (opts.logLevel) o.runtime = { ...o.runtime, logLevel: opts.logLevel };
  if (opts.untrusted) o.runtime = { ...o.runtime, trusted: false };
  if (opts.port !== undefined) o.bridge = { ...o.bridge, port: opts.port };
  if (opts.noToken) o.bridge = { ...o.bridge, requireToken: false };
  if (opts.compat) o.bridge = { ...o.bridge, compat: opts.compat };
  return o;
}

const PREVIEW_CHARS = 120;

/**
 * Characters an event must not send to the operator's terminal: C0 controls (ESC starts escape
 * sequences that retitle the window, clear the screen or rewrite what is shown), DEL, C1 controls
 * (0x9b is a one-byte CSI), the line and paragraph separators, and the bidirectional marks and
 * overrides that make a line read differently from what it holds.
 */
const UNSAFE = /[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g;

/** `text` with every unsafe character shown as an escape: `\x1b`, `\u202e`. */
export function escapeControls(text: string): string {
  return text.replace(UNSAFE, (c) => {
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/** "12:00:01.234  topic  type  from sender  payload…", every part from the event escaped. */
export function formatEvent(d: Delivery): string {
  const time = new Date(Number(d.event.timestampMs) || Date.now()).toISOString().slice(11, 23);
  const from = sender(d.event) || d.event.source || '-';
  const raw = d.event.payload.toString('utf8');
  // Bytes that are not UTF-8 text (or hold NUL) are not shown, only counted.
  const binary = raw.includes('\uFFFD') || raw.includes('\0');
  const text = binary ? `<${d.event.payload.length} bytes of binary>` : raw.replace(/[\t\n\v\f\r ]+/g, ' ');
  const preview = text.length > PREVIEW_CHARS ? `${text.slice(0, PREVIEW_CHARS)}…` : text;
  return [time, d.topic, d.event.type || '-', `from ${from}`, preview].map(escapeControls).join('  ');
}

async function main(argv: string[]): Promise<number> {
  let opts: CliOptions;
  try {
    opts = parseArgs(argv);
  } catch (err) {
    process.stderr.write(`loom: ${messageOf(err)}\n\n${USAGE}\n`);
    return 2;
  }
  if (opts.help) {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  if (opts.version) {
    process.stdout.write(VERSION + '\n');
    return 0;
  }

  if (opts.mcpStdio) {
    const attached = await mcpStdioAttached(opts);
    if (attached !== undefined) return attached;
  }

  // Signal handlers go in before anything starts: until a handler exists the kernel's default
  // action kills the process outright, skipping the clean shutdown (and the discovery file).
  // A stop has a reason: a signal, or one of ours (an output closed, stdin closed, the parent
  // gone). Only a second *signal* forces an exit: someone sending SIGTERM to a runtime that is
  // already stopping on its own (its stderr reader gone) asks for the same clean stop, not for
  // the one that skips it.
  let pending: string | undefined;
  let signals = 0;
  let onStop: (reason: string, bySignal: boolean) => void = (reason) => void (pending ??= reason);
  const requestStop = (reason: string) => onStop(reason, false);
  const forward = (signal: string) => () => {
    signals++;
    onStop(signal, true);
  };
  process.on('SIGINT', forward('SIGINT'));
  process.on('SIGTERM', forward('SIGTERM'));
  // The terminal that started us closed (or the SSH session dropped): by default that kills us
  // outright, leaving the agents running in their own process groups and a stale discovery file.
  // Not a signal that forces the exit when repeated: the kernel and the shell each send one.
  process.on('SIGHUP', () => requestStop('SIGHUP'));
  // A pipe whose reader is gone (the launcher died) fails every write with EPIPE: nobody reads
  // us any more, so we stop, cleanly, instead of failing (and logging the failure) forever.
  for (const [name, stream] of [
    ['stdout', process.stdout],
    ['stderr', process.stderr],
  ] as const) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      stream.destroy();
      requestStop(`${name} closed (${err.code ?? err.message})`);
    });
  }

  let handle: RuntimeHandle;
  try {
    handle = await startRuntime({
      workspace: opts.workspace,
      overrides: overridesFrom(opts),
      ...(opts.dashboard !== undefined ? { dashboard: { port: opts.dashboard } } : {}),
    });
  } catch (err) {
    if (err instanceof ConfigError || err instanceof McpConfigError) {
      process.stderr.write(`loom: bad configuration\n${err.message}\n`);
      return 2;
    }
    process.stderr.write(`loom: cannot start: ${(err as Error).stack ?? String(err)}\n`);
    return 1;
  }
  const log = handle.log;

  // A long-lived server: a stray exception in one handler is logged, the rest keeps serving.
  process.on('uncaughtException', (err) => log.error('uncaught exception', { error: err.stack ?? err.message }));
  process.on('unhandledRejection', (reason) =>
    log.error('unhandled rejection', {
      error: reason instanceof Error ? (reason.stack ?? reason.message) : String(reason),
    }),
  );

  if (opts.printEvents) {
    handle.bus.subscribe(opts.printEvents, (d) => writeLine(process.stdout, formatEvent(d)), {
      qos: 'realtime',
      subscriber: 'cli',
    });
  }
  if (handle.dashboardUrl) {
    const out = opts.mcpStdio ? process.stderr : process.stdout;
    // The URL carries the owner token: whole only to a terminal. Piped, the line ends in a log
    // (the VS Code channel's file, `loom run --logs`) that agents and other users might read.
    const shown = out.isTTY
      ? handle.dashboardUrl
      : `${handle.dashboardUrl.replace(/\?token=.*$/, '')} (with its token as "dashboard" in ${handle.discoveryFile})`;
    out.write(`Loom dashboard: ${shown}\n`);
  }
  let mcpStdio: McpServeHandle | undefined;
  if (opts.mcpStdio) {
    const serve = handle.mcp.config.serve;
    const policy = { serve, headlessAsk: handle.mcp.config.settings.headlessAsk };
    mcpStdio = await serveMcpStdio({
      registry: handle.tools,
      log: log.child('mcp'),
      include: serve.include,
      exclude: serve.exclude,
      policy,
      version: VERSION,
    });
    // The MCP client started us and owns our life: when it closes our stdin, we shut down.
    process.stdin.once('end', () => requestStop('stdin closed'));
  }
  if (opts.parentPid) {
    // The launching window's process is polled: it may die without a chance to stop us.
    const parent = opts.parentPid;
    const watch = setInterval(() => {
      if (!processAlive(parent)) {
        clearInterval(watch);
        requestStop('parent exited');
      }
    }, 1000);
    watch.unref();
  }
  const cancelGiveBack = giveBackStartupGarbage();

  return new Promise<number>((resolve) => {
    let stopping = false;
    const shutdown = (reason: string, bySignal: boolean) => {
      if (stopping) {
        if (bySignal && signals > 1) {
          log.warn('second signal: exiting without a clean shutdown', { signal: reason });
          resolve(1);
        }
        return;
      }
      stopping = true;
      cancelGiveBack();
      log.info('shutting down', { signal: reason });
      Promise.resolve(mcpStdio?.close())
        .then(() => handle.stop())
        .then(
          () => resolve(0),
          (err: Error) => {
            log.error('shutdown failed', { error: err.message });
            resolve(1);
          },
        );
    };
    onStop = shutdown;
    if (pending) shutdown(pending, false);
  });
}

/**
 * --mcp-stdio while a live runtime holds the workspace (its store is locked): serve that runtime's
 * tools over stdio through its gRPC API until the MCP client closes stdin. undefined = none is
 * running (or the config is bad, which the normal start reports): start as usual.
 */
async function mcpStdioAttached(opts: CliOptions): Promise<number | undefined> {
  const config = await loadConfig(opts.workspace, overridesFrom(opts)).catch(() => undefined);
  if (!config) return undefined;
  const live = readDiscoveryFile(discoveryPath(config.workspace, config.runtime.dataDir));
  if (!live || live.pid === process.pid || !ownProcessAlive(live.pid)) return undefined;
  // The pid must hold the address it names (a pid a dead runtime left may be anyone's now).
  const { host, port } = splitAddress(live.address)!;
  if (listensOn(live.pid, host, port) === false) return undefined;
  const log = createLogger({ level: config.runtime.logLevel }).child('mcp');
  let served: McpServeHandle;
  try {
    served = await serveAttachedMcpStdio({
      address: live.address,
      token: live.token,
      mcp: config.mcp,
      workspace: config.workspace,
      log,
      version: VERSION,
    });
  } catch (err) {
    process.stderr.write(
      `loom: ${err instanceof McpConfigError ? 'bad configuration\n' : `cannot attach to the runtime (pid ${live.pid}): `}${messageOf(err)}\n`,
    );
    return err instanceof McpConfigError ? 2 : 1;
  }
  log.info("serving the running runtime's tools over MCP stdio", { pid: live.pid, address: live.address });
  await new Promise<void>((resolve) => {
    process.stdin.once('end', resolve);
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
    process.once('SIGHUP', resolve);
  });
  await served.close();
  return 0;
}

/** Runs the command line of this process and exits with its status (dist/runtime.js calls it). */
export function run(): void {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: Error) => {
      createLogger().error('fatal', { error: err.stack ?? err.message });
      process.exit(1);
    },
  );
}

if (require.main === module) run();
