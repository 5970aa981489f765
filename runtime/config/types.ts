// The shape of loom.toml after parsing, validation and defaults. TOML keys are snake_case;
// the loader maps them to these camelCase fields. Every field has a default (see defaults.ts),
// so a workspace without loom.toml runs.

import type { QoS } from '../qos';
import type { ConfigNote } from './reference';
import type { ClusterConfig } from './cluster';

export interface LoomConfig {
  /** Absolute path of the workspace root (not from the file: from --workspace). */
  workspace: string;
  runtime: {
    /** Log level for the runtime's structured lines. Default "info". */
    logLevel: 'debug' | 'info' | 'warn' | 'error';
    /** Folder for the store and the discovery file, relative to the workspace. Default ".loom". */
    dataDir: string;
    /** Extra workspace roots the file tools may reach (absolute or relative to the workspace). Default []. */
    roots: string[];
    /** Workspace Trust: false = no shell tool, no spawned agents. Default true (headless); the extension passes the real value. */
    trusted: boolean;
    /** Bytes the store's folder may hold before writes are refused. Default 1 GiB. */
    storeMaxBytes: number;
  };
  bridge: {
    /** Always loopback; only "127.0.0.1" or "::1" accepted. Default "127.0.0.1". */
    host: string;
    /** 0 = pick a free port. Default 0. */
    port: number;
    /** Check `authorization: Bearer <token>` on every call. Default true; false only for legacy clients (warned). */
    requireToken: boolean;
    /**
     * "reference": serve the reference's unauthenticated clients as they are — port 50051 when
     * bridge.port is 0 and 50051 is free, and calls without a credential accepted (as unverified
     * identities, never a reserved or declared id); warned while on. Default "none".
     */
    compat: 'none' | 'reference';
    /** Largest gRPC message accepted or sent. Default 4 MiB. */
    maxMessageBytes: number;
    /** An agent silent (no heartbeat, no message) this long is marked disconnected. Default 45000 (three of the reference client's 15 s heartbeats). */
    heartbeatTimeoutMs: number;
    /** Batched/background deliveries travel up to this many events per message. Default 256. */
    maxBatch: number;
    /** Distinct subscription patterns one agent id may hold (a repeated pattern counts once). Default 1000. */
    maxSubscriptionsPerClient: number;
    /** Tools one agent id may register. Default 1000. */
    maxToolsPerClient: number;
  };
  bus: {
    queueSizes: Record<QoS, number>; // defaults realtime 1024, batched 4096, background 65536
    /** Byte budget of each subscriber's queue. Defaults realtime 16 MiB, batched 64 MiB, background 256 MiB. */
    queueBytes: Record<QoS, number>;
    /** Default 16. */
    maxHops: number;
    /** Default 30000. */
    requestTimeoutMs: number;
  };
  tools: {
    /** Timeout for a call that names none. Default 30000. */
    defaultTimeoutMs: number;
    fs: {
      /** Largest file fs:read returns. Default 10 MiB. */
      maxReadBytes: number;
      /** Writes to loom.toml, .vscode/ and .git/ (and deletes there): "deny", or "ask" a person through the window. Default "deny". */
      protectedWrites: 'deny' | 'ask';
    };
    shell: {
      /** Program names (no paths) system:shell may run. Default ["echo","ls","cat","pwd","git","grep","wc","head","tail"] (no interpreters: they run arbitrary code). */
      allow: string[];
      /** Default 30000. */
      timeoutMs: number;
      /** stdout and stderr are each cut to this many bytes (and flagged truncated). Default 1 MiB. */
      maxOutputBytes: number;
      /** Environment variables passed through; everything else is scrubbed. Default ["PATH","HOME","LANG","LC_ALL","TERM","TZ"]. */
      envAllow: string[];
      /** OS isolation of every command (bubblewrap): "required" refuses when it is unavailable, "best-effort" runs unconfined then (warned), "off" never isolates. Default "required". */
      isolation: IsolationMode;
      /** Commands reach the network (their own network namespace otherwise). Default false. */
      network: boolean;
      /** "reference": the reference's programs (runtime/tools/builtin/shell-presets.ts) join `allow`, for isolated commands only. Default "none". */
      preset: 'none' | 'reference';
    };
    weather: {
      /** Open-Meteo forecast endpoint. Default "https://api.open-meteo.com/v1/forecast". */
      baseUrl: string;
    };
    webSearch: {
      /** Brave Search web endpoint. Default "https://api.search.brave.com/res/v1/web/search". */
      baseUrl: string;
      /** Brave Search API key; may name variables as ${NAME}. Default "": BRAVE_API_KEY from the environment. */
      apiKey: string;
    };
    llm: {
      /** The [llm.<name>] table (or preset) llm:generate uses when a call names none. Default "": the only [llm.*] table, else "default". */
      provider: string;
    };
  };
  watcher: {
    /** Default true. */
    enabled: boolean;
    /** Globs relative to the workspace. Default ["**\/*"]. */
    include: string[];
    /** Added to the built-in ignores (.git, node_modules, .loom). Default []. */
    ignore: string[];
    /** Default 100. */
    debounceMs: number;
    /** Folders watched at most (one OS watch each, from the user's shared inotify pool). Default 10 000. */
    maxFolders: number;
  };
  /** [timers.<name>]: exactly one of intervalMs / cron. Publishes `timer.<name>`. */
  timers: Record<string, { intervalMs?: number; cron?: string; payload?: unknown; qos: QoS }>;
  /** [agents.<id>]: agents the supervisor spawns. */
  agents: Record<string, AgentConfig>;
  /** [adhoc_agents]: the isolation of workspace scripts started as agents from the palette (Runtime.StartAgent). Default as an agent's: off. */
  adhocAgents: ProcessIsolation;
  /** [mcp.<name>], [mcp.settings], [mcp.serve]: kept as parsed; runtime/mcp validates them (see its README). */
  mcp: Record<string, Record<string, unknown>>;
  /** [dashboard]: serve the dashboard over HTTP on loopback at start (as --dashboard). Default off, port 0 = any free one. */
  dashboard: { enabled: boolean; port: number };
  /** What the file holds that has no effect here (the reference's keys), logged once at start. */
  notes: ConfigNote[];
  /** [llm.<name>]: read by Python agents, passed through untouched; llm:generate reads its endpoint from them too. */
  llm: Record<string, Record<string, unknown>>;
  /** [cluster]: present only when loom.toml has it; runtime/cluster joins NATS then (see cluster.ts). */
  cluster?: ClusterConfig;
}

export interface AgentConfig {
  /** Program to run; "python" means the configured interpreter (LOOM_PYTHON, else python3). */
  command: string;
  args: string[];
  env: Record<string, string>;
  /** Relative to the workspace. Default ".". */
  cwd: string;
  /** Default "on-failure". */
  restart: 'always' | 'on-failure' | 'never';
  /** Start with the runtime. Default true. */
  autostart: boolean;
  /** Crashes allowed within restartWindowMs before restarts stop. Defaults 5 and 60000. */
  maxRestarts: number;
  restartWindowMs: number;
  /** Exponential backoff between restarts. Defaults 500 and 30000. */
  backoffInitialMs: number;
  backoffMaxMs: number;
  /** SIGTERM, then SIGKILL after this. Default 5000. */
  stopGraceMs: number;
  /** Lines of stdout/stderr kept per agent. Default 1000. */
  logLines: number;
  /** OS isolation of the agent's process, opt-in. Default "off". */
  isolation: IsolationMode;
  /** With isolation: the agent reaches the network (it needs it for the bridge on loopback). Default true. */
  network: boolean;
  /** With isolation: extra folders the agent may read (its interpreter's environment, say); relative ones against the workspace. Default []. */
  readOnlyPaths: string[];
  /** Other agents whose stored state (Store Get/Put/Delete/ListState) this one may read and write. Default []. */
  stateAccess: string[];
}

/** The OS isolation of a process the runtime keeps running (an agent, an MCP stdio server). */
export type ProcessIsolation = Pick<AgentConfig, 'isolation' | 'network' | 'readOnlyPaths'>;

/** See runtime/tools/isolation. */
export type IsolationMode = 'required' | 'best-effort' | 'off';
